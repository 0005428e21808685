package worker

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/runners"
)

// BenchmarkHiddenCodec is what each way of carrying bulk arrays costs one
// hidden round trip in encoding and decoding alone (no pipe, no sim): the
// request with 8,192 token ids, encoded by relix and decoded by the
// worker, and the answer of 32 vectors of 64, encoded by the worker and
// decoded by relix. "base64" is the alternative PROTOCOL.md weighed
// against the attachment: the same little-endian bytes as a base64 string
// inside the JSON.
func BenchmarkHiddenCodec(b *testing.B) {
	tokens := make([]uint32, 8192)
	for i := range tokens {
		tokens[i] = uint32(i*7919) % 151936
	}
	positions := make([]int, 32)
	hidden := make([][]float32, 32)
	for i := range positions {
		positions[i] = i * 256
		hidden[i] = make([]float32, 64)
		for k := range hidden[i] {
			hidden[i][k] = float32(math.Sin(float64(i*64+k))) * 3
		}
	}
	for _, lane := range []string{"json", "base64", "binary"} {
		b.Run(lane, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var n int
				if lane == "base64" {
					n = base64RoundTrip(b, tokens, positions, hidden)
				} else {
					n = laneRoundTrip(b, lane == "binary", tokens, positions, hidden)
				}
				b.SetBytes(int64(n))
			}
		})
	}
}

// laneRoundTrip is the shipped path: encodeBody, the envelope, parsing it
// and decodeBody, both ways. It returns the bytes that would cross.
func laneRoundTrip(b *testing.B, bin bool, tokens []uint32, positions []int, hidden [][]float32) int {
	e := encoder{binary: bin}
	body, err := encodeBody(&e, HiddenParams{Checkpoint: "sim-0123456789abcdef", Tokens: tokens, Positions: positions})
	if err != nil {
		b.Fatal(err)
	}
	line := appendRequest(nil, 7, MethodHidden, body, len(e.att))
	env, err := parseEnvelope(line, true)
	if err != nil {
		b.Fatal(err)
	}
	var p HiddenParams
	if err := decodeBody(env.Body, e.att, &p); err != nil || len(p.Tokens) != len(tokens) {
		b.Fatal(err)
	}
	sent := len(line) + len(e.att)
	e = encoder{binary: bin}
	if body, err = encodeBody(&e, HiddenResult{Hidden: hidden}); err != nil {
		b.Fatal(err)
	}
	if line, err = appendResponse(nil, 7, body, nil, len(e.att)); err != nil {
		b.Fatal(err)
	}
	if env, err = parseEnvelope(line, false); err != nil {
		b.Fatal(err)
	}
	var r HiddenResult
	if err := decodeBody(env.Body, e.att, &r); err != nil || len(r.Hidden) != len(hidden) {
		b.Fatal(err)
	}
	return sent + len(line) + len(e.att)
}

// The base64 lane's bodies: encoding/json writes a []byte as base64.
type b64HiddenParams struct {
	Checkpoint string `json:"checkpoint"`
	Tokens     []byte `json:"tokens"`
	Positions  []int  `json:"positions"`
}

type b64HiddenResult struct {
	Hidden []byte `json:"hidden"`
	Width  int    `json:"width"`
}

func base64RoundTrip(b *testing.B, tokens []uint32, positions []int, hidden [][]float32) int {
	body, err := json.Marshal(b64HiddenParams{Checkpoint: "sim-0123456789abcdef", Tokens: appendLE(nil, tokens), Positions: positions})
	if err != nil {
		b.Fatal(err)
	}
	line := appendRequest(nil, 7, MethodHidden, body, 0)
	env, err := parseEnvelope(line, true)
	if err != nil {
		b.Fatal(err)
	}
	var p b64HiddenParams
	if err := strictUnmarshal(env.Body, &p); err != nil {
		b.Fatal(err)
	}
	if got := fromLE[uint32](p.Tokens, len(p.Tokens)/4); len(got) != len(tokens) {
		b.Fatal("tokens lost")
	}
	sent := len(line)
	var flat []byte
	for _, h := range hidden {
		flat = appendLE(flat, h)
	}
	if body, err = json.Marshal(b64HiddenResult{Hidden: flat, Width: 64}); err != nil {
		b.Fatal(err)
	}
	if line, err = appendResponse(nil, 7, body, nil, 0); err != nil {
		b.Fatal(err)
	}
	if env, err = parseEnvelope(line, false); err != nil {
		b.Fatal(err)
	}
	var r b64HiddenResult
	if err := strictUnmarshal(env.Body, &r); err != nil {
		b.Fatal(err)
	}
	vals := fromLE[float32](r.Hidden, len(r.Hidden)/4)
	rows := make([][]float32, len(vals)/r.Width)
	for i := range rows {
		rows[i] = vals[i*r.Width : (i+1)*r.Width]
	}
	if len(rows) != len(hidden) {
		b.Fatal("hidden lost")
	}
	return sent + len(line)
}

// BenchmarkGenerateResultCodec is relix's side of a race's batch answer:
// a generate result of 8 groups of 8 sim-sized completions (multi-line
// texts of about 700 bytes), its envelope parsed and its body decoded, as
// proc.read and decodeResult do. Each group's completions say one of three
// things, as the sim's do (about three texts in five repeat one earlier in
// the same message): a decoder that saves work on repeats is then measured
// on the repeats it would really meet (BENCHMARKS.md, "Fourteenth round").
func BenchmarkGenerateResultCodec(b *testing.B) {
	res := GenerateResult{Completions: make([][]Completion, 8)}
	for i := range res.Completions {
		res.Completions[i] = make([]Completion, 8)
		for j := range res.Completions[i] {
			text := strings.Repeat(fmt.Sprintf("Let me work through problem %d step by step, with $x^2 + 3x = 10$.\n", i), 11) + fmt.Sprintf("So the final answer is $\\boxed{%d}$.", j%3)
			res.Completions[i][j].Completion = runners.Completion{Text: text, NumTokens: 700 + j, Finish: runners.FinishStop, Trace: []float64{0.5, 1.5, -2}}
		}
	}
	e := encoder{binary: true}
	body, err := encodeBody(&e, res)
	if err != nil {
		b.Fatal(err)
	}
	line, err := appendResponse(nil, 7, body, nil, len(e.att))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(line) + len(e.att)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		env, err := parseEnvelope(line, false)
		if err != nil {
			b.Fatal(err)
		}
		var got GenerateResult
		if err := decodeBody(env.Body, e.att, &got); err != nil || len(got.Completions) != 8 {
			b.Fatal(err)
		}
	}
}

// problemsParams is a main job's problem sets as relix sends them to every
// worker it starts: 4,000 training and 500 held-out generated problems.
func problemsParams(tb testing.TB) ProblemsParams {
	var p ProblemsParams
	for _, g := range []struct {
		size  int
		seed  uint64
		split dataset.Split
	}{{4000, 11, dataset.Train}, {500, 12, dataset.HeldOut}} {
		set, err := dataset.Generate(dataset.GeneratorConfig{Size: g.size, Seed: g.seed}, g.split)
		if err != nil {
			tb.Fatal(err)
		}
		p.Problems = append(p.Problems, set.Problems...)
	}
	return p
}

// BenchmarkProblemsCodec is the problems request of every worker start:
// relix writes it, the worker reads it.
func BenchmarkProblemsCodec(b *testing.B) {
	p := problemsParams(b)
	body, err := encodeBody(&encoder{binary: true}, p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := encodeBody(&encoder{binary: true}, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var got ProblemsParams
			if err := decodeBody(body, nil, &got); err != nil || len(got.Problems) != len(p.Problems) {
				b.Fatal(err)
			}
		}
	})
}
