package worker

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeBoth encodes v with the hand writer and with encoding/json (the
// wire types through reflection, as encodeBody did before the writer) and
// decodes both as relix reads them.
func writeBoth(t *testing.T, v GenerateResult, binary bool) (fast, slow GenerateResult) {
	t.Helper()
	ef := encoder{binary: binary}
	raw, err := encodeBody(&ef, v)
	require.NoError(t, err)
	require.True(t, json.Valid(raw), "%s", raw)
	require.NoError(t, decodeBody(raw, ef.att, &fast))

	es := encoder{binary: binary}
	w := wireGenerateResult{Completions: make([][]wireCompletion, len(v.Completions))}
	for i, cs := range v.Completions {
		w.Completions[i] = putCompletions(&es, cs)
	}
	if v.Completions == nil {
		w.Completions = nil
	}
	rawSlow, err := json.Marshal(w)
	require.NoError(t, err)
	require.NoError(t, decodeBody(rawSlow, es.att, &slow))
	return fast, slow
}

func TestWriterMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	comp := func(text string) Completion {
		return Completion{Completion: runners.Completion{Text: text, NumTokens: 3, Finish: "length", Tokens: []uint32{1, 2, 3}, LogProbs: []float32{-1, -0.5, 0}, Trace: []float64{0.25}}, Handle: 7}
	}
	for _, tc := range []struct {
		name string
		v    GenerateResult
	}{
		{"nil", GenerateResult{}},
		{"empty group", GenerateResult{Completions: [][]Completion{{}, nil}}},
		{"latex", GenerateResult{Completions: [][]Completion{{comp(`so \boxed{\frac{1}{2}} "quoted"`), comp("a<b && c>d")}}}},
		{"controls", GenerateResult{Completions: [][]Completion{{comp("line\nnext\ttab\r\x00\x1f\x7f")}}}},
		{"unicode", GenerateResult{Completions: [][]Completion{{comp("π ≈ 3.14 \u2028 😀")}}}},
		{"invalid utf-8", GenerateResult{Completions: [][]Completion{{comp("bad \xff\xfe byte")}}}},
		{"plain", GenerateResult{Completions: [][]Completion{{{Completion: runners.Completion{Text: "x", NumTokens: 1, Finish: "stop"}}}}}},
	} {
		for _, binary := range []bool{false, true} {
			fast, slow := writeBoth(t, tc.v, binary)
			assert.Equal(t, slow, fast, "%s binary=%v", tc.name, binary)
		}
	}
}

// A batch's answers read back as they were: results, and errors with
// texts that need escaping.
func TestWriterBatchReplies(t *testing.T) {
	t.Parallel()
	gr := GenerateResult{Completions: [][]Completion{{{Completion: runners.Completion{Text: `\boxed{2}`, NumTokens: 2, Finish: "stop", Tokens: []uint32{4, 5}}, Handle: 1}}}}
	nan := GenerateResult{Completions: [][]Completion{{{Completion: runners.Completion{Text: "x", NumTokens: 1, Finish: "stop", LogProbs: []float32{float32(math.NaN())}}}}}}
	replies := batchReplies{{result: gr}, {err: &Error{CodeUnknownCheckpoint, "no \"ckpt-1\"\nhere"}}, {result: Empty{}}, {result: nan}}
	e := encoder{binary: false}
	raw, err := encodeBody(&e, replies)
	require.NoError(t, err)
	var back BatchResult
	require.NoError(t, strictUnmarshal(raw, &back))
	require.Len(t, back.Responses, 4)
	var got GenerateResult
	require.NoError(t, decodeBody(back.Responses[0].Result, e.att, &got))
	assert.Equal(t, gr, got)
	assert.Equal(t, &Error{CodeUnknownCheckpoint, "no \"ckpt-1\"\nhere"}, back.Responses[1].Error)
	assert.JSONEq(t, `{}`, string(back.Responses[2].Result))
	require.NotNil(t, back.Responses[3].Error, "a NaN in the JSON lane is that item's error")
	assert.Equal(t, CodeFailed, back.Responses[3].Error.Code)
}

// FuzzFastWrite holds the hand writer to encoding/json on any text.
func FuzzFastWrite(f *testing.F) {
	for _, s := range []string{"", `\boxed{1}`, "a\"b\\c\n", "\xff", "\u2028<&>", "\x00\x01"} {
		f.Add(s, uint32(3), false)
	}
	f.Fuzz(func(t *testing.T, text string, token uint32, binary bool) {
		v := GenerateResult{Completions: [][]Completion{{
			{Completion: runners.Completion{Text: text, NumTokens: 1, Finish: text, Tokens: []uint32{token}}},
			{Completion: runners.Completion{Text: text, NumTokens: 1}, Handle: uint64(token), Digest: text},
		}}}
		fast, slow := writeBoth(t, v, binary)
		if !assert.ObjectsAreEqual(slow, fast) {
			t.Fatalf("the writers differ on %q:\nfast %#v\nslow %#v", text, fast, slow)
		}
	})
}

// stepBoth encodes a step request with the hand writer and with
// encoding/json (the wire types through reflection), and decodes both as
// a worker reads them.
func stepBoth(t *testing.T, v StepParams, binary bool) (fast, slow StepParams, fastOK bool) {
	t.Helper()
	ef := encoder{binary: binary}
	raw, fastOK := appendStepParams(nil, &ef, v)
	if fastOK {
		require.True(t, json.Valid(raw), "%s", raw)
		require.NoError(t, decodeBody(raw, ef.att, &fast))
	}
	es := encoder{binary: binary}
	w := wireStepParams{Checkpoint: v.Checkpoint, Groups: make([]wireGroup, len(v.Groups)), Hyper: v.Hyper}
	for i, g := range v.Groups {
		cs := make([]Completion, len(g.Completions))
		for j, c := range g.Completions {
			cs[j].Completion = c
		}
		w.Groups[i] = wireGroup{Prompt: g.Prompt, Completions: putCompletions(&es, cs), Rewards: nonNil(g.Rewards), Checkpoint: g.Checkpoint}
	}
	rawSlow, err := json.Marshal(w)
	if !fastOK {
		require.Error(t, err, "the hand writer declines only what encoding/json refuses")
		return fast, slow, false
	}
	require.NoError(t, err)
	require.NoError(t, decodeBody(rawSlow, es.att, &slow))
	return fast, slow, true
}

func TestStepWriterMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	hyper := runners.Hyper{Step: 3, LR: 1e-6, Advantage: "std", StdEpsilon: 1e-6, ClipLow: 0.2, ClipHigh: 0.28, Reference: "sim-1", Betas: [2]float64{0.9, 0.999}, Epochs: 1, LossAgg: "token-mean"}
	comp := runners.Completion{Text: "so \\boxed{2} \"q\"\n", NumTokens: 3, Finish: "stop", Tokens: []uint32{1, 2, 3}, LogProbs: []float32{-1, -0.5, 0}}
	for _, tc := range []struct {
		name string
		v    StepParams
	}{
		{"no groups", StepParams{Checkpoint: "sim-0", Hyper: hyper}},
		{"empty group", StepParams{Checkpoint: "sim-0", Groups: []runners.Group{{}}, Hyper: hyper}},
		{"rewards", StepParams{Checkpoint: "c", Hyper: hyper, Groups: []runners.Group{{
			Prompt: runners.Prompt{ID: "p-1", Text: "What is $\\frac{1}{2}$?"}, Completions: []runners.Completion{comp, comp},
			Rewards: []float64{1, 0, -0.5, 1e-7, 1e21, 123456789.125, 5e-324, math.MaxFloat64}, Checkpoint: "sim-old"}}}},
		{"unicode", StepParams{Checkpoint: "π", Hyper: hyper, Groups: []runners.Group{{Prompt: runners.Prompt{ID: "\xff", Text: "\u2028"}, Rewards: []float64{}}}}},
	} {
		for _, binary := range []bool{false, true} {
			fast, slow, ok := stepBoth(t, tc.v, binary)
			require.True(t, ok, tc.name)
			assert.Equal(t, slow, fast, "%s binary=%v", tc.name, binary)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		v := StepParams{Checkpoint: "c", Hyper: hyper, Groups: []runners.Group{{Rewards: []float64{bad}}}}
		_, _, ok := stepBoth(t, v, true)
		assert.False(t, ok, "%v", bad)
		_, err := encodeBody(&encoder{binary: true}, v)
		assert.Error(t, err, "encoding/json words the error")
	}
}

// FuzzStepWrite holds the step writer to encoding/json on any text and
// reward.
func FuzzStepWrite(f *testing.F) {
	f.Add("p-1", `\boxed{1}`, 1.0, 0.5, false)
	f.Add("\xff", "a\"b\\c\n", 1e-7, -1e300, true)
	f.Fuzz(func(t *testing.T, id, text string, r1, r2 float64, binary bool) {
		v := StepParams{Checkpoint: id, Groups: []runners.Group{{
			Prompt:      runners.Prompt{ID: id, Text: text},
			Completions: []runners.Completion{{Text: text, NumTokens: 1, Finish: "stop", Tokens: []uint32{7}}},
			Rewards:     []float64{r1, r2}, Checkpoint: text}}}
		fast, slow, ok := stepBoth(t, v, binary)
		if ok && !assert.ObjectsAreEqual(slow, fast) {
			t.Fatalf("the writers differ:\nfast %#v\nslow %#v", fast, slow)
		}
	})
}

// TestParamsWritersMatchEncodingJSON: the generate and probabilities
// request writers decode, as a worker reads them, to what encoding/json's
// output decodes to, and decline only what encoding/json refuses.
func TestParamsWritersMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	prompts := []runners.Prompt{{ID: "p-1", Text: "What is $\\frac{1}{2}$ \"so\"?\n"}, {ID: "\xff", Text: "\u2028<&>"}, {}}
	for _, prompts := range [][]runners.Prompt{prompts, {}, nil} {
		for _, s := range []runners.Sampling{
			{Temperature: 0.9, TopP: 1, MaxTokens: 8192, Seed: math.MaxUint64, Tokens: true},
			{Temperature: 1e-7, TopP: 0.95, MaxTokens: 0, Seed: 0},
			{Temperature: 1e21, TopP: 123456789.125, MaxTokens: -1, Seed: 7},
		} {
			checkParamsWriter(t, GenerateParams{Checkpoint: "sim-1", Prompts: prompts, N: 8, Sampling: s}, &GenerateParams{}, &GenerateParams{})
			checkParamsWriter(t, ProbabilitiesParams{Checkpoint: "π", Prompts: prompts, Sampling: s, Truncated: "zero"}, &ProbabilitiesParams{}, &ProbabilitiesParams{})
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(-1)} {
		_, ok := appendGenerateParams(nil, &GenerateParams{Sampling: runners.Sampling{Temperature: bad}})
		assert.False(t, ok)
		_, ok = appendProbabilitiesParams(nil, &ProbabilitiesParams{Sampling: runners.Sampling{TopP: bad}})
		assert.False(t, ok)
		_, err := encodeBody(&encoder{}, GenerateParams{Sampling: runners.Sampling{Temperature: bad}})
		assert.Error(t, err, "encoding/json words the error")
	}
}

func checkParamsWriter[T any](t *testing.T, v T, fast, slow *T) {
	t.Helper()
	raw, err := encodeBody(&encoder{}, v)
	require.NoError(t, err)
	require.True(t, json.Valid(raw), "%s", raw)
	rawSlow, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, decodeBody(raw, nil, fast))
	require.NoError(t, strictUnmarshal(rawSlow, slow))
	assert.Equal(t, slow, fast, "%s", raw)
}

// FuzzParamsWrite holds the generate request writer to encoding/json on
// any prompt text, checkpoint and sampling.
func FuzzParamsWrite(f *testing.F) {
	f.Add("sim-1", "What is $x$?\n", 0.9, uint64(math.MaxUint64), 8192)
	f.Add("\xff", "\u2028\x00", 1e-7, uint64(0), -1)
	f.Fuzz(func(t *testing.T, checkpoint, text string, temperature float64, seed uint64, maxTokens int) {
		v := GenerateParams{Checkpoint: checkpoint, Prompts: []runners.Prompt{{ID: text, Text: text}}, N: 2,
			Sampling: runners.Sampling{Temperature: temperature, TopP: 1, MaxTokens: maxTokens, Seed: seed, Tokens: seed%2 == 1}, Digests: seed%3 == 1}
		raw, ok := appendGenerateParams(nil, &v)
		rawSlow, err := json.Marshal(v)
		if !ok {
			require.Error(t, err, "the hand writer declines only what encoding/json refuses")
			return
		}
		require.NoError(t, err)
		var fast, slow GenerateParams
		require.NoError(t, strictUnmarshal(raw, &fast), "%s", raw)
		require.NoError(t, strictUnmarshal(rawSlow, &slow))
		if !assert.ObjectsAreEqual(slow, fast) {
			t.Fatalf("the writers differ:\nfast %s\nslow %s", raw, rawSlow)
		}
	})
}

// TestHiddenParamsWriterMatchesEncodingJSON: the hidden request writer
// decodes, as a worker reads it, to what encoding/json's output of the
// wire type decodes to, in both lanes.
func TestHiddenParamsWriterMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, v := range []HiddenParams{
		{Checkpoint: "sim-1", Tokens: []uint32{0, 7, math.MaxUint32}, Positions: []int{0, 2}},
		{Checkpoint: "sim-1", Handle: math.MaxUint64, Positions: []int{8191}},
		{Checkpoint: "\xff\u2028", Tokens: []uint32{}, Positions: nil},
		{},
	} {
		for _, binary := range []bool{false, true} {
			ef := encoder{binary: binary}
			raw, err := encodeBody(&ef, v)
			require.NoError(t, err)
			require.True(t, json.Valid(raw), "%s", raw)
			es := encoder{binary: binary}
			w := wireHiddenParams{Checkpoint: v.Checkpoint, Tokens: putBulk(&es, v.Tokens), Handle: v.Handle, Positions: nonNil(v.Positions)}
			if v.Handle == 0 && w.Tokens == nil {
				w.Tokens = &bulk[uint32]{v: []uint32{}}
			}
			rawSlow, err := json.Marshal(w)
			require.NoError(t, err)
			var fast, slow HiddenParams
			require.NoError(t, decodeBody(raw, ef.att, &fast))
			require.NoError(t, decodeBody(rawSlow, es.att, &slow))
			assert.Equal(t, slow, fast, "%s", raw)
		}
	}
}
