package dataset

import (
	"math"
	"testing"
)

func TestWrongAnswerForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		answer string
		kind   AnswerKind
	}{
		{"0", AnswerInteger},
		{"7", AnswerInteger},
		{"-1093", AnswerInteger},
		{`\frac{3}{4}`, AnswerFraction},
		{`-\frac{1}{2}`, AnswerFraction},
		{"3/4", AnswerFraction},
		{"2.5", AnswerDecimal},
		{"0.05", AnswerDecimal},
		{"-1157.625", AnswerDecimal},
		{`2\sqrt{3}`, AnswerRadical},
		{`\sqrt{2}`, AnswerRadical},
		{`-\sqrt{7}`, AnswerRadical},
		{`\frac{\sqrt{3}}{2}`, AnswerRadical},
		{"(2, -1)", AnswerTuple},
		{"(3, 3)", AnswerTuple},
		{`(-\frac{51}{19}, \frac{84}{19})`, AnswerTuple},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			t.Parallel()
			r := newTestRand(3)
			ref := parseAnswer(tt.answer)
			forms := map[string]bool{}
			for range 50 {
				w := WrongAnswer(Problem{Answer: tt.answer}, r)
				got := parseAnswer(w)
				if got.kind == AnswerOther {
					t.Fatalf("WrongAnswer = %q, in no known form", w)
				}
				if sameValue(got, ref) {
					t.Fatalf("WrongAnswer = %q, equal to the reference %q", w, tt.answer)
				}
				forms[w] = true
			}
			if len(forms) < 2 {
				t.Errorf("only one wrong answer: %v", forms)
			}
		})
	}
}

func TestWrongAnswerText(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"x^2 + 1":         "x^2 + 2",
		"[0, 9)":          "[0, 10)",
		`\text{Tuesday}`:  `\text{Tuesday}+1`,
		"0.09 \\text{ m}": "0.10 \\text{ m}",
	}
	for in, want := range tests {
		if got := WrongAnswer(Problem{Answer: in}, newTestRand(1)); got != want {
			t.Errorf("WrongAnswer(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWrongAnswerOfEveryGeneratedProblem checks the property the simulator
// relies on over many generated answers (the grader's view of it is in
// grade_test.go).
func TestWrongAnswerOfEveryGeneratedProblem(t *testing.T) {
	t.Parallel()
	r := newTestRand(9)
	for _, split := range Splits() {
		for _, p := range mustGenerate(t, GeneratorConfig{Size: 2000, Seed: 4}, split).Problems {
			w := WrongAnswer(p, r)
			if sameValue(parseAnswer(w), parseAnswer(p.Answer)) || w == p.Answer {
				t.Fatalf("%s: WrongAnswer = %q for the reference %q", p.ID, w, p.Answer)
			}
		}
	}
}

// sameValue reports whether two parsed answers are numerically equal:
// exactly when they are rationals (or multiples of the same root), within
// a relative 1e-9 otherwise.
func sameValue(a, b parsedAnswer) bool {
	if a.kind == AnswerOther || b.kind == AnswerOther || len(a.parts) != len(b.parts) {
		return false
	}
	for i := range a.parts {
		if p, q := a.parts[i], b.parts[i]; p.root == q.root {
			if p.coef != q.coef {
				return false
			}
			continue
		}
		x, y := a.parts[i].value(), b.parts[i].value()
		if math.Abs(x-y) > 1e-9*max(1, math.Abs(x)) {
			return false
		}
	}
	return true
}

// BenchmarkWrongAnswer measures the simulator's cost of writing one
// incorrect completion's answer.
func BenchmarkWrongAnswer(b *testing.B) {
	s := mustGenerate(b, GeneratorConfig{Size: 1000, Seed: 1}, Train)
	r := newTestRand(1)
	b.ResetTimer()
	for i := range b.N {
		_ = WrongAnswer(s.Problems[i%s.Len()], r)
	}
}
