package eval

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExtractAnswer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxAnswerBytes+1)
	for _, tc := range []struct {
		name       string
		completion string
		fallback   bool
		want       string
		err        error
	}{
		{"simple", `So the answer is $\boxed{42}$.`, false, "42", nil},
		{"nested braces", `\boxed{\frac{1}{\sqrt{2}}}`, false, `\frac{1}{\sqrt{2}}`, nil},
		{"escaped braces", `\boxed{\{1, 2\}}`, false, `\{1, 2\}`, nil},
		{"text inside", `\boxed{\text{(B)}}`, false, `\text{(B)}`, nil},
		{"the last of several", `First \boxed{5}, then on reflection \boxed{6}.`, false, "6", nil},
		{"fbox", `\fbox{7}`, false, "7", nil},
		{"fbox after boxed", `\boxed{1} and \fbox{2}`, false, "2", nil},
		{"boxed after fbox", `\fbox{1} and \boxed{2}`, false, "2", nil},
		{"without braces", `$\boxed 5$.`, false, "5", nil},
		{"without braces to end of line", "\\boxed 12.\nDone", false, "12", nil},
		{"space before brace", `\boxed {8}`, false, "8", nil},
		{"box inside a box", `\boxed{\boxed{9}}`, false, "9", nil},
		{"longer command is not a box", `\boxedanswer{3}`, false, "", ErrNoAnswer},
		{"no box", "The answer is 42.", false, "", ErrNoAnswer},
		{"empty", "", false, "", ErrNoAnswer},
		{"empty box", `\boxed{}`, false, "", ErrEmptyAnswer},
		{"blank box", `\boxed{ }`, false, "", ErrEmptyAnswer},
		{"cut off inside the box", `\boxed{12`, false, "", ErrUnclosedBox},
		{"cut off after the command", `so \boxed`, false, "", ErrUnclosedBox},
		{"cut off box after a complete one", `\boxed{5} so again \boxed{5`, false, "5", nil},
		{"answer too large", `\boxed{` + long + `}`, false, "", ErrAnswerTooLarge},
		{"unbraced answer too large", `\boxed ` + long, false, "", ErrAnswerTooLarge},
		{"completion too large", strings.Repeat("a", MaxCompletionBytes+1), false, "", ErrCompletionTooLarge},
		{"fallback: last number", "Thinking...\nThe answer is 42.", true, "42", nil},
		{"fallback: negative fraction", "x\nso x = -3/4\n\n", true, "-3/4", nil},
		{"fallback: decimal", "total 12.5 dollars", true, "12.5", nil},
		{"fallback: thousands", "It costs 1,000 dollars", true, "1,000", nil},
		{"fallback: a list is not a number", "pick 3,14", true, "14", nil},
		{"fallback: only the final line", "42\nno idea", true, "", errNoNumberOnFinalLine},
		{"fallback: a box wins", "\\boxed{7}\n8", true, "7", nil},
		{"fallback: off by default", "42", false, "", ErrNoAnswer},
		{"fallback: after an unclosed box", "\\boxed{7", true, "7", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ExtractAnswer(tc.completion, GradeOptions{FallbackLastNumber: tc.fallback})
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("ExtractAnswer(%.40q) = %.40q, %v; want %q, %v", tc.completion, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestExtractAnswerTriesAtMostSomeUnclosedBoxes(t *testing.T) {
	t.Parallel()
	// A complete box followed by many unclosed ones is not searched for
	// beyond maxBoxTries, so the work stays linear.
	completion := `\boxed{1}` + strings.Repeat(`\boxed{`, maxBoxTries)
	if _, err := ExtractAnswer(completion, GradeOptions{}); !errors.Is(err, ErrUnclosedBox) {
		t.Errorf("got %v, want %v", err, ErrUnclosedBox)
	}
	completion = `\boxed{1}` + strings.Repeat(`\boxed{`, maxBoxTries-1)
	if got, err := ExtractAnswer(completion, GradeOptions{}); got != "1" || err != nil {
		t.Errorf("got %q, %v; want 1", got, err)
	}
}

func TestGrade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		completion, reference string
		want                  Verdict
	}{
		{`The answer is $\boxed{\dfrac{1}{2}}$.`, "0.5", Verdict{Correct: true, Extracted: `\dfrac{1}{2}`}},
		{`\boxed{43}`, "42", Verdict{Extracted: "43", Reason: "not equivalent"}},
		{`I give up.`, "42", Verdict{Reason: "no boxed answer"}},
		{`\boxed{42`, "42", Verdict{Reason: `unclosed \boxed`}},
		{`\boxed{42}`, "", Verdict{Extracted: "42", Reason: "empty reference answer"}},
		{strings.Repeat(" ", MaxCompletionBytes+1), "42", Verdict{Reason: "input too large: completion"}},
	} {
		if got := Grade(tc.completion, tc.reference, GradeOptions{}); got != tc.want {
			t.Errorf("Grade(%.30q, %q) = %+v, want %+v", tc.completion, tc.reference, got, tc.want)
		}
	}
}

func TestGradeCommonCasesDoNotAllocate(t *testing.T) {
	exact := strings.Repeat("Some reasoning about the problem. ", 100) + `So the answer is $\boxed{\frac{3}{4}}$.`
	integer := strings.Repeat("Some reasoning about the problem. ", 100) + `So the answer is $\boxed{17}$.`
	var sink Verdict
	for _, tc := range []struct{ completion, reference string }{
		{exact, `\frac{3}{4}`},
		{integer, "17"},
		{integer, "18"},
		{"no answer", "18"},
	} {
		if allocs := testing.AllocsPerRun(100, func() { sink = Grade(tc.completion, tc.reference, GradeOptions{}) }); allocs != 0 {
			t.Errorf("Grade(..., %q) allocates %v times per call, want 0", tc.reference, allocs)
		}
	}
	_ = sink
}

func TestGradeIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	cases := realisticCompletions(64, 3)
	want := make([]Verdict, len(cases))
	for i, c := range cases {
		want[i] = Grade(c.completion, c.reference, GradeOptions{})
	}
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for i, c := range cases {
				if got := Grade(c.completion, c.reference, GradeOptions{}); got != want[i] {
					done <- fmt.Errorf("case %d: %+v concurrently, %+v alone", i, got, want[i])
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
