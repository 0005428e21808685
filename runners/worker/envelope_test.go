package worker

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"testing"

	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var envelopeSeeds = []string{
	`{"id":1,"result":{"protocol":1,"worker":"w","model":"m","base":"b","capabilities":["generate","step"]}}`,
	`{"id":2,"result":{"completions":[[{"text":"x","num_tokens":1,"finish":"stop","tokens":{"bin":[0,1]},"handle":3}]]},"bin":4}`,
	`{"id":4,"result":{"hidden":{"bin":[0,4],"width":2}},"bin":16}`,
	`{"id":5,"error":{"code":"unknown_handle","message":"no"}}`,
	`{"id":7,"result":{"loss":NaN}}`,
	`{"id":8,"method":"hidden","params":{"checkpoint":"c","handle":2,"positions":[0,5]}}`,
	`{"id":9,"method":"batch","params":{"requests":[{"method":"hidden","params":{"checkpoint":"c","tokens":{"bin":[0,2]},"positions":[1]}}]},"bin":8}`,
	` { "id" : 3 , "result" : { } , "extra" : [1, -2.5e+3, true, null, "\u00e9\"\\"] } `,
	`{"ID":1,"result":{}}`,
	`{"id":1,"id":2,"result":{}}`,
	`{"id":1.0,"result":{}}`,
	`{"id":1,"result":null}`,
	`{"id":1,"result":{}}]`,
	`{"i\u0064":1,"result":{}}`,
	`{"id":18446744073709551615,"result":{}}`,
	`{"id":1,"result":{},"bin":-1}`,
	`{"id":1,"error":null,"result":{}}`,
	"{\"id\":1,\"method\":\"\x83\"}", // json mends invalid UTF-8
}

// FuzzEnvelope holds the one-pass envelope reader to encoding/json's
// reading of the same line: both accept or both refuse, and what they
// accept is the same message.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, request bool) {
		fast, ok := fastEnvelope(line, request)
		slow, err := slowEnvelope(line, request)
		if !ok {
			return // the slow path decides: nothing to compare
		}
		if err != nil {
			t.Fatalf("the fast path accepts what encoding/json refuses (%v): %q", err, line)
		}
		if fast.ID != slow.ID || fast.Method != slow.Method || fast.Bin != slow.Bin ||
			!bytes.Equal(fast.Body, slow.Body) || (fast.Error == nil) != (slow.Error == nil) ||
			(fast.Error != nil && *fast.Error != *slow.Error) {
			t.Fatalf("the paths read %q differently:\nfast %+v\nslow %+v", line, fast, slow)
		}
	})
}

func TestEnvelopeSeeds(t *testing.T) {
	for _, s := range envelopeSeeds {
		for _, request := range []bool{false, true} {
			fast, ok := fastEnvelope([]byte(s), request)
			slow, err := slowEnvelope([]byte(s), request)
			if ok {
				require.NoError(t, err, s)
				assert.Equal(t, slow, fast, s)
			}
		}
	}
	_, ok := fastEnvelope([]byte(envelopeSeeds[1]), false)
	assert.True(t, ok, "a usual line takes the fast path")
}

// FuzzFrame feeds arbitrary bytes to the frame reader as a stream of
// messages and decodes every body it accepts as each method's params and
// result: refusals are errors, never panics, and a body that decodes
// survives a second trip through both lanes unchanged.
func FuzzFrame(f *testing.F) {
	att := appendLE(nil, []uint32{7, 8, 9, 10})
	for _, s := range envelopeSeeds {
		f.Add(append(append([]byte(s), '\n'), att...))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		lines := newLineReader(bytes.NewReader(stream), 1<<16)
		for {
			line, err := lines.next()
			if err != nil {
				return
			}
			line = bytes.Clone(line)
			env, err := parseEnvelope(line, bytes.Contains(line, []byte(`"method"`)))
			if err != nil {
				return
			}
			var att []byte
			if env.Bin > 0 {
				if att, err = lines.attachment(env.Bin, len(line)); err != nil {
					return
				}
			}
			for _, v := range []any{&GenerateResult{}, &StepParams{}, &HiddenParams{}, &HiddenResult{}, &BatchParams{}, &ProbabilitiesResult{}} {
				if decodeBody(env.Body, att, v) == nil {
					secondTrip(t, v)
				}
			}
		}
	})
}

// secondTrip encodes a decoded body in both lanes and decodes it again.
func secondTrip(t *testing.T, v any) {
	for _, binary := range []bool{false, true} {
		e := encoder{binary: binary}
		var body any
		switch v := v.(type) {
		case *GenerateResult:
			body = *v
		case *StepParams:
			body = *v
		case *HiddenParams:
			body = *v
		case *HiddenResult:
			body = *v
		default:
			return
		}
		raw, err := encodeBody(&e, body)
		if err != nil {
			continue // a non-finite float: JSON cannot say it, and relix refuses it
		}
		if len(raw) == 0 {
			t.Fatalf("an empty body for %T", v)
		}
	}
}

func TestAttachmentLimits(t *testing.T) {
	t.Parallel()
	lr := newLineReader(strings.NewReader("{}\nabc"), 6)
	line, err := lr.next()
	require.NoError(t, err)
	_, err = lr.attachment(5, len(line))
	assert.ErrorIs(t, err, ErrTooLarge, "line and attachment together are over the limit")
	lr = newLineReader(strings.NewReader("{}\nabc"), 100)
	line, _ = lr.next()
	_, err = lr.attachment(5, len(line))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a writer that died mid-attachment")

	var hp HiddenParams
	err = decodeBody([]byte(`{"checkpoint":"c","tokens":{"bin":[4,2]},"positions":[0]}`), make([]byte, 8), &hp)
	assert.ErrorContains(t, err, "outside the 8-byte attachment")
	err = decodeBody([]byte(`{"checkpoint":"c","tokens":{"bin":[-4,2]},"positions":[0]}`), make([]byte, 8), &hp)
	assert.ErrorContains(t, err, "non-negative")
	err = decodeBody([]byte(`{"checkpoint":"c","tokens":{"at":1},"positions":[0]}`), nil, &hp)
	assert.ErrorContains(t, err, `{"bin":[offset,length]}`)
	var hr HiddenResult
	err = decodeBody([]byte(`{"hidden":{"bin":[0,3],"width":2}}`), make([]byte, 12), &hr)
	assert.ErrorContains(t, err, "3 numbers in rows of width 2")
	require.NoError(t, decodeBody([]byte(`{"hidden":{"bin":[4,4],"width":2}}`), appendLE(nil, []float32{9, 1, 2, 3, 4}), &hr))
	assert.Equal(t, [][]float32{{1, 2}, {3, 4}}, hr.Hidden)
}

// A worker's reply that cannot be written as JSON (a NaN) goes back as an
// error, with no attachment; in the binary lane the NaN travels.
func TestNonFiniteBodies(t *testing.T) {
	t.Parallel()
	nan := GenerateResult{Completions: [][]Completion{{{Completion: runners.Completion{Text: "x", NumTokens: 1, Finish: "stop", LogProbs: []float32{float32(math.NaN())}}}}}}
	_, err := encodeBody(&encoder{}, nan)
	var ue *json.UnsupportedValueError
	assert.True(t, errors.As(err, &ue), "%v", err)
	e := encoder{binary: true}
	raw, err := encodeBody(&e, nan)
	require.NoError(t, err)
	var back GenerateResult
	require.NoError(t, decodeBody(raw, e.att, &back))
	assert.ErrorContains(t, checkGenerate(&GenerateParams{Prompts: []runners.Prompt{{ID: "a"}}, N: 1}, &back), "logprob NaN")
}

var bodySeeds = []string{
	`{"problems":[{"id":"p-1","statement":"What is $\\frac{1}{2}$ of 8?","answer":"4","topic":"fractions","features":{"chars":22,"words":6,"numbers":3,"max_digits":1,"total_digits":3,"operators":1,"unknowns":0,"operations":1,"steps":1,"answer_kind":"integer","answer_digits":1,"answer_magnitude":0.69897,"answer_negative":false},"level":2}]}`,
	`{"problems":[{"id":"p-2","features":{"answer_kind":"nonsense"}},{"features":{"chars":1.5}},{"level":-3,"features":{"answer_kind":3}}]}`,
	`{"completions":[[{"text":"Let me \"think\".\nSo $\\boxed{42}$ é","num_tokens":12,"finish":"stop","trace":{"bin":[0,2]},"tokens":[1,2,4294967295],"logprobs":[-0.5,-1e-7,0],"handle":3}],[]]}`,
	`{"completions":[[{"text":"x","num_tokens":-3,"finish":"length","logprobs":[1e40],"extra":{"a":[1,{"b":null}]}}]]}`,
	`{"completions":[[{"Text":"x"}]]}`,
	`{"completions":[[{"text":"\u00e9","tokens":[4294967296]}]]}`,
	`{"completions":null}`,
	`{"completions":[[{"text":"a","text":"b"}]]}`,
	`{"completions":[[{"num_tokens":1.5,"tokens":{"bin":[1]}}]]}`,
	`{"completions":[[{"tokens":{"bin":[1,2],"width":3},"trace":[1e-320,5e-324,-0]}]]}`,
	`{"hidden":{"bin":[0,4],"width":2}}`,
	`{"hidden":[[1,2.5,-3e-2],[],[0.1]]}`,
	`{"hidden":{"bin":[0,3],"width":2}}`,
	`{"hidden":{"bin":[0,4],"width":0}}`,
	`{"responses":[{"result":{"completions":[[{"text":"a","num_tokens":1}]]}},{"result": {"hidden":[[1]]} },{"result":{}}]}`,
	`{"responses":[{"result":{}},{"error":{"code":"unknown_handle","message":"gone"}}]}`,
	`{"responses":[{"result":null}]}`,
	`{"responses":[],"extra":[1,{"a":"b"}]}`,
	`{"responses":[{"Result":{}}]}`,
	`{"hidden":null}`,
	`{}`,
	`{"checkpoint":"sim-1","prompts":[{"id":"p-1","text":"What is $\\frac{1}{2}$?"}],"n":8,"sampling":{"temperature":0.9,"top_p":1,"max_tokens":8192,"seed":18446744073709551615,"tokens":true}}`,
	`{"checkpoint":"c","prompts":[],"n":-1,"sampling":{"temperature":1e-3,"tokens":false,"extra":null}}`,
	`{"prompts":[{"id":"a","id":"b"}],"sampling":{"max_tokens":1.5}}`,
	`{"prompts":[null],"sampling":{"tokens":null}}`,
	`{"requests":[{"method":"generate","params":{"checkpoint":"c","n":1}},{"method":"hidden","params": {"handle":3} }]}`,
	`{"requests":[{"method":"save"},{"Method":"x"}]}`,
	`{"checkpoint":"sim-0123456789abcdef","prompts":[{"id":"h-1","text":"Compute $2+2$."}],"sampling":{"temperature":0.9,"top_p":1,"max_tokens":8192,"seed":7},"truncated":"wrong"}`,
	`{"checkpoint":"c","prompts":null,"truncated":null}`,
	`{"checkpoint":"sim-1","handle":42,"positions":[0,17,8191]}`,
	`{"completions":[[{"text":"x","num_tokens":2,"finish":"stop","handle":9,"digest":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}]]}`,
	`{"completions":[[{"digest":3},{"digest":null,"handle":1}]]}`,
	`{"checkpoint":"sim-1","prompts":[],"n":8,"sampling":{"tokens":true},"digests":true}`,
	`{"checkpoint":"c","prompts":[],"n":1,"digests":"yes"}`,
	`{"checkpoint":"sim-1","tokens":{"bin":[0,3]},"positions":[]}`,
	`{"checkpoint":"sim-1","tokens":[1,2,4294967295],"positions":[-1,2.5]}`,
	`{"handle":18446744073709551615,"positions":[1e3]}`,
	`{"checkpoint":"sim-1","groups":[{"prompt":{"id":"p-1","text":"What is $x$?"},"completions":[{"text":"\\boxed{2}","num_tokens":2,"finish":"stop","tokens":{"bin":[0,2]}}],"rewards":[1,0,-0.5,1e-7],"checkpoint":"sim-0"}],"hyper":{"step":3,"lr":1e-6,"advantage":"std","betas":[0.9,0.999]}}`,
	`{"checkpoint":"c","groups":[],"hyper":{"step":"x"}}`,
	`{"groups":[{"prompt":null,"rewards":[1.5e400]}],"hyper":{}}`,
	`{"groups":[{"completions":[],"rewards":[],"extra":{"a":[1]}}],"hyper":{"Step":2}}`,
	`{"completions":[[{"text":"a\nb \u00e9\"q\""},{"text":"a\nb \u00e9\"q\""}],[{"text":"\u0041"},{"text":"A"},{"text":"\u0041"}]]}`,
	`{"completions":[[{"text":"\q"},{"text":"\q"}]]}`,
	"{\"completions\":[[{\"text\":\"\\ud800x\"},{\"text\":\"\\ud800x\",\"num_tokens\":3}],[{\"text\":\"\xff\xfe\"},{\"text\":\"\xff\xfe\"}]]}",
}

// fastPairs are the bodies the fast reader reads, each twice: for it and
// for encoding/json.
func fastPairs() [][2]any {
	return [][2]any{
		{&wireGenerateResult{}, &wireGenerateResult{}}, {&wireHiddenResult{}, &wireHiddenResult{}}, {&BatchResult{}, &BatchResult{}},
		{&GenerateParams{}, &GenerateParams{}}, {&BatchParams{}, &BatchParams{}},
		{&ProbabilitiesParams{}, &ProbabilitiesParams{}}, {&wireHiddenParams{}, &wireHiddenParams{}},
		{&wireStepParams{}, &wireStepParams{}}, {&ProblemsParams{}, &ProblemsParams{}},
	}
}

// FuzzFastBodies holds the fast body reader to encoding/json: where it
// reads a body, encoding/json reads the same values.
func FuzzFastBodies(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, ok := fastEnvelope(append(append([]byte(`{"id":1,"result":`), raw...), '}'), false); !ok {
			return // bodies reach the reader only from a line the envelope reader took
		}
		for _, pair := range fastPairs() {
			fast, slow := pair[0], pair[1]
			if !fastDecode(raw, fast) {
				continue
			}
			if err := strictUnmarshal(raw, slow); err != nil {
				t.Fatalf("the fast reader took what encoding/json refuses (%v): %s", err, raw)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("the readers differ on %s:\nfast %#v\nslow %#v", raw, fast, slow)
			}
		}
	})
}

func TestFastBodySeeds(t *testing.T) {
	took := 0
	for _, s := range bodySeeds {
		for _, pair := range fastPairs() {
			if fastDecode([]byte(s), pair[0]) {
				took++
				require.NoError(t, strictUnmarshal([]byte(s), pair[1]), s)
				assert.Equal(t, pair[1], pair[0], s)
			}
		}
	}
	assert.GreaterOrEqual(t, took, 4)
}

// TestFastReadersTakeWhatRelixWrites: every request body relix writes, with
// seeds and handles anywhere in their range, is read by the fast reader,
// not handed to encoding/json (a reader that gave up on 19- and 20-digit
// seeds once sent every generate request the slow way, and only the
// profile showed it).
func TestFastReadersTakeWhatRelixWrites(t *testing.T) {
	prompts := []runners.Prompt{{ID: "p-1", Text: `Compute $\frac{1}{2}$ "exactly".`}, {ID: "p-2", Text: "x\ny"}}
	for _, seed := range []uint64{0, 7, 1e17, 1e18, 11968966681042631308, math.MaxUint64} {
		s := runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192, Seed: seed, Tokens: seed%2 == 0}
		for _, c := range []struct {
			body any
			dst  any
		}{
			{GenerateParams{Checkpoint: "sim-1", Prompts: prompts, N: 8, Sampling: s}, &GenerateParams{}},
			{GenerateParams{Checkpoint: "sim-1", Prompts: prompts, N: 8, Sampling: s, Digests: seed%2 == 0}, &GenerateParams{}},
			{ProbabilitiesParams{Checkpoint: "sim-1", Prompts: prompts, Sampling: s, Truncated: "zero"}, &ProbabilitiesParams{}},
			{HiddenParams{Checkpoint: "sim-1", Handle: seed | 1, Positions: []int{0, 5}}, &wireHiddenParams{}},
		} {
			for _, binary := range []bool{false, true} {
				raw, err := encodeBody(&encoder{binary: binary}, c.body)
				require.NoError(t, err)
				assert.True(t, fastDecode(raw, c.dst), "the fast reader gave up on %s", raw)
			}
		}
	}
	for _, tooLarge := range []string{"18446744073709551616", "99999999999999999999", "184467440737095516150"} {
		raw := []byte(`{"checkpoint":"c","prompts":[],"n":1,"sampling":{"seed":` + tooLarge + `}}`)
		assert.False(t, fastDecode(raw, &GenerateParams{}), tooLarge)
		assert.Error(t, strictUnmarshal(raw, &GenerateParams{}), tooLarge)
	}
}

// TestSpecialBytesFindsTheFirst: the word-at-a-time test flags a word
// exactly when one of its bytes is a quote, a backslash or a control
// character, and its lowest flag is the first such byte, wherever it sits
// and whatever surrounds it.
func TestSpecialBytesFindsTheFirst(t *testing.T) {
	isSpecial := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	fillers := []byte{'a', ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xa0, 0xff, 0x21, 0x1f, '"', '\\', 0}
	for c := 0; c < 256; c++ {
		for pos := range 8 {
			for _, below := range fillers {
				for _, above := range fillers {
					var w [8]byte
					for i := range w {
						w[i] = below
						if i > pos {
							w[i] = above
						}
					}
					w[pos] = byte(c)
					first := -1
					for i, b := range w {
						if isSpecial(b) {
							first = i
							break
						}
					}
					m := specialBytes(binary.LittleEndian.Uint64(w[:]))
					if first < 0 {
						require.Zero(t, m, "%q", w)
					} else {
						require.Equal(t, first, bits.TrailingZeros64(m)/8, "%q", w)
					}
				}
			}
		}
	}
}

// TestFastProblemsReaderMatchesEncodingJSON: a main job's problem sets, as
// relix writes them, are taken by the fast reader (not handed to
// encoding/json) and read as encoding/json reads them.
func TestFastProblemsReaderMatchesEncodingJSON(t *testing.T) {
	raw, err := encodeBody(&encoder{binary: true}, problemsParams(t))
	require.NoError(t, err)
	var fast, slow ProblemsParams
	require.True(t, fastDecode(raw, &fast))
	require.NoError(t, strictUnmarshal(raw, &slow))
	assert.Equal(t, slow, fast)
}
