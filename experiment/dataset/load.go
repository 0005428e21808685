package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/relix-lab/relix/eval"
)

// Columns names the columns of a problem file. An empty field means the
// default: the first of the default names the file has. A named column must
// exist; a default ID or topic column may be absent.
//
//	Problem  the statement                   default "problem", then "question"
//	Answer   the answer, or a solution       default "answer", then "solution"
//	ID       a stable problem id             default "id" (else ProblemID(statement))
//	Topic    the problem's topic             default "topic", then "subject", then "type"
//
// The answer column's value is read by ReferenceAnswer, so it may be a bare
// answer ("42"), a solution ending in \boxed{...} (MATH) or one ending in
// "#### 42" (GSM8K).
type Columns struct {
	ID, Problem, Answer, Topic string
}

// column is one role's resolved column: the names tried in order, and
// whether the role may be missing.
type column struct {
	role     string
	names    []string
	optional bool
}

func (c Columns) resolve() [4]column {
	one := func(role, name string, optional bool, defaults ...string) column {
		if name != "" {
			return column{role, []string{name}, false}
		}
		return column{role, defaults, optional}
	}
	return [4]column{
		one("problem", c.Problem, false, "problem", "question"),
		one("answer", c.Answer, false, "answer", "solution"),
		one("id", c.ID, true, "id"),
		one("topic", c.Topic, true, "topic", "subject", "type"),
	}
}

const (
	colProblem = iota
	colAnswer
	colID
	colTopic
)

// pick returns the first of c's names present in has.
func (c column) pick(has func(string) bool) (string, bool) {
	for _, n := range c.names {
		if has(n) {
			return n, true
		}
	}
	return "", false
}

func (c column) missing(available []string) string {
	have := "there are no columns"
	if len(available) > 0 {
		have = "the columns are " + quoteList(available)
	}
	if len(c.names) == 1 {
		return fmt.Sprintf("no column %q; %s", c.names[0], have)
	}
	return fmt.Sprintf("no %s column (looked for %s); %s", c.role, quoteList(c.names), have)
}

// maxAnswerRunes is the longest text taken as a bare answer: a longer
// value without \boxed{...} or "####" is a solution with no final answer.
const maxAnswerRunes = 100

// ReferenceAnswer extracts the reference answer from an answer cell: the
// final answer eval.ExtractAnswer finds (the last complete \boxed{...} or
// \fbox{...}), so that a dataset's answer is what the grader reads from the
// same text; without a box, the text after the last "####" (GSM8K); else the
// whole trimmed cell if it is a single line of at most 100 characters. ok is
// false when there is no answer.
func ReferenceAnswer(cell string) (answer string, ok bool) {
	a, err := referenceAnswer(cell, "answer")
	return a, err == nil
}

// referenceAnswer is ReferenceAnswer with the reason there is no answer,
// naming the column.
func referenceAnswer(cell, column string) (string, error) {
	boxed, err := eval.ExtractAnswer(cell, eval.GradeOptions{})
	switch {
	case err == nil:
		if a := strings.TrimSpace(boxed); a != "" {
			return a, nil
		}
		return "", fmt.Errorf("no answer: column %q has an empty \\boxed{}", column)
	case !errors.Is(err, eval.ErrNoAnswer):
		return "", fmt.Errorf("no answer: column %q: %v", column, err)
	}
	if i := strings.LastIndex(cell, "####"); i >= 0 {
		if a := strings.TrimSpace(cell[i+len("####"):]); a != "" {
			return a, nil
		}
		return "", fmt.Errorf(`no answer: column %q has nothing after "####"`, column)
	}
	a := strings.TrimSpace(cell)
	switch {
	case a == "":
		return "", fmt.Errorf("no answer: column %q is empty", column)
	case strings.ContainsRune(a, '\n') || utf8.RuneCountInString(a) > maxAnswerRunes:
		return "", fmt.Errorf(`no answer: column %q has no \boxed{...} or "####" answer and is too long (over %d characters, or several lines) to be one`,
			column, maxAnswerRunes)
	}
	return a, nil
}

// MaxProblemFileBytes bounds a problem file: every problem is held in
// memory, at a few times its size on disk. Public math training sets with
// their solutions are a few GB at most, so a larger file is more likely a
// mistake (or a device) than a data set.
const MaxProblemFileBytes = 4 << 30

// checkProblemFile refuses what would hang or exhaust the loader before
// it opens anything: a FIFO or a device (the open or the read would never
// end) and a file larger than MaxProblemFileBytes.
func checkProblemFile(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s); a problem set is read from a file", path, info.Mode().Type())
	}
	if info.Size() > MaxProblemFileBytes {
		return fmt.Errorf("%s: %d bytes, more than the %d a problem file may have", path, info.Size(), int64(MaxProblemFileBytes))
	}
	return nil
}

// LoadJSONL reads a JSONL problem file: one JSON object per line, blank lines
// skipped. Errors name the file and line.
func LoadJSONL(path string, cols Columns) (*Set, error) {
	if err := checkProblemFile(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadJSONL(f, path, cols)
}

// ReadJSONL is LoadJSONL on a reader; name is used in errors and as the
// set's name (its base name).
func ReadJSONL(r io.Reader, name string, cols Columns) (*Set, error) {
	spec := cols.resolve()
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		problems []Problem
		lines    = map[string]int{} // id → line, for duplicate errors
		lineNo   int
	)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			if lineNo == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			if len(bytes.TrimSpace(line)) > 0 {
				p, perr := jsonlProblem(line, spec)
				if perr != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, lineNo, perr)
				}
				if first, dup := lines[p.ID]; dup {
					return nil, fmt.Errorf("%s:%d: duplicate id %q (first on line %d)%s", name, lineNo, p.ID, first, dupHint(p))
				}
				lines[p.ID] = lineNo
				problems = append(problems, p)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(problems) == 0 {
		return nil, fmt.Errorf("%s: no problems", name)
	}
	return NewSet(filepath.Base(name), problems)
}

// dupHint explains a duplicate id that was derived from the statement.
func dupHint(p Problem) string {
	if p.ID == ProblemID(p.Statement) {
		return "; without an id column a problem's id is a hash of its statement, so the statement is repeated"
	}
	return ""
}

func jsonlProblem(line []byte, spec [4]column) (Problem, error) {
	var row map[string]json.RawMessage
	if err := json.Unmarshal(line, &row); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Problem{}, fmt.Errorf("want a JSON object, got a JSON %s", typeErr.Value)
		}
		return Problem{}, fmt.Errorf("invalid JSON: %v", err)
	}
	var cells [4]string
	var names [4]string
	for i, c := range spec {
		name, ok := c.pick(func(n string) bool { _, ok := row[n]; return ok })
		if !ok {
			if c.optional {
				continue
			}
			keys := make([]string, 0, len(row))
			for k := range row {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return Problem{}, errors.New(c.missing(keys))
		}
		v, err := jsonCell(row[name])
		if err != nil {
			return Problem{}, fmt.Errorf("column %q: %v", name, err)
		}
		cells[i], names[i] = v, name
	}
	return rowProblem(cells, names)
}

// jsonCell reads a JSON string or number as text; null is empty.
func jsonCell(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case raw[0] == '-' || isDigit(raw[0]):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	kinds := map[byte]string{'{': "an object", '[': "an array", 't': "a boolean", 'f': "a boolean"}
	return "", fmt.Errorf("want a string or a number, got %s", kinds[raw[0]])
}

// rowProblem makes a problem of one row's cells (problem, answer, id,
// topic), named by the columns they came from.
func rowProblem(cells, names [4]string) (Problem, error) {
	statement := strings.TrimSpace(cells[colProblem])
	if statement == "" {
		return Problem{}, fmt.Errorf("column %q is empty", names[colProblem])
	}
	answer, err := referenceAnswer(cells[colAnswer], names[colAnswer])
	if err != nil {
		return Problem{}, err
	}
	id := strings.TrimSpace(cells[colID])
	if id == "" {
		if names[colID] != "" {
			return Problem{}, fmt.Errorf("column %q is empty", names[colID])
		}
		id = ProblemID(statement)
	}
	return Problem{
		ID:        id,
		Statement: statement,
		Answer:    answer,
		Topic:     strings.TrimSpace(cells[colTopic]),
		Features:  TextFeatures(statement, answer),
	}, nil
}
