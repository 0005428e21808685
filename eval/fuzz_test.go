package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slowInput is how long one call may take before a fuzz target fails. The
// contract is "a few milliseconds", which the work budgets guarantee and
// TestAdversarialInputsAreFast measures; under the fuzzer's coverage
// instrumentation on a loaded machine a wall-clock bound must be generous,
// so this one only catches a blow-up (a 100 ms bound once failed on a
// 0.2 ms input while the machine compiled; that input is kept as a seed).
const slowInput = time.Second

var knownReasons = []error{
	ErrNoAnswer, ErrUnclosedBox, ErrEmptyAnswer, ErrEmptyReference, ErrCompletionTooLarge,
	ErrAnswerTooLarge, ErrTooDeep, ErrTooComplex, ErrTooManyElements, ErrOutOfRange, ErrNotEquivalent, errNoNumberOnFinalLine,
}

func isKnownReason(err error) bool {
	for _, known := range knownReasons {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

func FuzzExtractAnswer(f *testing.F) {
	for _, seed := range []string{
		`So $\boxed{\frac{1}{2}}$.`, `\boxed{5} and \fbox{6}`, `\boxed 5$`, `\boxed{\{1,2\}}`,
		`\boxed{`, `\boxed`, `\boxed{}`, "x\nThe answer is -1,000.5", `\boxed{\boxed{\boxed{1}}}`,
		strings.Repeat(`\boxed{`, 20) + "1" + strings.Repeat("}", 20), "\\boxed{\xff}",
		`\boxed{1}` + strings.Repeat("x", 600) + `\boxed{2`, strings.Repeat("y", 509) + `\boxed{3}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, completion string, fallback bool) {
		start := time.Now()
		answer, err := ExtractAnswer(completion, GradeOptions{FallbackLastNumber: fallback})
		if elapsed := time.Since(start); elapsed > slowInput {
			t.Fatalf("ExtractAnswer took %v on %d bytes", elapsed, len(completion))
		}
		if want, wantErr := extractForward(completion); !fallback && len(completion) <= MaxCompletionBytes && (want != answer || wantErr != err) {
			t.Fatalf("ExtractAnswer(%q) = %q, %v; every box scanned forward gives %q, %v", completion, answer, err, want, wantErr)
		}
		if err != nil {
			if !isKnownReason(err) || answer != "" {
				t.Fatalf("ExtractAnswer = %q, %v", answer, err)
			}
			return
		}
		if answer == "" || len(answer) > MaxAnswerBytes || !strings.Contains(completion, answer) {
			t.Fatalf("ExtractAnswer(%q) = %q: not a non-empty part of the completion within the size limit", completion, answer)
		}
	})
}

// extractForward is ExtractAnswer's boxes as it first found them: every box
// of the completion scanned forward, the last eight tried newest first.
func extractForward(completion string) (string, error) {
	var found [maxBoxTries]int
	err := ErrNoAnswer
	for i := lastBoxes(completion, &found) - 1; i >= 0; i-- {
		answer, boxErr := boxArgument(completion, found[i])
		if boxErr == nil {
			return answer, nil
		}
		if boxErr != ErrUnclosedBox {
			return answer, boxErr
		}
		err = boxErr
	}
	return "", err
}

func FuzzEquivalent(f *testing.F) {
	for _, tc := range equivalenceCases {
		f.Add(tc.got, tc.want)
	}
	f.Add(strings.Repeat("(", 40)+"1", "1")
	f.Add(strings.Repeat(`\frac{`, 20)+"1", `\sqrt{`)
	f.Add("2^{2^{2^{2^{2^{2}}}}}", "10^{400}")
	f.Add(strings.Repeat("9", 700), "1e400")
	f.Add(`\{`+strings.Repeat("1,", 200)+`1\}`, strings.Repeat("1,", 200)+"1")
	f.Add(strings.Repeat("x^{", 30)+"x"+strings.Repeat("}", 30), "x")
	f.Add(strings.Repeat(`\sin(`, 30)+"x"+strings.Repeat(")", 30), `\cos x`)
	f.Add(strings.Repeat("(x+1)", 200), "(x+1)^{200}")
	f.Add("x^{10^{10}}-x^{10^{10}}", "0")
	f.Add(`-793 < a < 10`, `(-793,10)`)
	f.Add(`y=-\frac12x+\frac34`, `2x+4y-3=0`)
	f.Add(`1\pm\sqrt{2}`, `1+\sqrt2; 1-\sqrt2`)
	f.Add(`\\frac{1}{\sqrt{3}} \approx 0.577`, `32,\! 349`)
	f.Fuzz(func(t *testing.T, a, b string) {
		start := time.Now()
		ab := EquivalentReason(a, b)
		ba := EquivalentReason(b, a)
		if elapsed := time.Since(start); elapsed > slowInput {
			t.Fatalf("Equivalent took %v on %d and %d bytes", elapsed, len(a), len(b))
		}
		if (ab == nil) != (ba == nil) && !intervalRule(a) && !intervalRule(b) {
			t.Fatalf("not symmetric: Equivalent(%q, %q) = %v but reversed %v", a, b, ab, ba)
		}
		if ab != nil && !isKnownReason(ab) {
			t.Fatalf("unknown reason %v", ab)
		}
	})
}

func FuzzGradeLine(f *testing.F) {
	for _, seed := range []string{
		`{"completion": "so \\boxed{4}", "answer": "4", "id": 1}`,
		`{"completion": "x", "answer": 4.5}`,
		`{"completion": null}`, `[]`, `{"answer": {}}`, `{`, "",
		`{"completion": "a\\b\n\"c\u00e9\ud83d\ude00\ud800x", "answer": "\u0034", "id": "p\t1"}`,
		`{"Completion": "x", "completion": "y", "answer": 1}`,
		`{"completion": "x", "completion": "y", "answer": 1e3}`,
		"{\"completion\": \"caf\xc3\xa9 \xff\", \"answer\": \"1\"}",
		`{"completion":"x","answer":"4","id":-0.5e+2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		// What the fast reader accepts, encoding/json reads the same way.
		var scratch []byte
		if fast, ok := fastGradeLine(line, &scratch); ok {
			slow, err := slowGradeLine(line)
			if err != nil || fast.Completion != slow.Completion || fast.Answer != slow.Answer || string(fast.ID) != string(slow.ID) {
				t.Fatalf("fast reader %+v, encoding/json %+v (%v)", fast, slow, err)
			}
		}
		in, err := ParseGradeLine(line)
		if err != nil {
			return
		}
		v := Grade(in.Completion, in.Answer, GradeOptions{})
		if v.Correct == (v.Reason != "") {
			t.Fatalf("verdict %+v: a reason goes with a wrong answer only", v)
		}
	})
}

func FuzzSampleLine(f *testing.F) {
	for _, seed := range []string{
		`{"problem": "p1", "sample": 0, "correct": true, "finish_reason": "stop"}`,
		`{"problem": 17, "sample": 3, "correct": false, "truncated": true, "tokens": 12}`,
		`{"problem": -1e3, "sample": 1e2}`, `{"problem": "p", "sample": 99999999999999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		s, err := ParseSampleLine(line)
		if err == nil && (s.Sample < 0 || s.Tokens < 0) {
			t.Fatalf("ParseSampleLine(%q) = %+v", line, s)
		}
	})
}

// TestAdversarialInputsAreFast runs inputs built to be slow for a naive
// grader and checks each stays within a few milliseconds.
func TestAdversarialInputsAreFast(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing")
	}
	half := MaxAnswerBytes / 2
	cases := []struct{ name, a, b string }{
		{"deep parentheses", strings.Repeat("(", MaxNesting) + "1" + strings.Repeat(")", MaxNesting), "1"},
		{"long product", strings.Repeat(`99999999\cdot`, half/13) + "9", strings.Repeat(`99999999\cdot`, half/13) + "8"},
		{"tower of powers", strings.Repeat("9^{", 30) + "9" + strings.Repeat("}", 30), "1"},
		{"long set", `\{` + strings.Repeat("1,", half/2-2) + `2\}`, `\{` + strings.Repeat("2,", half/2-2) + `1\}`},
		{"long list of distinct items", strings.Repeat(`\sqrt{2},`, 250) + "1", strings.Repeat(`\sqrt{3},`, 250) + "1"},
		{"nested sets", strings.Repeat(`\{1,`, 30) + "1" + strings.Repeat(`\}`, 30), strings.Repeat(`\{1,`, 30) + "2" + strings.Repeat(`\}`, 30)},
		{"many text wrappers", strings.Repeat(`\text{a}`, half/8), strings.Repeat(`\text{b}`, half/8)},
		{"huge literal", strings.Repeat("9", MaxAnswerBytes), strings.Repeat("9", MaxAnswerBytes-1) + "8"},
		{"long decimal with exponent", "0." + strings.Repeat("1", 590) + "e400", "1"},
		{"many fractions", strings.Repeat(`\frac{1}{7}+`, half/12) + "1", "2"},
		{"units and assignments", "x = " + strings.Repeat("1 cm ", half/5), "1"},
	}
	for _, tc := range cases {
		// The fastest of a few runs: a busy machine slows some of them.
		fastest := time.Hour
		for range 10 {
			start := time.Now()
			Equivalent(tc.a, tc.b)
			fastest = min(fastest, time.Since(start))
		}
		if fastest > 5*time.Millisecond {
			t.Errorf("%s: %v per comparison", tc.name, fastest)
		}
	}
	completion := strings.Repeat(`\boxed{`, 2000) + strings.Repeat("{", MaxCompletionBytes/2-14000)
	fastest := time.Hour
	for range 3 {
		start := time.Now()
		ExtractAnswer(completion, GradeOptions{FallbackLastNumber: true})
		fastest = min(fastest, time.Since(start))
	}
	if fastest > 20*time.Millisecond {
		t.Errorf("extraction from %d KB of unclosed boxes took %v", len(completion)>>10, fastest)
	}
}

// intervalRule reports whether s is an inequality, which an interval
// answers but which does not answer an interval (relation.go): the one
// comparison that is not symmetric.
func intervalRule(s string) bool {
	n, err := normalize(rewriteNotation(strings.TrimSpace(s)))
	if err != nil {
		return false
	}
	r, ok := splitRelation(n)
	return ok && r.inequality()
}

// FuzzGradeOutput holds the hand-written output line to encoding/json's
// Encoder (HTML escaping off), byte for byte.
func FuzzGradeOutput(f *testing.F) {
	f.Add(`\frac{1}{2}`, "not equivalent", `"p1"`, true)
	f.Add("a\"b\\c\n\t\x01\u2028\u2029 \xff é <&>", "", `{"a": [1, 2]}`, false)
	f.Add("", "", "", false)
	f.Fuzz(func(t *testing.T, extracted, reason, id string, correct bool) {
		o := GradeOutput{Correct: correct, Extracted: extracted, Reason: reason}
		if json.Valid([]byte(id)) {
			o.ID = json.RawMessage(id)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o); err != nil {
			return
		}
		if got := appendGradeOutput(nil, o); string(got) != want.String() {
			t.Fatalf("appendGradeOutput = %s, encoding/json %s", got, want.String())
		}
	})
}

// FuzzGradeJSONL holds relix grade's block reader to grading line by line.
func FuzzGradeJSONL(f *testing.F) {
	f.Add([]byte("{\"completion\": \"\\\\boxed{1}\", \"answer\": 1}\n\n{\"completion\": 2}\n"))
	f.Add([]byte(""))
	f.Add([]byte("\r\n{\"completion\": \"x\", \"answer\": \"y\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wantOut, wantSum, wantErr := gradeOneByOne(data)
		var out bytes.Buffer
		sum, err := GradeJSONL(bytes.NewReader(data), "f.jsonl", &out, GradeOptions{})
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || out.String() != wantOut || !reflect.DeepEqual(sum, wantSum) {
			t.Fatalf("blocks: %v, %q, %+v; one by one: %v, %q, %+v", err, out.String(), sum, wantErr, wantOut, wantSum)
		}
	})
}

// FuzzReadGradeCSV: any CSV is read or refused with a line, never a panic.
func FuzzReadGradeCSV(f *testing.F) {
	f.Add("id,completion,answer\n1,\"\\boxed{1}\",1\n")
	f.Add("completion,answer\n\"x\n")
	f.Add("a,b\n1,2,3\n")
	f.Fuzz(func(t *testing.T, in string) {
		ins, err := ReadGradeCSV(strings.NewReader(in), "f.csv", Fields{})
		if err == nil {
			for _, r := range ins {
				if len(r.ID) > 0 && !json.Valid(r.ID) {
					t.Fatalf("id %q is not JSON", r.ID)
				}
			}
		}
	})
}
