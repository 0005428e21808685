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
		v := GenerateResult{Completions: [][]Completion{{{Completion: runners.Completion{Text: text, NumTokens: 1, Finish: text, Tokens: []uint32{token}}}}}}
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
