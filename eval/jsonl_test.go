package eval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseGradeLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want GradeInput
		err  string
	}{
		{`{"completion": "so \\boxed{4}", "answer": "4"}`, GradeInput{Completion: `so \boxed{4}`, Answer: "4"}, ""},
		{`{"id": "p1", "completion": "x", "answer": "4", "extra": [1]}`, GradeInput{ID: []byte(`"p1"`), Completion: "x", Answer: "4"}, ""},
		{`{"id": 17, "completion": "x", "answer": 4.50}`, GradeInput{ID: []byte(`17`), Completion: "x", Answer: "4.50"}, ""},
		{`{"id": null, "completion": "", "answer": "4"}`, GradeInput{Completion: "", Answer: "4"}, ""},
		{`["completion"]`, GradeInput{}, "want a JSON object"},
		{`{"completion": "x", "answer": "4"`, GradeInput{}, "invalid JSON at byte 33: unexpected end of JSON input"},
		{`{"answer": "4"}`, GradeInput{}, `missing field "completion"`},
		{`{"completion": 3, "answer": "4"}`, GradeInput{}, `field "completion": want a string, got 3`},
		{`{"completion": "x"}`, GradeInput{}, `missing field "answer"`},
		{`{"completion": "x", "answer": true}`, GradeInput{}, `field "answer": want a string or a number, got true`},
	} {
		got, err := ParseGradeLine([]byte(tc.line))
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseGradeLine(%s): error %v, want %q", tc.line, err, tc.err)
			continue
		}
		if string(got.ID) != string(tc.want.ID) || got.Completion != tc.want.Completion || got.Answer != tc.want.Answer {
			t.Errorf("ParseGradeLine(%s) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestGradeJSONL(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"id": 1, "completion": "so $\\boxed{\\frac{1}{2}}$", "answer": "0.5"}`,
		``,
		`{"id": "two", "completion": "I think <5 & >3 so \\boxed{4}", "answer": "5"}`,
		`{"completion": "no idea", "answer": "5"}`,
	}, "\n")
	var out bytes.Buffer
	sum, err := GradeJSONL(strings.NewReader(in), "in.jsonl", &out, GradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":1,"sample":0,"correct":true,"extracted":"\\frac{1}{2}","reason":""}
{"id":"two","sample":0,"correct":false,"extracted":"4","reason":"not equivalent"}
{"correct":false,"extracted":"","reason":"no boxed answer"}
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if sum.Graded != 3 || sum.Correct != 1 || sum.Reasons["not equivalent"] != 1 || sum.Reasons["no boxed answer"] != 1 {
		t.Errorf("summary %+v", sum)
	}

	_, err = GradeJSONL(strings.NewReader(in+"\n{\"completion\": \"x\"}\n"), "in.jsonl", nil, GradeOptions{})
	var lineErr *LineError
	if !errors.As(err, &lineErr) || err.Error() != `in.jsonl:5: missing field "answer"` {
		t.Errorf("bad line: %v", err)
	}
}

func TestParseSampleLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want Sample
		err  string
	}{
		{`{"problem": "p1", "sample": 0, "correct": true, "finish_reason": "stop"}`, Sample{Problem: "p1", Correct: true}, ""},
		{`{"problem": 17, "sample": 3, "correct": false, "finish_reason": "length", "tokens": 8192}`, Sample{Problem: "17", Sample: 3, Truncated: true, Tokens: 8192}, ""},
		{`{"problem": "p", "sample": 1, "correct": true, "truncated": true}`, Sample{Problem: "p", Sample: 1, Correct: true, Truncated: true}, ""},
		{`{"problem": "p", "sample": 1, "correct": true, "truncated": false, "finish_reason": "stop"}`, Sample{Problem: "p", Sample: 1, Correct: true}, ""},
		{`{"sample": 0, "correct": true, "finish_reason": "stop"}`, Sample{}, `missing field "problem" (or "id")`},
		{`{"id": 4, "sample": 1, "correct": 1, "extracted": "x", "reason": ""}`, Sample{Problem: "4", Sample: 1, Correct: true, FinishUnknown: true}, ""},
		{`{"problem": "p", "sample": 0, "correct": 0, "finish_reason": "stop"}`, Sample{Problem: "p"}, ""},
		{`{"problem": 1.5, "sample": 0, "correct": true, "finish_reason": "stop"}`, Sample{}, `field "problem": want a string or an integer, got 1.5`},
		{`{"problem": "p", "correct": true, "finish_reason": "stop"}`, Sample{}, `missing field "sample"`},
		{`{"problem": "p", "sample": -1, "correct": true, "finish_reason": "stop"}`, Sample{}, `field "sample": want a non-negative integer, got -1`},
		{`{"problem": "p", "sample": 0, "correct": 2, "finish_reason": "stop"}`, Sample{}, `field "correct": want true or false, got 2`},
		{`{"problem": "p", "sample": 0, "finish_reason": "stop"}`, Sample{}, `missing field "correct"`},
		{`{"problem": "p", "sample": 0, "correct": true, "finish_reason": "eos"}`, Sample{}, `finish_reason "eos": want "stop" or "length"`},
		{`{"problem": "p", "sample": 0, "correct": true}`, Sample{Problem: "p", Correct: true, FinishUnknown: true}, ""},
		{`{"problem": "p", "sample": 0, "correct": true, "finish_reason": "stop", "truncated": true}`, Sample{}, `fields "finish_reason" ("stop") and "truncated" (true) disagree`},
		{`{"problem": "p", "sample": 0, "correct": true, "finish_reason": "stop", "tokens": "many"}`, Sample{}, `field "tokens": want a non-negative integer, got "many"`},
	} {
		got, err := ParseSampleLine([]byte(tc.line))
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseSampleLine(%s): error %v, want %q", tc.line, err, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseSampleLine(%s) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestReadSamplesJSONL(t *testing.T) {
	t.Parallel()
	in := "{\"problem\": \"a\", \"sample\": 0, \"correct\": true, \"finish_reason\": \"stop\"}\n\n" +
		"{\"problem\": \"a\", \"sample\": 1, \"correct\": false, \"finish_reason\": \"length\"}\n"
	got, err := ReadSamplesJSONL(strings.NewReader(in), "s.jsonl")
	if err != nil || len(got) != 2 || !got[0].Correct || !got[1].Truncated {
		t.Errorf("ReadSamplesJSONL = %+v, %v", got, err)
	}
	_, err = ReadSamplesJSONL(strings.NewReader(in+"not json\n"), "s.jsonl")
	if err == nil || err.Error() != "s.jsonl:4: want a JSON object" {
		t.Errorf("bad line: %v", err)
	}
	_, err = ReadSamplesJSONL(strings.NewReader(strings.Repeat("x", MaxLineBytes+1)), "s.jsonl")
	if err == nil || err.Error() != "s.jsonl:1: line longer than 16 MiB" {
		t.Errorf("long line: %v", err)
	}
}

func TestComparePaired(t *testing.T) {
	t.Parallel()
	var a, b []Sample
	for p := 0; p < 10; p++ {
		for s := 0; s < 2; s++ {
			id := string(rune('a' + p))
			// Arm a solves problems 0-7, arm b problems 0-3 and always
			// runs into the token cap.
			a = append(a, Sample{Problem: id, Sample: s, Correct: p < 8})
			b = append(b, Sample{Problem: id, Sample: s, Correct: p < 4, Truncated: true})
		}
	}
	sa, _ := Score(a, []int{1})
	sb, _ := Score(b, []int{1})
	got, err := ComparePaired(sa, sb, 2000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Metric != "pass@1" || got[1].Metric != "truncation" {
		t.Fatalf("comparisons %+v", got)
	}
	// pass@1 differences: four 1s and six 0s; mean 0.4.
	if d := got[0].Paired.Diff; d != 0.4 {
		t.Errorf("pass@1 diff %v, want 0.4", d)
	}
	if d := got[1].Paired.Diff; d != -1 || got[1].Paired.P != 0 {
		t.Errorf("truncation diff %+v, want -1 with p 0", got[1].Paired)
	}
	sc, _ := Score(b[2:], []int{1})
	if _, err := ComparePaired(sa, sc, 10, 1); err == nil || err.Error() != `arms are not paired: problem "a" is scored in the first arm only (10 problems against 9)` {
		t.Errorf("unpaired: %v", err)
	}
}

// TestGradeJSONLInBlocks grades a file of many blocks on every core and
// holds it to grading the lines one by one: the same output in the same
// order, and on a bad line the same error, output and counts before it.
func TestGradeJSONLInBlocks(t *testing.T) {
	t.Parallel()
	data := gradeFile(400) // about 2 MB: several blocks
	lines := bytes.SplitAfter(data, []byte("\n"))
	bad := append(append(append([]byte{}, bytes.Join(lines[:300], nil)...), "{\"completion\": 1}\n"...), bytes.Join(lines[300:], nil)...)
	for _, c := range []struct {
		name string
		data []byte
	}{{"whole", data}, {"a bad line in a later block", bad}, {"no final newline", bytes.TrimSuffix(data, []byte("\n"))}} {
		wantOut, wantSum, wantErr := gradeOneByOne(c.data)
		var out bytes.Buffer
		sum, err := GradeJSONL(bytes.NewReader(c.data), "f.jsonl", &out, GradeOptions{})
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, want %v", c.name, err, wantErr)
		}
		if out.String() != wantOut || !reflect.DeepEqual(sum, wantSum) {
			t.Errorf("%s: output or summary differs from grading line by line (%d against %d bytes; %+v against %+v)",
				c.name, out.Len(), len(wantOut), sum, wantSum)
		}
	}
	long := append(append(append([]byte{}, lines[0]...), strings.Repeat("x", MaxLineBytes+1)...), '\n')
	if _, err := GradeJSONL(bytes.NewReader(long), "f.jsonl", io.Discard, GradeOptions{}); err == nil || err.Error() != "f.jsonl:2: line longer than 16 MiB" {
		t.Errorf("long line: %v", err)
	}
}

func TestGradeJSONLEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "\n", "\n\n  \n"} {
		sum, err := GradeJSONL(strings.NewReader(in), "e.jsonl", io.Discard, GradeOptions{})
		if err != nil || sum.Graded != 0 {
			t.Errorf("GradeJSONL(%q) = %+v, %v; want nothing graded", in, sum, err)
		}
	}
}

// gradeOneByOne is GradeJSONL as it was written first: one line after the
// other, what the blocks on every core must reproduce.
func gradeOneByOne(data []byte) (string, GradeSummary, error) {
	var out []byte
	sum := GradeSummary{Reasons: map[string]int{}}
	samples, seen := map[string]int{}, map[string]bool{}
	err := eachLine(bytes.NewReader(data), "f.jsonl", func(line []byte) error {
		ins, doc, err := parseLine(line, Fields{}.WithDefaults())
		if err != nil {
			return err
		}
		if doc != "" {
			if seen[doc] {
				return nil
			}
			seen[doc] = true
		}
		for _, in := range ins {
			v := Grade(in.Completion, in.Answer, GradeOptions{})
			sum.Graded++
			if v.Correct {
				sum.Correct++
			} else {
				sum.Reasons[v.Reason]++
			}
			o := GradeOutput{ID: in.ID, Correct: v.Correct, Extracted: v.Extracted, Reason: v.Reason}
			if len(in.ID) > 0 {
				n := samples[string(in.ID)]
				samples[string(in.ID)] = n + 1
				o.Sample = &n
			}
			out = appendGradeOutput(out, o)
		}
		return nil
	})
	return string(out), sum, err
}

func TestGradeLinesFormats(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		fields Fields
		in     string
		want   string
	}{
		{"named fields, dotted paths", Fields{Completion: "output.text", Answer: "doc.solution", ID: "doc.id"},
			`{"doc": {"id": "q7", "solution": "\\frac12"}, "output": {"text": "so \\boxed{0.5}"}}`,
			`{"id":"q7","sample":0,"correct":true,"extracted":"0.5","reason":""}` + "\n"},
		{"lm-evaluation-harness, two filters, two repeats", Fields{},
			`{"doc_id": 3, "doc": {"question": "?"}, "target": "4", "resps": [["\\boxed{4}", "\\boxed{5}"]], "filtered_resps": ["4"], "filter": "strict-match"}` + "\n" +
				`{"doc_id": 3, "doc": {"question": "?"}, "target": "4", "resps": [["\\boxed{4}", "\\boxed{5}"]], "filtered_resps": ["4"], "filter": "flexible-extract"}`,
			`{"id":3,"sample":0,"correct":true,"extracted":"4","reason":""}` + "\n" +
				`{"id":3,"sample":1,"correct":false,"extracted":"5","reason":"not equivalent"}` + "\n"},
		{"lm-evaluation-harness, flat resps, answer from the doc", Fields{Answer: "doc.answer"},
			`{"doc_id": "a", "doc": {"answer": 12}, "target": "#### 12", "resps": ["The answer is \\boxed{12}"]}`,
			`{"id":"a","sample":0,"correct":true,"extracted":"12","reason":""}` + "\n"},
	} {
		var out bytes.Buffer
		if _, err := GradeLines(strings.NewReader(c.in), "f.jsonl", &out, c.fields, GradeOptions{}); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if out.String() != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, out.String(), c.want)
		}
	}
	_, err := GradeLines(strings.NewReader(`{"doc": 1, "out": "x"}`), "f.jsonl", nil, Fields{Completion: "out", Answer: "doc.answer"}, GradeOptions{})
	if err == nil || err.Error() != `f.jsonl:1: field "doc": want an object, got 1` {
		t.Errorf("a path through a number: %v", err)
	}
}

func TestReadGradeCSV(t *testing.T) {
	t.Parallel()
	in := "id,question,completion,answer\n7,\"What, then?\",\"so \\boxed{4}\",4\nq2,x,\"multi\nline \\boxed{5}\",6\n"
	got, err := ReadGradeCSV(strings.NewReader(in), "a.csv", Fields{})
	if err != nil || len(got) != 2 || string(got[0].ID) != "7" || string(got[1].ID) != `"q2"` || got[1].Completion != "multi\nline \\boxed{5}" || got[0].Answer != "4" {
		t.Fatalf("ReadGradeCSV = %+v, %v", got, err)
	}
	if _, err := ReadGradeCSV(strings.NewReader("output,answer\nx,1\n"), "a.csv", Fields{}); err == nil || err.Error() != `a.csv:1: no column "completion" in the header ["output" "answer"]` {
		t.Errorf("missing column: %v", err)
	}
	got, err = ReadGradeCSV(strings.NewReader("output,gold\nx \\boxed{1},1\n"), "a.csv", Fields{Completion: "output", Answer: "gold"})
	if err != nil || len(got) != 1 || got[0].ID != nil {
		t.Errorf("named columns: %+v, %v", got, err)
	}
	if _, err := ReadGradeCSV(strings.NewReader("completion,answer\n\"x,1\n"), "a.csv", Fields{}); err == nil || !strings.HasPrefix(err.Error(), "a.csv:2: ") {
		t.Errorf("bad quoting: %v", err)
	}
}

// TestPlainRun holds the eight-bytes-at-a-time scan to a byte loop.
func TestPlainRun(t *testing.T) {
	t.Parallel()
	specials := []byte{'"', '\\', 0, 0x1f, 0x80, 0xff}
	plain := []byte{' ', 'a', '~', 0x21, 0x5b, 0x5d, 0x7f}
	for n := range 20 {
		for at := range n {
			for _, sp := range specials {
				for _, before := range plain {
					b := bytes.Repeat([]byte{before}, n)
					b[at] = sp
					for start := range at + 1 {
						if got := plainRun(b, start); got != at {
							t.Fatalf("plainRun(%q, %d) = %d, want %d", b, start, got, at)
						}
					}
				}
			}
		}
		if got := plainRun(bytes.Repeat([]byte{'a'}, n), 0); got != n {
			t.Fatalf("plainRun of %d plain bytes = %d", n, got)
		}
	}
}
