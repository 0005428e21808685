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
// contents of the last \boxed{...} (or \fbox{...}) when there is one, else
// the text after the last "####", else the whole trimmed text if it is a
// single line of at most 100 characters. ok is false when there is no
// answer: an empty cell, an unclosed \boxed{, or a long text with neither
// marker.
func ReferenceAnswer(cell string) (answer string, ok bool) {
	if b, found := LastBoxed(cell); found {
		b = strings.TrimSpace(b)
		return b, b != ""
	}
	if strings.Contains(cell, `\boxed`) || strings.Contains(cell, `\fbox`) {
		return "", false
	}
	if i := strings.LastIndex(cell, "####"); i >= 0 {
		a := strings.TrimSpace(cell[i+len("####"):])
		return a, a != ""
	}
	a := strings.TrimSpace(cell)
	if a == "" || strings.ContainsRune(a, '\n') || utf8.RuneCountInString(a) > maxAnswerRunes {
		return "", false
	}
	return a, true
}

// LastBoxed returns the contents of the last \boxed{...} or \fbox{...} in s,
// braces matched, and whether there is a complete one. "\boxed 5" (a single
// token without braces) counts too.
func LastBoxed(s string) (string, bool) {
	end := len(s)
	for {
		at := max(strings.LastIndex(s[:end], `\boxed`), strings.LastIndex(s[:end], `\fbox`))
		if at < 0 {
			return "", false
		}
		end = at // if this one is unclosed or empty, look further left
		rest := s[at+1:]
		i := strings.IndexFunc(rest, func(r rune) bool { return r < 'a' || r > 'z' })
		if i < 0 {
			continue
		}
		rest = rest[i:]
		if inner, _, ok := braced(rest); ok {
			return inner, true
		}
		if t, ok := strings.CutPrefix(rest, " "); ok {
			t = strings.TrimLeft(t, " ")
			n := strings.IndexAny(t, " $\n}")
			if n < 0 {
				n = len(t)
			}
			if n > 0 {
				return t[:n], true
			}
		}
	}
}

// LoadJSONL reads a JSONL problem file: one JSON object per line, blank lines
// skipped. Errors name the file and line.
func LoadJSONL(path string, cols Columns) (*Set, error) {
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
	answer, ok := ReferenceAnswer(cells[colAnswer])
	if !ok {
		switch cell := cells[colAnswer]; {
		case strings.TrimSpace(cell) == "":
			return Problem{}, fmt.Errorf("no answer: column %q is empty", names[colAnswer])
		case strings.Contains(cell, `\boxed`) || strings.Contains(cell, `\fbox`):
			return Problem{}, fmt.Errorf(`no answer: column %q has only an empty or unclosed \boxed{...}`, names[colAnswer])
		}
		return Problem{}, fmt.Errorf(`no answer: column %q has no \boxed{...} or "####" answer and is too long (over %d characters, or several lines) to be one`,
			names[colAnswer], maxAnswerRunes)
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
