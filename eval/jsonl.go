package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	if in, ok := fastGradeLine(line, nil); ok {
		return in, nil
	}
	return slowGradeLine(line)
}

// slowGradeLine is ParseGradeLine by encoding/json, which words the errors.
func slowGradeLine(line []byte) (GradeInput, error) {
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

// GradeOutput is one line of relix grade's output. Sample numbers the
// completions of one id in input order, from 0, so that the output is
// relix score's input as it stands.
type GradeOutput struct {
	ID        json.RawMessage `json:"id,omitempty"`
	Sample    *int            `json:"sample,omitempty"`
	Correct   bool            `json:"correct"`
	Extracted string          `json:"extracted"`
	Reason    string          `json:"reason"`
}

// Fields names where a grade line keeps its completion, reference answer
// and id: a top-level key, or a dotted path into nested objects
// ("doc.answer"). The zero value is the default, completion / answer / id.
type Fields struct {
	Completion, Answer, ID string
}

// WithDefaults fills in the default of every field left empty.
func (f Fields) WithDefaults() Fields {
	if f.Completion == "" {
		f.Completion = "completion"
	}
	if f.Answer == "" {
		f.Answer = "answer"
	}
	if f.ID == "" {
		f.ID = "id"
	}
	return f
}

func (f Fields) isDefault() bool { return f.WithDefaults() == Fields{}.WithDefaults() }

// GradeSummary counts what GradeJSONL graded.
type GradeSummary struct {
	Graded  int
	Correct int
	// Reasons counts the wrong answers by their reason.
	Reasons map[string]int
}

// GradeJSONL grades every line of r (see ParseGradeLine) and, when w is not
// nil, writes one GradeOutput line per input line to w, in input order.
// Blank lines are skipped. path names r in errors, which are *LineError for
// bad input; the output and the summary then stop before the bad line, as
// if the lines had been graded one by one. Blocks of lines are graded on
// every core (the grader is the work, not the reading).
func GradeJSONL(r io.Reader, path string, w io.Writer, opts GradeOptions) (GradeSummary, error) {
	return GradeLines(r, path, w, Fields{}, opts)
}

// GradeLines is GradeJSONL with the fields named by fields. A line of
// lm-evaluation-harness's --log_samples output (it has "resps" and no
// completion field) is read as that harness writes it: every response in
// "resps" is a completion, "target" the reference (unless fields.Answer
// names another), "doc_id" the id; a document logged once per filter is
// graded once, from its first line.
func GradeLines(r io.Reader, path string, w io.Writer, fields Fields, opts GradeOptions) (GradeSummary, error) {
	fields = fields.WithDefaults()
	var bw *bufio.Writer
	if w != nil {
		bw = bufio.NewWriterSize(w, 256<<10)
	}
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *gradeBlock, workers)
	inOrder := make(chan *gradeBlock, 2*workers)
	free := make(chan []byte, 2*workers+2) // blocks' buffers, for reuse once written
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		for range inOrder { // let the reader end
		}
		wg.Wait()
	}()
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(todo)
		defer close(inOrder)
		readBlocks(r, path, todo, inOrder, free, stop)
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for b := range todo {
				b.grade(path, fields, opts)
				close(b.done)
			}
		}()
	}
	sink := newGradeSink(bw)
	for b := range inOrder {
		<-b.done
		if err := sink.add(b.recs); err != nil {
			return sink.sum, err
		}
		select {
		case free <- b.data[:0]:
		default:
		}
		if b.err != nil {
			if err := sink.flush(); err != nil {
				return sink.sum, err
			}
			return sink.sum, b.err
		}
	}
	return sink.sum, sink.flush()
}

// gradeSink counts verdicts and writes them in input order, numbering
// each id's samples and grading a document logged once per filter once.
type gradeSink struct {
	w        *bufio.Writer // nil: count only
	sum      GradeSummary
	samples  map[string]int
	seenDocs map[string]bool
	skipping bool
	line     []byte
}

func newGradeSink(w *bufio.Writer) *gradeSink {
	return &gradeSink{w: w, sum: GradeSummary{Reasons: map[string]int{}}, samples: map[string]int{}, seenDocs: map[string]bool{}}
}

func (s *gradeSink) add(recs []gradedRecord) error {
	for _, rec := range recs {
		if rec.first {
			s.skipping = s.seenDocs[rec.doc] // the same document, logged for another filter
			s.seenDocs[rec.doc] = true
		}
		if rec.doc != "" && s.skipping {
			continue
		}
		s.sum.Graded++
		if rec.Correct {
			s.sum.Correct++
		} else {
			s.sum.Reasons[rec.Reason]++
		}
		if s.w == nil {
			continue
		}
		out := rec.GradeOutput
		if len(out.ID) > 0 {
			n := s.samples[string(out.ID)]
			s.samples[string(out.ID)] = n + 1
			out.Sample = &n
		}
		s.line = appendGradeOutput(s.line[:0], out)
		if _, err := s.w.Write(s.line); err != nil {
			return err
		}
	}
	return nil
}

func (s *gradeSink) flush() error {
	if s.w == nil {
		return nil
	}
	return s.w.Flush()
}

// GradeInputs grades records read from a table (CSV, Parquet) and writes
// their verdicts as GradeLines does.
func GradeInputs(ins []GradeInput, w io.Writer, opts GradeOptions) (GradeSummary, error) {
	var bw *bufio.Writer
	if w != nil {
		bw = bufio.NewWriterSize(w, 256<<10)
	}
	sink := newGradeSink(bw)
	recs := make([]gradedRecord, len(ins))
	parallel := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for p := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < len(ins); i += parallel {
				recs[i] = gradedRecord{GradeOutput: verdictOf(ins[i], opts)}
			}
		}()
	}
	wg.Wait()
	if err := sink.add(recs); err != nil {
		return sink.sum, err
	}
	return sink.sum, sink.flush()
}

// gradeBlockBytes is about how many input bytes one block of lines holds:
// 256 KiB measured fastest, against 64 KiB and 1 and 4 MiB (a block stays in
// the caches while it is graded).
const gradeBlockBytes = 256 << 10

// gradeBlock is a run of whole input lines and what grading them gave.
type gradeBlock struct {
	data  []byte
	first int   // the line number of data's first line
	tail  error // an error after data's lines (a line too long, a read error)
	done  chan struct{}
	recs  []gradedRecord
	err   error
}

// gradedRecord is one completion's verdict, with what numbering and
// deduplication need: doc is an lm-evaluation-harness document's id, and
// first marks its first response in a line.
type gradedRecord struct {
	GradeOutput
	doc   string
	first bool
}

// readBlocks reads r into blocks of whole lines, sending each to inOrder
// and then todo, until r ends, a line is too long or stop is closed. r is
// read straight into the blocks; only a block's unfinished last line is
// copied, to the start of the next.
func readBlocks(r io.Reader, path string, todo, inOrder chan<- *gradeBlock, free <-chan []byte, stop <-chan struct{}) {
	line := 1
	var carry []byte
	for {
		b := &gradeBlock{first: line, done: make(chan struct{})}
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, 0, gradeBlockBytes)
		}
		buf = append(buf[:0], carry...)
		eof := false
		for {
			for len(buf) < cap(buf) && !eof {
				n, err := r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				switch {
				case err == io.EOF:
					eof = true
				case err != nil:
					b.tail, eof = fmt.Errorf("%s: %w", path, err), true
				}
			}
			end := bytes.LastIndexByte(buf, '\n') + 1
			if eof {
				end = len(buf)
			}
			if end > 0 || eof {
				b.data, carry = buf[:end], append(carry[:0], buf[end:]...)
				break
			}
			if len(buf) > MaxLineBytes {
				b.tail, eof = &LineError{Path: path, Line: line, Err: fmt.Errorf("line longer than %d MiB", MaxLineBytes>>20)}, true
				break
			}
			grown := make([]byte, len(buf), 2*cap(buf)) // one line fills the block: grow it
			copy(grown, buf)
			buf = grown
		}
		if i := longLine(b.data); i >= 0 {
			// A line over the limit inside the block: grade the lines before it.
			n := bytes.Count(b.data[:i], []byte{'\n'})
			b.data, b.tail, eof = b.data[:i], &LineError{Path: path, Line: line + n, Err: fmt.Errorf("line longer than %d MiB", MaxLineBytes>>20)}, true
		}
		line += bytes.Count(b.data, []byte{'\n'})
		select {
		case inOrder <- b:
		case <-stop:
			return
		}
		select {
		case todo <- b:
		case <-stop:
			close(b.done)
			return
		}
		if eof {
			return
		}
	}
}

// longLine is the start of data's first line longer than MaxLineBytes, or
// −1; only a block bigger than the limit can hold one.
func longLine(data []byte) int {
	if len(data) <= MaxLineBytes {
		return -1
	}
	for start := 0; start < len(data); {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data) - start
		}
		if end > MaxLineBytes {
			return start
		}
		start += end + 1
	}
	return -1
}

// grade grades the block's lines up to its first bad line.
func (b *gradeBlock) grade(path string, fields Fields, opts GradeOptions) {
	var scratch []byte
	n := b.first
	fast := fields.isDefault()
	for data := b.data; len(data) > 0; n++ {
		text := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		text = bytes.TrimSpace(text)
		if len(text) == 0 {
			continue
		}
		// The line's strings may share the block and scratch: a verdict
		// keeps a copy of what it quotes.
		if fast {
			if in, ok := fastGradeLine(text, &scratch); ok {
				b.recs = append(b.recs, gradedRecord{GradeOutput: verdictOf(in, opts)})
				continue
			}
		}
		ins, doc, err := parseLine(text, fields)
		if err != nil {
			b.err = &LineError{Path: path, Line: n, Err: err}
			return
		}
		for j, in := range ins {
			b.recs = append(b.recs, gradedRecord{GradeOutput: verdictOf(in, opts), doc: doc, first: j == 0})
		}
	}
	b.err = b.tail
}

func verdictOf(in GradeInput, opts GradeOptions) GradeOutput {
	v := Grade(in.Completion, in.Answer, opts)
	return GradeOutput{ID: bytes.Clone(in.ID), Correct: v.Correct, Extracted: strings.Clone(v.Extracted), Reason: v.Reason}
}

// parseLine reads a line with fields named by fields, or an
// lm-evaluation-harness line (doc is then its doc_id, as JSON).
func parseLine(line []byte, fields Fields) (ins []GradeInput, doc string, err error) {
	if fields.isDefault() {
		if in, err := slowGradeLine(line); err == nil || !bytes.Contains(line, []byte(`"resps"`)) {
			return []GradeInput{in}, "", err
		}
	}
	var top map[string]json.RawMessage
	if err := decodeObject(line, &top); err != nil {
		return nil, "", err
	}
	if _, has := top["resps"]; has && fields.Completion == "completion" && isNull(top["completion"]) {
		return lmEvalLine(top, fields)
	}
	var in GradeInput
	raw, err := lookup(top, fields.Completion)
	if err != nil {
		return nil, "", err
	}
	if in.Completion, err = stringField(fields.Completion, raw); err != nil {
		return nil, "", err
	}
	if raw, err = lookup(top, fields.Answer); err != nil {
		return nil, "", err
	}
	if in.Answer, err = stringOrNumberField(fields.Answer, raw); err != nil {
		return nil, "", err
	}
	if raw, err := lookup(top, fields.ID); err == nil && !isNull(raw) {
		in.ID = raw
	}
	return []GradeInput{in}, "", nil
}

// lmEvalLine reads an lm-evaluation-harness --log_samples line: resps is
// [[response, ...]] (one request, its repeats) or [response, ...].
func lmEvalLine(top map[string]json.RawMessage, fields Fields) ([]GradeInput, string, error) {
	answerField := fields.Answer
	if answerField == "answer" {
		answerField = "target"
	}
	rawAnswer, err := lookup(top, answerField)
	if err != nil {
		return nil, "", err
	}
	answer, err := stringOrNumberField(answerField, rawAnswer)
	if err != nil {
		return nil, "", err
	}
	idField := fields.ID
	if idField == "id" {
		idField = "doc_id"
	}
	id, _ := lookup(top, idField)
	if isNull(id) {
		id = nil
	}
	var nested [][]string
	var flat []string
	switch {
	case json.Unmarshal(top["resps"], &nested) == nil:
		for _, r := range nested {
			flat = append(flat, r...)
		}
	case json.Unmarshal(top["resps"], &flat) == nil:
	default:
		return nil, "", fmt.Errorf(`field "resps": want a list of lists of strings (lm-evaluation-harness's --log_samples), got %s`, abbreviate(top["resps"]))
	}
	if len(flat) == 0 {
		return nil, "", errors.New(`field "resps" holds no response`)
	}
	ins := make([]GradeInput, len(flat))
	for i, c := range flat {
		ins[i] = GradeInput{ID: id, Completion: c, Answer: answer}
	}
	doc := ""
	if id != nil {
		doc = string(id)
	}
	return ins, doc, nil
}

// lookup follows a dotted path through nested objects.
func lookup(top map[string]json.RawMessage, path string) (json.RawMessage, error) {
	obj := top
	for {
		key, rest, nested := strings.Cut(path, ".")
		raw, ok := obj[key]
		if !nested {
			if !ok {
				return nil, nil // missing: the field's reader says so
			}
			return raw, nil
		}
		if !ok || isNull(raw) {
			return nil, nil
		}
		obj = nil
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("field %q: want an object, got %s", key, abbreviate(raw))
		}
		path = rest
	}
}

// ParseSampleLine reads one per-sample record: {"problem": "p1" or 17,
// "sample": 0, "correct": true, "finish_reason": "stop" or "length"}, where
// "truncated": true|false may stand for finish_reason and "tokens" is
// optional. "id" stands for a missing "problem" (relix grade writes it),
// correct may be 0 or 1, and a record without a finish reason leaves the
// truncation unknown (FinishUnknown). Other fields are ignored.
func ParseSampleLine(line []byte) (Sample, error) {
	var raw struct {
		Problem      json.RawMessage `json:"problem"`
		ID           json.RawMessage `json:"id"`
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
		raw.Problem = raw.ID // relix grade's output names the problem by its id
	}
	if isNull(raw.Problem) {
		return Sample{}, errors.New(`missing field "problem" (or "id")`)
	}
	if s.Problem, err = stringOrIntegerField("problem", raw.Problem); err != nil {
		return Sample{}, err
	}
	if s.Sample, err = integerField("sample", raw.Sample, true); err != nil {
		return Sample{}, err
	}
	switch string(raw.Correct) { // 0 and 1 are how many tools write a verdict
	case "1":
		raw.Correct = json.RawMessage("true")
	case "0":
		raw.Correct = json.RawMessage("false")
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
		s.FinishUnknown = true
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
