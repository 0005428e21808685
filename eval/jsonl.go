package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxLineBytes bounds one JSONL line: a completion at MaxCompletionBytes,
// escaped, fits with room to spare.
const MaxLineBytes = 16 << 20

// LineError is an error in one line of an input file.
type LineError struct {
	Path string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// GradeInput is one line of relix grade's input.
type GradeInput struct {
	ID         json.RawMessage // any JSON value, echoed back; nil when absent
	Completion string
	Answer     string // the reference answer; a JSON number is taken as written
}

// ParseGradeLine reads one JSONL line of the form
// {"completion": "...", "answer": "...", "id": ...}. Other fields are
// ignored.
func ParseGradeLine(line []byte) (GradeInput, error) {
	var raw struct {
		ID         json.RawMessage `json:"id"`
		Completion json.RawMessage `json:"completion"`
		Answer     json.RawMessage `json:"answer"`
	}
	if err := decodeObject(line, &raw); err != nil {
		return GradeInput{}, err
	}
	var in GradeInput
	if !isNull(raw.ID) {
		in.ID = raw.ID
	}
	var err error
	if in.Completion, err = stringField("completion", raw.Completion); err != nil {
		return GradeInput{}, err
	}
	if in.Answer, err = stringOrNumberField("answer", raw.Answer); err != nil {
		return GradeInput{}, err
	}
	return in, nil
}

// GradeOutput is one line of relix grade's output.
type GradeOutput struct {
	ID        json.RawMessage `json:"id,omitempty"`
	Correct   bool            `json:"correct"`
	Extracted string          `json:"extracted"`
	Reason    string          `json:"reason"`
}

// GradeSummary counts what GradeJSONL graded.
type GradeSummary struct {
	Graded  int
	Correct int
	// Reasons counts the wrong answers by their reason.
	Reasons map[string]int
}

// GradeJSONL grades every line of r (see ParseGradeLine) and, when w is not
// nil, writes one GradeOutput line per input line to w. Blank lines are
// skipped. path names r in errors, which are *LineError for bad input.
func GradeJSONL(r io.Reader, path string, w io.Writer, opts GradeOptions) (GradeSummary, error) {
	sum := GradeSummary{Reasons: map[string]int{}}
	var (
		bw  *bufio.Writer
		enc *json.Encoder
	)
	if w != nil {
		bw = bufio.NewWriter(w)
		enc = json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
	}
	err := eachLine(r, path, func(line []byte) error {
		in, err := ParseGradeLine(line)
		if err != nil {
			return err
		}
		v := Grade(in.Completion, in.Answer, opts)
		sum.Graded++
		if v.Correct {
			sum.Correct++
		} else {
			sum.Reasons[v.Reason]++
		}
		if enc != nil {
			if err := enc.Encode(GradeOutput{ID: in.ID, Correct: v.Correct, Extracted: v.Extracted, Reason: v.Reason}); err != nil {
				return writeError{err}
			}
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	if bw != nil {
		return sum, bw.Flush()
	}
	return sum, nil
}

// ParseSampleLine reads one per-sample record: {"problem": "p1" or 17,
// "sample": 0, "correct": true, "finish_reason": "stop" or "length"}, where
// "truncated": true|false may stand for finish_reason and "tokens" is
// optional. Other fields are ignored.
func ParseSampleLine(line []byte) (Sample, error) {
	var raw struct {
		Problem      json.RawMessage `json:"problem"`
		Sample       json.RawMessage `json:"sample"`
		Correct      json.RawMessage `json:"correct"`
		FinishReason json.RawMessage `json:"finish_reason"`
		Truncated    json.RawMessage `json:"truncated"`
		Tokens       json.RawMessage `json:"tokens"`
	}
	if err := decodeObject(line, &raw); err != nil {
		return Sample{}, err
	}
	var (
		s   Sample
		err error
	)
	if isNull(raw.Problem) {
		return Sample{}, errors.New(`missing field "problem"`)
	}
	if s.Problem, err = stringOrIntegerField("problem", raw.Problem); err != nil {
		return Sample{}, err
	}
	if s.Sample, err = integerField("sample", raw.Sample, true); err != nil {
		return Sample{}, err
	}
	if s.Correct, err = boolField("correct", raw.Correct); err != nil {
		return Sample{}, err
	}
	if s.Tokens, err = integerField("tokens", raw.Tokens, false); err != nil {
		return Sample{}, err
	}
	switch {
	case !isNull(raw.FinishReason):
		reason, err := stringField("finish_reason", raw.FinishReason)
		if err != nil {
			return Sample{}, err
		}
		if s.Truncated, err = ParseFinishReason(reason); err != nil {
			return Sample{}, err
		}
		if !isNull(raw.Truncated) {
			truncated, err := boolField("truncated", raw.Truncated)
			if err != nil {
				return Sample{}, err
			}
			if truncated != s.Truncated {
				return Sample{}, fmt.Errorf(`fields "finish_reason" (%q) and "truncated" (%v) disagree`, reason, truncated)
			}
		}
	case !isNull(raw.Truncated):
		if s.Truncated, err = boolField("truncated", raw.Truncated); err != nil {
			return Sample{}, err
		}
	default:
		return Sample{}, errors.New(`missing field "finish_reason" ("stop" or "length"; or "truncated": true or false)`)
	}
	return s, nil
}

// ParseFinishReason maps a completion's finish reason to whether it was
// truncated: "length" (hit the token cap) is, "stop" is not.
func ParseFinishReason(reason string) (truncated bool, err error) {
	switch reason {
	case "stop":
		return false, nil
	case "length":
		return true, nil
	}
	return false, fmt.Errorf(`finish_reason %q: want "stop" or "length"`, reason)
}

// ReadSamplesJSONL reads per-sample records (see ParseSampleLine), one per
// line; path names r in errors, which are *LineError for bad input.
func ReadSamplesJSONL(r io.Reader, path string) ([]Sample, error) {
	var samples []Sample
	err := eachLine(r, path, func(line []byte) error {
		s, err := ParseSampleLine(line)
		if err == nil {
			samples = append(samples, s)
		}
		return err
	})
	return samples, err
}

// eachLine calls fn for every non-blank line of r, wrapping its errors with
// the line's position.
func eachLine(r io.Reader, path string, fn func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			var lineErr *LineError
			if errors.As(err, &lineErr) {
				return err
			}
			if isWriteError(err) {
				return err
			}
			return &LineError{Path: path, Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{Path: path, Line: n + 1, Err: fmt.Errorf("line longer than %d MiB", MaxLineBytes>>20)}
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeError marks a failure to write output, which is not the input's fault.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

func isWriteError(err error) bool {
	var w writeError
	return errors.As(err, &w)
}

func decodeObject(line []byte, v any) error {
	if len(line) == 0 || line[0] != '{' {
		return errors.New("want a JSON object")
	}
	if err := json.Unmarshal(line, v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Errorf("invalid JSON at byte %d: %v", syntax.Offset, err)
		}
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func stringField(name string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", fmt.Errorf("missing field %q", name)
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("field %q: want a string, got %s", name, abbreviate(raw))
	}
	return s, nil
}

func stringOrNumberField(name string, raw json.RawMessage) (string, error) {
	if !isNull(raw) && raw[0] != '"' {
		if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return string(raw), nil
		}
		return "", fmt.Errorf("field %q: want a string or a number, got %s", name, abbreviate(raw))
	}
	return stringField(name, raw)
}

func stringOrIntegerField(name string, raw json.RawMessage) (string, error) {
	if !isNull(raw) && raw[0] != '"' {
		if _, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return string(raw), nil
		}
		return "", fmt.Errorf("field %q: want a string or an integer, got %s", name, abbreviate(raw))
	}
	return stringField(name, raw)
}

func integerField(name string, raw json.RawMessage, required bool) (int, error) {
	if isNull(raw) {
		if required {
			return 0, fmt.Errorf("missing field %q", name)
		}
		return 0, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("field %q: want a non-negative integer, got %s", name, abbreviate(raw))
	}
	return n, nil
}

func boolField(name string, raw json.RawMessage) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "", "null":
		return false, fmt.Errorf("missing field %q", name)
	}
	return false, fmt.Errorf("field %q: want true or false, got %s", name, abbreviate(raw))
}

// abbreviate quotes at most 40 bytes of a JSON value for an error message.
func abbreviate(raw json.RawMessage) string {
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}
