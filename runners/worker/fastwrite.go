package worker

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/relix-lab/relix/runners"
)

// The bodies a worker writes most — generate results, alone or in a
// batch — are written here without reflection: encoding/json compacts
// every RawMessage and MarshalJSON output it embeds once more, which for a
// batch of groups was most of a sim worker's encoding time. What comes
// out decodes to the same values as encoding/json's output (FuzzFastWrite
// holds the two to that); it differs only in not escaping <, > and & for
// HTML, which no reader of this protocol needs.

// appendGenerateResult writes wireGenerateResult's JSON; nil when a
// completion cannot be written (appendCompletion).
func appendGenerateResult(dst []byte, e *encoder, v GenerateResult) []byte {
	text, bulk := v.size()
	dst = slices.Grow(dst, text)
	if e.binary {
		e.att = slices.Grow(e.att, bulk) // once: growing by appending moved a replay's ids several times
	}
	if v.Completions == nil {
		return append(dst, `{"completions":null}`...)
	}
	dst = append(dst, `{"completions":[`...)
	for i, cs := range v.Completions {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[') // a nil group too: putCompletions made it []
		for j := range cs {
			if j > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendCompletion(dst, e, &cs[j]); !ok {
				return nil
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}"...)
}

// appendCompletion writes wireCompletion's JSON: the same members in the
// same order, the bulk arrays where e puts them. False for a non-finite
// float in the JSON lane: the caller falls back to encoding/json, whose
// error says so.
func appendCompletion(dst []byte, e *encoder, c *Completion) ([]byte, bool) {
	dst = append(dst, `{"text":`...)
	dst = appendString(dst, c.Text)
	dst = append(dst, `,"num_tokens":`...)
	dst = strconv.AppendInt(dst, int64(c.NumTokens), 10)
	dst = append(dst, `,"finish":`...)
	dst = appendString(dst, c.Finish)
	var err error
	if dst, err = appendBulk(dst, "tokens", putBulk(e, c.Tokens)); err == nil {
		if dst, err = appendBulk(dst, "logprobs", putBulk(e, c.LogProbs)); err == nil {
			dst, err = appendBulk(dst, "trace", putBulk(e, c.Trace))
		}
	}
	if err != nil {
		return dst, false
	}
	if c.Handle != 0 {
		dst = append(dst, `,"handle":`...)
		dst = strconv.AppendUint(dst, c.Handle, 10)
	}
	if c.Digest != "" {
		dst = append(dst, `,"digest":`...)
		dst = appendString(dst, c.Digest)
	}
	return append(dst, '}'), true
}

// appendStepParams writes wireStepParams's JSON: the same members in the
// same order, the bulk arrays where e puts them. False where encoding/json
// must speak instead: a non-finite reward or float in the JSON lane, whose
// error it words.
func appendStepParams(dst []byte, e *encoder, v StepParams) ([]byte, bool) {
	hyper, err := json.Marshal(v.Hyper)
	if err != nil {
		return dst, false
	}
	text := 64 + len(hyper)
	for _, g := range v.Groups {
		text += len(g.Prompt.ID) + len(g.Prompt.Text) + len(g.Checkpoint) + 64 + 24*len(g.Rewards)
		for i := range g.Completions {
			text += len(g.Completions[i].Text) + len(g.Completions[i].Finish) + 96
		}
	}
	dst = slices.Grow(dst, text)
	dst = append(dst, `{"checkpoint":`...)
	dst = appendString(dst, v.Checkpoint)
	dst = append(dst, `,"groups":[`...)
	for i := range v.Groups {
		g := &v.Groups[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"prompt":{"id":`...)
		dst = appendString(dst, g.Prompt.ID)
		dst = append(dst, `,"text":`...)
		dst = appendString(dst, g.Prompt.Text)
		dst = append(dst, `},"completions":[`...)
		for j := range g.Completions {
			if j > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendCompletion(dst, e, &Completion{Completion: g.Completions[j]}); !ok {
				return dst, false
			}
		}
		dst = append(dst, `],"rewards":[`...)
		for j, r := range g.Rewards {
			if math.IsNaN(r) || math.IsInf(r, 0) {
				return dst, false
			}
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendFloat64(dst, r)
		}
		dst = append(dst, ']')
		if g.Checkpoint != "" {
			dst = append(dst, `,"checkpoint":`...)
			dst = appendString(dst, g.Checkpoint)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	dst = append(dst, `,"hyper":`...)
	dst = append(dst, hyper...)
	return append(dst, '}'), true
}

// appendGenerateParams writes GenerateParams's JSON, which relix sends
// for every group a race or a round generates. False for a non-finite
// sampling float, whose error encoding/json words.
func appendGenerateParams(dst []byte, v *GenerateParams) ([]byte, bool) {
	dst = slices.Grow(dst, promptsSize(v.Prompts)+160)
	dst = append(dst, `{"checkpoint":`...)
	dst = appendString(dst, v.Checkpoint)
	dst = appendPrompts(append(dst, `,"prompts":`...), v.Prompts)
	dst = append(dst, `,"n":`...)
	dst = strconv.AppendInt(dst, int64(v.N), 10)
	dst, ok := appendSampling(append(dst, `,"sampling":`...), &v.Sampling)
	if v.Digests {
		dst = append(dst, `,"digests":true`...)
	}
	return append(dst, '}'), ok
}

// appendProbabilitiesParams writes ProbabilitiesParams's JSON; false as
// appendGenerateParams.
func appendProbabilitiesParams(dst []byte, v *ProbabilitiesParams) ([]byte, bool) {
	dst = slices.Grow(dst, promptsSize(v.Prompts)+160)
	dst = append(dst, `{"checkpoint":`...)
	dst = appendString(dst, v.Checkpoint)
	dst = appendPrompts(append(dst, `,"prompts":`...), v.Prompts)
	dst, ok := appendSampling(append(dst, `,"sampling":`...), &v.Sampling)
	dst = append(dst, `,"truncated":`...)
	dst = appendString(dst, v.Truncated)
	return append(dst, '}'), ok
}

// appendHiddenParams writes wireHiddenParams's JSON: a market's proofs
// send dozens of hidden requests a step in their batches.
func appendHiddenParams(dst []byte, e *encoder, v *HiddenParams) []byte {
	dst = slices.Grow(dst, 64+len(v.Checkpoint)+8*len(v.Positions))
	dst = append(dst, `{"checkpoint":`...)
	dst = appendString(dst, v.Checkpoint)
	tokens := putBulk(e, v.Tokens)
	if v.Handle == 0 && tokens == nil {
		tokens = &bulk[uint32]{v: []uint32{}} // an empty list travels as []
	}
	dst, _ = appendBulk(dst, "tokens", tokens) // ids always encode
	if v.Handle != 0 {
		dst = strconv.AppendUint(append(dst, `,"handle":`...), v.Handle, 10)
	}
	dst = append(dst, `,"positions":[`...)
	for i, p := range v.Positions {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(p), 10)
	}
	return append(dst, "]}"...)
}

func promptsSize(ps []runners.Prompt) int {
	n := 0
	for _, p := range ps {
		n += len(p.ID) + len(p.Text) + 24
	}
	return n
}

func appendPrompts(dst []byte, ps []runners.Prompt) []byte {
	if ps == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, p.ID)
		dst = append(dst, `,"text":`...)
		dst = appendString(dst, p.Text)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendSampling(dst []byte, s *runners.Sampling) ([]byte, bool) {
	if !finite(s.Temperature) || !finite(s.TopP) {
		return dst, false
	}
	dst = appendFloat64(append(dst, `{"temperature":`...), s.Temperature)
	dst = appendFloat64(append(dst, `,"top_p":`...), s.TopP)
	dst = strconv.AppendInt(append(dst, `,"max_tokens":`...), int64(s.MaxTokens), 10)
	dst = strconv.AppendUint(append(dst, `,"seed":`...), s.Seed, 10)
	if s.Tokens {
		dst = append(dst, `,"tokens":true`...)
	}
	return append(dst, '}'), true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendFloat64 writes a finite float as encoding/json does: the shortest
// decimal that reads back as the same float, in exponent form only below
// 1e-6 or from 1e21 on.
func appendFloat64(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// size is about how long v's JSON is, and exactly how long its bulk
// arrays are in the attachment.
func (v GenerateResult) size() (text, bulk int) {
	text = 32
	for _, cs := range v.Completions {
		for i := range cs {
			c := &cs[i].Completion
			text += len(c.Text) + len(c.Finish) + len(cs[i].Digest) + 96
			bulk += 4*len(c.Tokens) + 4*len(c.LogProbs) + 8*len(c.Trace)
		}
	}
	return text, bulk
}

func appendBulk[T elem](dst []byte, name string, b *bulk[T]) ([]byte, error) {
	if b == nil {
		return dst, nil
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	if b.ref {
		return appendRef(dst, b.off, b.n, 0), nil
	}
	raw, err := json.Marshal(b.v)
	return append(dst, raw...), err
}

// appendBatchReplies writes a batch's answers: each result as encodeBody
// writes it, each error as encoding/json does.
func appendBatchReplies(dst []byte, e *encoder, v batchReplies) []byte {
	text, bulk := 32, 0
	for _, r := range v {
		if g, ok := r.result.(GenerateResult); ok && r.err == nil {
			t, b := g.size()
			text, bulk = text+t+16, bulk+b
		}
	}
	dst = slices.Grow(dst, text)
	if e.binary {
		e.att = slices.Grow(e.att, bulk)
	}
	dst = append(dst, `{"responses":[`...)
	for i, r := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		if r.err == nil {
			raw, err := encodeBody(e, r.result)
			if err == nil {
				dst = append(dst, `{"result":`...)
				dst = append(append(dst, raw...), '}')
				continue
			}
			r.err = &Error{CodeFailed, "result does not encode as JSON: " + err.Error()}
		}
		dst = append(dst, `{"error":{"code":`...)
		dst = appendString(dst, r.err.Code)
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, r.err.Message)
		dst = append(dst, "}}"...)
	}
	return append(dst, "]}"...)
}

// appendString writes s as a JSON string. Invalid UTF-8 goes through
// encoding/json, which replaces it as every reader expects.
func appendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		raw, _ := json.Marshal(s) // a string always encodes
		return append(dst, raw...)
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigit[c>>4], hexDigit[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigit = "0123456789abcdef"
