package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtureJSONL = "testdata/problems.jsonl"

// fixtureHash is the content hash of testdata/problems.jsonl, which the
// Parquet fixture must share.
const fixtureHash = "sha256:edcfa148996b489c0f2d02459c5015276dda9ff760e85396198cba9649ce85bb"

func TestLoadJSONL(t *testing.T) {
	t.Parallel()
	s, err := LoadJSONL(fixtureJSONL, Columns{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, answer, topic string }{
		{"gsm-1", "72", "word problems"},
		{"math-2", "5", "Algebra"},
		{"math-3", `7\sqrt{5}`, "Prealgebra"},
		{"math-4", "(3, -2)", "Algebra"},
		{"math-5", "14", "Algebra"},
		{"num-6", "7.5", "word problems"},
		{"math-7", "70", ""},
		{"math-8", `\frac{1}{6}`, "Counting & Probability"},
	}
	if s.Len() != len(want) {
		t.Fatalf("%d problems, want %d", s.Len(), len(want))
	}
	for i, w := range want {
		p := s.Problems[i]
		if p.ID != w.id || p.Answer != w.answer || p.Topic != w.topic {
			t.Errorf("problem %d = {%s %q %q}, want {%s %q %q}", i, p.ID, p.Answer, p.Topic, w.id, w.answer, w.topic)
		}
		if p.Features != TextFeatures(p.Statement, p.Answer) {
			t.Errorf("problem %s: features are not the text features", p.ID)
		}
		if q, ok := s.Lookup(w.id); !ok || q.ID != w.id {
			t.Errorf("Lookup(%s) failed", w.id)
		}
	}
	if s.Name != "problems.jsonl" || s.Hash != fixtureHash {
		t.Errorf("name %q, hash %s; want problems.jsonl, %s", s.Name, s.Hash, fixtureHash)
	}
	if s.Contains("math-9") {
		t.Error("Contains(math-9) is true")
	}
}

func TestReadJSONLColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cols    Columns
		input   string
		answers []string
		ids     []string
	}{
		{
			name:    "question and solution, ids from statements",
			input:   `{"question": "What is 1+1?", "solution": "It is $\\boxed{2}$."}` + "\n" + `{"question": "What is 2+2?", "solution": "\\boxed{4}"}`,
			answers: []string{"2", "4"},
			ids:     []string{ProblemID("What is 1+1?"), ProblemID("What is 2+2?")},
		},
		{
			name:    "answer preferred over solution",
			input:   `{"problem": "p", "solution": "\\boxed{9}", "answer": "3"}`,
			answers: []string{"3"},
			ids:     []string{ProblemID("p")},
		},
		{
			name:    "named columns, numeric id",
			cols:    Columns{ID: "uid", Problem: "prompt", Answer: "target", Topic: "area"},
			input:   `{"uid": 17, "prompt": "2*3?", "target": 6, "area": "arith", "problem": "ignored"}`,
			answers: []string{"6"},
			ids:     []string{"17"},
		},
		{
			name:    "CRLF and a byte order mark",
			input:   "\xef\xbb\xbf{\"problem\": \"a\", \"answer\": \"1\"}\r\n{\"problem\": \"b\", \"answer\": \"-2\"}\r\n",
			answers: []string{"1", "-2"},
			ids:     []string{ProblemID("a"), ProblemID("b")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ReadJSONL(strings.NewReader(tt.input), "in.jsonl", tt.cols)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range s.Problems {
				if p.Answer != tt.answers[i] || p.ID != tt.ids[i] {
					t.Errorf("problem %d: id %s answer %q; want %s %q", i, p.ID, p.Answer, tt.ids[i], tt.answers[i])
				}
			}
		})
	}
}

func TestReadJSONLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cols  Columns
		input string
		want  string
	}{
		{"empty file", Columns{}, "\n\n", "bad.jsonl: no problems"},
		{"invalid JSON", Columns{}, `{"problem": "1+1", "answer": "2"}` + "\n\n" + `{"problem": "1+1", `,
			"bad.jsonl:3: invalid JSON: unexpected end of JSON input"},
		{"not an object", Columns{}, `["1+1", "2"]`, "bad.jsonl:1: want a JSON object, got a JSON array"},
		{"no problem column", Columns{}, `{"text": "1+1", "answer": "2"}`,
			`bad.jsonl:1: no problem column (looked for "problem", "question"); the columns are "answer", "text"`},
		{"named column missing", Columns{Answer: "target"}, `{"problem": "1+1", "answer": "2"}`,
			`bad.jsonl:1: no column "target"; the columns are "answer", "problem"`},
		{"named id missing", Columns{ID: "uid"}, `{"problem": "1+1", "answer": "2"}`,
			`bad.jsonl:1: no column "uid"; the columns are "answer", "problem"`},
		{"empty object", Columns{}, `{}`, `bad.jsonl:1: no problem column (looked for "problem", "question"); there are no columns`},
		{"empty answer", Columns{}, `{"problem": "1+1", "answer": ""}`, `bad.jsonl:1: no answer: column "answer" is empty`},
		{"null answer", Columns{}, `{"problem": "1+1", "answer": null}`, `bad.jsonl:1: no answer: column "answer" is empty`},
		{"solution without a boxed answer", Columns{}, `{"problem": "1+1", "solution": "` + strings.Repeat("We add the numbers. ", 6) + `"}`,
			`bad.jsonl:1: no answer: column "solution" has no \boxed{...} or "####" answer and is too long (over 100 characters, or several lines) to be one`},
		{"unclosed box", Columns{}, `{"problem": "1+1", "solution": "so \\boxed{2"}`,
			`bad.jsonl:1: no answer: column "solution": unclosed \boxed`},
		{"empty box", Columns{}, `{"problem": "1+1", "solution": "so \\boxed{ }"}`,
			`bad.jsonl:1: no answer: column "solution": empty answer`},
		{"nothing after ####", Columns{}, `{"problem": "1+1", "answer": "we add\n####"}`,
			`bad.jsonl:1: no answer: column "answer" has nothing after "####"`},
		{"empty statement", Columns{}, `{"problem": "  ", "answer": "2"}`, `bad.jsonl:1: column "problem" is empty`},
		{"answer of the wrong type", Columns{}, `{"problem": "1+1", "answer": [2]}`,
			`bad.jsonl:1: column "answer": want a string or a number, got an array`},
		{"statement of the wrong type", Columns{}, `{"problem": true, "answer": "2"}`,
			`bad.jsonl:1: column "problem": want a string or a number, got a boolean`},
		{"duplicate id", Columns{}, `{"id": "a", "problem": "1+1", "answer": "2"}` + "\n" + `{"id": "b", "problem": "1+2", "answer": "3"}` + "\n" + `{"id": "a", "problem": "1+3", "answer": "4"}`,
			`bad.jsonl:3: duplicate id "a" (first on line 1)`},
		{"duplicate statement", Columns{}, `{"problem": "1+1", "answer": "2"}` + "\n" + `{"problem": "1+1", "answer": "2"}`,
			`bad.jsonl:2: duplicate id "` + ProblemID("1+1") + `" (first on line 1); without an id column a problem's id is a hash of its statement, so the statement is repeated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadJSONL(strings.NewReader(tt.input), "bad.jsonl", tt.cols)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant       %s", err, tt.want)
			}
		})
	}
}

func TestLoadJSONLMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "none.jsonl")
	if _, err := LoadJSONL(path, Columns{}); !os.IsNotExist(err) {
		t.Fatalf("error %v, want a not-exist error", err)
	}
}

func FuzzLoadJSONL(f *testing.F) {
	fixture, err := os.ReadFile(fixtureJSONL)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`{"problem": "1+1", "answer": 2}`))
	f.Add([]byte(`{"question": "q", "solution": "\\boxed{\\frac{1}{2}}", "id": 3}` + "\n[1]\n"))
	f.Add([]byte("\xef\xbb\xbf{}\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadJSONL(bytes.NewReader(data), "fuzz.jsonl", Columns{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range s.Problems {
			if p.ID == "" || p.Statement == "" || p.Answer == "" || !s.Contains(p.ID) {
				t.Fatalf("loaded an incomplete problem: %+v", p)
			}
		}
		if len(s.Hash) != len("sha256:")+64 {
			t.Fatalf("hash %q", s.Hash)
		}
	})
}
