package worker

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/runners"
)

// The bodies relix reads most — generate results, one a market attempt,
// and hidden results — are read here in one pass over bytes the envelope
// reader has already validated, instead of encoding/json's two passes and
// reflection. Anything unusual (null, an escape other than the simple
// ones, a key in another case, a repeated key, a number that is not plain)
// makes the fast reader give up, and encoding/json reads the body as it
// always did; FuzzFastBodies holds the two to the same values.

// fastDecode decodes raw into dst when it can; false: use encoding/json.
func fastDecode(raw []byte, dst any) bool {
	s := scanner{b: raw}
	var ok bool
	switch d := dst.(type) {
	case *wireGenerateResult:
		ok = readInto(&s, d, fastGenerate)
	case *BatchResult:
		ok = readInto(&s, d, fastBatch)
	case *GenerateParams:
		ok = readInto(&s, d, fastGenerateParams)
	case *BatchParams:
		ok = readInto(&s, d, fastBatchParams)
	case *ProbabilitiesParams:
		ok = readInto(&s, d, fastProbabilitiesParams)
	case *wireStepParams:
		ok = readInto(&s, d, fastStepParams)
	case *ProblemsParams:
		ok = readInto(&s, d, fastProblemsParams)
	case *wireHiddenParams:
		ok = readInto(&s, d, fastHiddenParams)
	case *wireHiddenResult:
		ok = readInto(&s, d, func(s *scanner, w *wireHiddenResult) bool {
			return fastObject(s, []string{"hidden"}, func(int) bool {
				w.Hidden = &matrix{}
				return fastMatrix(s, w.Hidden)
			})
		})
	}
	return ok && s.end()
}

// readInto reads a body with read into a value of its own and sets *d only
// when read took all of it, so that a body the fast reader gives up on
// reaches encoding/json's reader untouched.
func readInto[T any](s *scanner, d *T, read func(*scanner, *T) bool) bool {
	var w T
	if !read(s, &w) {
		return false
	}
	*d = w
	return true
}

// fastObject reads an object whose known members are keys, calling member
// with a key's index with the scanner at its value; other members are
// skipped, as encoding/json skips fields a struct does not have.
func fastObject(s *scanner, keys []string, member func(int) bool) bool {
	var seen uint64
	return s.object(func(raw []byte) bool {
		if bytes.IndexByte(raw, '\\') >= 0 {
			return false
		}
		k := -1
		for i, name := range keys {
			if string(raw) == name {
				k = i
				break
			}
			if len(raw) == len(name) && bytes.EqualFold(raw, []byte(name)) {
				return false // json matches keys case-insensitively
			}
		}
		switch {
		case k < 0:
			return s.value(0)
		case seen&(1<<k) != 0:
			return false
		}
		seen |= 1 << k
		return !s.peek('n') && member(k) // null, or a value the fast reader does not take: json's
	})
}

// fastArray reads an array, calling item with the scanner at each item
// that is not null.
func fastArray(s *scanner, item func() bool) bool {
	return s.array(func() bool { return !s.peek('n') && item() })
}

func (s *scanner) peek(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

var completionKeys = []string{"text", "num_tokens", "finish", "tokens", "logprobs", "trace", "handle", "digest"}

func fastGenerate(s *scanner, w *wireGenerateResult) bool {
	return fastObject(s, []string{"completions"}, func(int) bool {
		w.Completions = [][]wireCompletion{}
		return fastArray(s, func() bool {
			group, ok := fastCompletions(s)
			w.Completions = append(w.Completions, group)
			return ok
		})
	})
}

func fastCompletions(s *scanner) ([]wireCompletion, bool) {
	group := []wireCompletion{}
	ok := fastArray(s, func() bool {
		var c wireCompletion
		ok := fastObject(s, completionKeys, func(k int) bool {
			var ok bool
			switch k {
			case 0:
				c.Text, ok = s.plainString()
			case 1:
				var n int64
				n, ok = s.plainInt()
				c.NumTokens = int(n)
			case 2:
				c.Finish, ok = s.plainString()
			case 3:
				c.Tokens, ok = fastBulk[uint32](s)
			case 4:
				c.LogProbs, ok = fastBulk[float32](s)
			case 5:
				c.Trace, ok = fastBulk[float64](s)
			case 6:
				c.Handle, ok = s.plainUint64()
			case 7:
				c.Digest, ok = s.plainString()
			}
			return ok
		})
		group = append(group, c)
		return ok
	})
	return group, ok
}

// fastStepParams reads a step request: a step's every completion with its
// text, and the rewards. The hyper-parameters, a small object, are left to
// encoding/json.
func fastStepParams(s *scanner, p *wireStepParams) bool {
	return fastObject(s, []string{"checkpoint", "groups", "hyper"}, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			p.Checkpoint, ok = s.plainString()
		case 1:
			p.Groups = []wireGroup{}
			ok = fastArray(s, func() bool {
				var g wireGroup
				ok := fastObject(s, []string{"prompt", "completions", "rewards", "checkpoint"}, func(k int) bool {
					var ok bool
					switch k {
					case 0:
						ok = fastPrompt(s, &g.Prompt)
					case 1:
						g.Completions, ok = fastCompletions(s)
					case 2:
						g.Rewards = []float64{}
						ok = fastArray(s, func() bool {
							x, ok := fastNumber[float64](s)
							g.Rewards = append(g.Rewards, x)
							return ok
						})
					case 3:
						g.Checkpoint, ok = s.plainString()
					}
					return ok
				})
				p.Groups = append(p.Groups, g)
				return ok
			})
		case 2:
			var raw json.RawMessage
			if raw, ok = s.raw(); ok {
				ok = json.Unmarshal(raw, &p.Hyper) == nil
			}
		}
		return ok
	})
}

// fastBatch reads a batch result's responses, each result as its raw
// bytes (a slice of the body, which the reader owns: proc clones every
// line) for its own decoder to read; an error among them, rare, is left to
// encoding/json.
func fastBatch(s *scanner, w *BatchResult) bool {
	return fastObject(s, []string{"responses"}, func(int) bool {
		w.Responses = []BatchResponse{}
		return fastArray(s, func() bool {
			var r BatchResponse
			ok := fastObject(s, []string{"result", "error"}, func(k int) bool {
				if k == 1 {
					return false
				}
				var ok bool
				r.Result, ok = s.raw()
				return ok
			})
			w.Responses = append(w.Responses, r)
			return ok
		})
	})
}

// fastGenerateParams reads a generate request, the one a sim worker reads
// most (a market's lookahead sends dozens a step).
func fastGenerateParams(s *scanner, p *GenerateParams) bool {
	return fastObject(s, []string{"checkpoint", "prompts", "n", "sampling", "digests"}, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			p.Checkpoint, ok = s.plainString()
		case 1:
			p.Prompts, ok = fastPrompts(s)
		case 2:
			var n int64
			n, ok = s.plainInt()
			p.N = int(n)
		case 3:
			ok = fastSampling(s, &p.Sampling)
		case 4:
			p.Digests, ok = s.plainBool()
		}
		return ok
	})
}

// fastProbabilitiesParams reads a probabilities request: every step asks
// for the held-out prompts' chances, text and all.
func fastProbabilitiesParams(s *scanner, p *ProbabilitiesParams) bool {
	return fastObject(s, []string{"checkpoint", "prompts", "sampling", "truncated"}, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			p.Checkpoint, ok = s.plainString()
		case 1:
			p.Prompts, ok = fastPrompts(s)
		case 2:
			ok = fastSampling(s, &p.Sampling)
		case 3:
			p.Truncated, ok = s.plainString()
		}
		return ok
	})
}

// fastHiddenParams reads a hidden request, of which a market step sends
// dozens in its batches.
func fastHiddenParams(s *scanner, p *wireHiddenParams) bool {
	return fastObject(s, []string{"checkpoint", "tokens", "handle", "positions"}, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			p.Checkpoint, ok = s.plainString()
		case 1:
			p.Tokens, ok = fastBulk[uint32](s)
		case 2:
			p.Handle, ok = s.plainUint64()
		case 3:
			p.Positions = []int{}
			ok = fastArray(s, func() bool {
				n, ok := s.plainInt()
				p.Positions = append(p.Positions, int(n))
				return ok
			})
		}
		return ok
	})
}

func fastPrompts(s *scanner) ([]runners.Prompt, bool) {
	prompts := []runners.Prompt{}
	ok := fastArray(s, func() bool {
		var pr runners.Prompt
		ok := fastPrompt(s, &pr)
		prompts = append(prompts, pr)
		return ok
	})
	return prompts, ok
}

func fastPrompt(s *scanner, pr *runners.Prompt) bool {
	return fastObject(s, []string{"id", "text"}, func(k int) bool {
		var ok bool
		if k == 0 {
			pr.ID, ok = s.plainString()
		} else {
			pr.Text, ok = s.plainString()
		}
		return ok
	})
}

func fastSampling(s *scanner, o *runners.Sampling) bool {
	return fastObject(s, []string{"temperature", "top_p", "max_tokens", "seed", "tokens"}, func(k int) bool {
		var ok bool
		switch k {
		case 0:
			o.Temperature, ok = fastNumber[float64](s)
		case 1:
			o.TopP, ok = fastNumber[float64](s)
		case 2:
			var n int64
			n, ok = s.plainInt()
			o.MaxTokens = int(n)
		case 3:
			o.Seed, ok = s.plainUint64()
		case 4:
			o.Tokens, ok = s.plainBool()
		}
		return ok
	})
}

// fastBatchParams reads a batch request, each item's params as its raw
// bytes (a slice of the body, which Serve clones off the reader) for the
// item's own decoder.
func fastBatchParams(s *scanner, p *BatchParams) bool {
	return fastObject(s, []string{"requests"}, func(int) bool {
		p.Requests = []BatchRequest{}
		return fastArray(s, func() bool {
			var r BatchRequest
			ok := fastObject(s, []string{"method", "params"}, func(k int) bool {
				if k == 0 {
					var ok bool
					r.Method, ok = s.plainString()
					return ok
				}
				var ok bool
				r.Params, ok = s.raw()
				return ok
			})
			p.Requests = append(p.Requests, r)
			return ok
		})
	})
}

// fastBulk reads a numeric array inline or a reference.
func fastBulk[T elem](s *scanner) (*bulk[T], bool) {
	if s.peek('{') {
		off, n, width, ok := fastRef(s)
		return &bulk[T]{ref: true, off: off, n: n}, ok && width < 0
	}
	b := &bulk[T]{v: []T{}}
	ok := fastArray(s, func() bool {
		x, ok := fastNumber[T](s)
		b.v = append(b.v, x)
		return ok
	})
	return b, ok
}

func fastMatrix(s *scanner, m *matrix) bool {
	if s.peek('{') {
		off, n, width, ok := fastRef(s)
		if !ok || width <= 0 || n%width != 0 {
			return false // encoding/json's reader words the error
		}
		m.ref, m.off, m.n, m.wd = true, off, n, width
		return true
	}
	m.v = [][]float32{}
	return fastArray(s, func() bool {
		row := []float32{}
		ok := fastArray(s, func() bool {
			x, ok := fastNumber[float32](s)
			row = append(row, x)
			return ok
		})
		m.v = append(m.v, row)
		return ok
	})
}

// fastRef reads {"bin":[offset,length]} and, for a matrix, "width"; width
// is -1 without it.
func fastRef(s *scanner) (off, n, width int, ok bool) {
	width = -1
	var got bool
	ok = fastObject(s, []string{"bin", "width"}, func(k int) bool {
		if k == 1 {
			w, ok := s.plainInt()
			width = int(w)
			return ok && w > 0
		}
		var xs []int64
		ok := fastArray(s, func() bool {
			x, ok := s.plainInt()
			xs = append(xs, x)
			return ok && x >= 0 && len(xs) <= 2
		})
		if !ok || len(xs) != 2 {
			return false
		}
		off, n, got = int(xs[0]), int(xs[1]), true
		return true
	})
	return off, n, width, ok && got
}

// plainString reads a string with at most the simple escapes, as
// encoding/json would give it; false for \u escapes and invalid UTF-8.
func (s *scanner) plainString() (string, bool) {
	start := s.i
	if !s.str() {
		return "", false
	}
	raw := s.b[start+1 : s.i-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		if !utf8.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
	// One allocation: the builder's buffer becomes the string.
	var out strings.Builder
	out.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		// Copy the run up to the next escape at once.
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			out.Write(raw[i:])
			break
		}
		out.Write(raw[i : i+j])
		i += j + 1
		switch raw[i] {
		case '"', '\\', '/':
			out.WriteByte(raw[i])
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		default:
			return "", false // \u: encoding/json's rules for surrogates
		}
	}
	if !utf8.ValidString(out.String()) {
		return "", false
	}
	return out.String(), true
}

// raw reads any value as its bytes, a slice of the body.
func (s *scanner) raw() (json.RawMessage, bool) {
	start := s.i
	if !s.value(0) {
		return nil, false
	}
	return json.RawMessage(s.b[start:s.i]), true
}

func (s *scanner) plainBool() (bool, bool) {
	switch {
	case s.peek('t'):
		return true, s.literal("true")
	case s.peek('f'):
		return false, s.literal("false")
	}
	return false, false
}

// plainInt reads an integer of at most 18 digits.
func (s *scanner) plainInt() (int64, bool) {
	neg := s.eat('-')
	n, ok := s.plainUint()
	if neg {
		return -int64(n), ok
	}
	return int64(n), ok
}

func (s *scanner) plainUint() (uint64, bool) {
	start := s.i
	if !s.number() {
		return 0, false
	}
	n, ok := plainUint(s.b[start:s.i])
	return n, ok
}

// plainUint64 reads a uint64 member (a seed, a handle) over its whole range.
func (s *scanner) plainUint64() (uint64, bool) {
	start := s.i
	if !s.number() {
		return 0, false
	}
	return plainUint64(s.b[start:s.i])
}

// fastNumber reads one element as encoding/json would: a uint32 must be a
// plain integer in range, a float any JSON number that fits.
func fastNumber[T elem](s *scanner) (T, bool) {
	start := s.i
	if !s.number() {
		return 0, false
	}
	lit := s.b[start:s.i]
	var z T
	switch any(z).(type) {
	case uint32:
		n, ok := plainUint(lit)
		return T(n), ok && n <= math.MaxUint32
	case float32:
		f, err := strconv.ParseFloat(string(lit), 32)
		return T(f), err == nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	return T(f), err == nil
}

var (
	problemKeys = []string{"id", "statement", "answer", "topic", "features", "level"}
	featureKeys = []string{"chars", "words", "numbers", "max_digits", "total_digits", "operators",
		"unknowns", "operations", "steps", "answer_kind", "answer_digits", "answer_magnitude", "answer_negative"}
)

// fastProblemsParams reads the problems request every worker start reads:
// a main job's 4,500 problems, each with its features.
func fastProblemsParams(s *scanner, p *ProblemsParams) bool {
	return fastObject(s, []string{"problems"}, func(int) bool {
		p.Problems = []dataset.Problem{}
		return fastArray(s, func() bool {
			var pr dataset.Problem
			ok := fastObject(s, problemKeys, func(k int) bool {
				var ok bool
				switch k {
				case 0:
					pr.ID, ok = s.plainString()
				case 1:
					pr.Statement, ok = s.plainString()
				case 2:
					pr.Answer, ok = s.plainString()
				case 3:
					pr.Topic, ok = s.plainString()
				case 4:
					ok = fastFeatures(s, &pr.Features)
				case 5:
					ok = fastIntInto(s, &pr.Level)
				}
				return ok
			})
			p.Problems = append(p.Problems, pr)
			return ok
		})
	})
}

func fastFeatures(s *scanner, f *dataset.Features) bool {
	ints := [...]*int{&f.Chars, &f.Words, &f.Numbers, &f.MaxDigits, &f.TotalDigits, &f.Operators,
		&f.Unknowns, &f.Operations, &f.Steps}
	return fastObject(s, featureKeys, func(k int) bool {
		var ok bool
		switch {
		case k < len(ints):
			ok = fastIntInto(s, ints[k])
		case k == 9:
			// A kind is its name (AnswerKind's UnmarshalText); anything
			// else is left to encoding/json.
			var name string
			if name, ok = s.plainString(); ok {
				ok = f.AnswerKind.UnmarshalText([]byte(name)) == nil
			}
		case k == 10:
			ok = fastIntInto(s, &f.AnswerDigits)
		case k == 11:
			f.AnswerMagnitude, ok = fastNumber[float64](s)
		case k == 12:
			f.AnswerNegative, ok = s.plainBool()
		}
		return ok
	})
}

func fastIntInto(s *scanner, dst *int) bool {
	n, ok := s.plainInt()
	*dst = int(n)
	return ok
}
