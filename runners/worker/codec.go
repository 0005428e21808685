package worker

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/relix-lab/relix/runners"
)

// ErrTooLarge is returned (wrapped) for a line longer than the limit.
var ErrTooLarge = errors.New("message too large")

// lineReader reads newline-terminated lines of at most max bytes.
type lineReader struct {
	br  *bufio.Reader
	max int
	buf []byte
	n   int // lines read
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its newline; the slice is valid until
// the next call. A final line without a newline is io.ErrUnexpectedEOF: a
// writer that died mid-message. A line longer than max is ErrTooLarge.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		if len(l.buf)+len(chunk) > l.max+1 { // +1: the newline is not part of the message
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrTooLarge, l.n+1, l.max)
		}
		l.buf = append(l.buf, chunk...)
		switch {
		case err == nil:
			l.n++
			return bytes.TrimSuffix(l.buf[:len(l.buf)-1], []byte{'\r'}), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(l.buf) > 0:
			return nil, fmt.Errorf("%w: line %d ends without a newline (%d bytes)", io.ErrUnexpectedEOF, l.n+1, len(l.buf))
		default:
			return nil, err
		}
	}
}

// attachment reads the n-byte binary attachment that follows a line of
// lineLen bytes; the two together may not be longer than max. An
// attachment cut short is io.ErrUnexpectedEOF: a writer that died
// mid-message.
func (l *lineReader) attachment(n, lineLen int) ([]byte, error) {
	if n > l.max-lineLen {
		return nil, fmt.Errorf("%w: message %d has a %d-byte line and a %d-byte attachment, longer than %d bytes together", ErrTooLarge, l.n, lineLen, n, l.max)
	}
	att := make([]byte, n)
	if _, err := io.ReadFull(l.br, att); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("message %d's %d-byte attachment: %w", l.n, n, err)
	}
	return att, nil
}

// DecodeResponse decodes one line from a worker. It checks the envelope
// only: a positive id and exactly one of result and error (with a code).
// Result is a slice of line.
func DecodeResponse(line []byte) (Response, error) {
	env, err := parseEnvelope(line, false)
	if err == nil {
		err = checkResponse(&env)
	}
	if err != nil {
		return Response{}, err
	}
	return Response{ID: env.ID, Result: env.Body, Error: env.Error, Bin: env.Bin}, nil
}

func checkResponse(r *envelope) error {
	switch {
	case r.ID == 0:
		return errors.New(`no "id" (want the positive id of the request it answers)`)
	case r.Error != nil && len(r.Body) > 0:
		return fmt.Errorf(`response %d has both "result" and "error"`, r.ID)
	case r.Error == nil && len(r.Body) == 0:
		return fmt.Errorf(`response %d has neither "result" nor "error"`, r.ID)
	case r.Error != nil && r.Error.Code == "":
		return fmt.Errorf(`response %d: error without a "code"`, r.ID)
	case r.Error == nil && isJSONNull(r.Body):
		return fmt.Errorf(`response %d: "result" is null (want an object)`, r.ID)
	case r.Bin < 0:
		return fmt.Errorf(`response %d: "bin" is %d (want the attachment's length in bytes)`, r.ID, r.Bin)
	}
	return nil
}

// DecodeRequest decodes one line from relix. Params is a slice of line.
func DecodeRequest(line []byte) (Request, error) {
	env, err := parseEnvelope(line, true)
	if err == nil {
		err = checkRequest(&env)
	}
	if err != nil {
		return Request{}, err
	}
	return Request{ID: env.ID, Method: env.Method, Params: env.Body, Bin: env.Bin}, nil
}

func checkRequest(r *envelope) error {
	switch {
	case r.ID == 0:
		return errors.New(`no "id" (want a positive request id)`)
	case r.Method == "":
		return fmt.Errorf(`request %d has no "method"`, r.ID)
	case r.Bin < 0:
		return fmt.Errorf(`request %d: "bin" is %d (want the attachment's length in bytes)`, r.ID, r.Bin)
	}
	return nil
}

// strictUnmarshal decodes exactly one JSON value into v and explains the
// usual ways a line fails: NaN and Infinity, which JSON does not have, and
// trailing bytes.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		if hasNonFinite(data) {
			return fmt.Errorf("%v (NaN and Infinity are not JSON: a non-finite number is an error, not a value)", err)
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return nil
}

// hasNonFinite reports whether data holds NaN or Infinity outside strings,
// as Python's json module writes them by default.
func hasNonFinite(data []byte) bool {
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (bytes.HasPrefix(data[i:], []byte("NaN")) || bytes.HasPrefix(data[i:], []byte("Infinity"))):
			return true
		}
	}
	return false
}

// decodeResult decodes a response's result into v, with the bulk arrays
// it refers to in att.
func decodeResult(method string, raw json.RawMessage, att []byte, v any) error {
	if err := decodeBody(raw, att, v); err != nil {
		return fmt.Errorf("%s result does not decode: %w", method, err)
	}
	return nil
}

// checkHello checks a hello result against what relix needs.
func checkHello(h *HelloResult) error {
	switch {
	case h.Protocol != Version:
		return fmt.Errorf("the worker speaks protocol version %d; relix speaks %d (update the worker or relix so they match)", h.Protocol, Version)
	case h.Base == "":
		return errors.New(`hello result has no "base" checkpoint id`)
	case !h.Has(CapGenerate) || !h.Has(CapStep):
		return fmt.Errorf("hello result announces capabilities %q; a worker must at least generate and step", h.Capabilities)
	case h.Concurrency < 0:
		return fmt.Errorf("hello result: concurrency %d; want ≥ 0", h.Concurrency)
	}
	for _, n := range h.Needs {
		if n != NeedProblems {
			return fmt.Errorf("hello result needs %q, which relix cannot provide (it provides: %s)", n, NeedProblems)
		}
	}
	return nil
}

// checkGenerate checks a generate result against its request: one list per
// prompt, n completions each, every completion well formed.
func checkGenerate(p *GenerateParams, r *GenerateResult) error {
	if len(r.Completions) != len(p.Prompts) {
		return fmt.Errorf("generate: %d completion lists for %d prompts", len(r.Completions), len(p.Prompts))
	}
	for i, cs := range r.Completions {
		if len(cs) != p.N {
			return fmt.Errorf("generate: prompt %d (%s): %d completions; asked for %d", i, p.Prompts[i].ID, len(cs), p.N)
		}
		for j := range cs {
			s := p.Sampling
			err := checkDigest(&cs[j], p)
			if cs[j].Digest != "" {
				s.Tokens = false // a digest stands for the ids
			}
			if err == nil {
				err = checkCompletion(&cs[j].Completion, s)
			}
			if err != nil {
				return fmt.Errorf("generate: prompt %d (%s) completion %d: %w", i, p.Prompts[i].ID, j, err)
			}
		}
	}
	return nil
}

// checkDigest checks a completion's digest, if it has one: asked for, with
// the handle it goes with, in place of the ids, 64 lower-case hex digits.
func checkDigest(c *Completion, p *GenerateParams) error {
	switch {
	case c.Digest == "":
		return nil
	case !p.Digests || !p.Sampling.Tokens:
		return errors.New("a digest, but none was asked for")
	case c.Handle == 0:
		return errors.New("a digest without the handle that names its ids")
	case len(c.Tokens) > 0:
		return errors.New("both token ids and a digest (want one)")
	}
	if _, err := parseDigest(c.Digest); err != nil {
		return err
	}
	return nil
}

// parseDigest reads a digest's 64 lower-case hex digits.
func parseDigest(s string) ([32]byte, error) {
	var sum [32]byte
	if len(s) != 2*len(sum) || strings.ToLower(s) != s {
		return sum, fmt.Errorf("digest %.80q; want 64 lower-case hex digits", s)
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return sum, fmt.Errorf("digest %.80q; want 64 lower-case hex digits", s)
	}
	return sum, nil
}

func checkCompletion(c *runners.Completion, s runners.Sampling) error {
	switch {
	case c.Finish != runners.FinishStop && c.Finish != runners.FinishLength:
		return fmt.Errorf("finish %q; want %q or %q", c.Finish, runners.FinishStop, runners.FinishLength)
	case c.NumTokens < 0:
		return fmt.Errorf("num_tokens %d; want ≥ 0", c.NumTokens)
	case s.Tokens && len(c.Tokens) != c.NumTokens:
		return fmt.Errorf("%d token ids for num_tokens %d (sampling asked for tokens)", len(c.Tokens), c.NumTokens)
	case len(c.LogProbs) > 0 && len(c.LogProbs) != c.NumTokens:
		return fmt.Errorf("%d logprobs for num_tokens %d", len(c.LogProbs), c.NumTokens)
	}
	for t, lp := range c.LogProbs {
		if !(lp <= 0) {
			return fmt.Errorf("logprob %g at token %d; want ≤ 0", lp, t)
		}
	}
	return nil
}

// checkStep checks a step result.
func checkStep(r *StepResult) error {
	m := r.Metrics
	switch {
	case r.Checkpoint == "":
		return errors.New(`step result has no "checkpoint"`)
	case m.Groups < 0 || m.Skipped < 0 || m.Sequences < 0 || m.Tokens < 0 || m.Skipped > m.Groups:
		return fmt.Errorf("step metrics: counts groups %d, skipped %d, sequences %d, tokens %d; want non-negative and skipped ≤ groups",
			m.Groups, m.Skipped, m.Sequences, m.Tokens)
	}
	return nil
}

// checkHidden checks a hidden result: one vector per position, all of one
// non-zero width.
func checkHidden(p *HiddenParams, r *HiddenResult) error {
	if len(r.Hidden) != len(p.Positions) {
		return fmt.Errorf("hidden: %d vectors for %d positions", len(r.Hidden), len(p.Positions))
	}
	for i, v := range r.Hidden {
		if len(v) == 0 || len(v) != len(r.Hidden[0]) {
			return fmt.Errorf("hidden: vector %d has %d entries (vector 0 has %d); want one non-zero width", i, len(v), len(r.Hidden[0]))
		}
	}
	return nil
}

func checkProbability(r *ProbabilityResult) error {
	if !(r.Probability >= 0 && r.Probability <= 1) {
		return fmt.Errorf("probability %g; want 0 ≤ p ≤ 1", r.Probability)
	}
	return nil
}

func checkDifficulties(p *DifficultiesParams, r *DifficultiesResult) error {
	if len(r.Difficulties) != len(p.Prompts) {
		return fmt.Errorf("difficulties: %d for %d prompts", len(r.Difficulties), len(p.Prompts))
	}
	for i, d := range r.Difficulties {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return fmt.Errorf("difficulties: prompt %d (%s): difficulty %g; want a finite number", i, p.Prompts[i].ID, d)
		}
	}
	return nil
}

func checkProbabilities(p *ProbabilitiesParams, r *ProbabilitiesResult) error {
	if len(r.Probabilities) != len(p.Prompts) {
		return fmt.Errorf("probabilities: %d for %d prompts", len(r.Probabilities), len(p.Prompts))
	}
	for i, q := range r.Probabilities {
		if !(q >= 0 && q <= 1) {
			return fmt.Errorf("probabilities: prompt %d (%s): probability %g; want 0 ≤ p ≤ 1", i, p.Prompts[i].ID, q)
		}
	}
	return nil
}
