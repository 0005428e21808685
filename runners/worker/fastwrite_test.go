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
