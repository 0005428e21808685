package worker

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Awkward floats: every one must cross the protocol exactly.
var (
	odd64 = []float64{0.1, -0, 1e-300, 5e-324, math.MaxFloat64, -2.5e17, 1.0 / 3, math.Pi}
	odd32 = []float32{0.1, 1e-38, 1e-45, math.MaxFloat32, -1.0 / 3}
)

// roundTrip sends v as the params of a request and as the result of a
// response, in the JSON lane and in the binary one, and decodes both back
// into a fresh value of v's type. In the JSON lane the body is exactly
// encoding/json's of the public type, as PROTOCOL.md describes it.
func roundTrip[T any](t *testing.T, method string, v T) {
	t.Helper()
	for _, binary := range []bool{false, true} {
		e := encoder{binary: binary}
		raw, err := encodeBody(&e, v)
		require.NoError(t, err)
		if !binary {
			plain, err := json.Marshal(v)
			require.NoError(t, err)
			if hp, ok := any(v).(HiddenParams); !ok || len(hp.Tokens) > 0 {
				assert.JSONEq(t, string(plain), string(raw), "%s: the JSON lane is the public type's JSON", method)
			}
			assert.Empty(t, e.att)
		}
		line := appendRequest(nil, 7, method, raw, len(e.att))
		require.NotContains(t, string(line), "\n", "one message, one line")
		req, err := DecodeRequest(line)
		require.NoError(t, err)
		assert.Equal(t, method, req.Method)
		assert.Equal(t, len(e.att), req.Bin)
		var got T
		require.NoError(t, decodeBody(req.Params, e.att, &got))
		assert.Equal(t, v, got, "%s params (binary %v)", method, binary)

		line, err = appendResponse(nil, 7, raw, nil, len(e.att))
		require.NoError(t, err)
		resp, err := DecodeResponse(line)
		require.NoError(t, err)
		var back T
		require.NoError(t, decodeResult(method, resp.Result, e.att, &back))
		assert.Equal(t, v, back, "%s result (binary %v)", method, binary)
	}
}

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	policy := SimPolicy{Skills: 8, Ability: odd64[0], LengthSD: odd64[7], LRScale: 30}
	roundTrip(t, MethodHello, Hello{Protocol: Version, Relix: "v1", MaxMessage: 1 << 20, Config: Config{Model: "m", Dtype: "bfloat16", Device: "cuda:1", Sim: &policy}})
	roundTrip(t, MethodHello, HelloResult{Protocol: Version, Worker: "w/1", Model: "m", Base: "b", Capabilities: []string{CapGenerate, CapStep}, Needs: []string{NeedProblems}, Concurrency: 3})
	roundTrip(t, MethodProblems, ProblemsParams{Problems: []dataset.Problem{{ID: "p", Statement: "s", Answer: "1", Topic: "t", Features: dataset.Features{Steps: 3, AnswerMagnitude: odd64[5], AnswerNegative: true}}}})
	sampling := runners.Sampling{Temperature: 0.9, TopP: odd64[0], MaxTokens: 8192, Seed: math.MaxUint64, Tokens: true}
	prompts := []runners.Prompt{{ID: "p-1", Text: "Line one\nline \"two\" \u2028 \\boxed{x} \x00"}}
	roundTrip(t, MethodGenerate, GenerateParams{Checkpoint: "c", Prompts: prompts, N: 8, Sampling: sampling})
	comp := runners.Completion{Text: "é\n", NumTokens: 5, Finish: runners.FinishLength,
		Tokens: []uint32{0, 1, math.MaxUint32, 151935, 7}, LogProbs: odd32, Trace: odd64}
	roundTrip(t, MethodGenerate, GenerateResult{Completions: [][]Completion{{{Completion: comp, Handle: 3}, {Completion: comp}}, {}, {{}}}})
	h := runners.Hyper{Step: 3, LR: odd64[2], Advantage: "std", StdEpsilon: 1e-8, ClipLow: 0.2, ClipHigh: 0.28, KLBeta: 0.04,
		Reference: "r", Betas: [2]float64{0.9, 0.999}, WeightDecay: 0.01, GradClip: 1, Epochs: 2, LossAgg: "token-mean"}
	roundTrip(t, MethodStep, StepParams{Checkpoint: "c", Groups: []runners.Group{{Prompt: prompts[0], Completions: []runners.Completion{comp}, Rewards: odd64[:1], Checkpoint: "b"}}, Hyper: h})
	roundTrip(t, MethodStep, StepResult{Checkpoint: "n", Metrics: runners.StepMetrics{Loss: odd64[3], GradNorm: odd64[4], ClipFrac: 0.5, KL: odd64[6],
		Entropy: 2, Groups: 8, Skipped: 3, Sequences: 40, Tokens: 1 << 40, Updated: true}})
	roundTrip(t, MethodHidden, HiddenParams{Checkpoint: "c", Tokens: []uint32{1, 2, 3}, Positions: []int{0, 2}})
	roundTrip(t, MethodHidden, HiddenParams{Checkpoint: "c", Handle: 9, Positions: []int{0, 2}})
	roundTrip(t, MethodHidden, HiddenParams{Checkpoint: "c", Tokens: []uint32{}, Positions: []int{}})
	roundTrip(t, MethodHidden, HiddenResult{Hidden: [][]float32{odd32, odd32}})
	roundTrip(t, MethodHidden, HiddenResult{Hidden: [][]float32{odd32, odd32[:2]}}) // ragged: JSON in both lanes, refused by the check
	roundTrip(t, MethodHidden, HiddenResult{Hidden: [][]float32{}})
	roundTrip(t, MethodSave, SaveParams{Checkpoint: "c", Dir: "/tmp/dir with spaces/ü"})
	roundTrip(t, MethodLoad, LoadParams{Dir: "d"})
	roundTrip(t, MethodLoad, LoadResult{Checkpoint: "c"})
	roundTrip(t, MethodProbability, ProbabilityParams{Checkpoint: "c", Prompt: prompts[0], Sampling: sampling, Truncated: "grade"})
	roundTrip(t, MethodProbability, ProbabilityResult{Probability: odd64[3]})
	roundTrip(t, MethodProbabilities, ProbabilitiesParams{Checkpoint: "c", Prompts: prompts, Sampling: sampling, Truncated: "zero"})
	roundTrip(t, MethodProbabilities, ProbabilitiesResult{Probabilities: odd64})
	roundTrip(t, MethodShutdown, Empty{})
}

func TestDecodeResponseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ line, want string }{
		{``, "EOF"},
		{`Loading checkpoint shards: 100%`, "invalid character 'L'"},
		{`{"id":1}`, `response 1 has neither "result" nor "error"`},
		{`{"id":1,"result":{},"error":{"code":"failed","message":""}}`, `response 1 has both "result" and "error"`},
		{`{"result":{}}`, `no "id"`},
		{`{"id":-1,"result":{}}`, "cannot unmarshal number -1"},
		{`{"id":1,"error":{"message":"m"}}`, `response 1: error without a "code"`},
		{`{"id":1,"result":null}`, `response 1: "result" is null`},
		{`{"id":1,"result":{}} {"id":2,"result":{}}`, "more than one JSON value"},
		{`{"id":1,"result":{"loss":NaN}}`, "NaN and Infinity are not JSON"},
		{`{"id":1,"result":{"loss":-Infinity}}`, "NaN and Infinity are not JSON"},
		{`{"id":1,"result":{"x":"NaN is fine in a string"`, "unexpected EOF"},
	}
	for _, tt := range tests {
		_, err := DecodeResponse([]byte(tt.line))
		if assert.Error(t, err, tt.line) {
			assert.Contains(t, err.Error(), tt.want, tt.line)
		}
	}
	_, err := DecodeResponse([]byte(`{"id":1,"result":{"x":"NaN"}}`))
	assert.NoError(t, err)
}

func TestResultChecks(t *testing.T) {
	t.Parallel()
	gp := &GenerateParams{Prompts: []runners.Prompt{{ID: "a"}}, N: 2, Sampling: runners.Sampling{Tokens: true}}
	ok := Completion{Completion: runners.Completion{NumTokens: 1, Finish: "stop", Tokens: []uint32{3}}}
	c := func(c runners.Completion) Completion { return Completion{Completion: c} }
	tests := []struct {
		err  error
		want string
	}{
		{checkGenerate(gp, &GenerateResult{}), "0 completion lists for 1 prompts"},
		{checkGenerate(gp, &GenerateResult{Completions: [][]Completion{{ok}}}), "prompt 0 (a): 1 completions; asked for 2"},
		{checkGenerate(gp, &GenerateResult{Completions: [][]Completion{{ok, c(runners.Completion{NumTokens: 1, Finish: "eos", Tokens: []uint32{1}})}}}), `completion 1: finish "eos"`},
		{checkGenerate(gp, &GenerateResult{Completions: [][]Completion{{ok, c(runners.Completion{NumTokens: 2, Finish: "stop", Tokens: []uint32{1}})}}}), "1 token ids for num_tokens 2"},
		{checkGenerate(gp, &GenerateResult{Completions: [][]Completion{{ok, c(runners.Completion{NumTokens: 1, Finish: "stop", Tokens: []uint32{1}, LogProbs: []float32{0.5}})}}}), "logprob 0.5 at token 0"},
		{checkStep(&StepResult{}), `no "checkpoint"`},
		{checkStep(&StepResult{Checkpoint: "c", Metrics: runners.StepMetrics{Groups: 1, Skipped: 2}}), "skipped ≤ groups"},
		{checkHidden(&HiddenParams{Positions: []int{0, 1}}, &HiddenResult{Hidden: [][]float32{{1}}}), "1 vectors for 2 positions"},
		{checkHidden(&HiddenParams{Positions: []int{0, 1}}, &HiddenResult{Hidden: [][]float32{{1}, {1, 2}}}), "vector 1 has 2 entries"},
		{checkProbability(&ProbabilityResult{Probability: 1.5}), "probability 1.5"},
		{checkProbabilities(&ProbabilitiesParams{Prompts: []runners.Prompt{{ID: "a"}}}, &ProbabilitiesResult{}), "0 for 1 prompts"},
		{checkProbabilities(&ProbabilitiesParams{Prompts: []runners.Prompt{{ID: "a"}}}, &ProbabilitiesResult{Probabilities: []float64{-0.5}}), "prompt 0 (a): probability -0.5"},
		{checkDifficulties(&DifficultiesParams{Prompts: []runners.Prompt{{ID: "a"}, {ID: "b"}}}, &DifficultiesResult{Difficulties: []float64{1}}), "1 for 2 prompts"},
		{checkDifficulties(&DifficultiesParams{Prompts: []runners.Prompt{{ID: "a"}, {ID: "b"}}}, &DifficultiesResult{Difficulties: []float64{-2.5, math.NaN()}}), "prompt 1 (b): difficulty NaN; want a finite number"},
		{checkDifficulties(&DifficultiesParams{Prompts: []runners.Prompt{{ID: "a"}}}, &DifficultiesResult{Difficulties: []float64{math.Inf(-1)}}), "prompt 0 (a): difficulty -Inf"},
		{checkHello(&HelloResult{Protocol: 2}), "protocol version 2; relix speaks 1"},
		{checkHello(&HelloResult{Protocol: 1, Base: "b", Capabilities: []string{"generate"}}), "must at least generate and step"},
		{checkHello(&HelloResult{Protocol: 1, Base: "b", Capabilities: []string{"generate", "step"}, Needs: []string{"gpu"}}), `needs "gpu"`},
	}
	for _, tt := range tests {
		if assert.Error(t, tt.err, tt.want) {
			assert.Contains(t, tt.err.Error(), tt.want)
		}
	}
	assert.NoError(t, checkGenerate(gp, &GenerateResult{Completions: [][]Completion{{ok, ok}}}))
	assert.NoError(t, checkDifficulties(&DifficultiesParams{Prompts: []runners.Prompt{{ID: "a"}}}, &DifficultiesResult{Difficulties: []float64{-3.25}}))
}

func TestLineReader(t *testing.T) {
	t.Parallel()
	lr := newLineReader(strings.NewReader("a\r\n"+strings.Repeat("b", 10)+"\n"+strings.Repeat("c", 11)+"\nd"), 10)
	line, err := lr.next()
	require.NoError(t, err)
	assert.Equal(t, "a", string(line))
	line, err = lr.next()
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("b", 10), string(line))
	_, err = lr.next()
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "line 3 is longer than 10 bytes")

	lr = newLineReader(strings.NewReader("x\npartial"), 100)
	_, err = lr.next()
	require.NoError(t, err)
	_, err = lr.next()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = newLineReader(strings.NewReader(""), 100).next()
	assert.ErrorIs(t, err, io.EOF)
}

// Every example in PROTOCOL.md is a message of the protocol: a request
// (→) or a response (←) whose params or result decode strictly, unknown
// fields refused, into the method's types; one with an attachment (the
// "bin" line after it, in hex, "…" where the document cuts it short)
// decodes against it, every reference inside it.
func TestProtocolExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("PROTOCOL.md")
	require.NoError(t, err)
	type message struct {
		text string
		att  []byte
	}
	var msgs []*message
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "→ ") || strings.HasPrefix(text, "← "):
			msgs = append(msgs, &message{text: text})
		case strings.HasPrefix(text, "  bin "):
			require.NotEmpty(t, msgs, text)
			h := strings.TrimSuffix(text[len("  bin "):], "…")
			att, err := hex.DecodeString(h)
			require.NoError(t, err, text)
			msgs[len(msgs)-1].att = att
		}
	}
	methods := map[uint64]string{}
	requests, responses, attached := 0, 0, 0
	for _, m := range msgs {
		line := []byte(m.text[len("→ "):])
		var bin int
		var body json.RawMessage
		var method string
		if strings.HasPrefix(m.text, "→ ") {
			req, err := DecodeRequest(line)
			require.NoError(t, err, m.text)
			methods[req.ID] = req.Method
			method, body, bin = req.Method, req.Params, req.Bin
			requests++
		} else {
			resp, err := DecodeResponse(line)
			require.NoError(t, err, m.text)
			var ok bool
			method, ok = methods[resp.ID]
			require.True(t, ok, "response to an id no example sent: %s", m.text)
			if resp.Error != nil {
				continue
			}
			body, bin = resp.Result, resp.Bin
			responses++
		}
		require.LessOrEqual(t, len(m.att), bin, "%s: the attachment is the length the line says", m.text)
		if bin == 0 {
			v := paramsOf(method)
			if strings.HasPrefix(m.text, "← ") {
				v = resultOf(method)
			}
			if v != nil && len(body) > 0 {
				require.NoError(t, exactly(body, v), m.text)
			}
			continue
		}
		attached++
		att := append(m.att, make([]byte, bin-len(m.att))...)
		if strings.HasPrefix(m.text, "→ ") && method != MethodBatch {
			require.NoError(t, decodeBody(body, att, paramsOf(method)), m.text)
			continue
		}
		if strings.HasPrefix(m.text, "→ ") {
			var batch BatchParams
			require.NoError(t, decodeBody(body, att, &batch), m.text)
			for _, item := range batch.Requests {
				require.NoError(t, decodeBody(item.Params, att, paramsOf(item.Method)), m.text)
			}
			continue
		}
		if method != MethodBatch {
			require.NoError(t, decodeBody(body, att, resultOf(method)), m.text)
			continue
		}
		var res batchAnswer
		require.NoError(t, decodeBody(body, att, &res), m.text)
		for _, item := range res.Responses {
			if item.Error == nil {
				require.NoError(t, decodeBody(item.Result, att, &HiddenResult{}), m.text)
			}
		}
	}
	assert.GreaterOrEqual(t, requests, 14)
	assert.GreaterOrEqual(t, responses, 14)
	assert.GreaterOrEqual(t, attached, 4)
}

func exactly(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func paramsOf(method string) any {
	switch method {
	case MethodHello:
		return &Hello{}
	case MethodProblems:
		return &ProblemsParams{}
	case MethodGenerate:
		return &GenerateParams{}
	case MethodStep:
		return &StepParams{}
	case MethodHidden:
		return &HiddenParams{}
	case MethodSave:
		return &SaveParams{}
	case MethodLoad:
		return &LoadParams{}
	case MethodProbability:
		return &ProbabilityParams{}
	case MethodProbabilities:
		return &ProbabilitiesParams{}
	case MethodBatch:
		return &BatchParams{}
	case MethodShutdown:
		return &Empty{}
	}
	return nil
}

func resultOf(method string) any {
	switch method {
	case MethodHello:
		return &HelloResult{}
	case MethodGenerate:
		return &GenerateResult{}
	case MethodStep:
		return &StepResult{}
	case MethodHidden:
		return &HiddenResult{}
	case MethodLoad:
		return &LoadResult{}
	case MethodProbability:
		return &ProbabilityResult{}
	case MethodProbabilities:
		return &ProbabilitiesResult{}
	case MethodBatch:
		return &BatchResult{}
	case MethodProblems, MethodSave, MethodShutdown:
		return &Empty{}
	}
	return nil
}

// FuzzWorkerMessage feeds arbitrary lines to the decoder and to every
// method's result checks: they may refuse a line, never panic, and what
// they accept survives a second trip.
func FuzzWorkerMessage(f *testing.F) {
	for _, seed := range []string{
		`{"id":1,"result":{"protocol":1,"worker":"w","model":"m","base":"b","capabilities":["generate","step"]}}`,
		`{"id":2,"result":{"completions":[[{"text":"x","num_tokens":1,"finish":"stop","tokens":[5],"logprobs":[-0.5],"trace":[1.5]}]]}}`,
		`{"id":3,"result":{"checkpoint":"c","metrics":{"loss":0.1,"groups":2,"skipped":1,"updated":true}}}`,
		`{"id":4,"result":{"hidden":[[1,2],[3,4]]}}`,
		`{"id":5,"error":{"code":"unknown_checkpoint","message":"no"}}`,
		`{"id":6,"result":{"probability":0.25}}`,
		`{"id":7,"result":{"loss":NaN}}`,
		`{"id":8,"method":"generate","params":{"checkpoint":"c","prompts":[{"id":"a","text":"b"}],"n":2,"sampling":{"seed":1}}}`,
	} {
		f.Add([]byte(seed))
	}
	gp := &GenerateParams{Prompts: []runners.Prompt{{ID: "a"}}, N: 1, Sampling: runners.Sampling{Tokens: true}}
	hp := &HiddenParams{Positions: []int{0, 1}}
	f.Fuzz(func(t *testing.T, line []byte) {
		if req, err := DecodeRequest(line); err == nil {
			if v := paramsOf(req.Method); v != nil && len(req.Params) > 0 {
				_ = decodeBody(req.Params, nil, v)
			}
		}
		resp, err := DecodeResponse(line)
		if err != nil {
			return
		}
		again, err := json.Marshal(resp)
		if err != nil {
			t.Fatalf("an accepted response does not encode: %v", err)
		}
		if _, err := DecodeResponse(again); err != nil {
			t.Fatalf("an accepted response does not decode again: %v\n%s", err, again)
		}
		if resp.Error != nil {
			return
		}
		var h HelloResult
		if decodeResult(MethodHello, resp.Result, nil, &h) == nil {
			_ = checkHello(&h)
		}
		var g GenerateResult
		if decodeResult(MethodGenerate, resp.Result, nil, &g) == nil {
			_ = checkGenerate(gp, &g)
		}
		var s StepResult
		if decodeResult(MethodStep, resp.Result, nil, &s) == nil {
			_ = checkStep(&s)
		}
		var hr HiddenResult
		if decodeResult(MethodHidden, resp.Result, nil, &hr) == nil {
			_ = checkHidden(hp, &hr)
		}
		var pr ProbabilityResult
		if decodeResult(MethodProbability, resp.Result, nil, &pr) == nil {
			_ = checkProbability(&pr)
		}
	})
}
