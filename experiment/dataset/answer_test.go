package dataset

import (
	"math"
	"strings"
	"testing"
)

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		kind  AnswerKind
		value []float64
	}{
		{"42", AnswerInteger, []float64{42}},
		{"-7", AnswerInteger, []float64{-7}},
		{"1,234,567", AnswerInteger, []float64{1234567}},
		{"$12$", AnswerInteger, []float64{12}},
		{`\frac{3}{4}`, AnswerFraction, []float64{0.75}},
		{`-\frac{3}{4}`, AnswerFraction, []float64{-0.75}},
		{`\dfrac{-6}{8}`, AnswerFraction, []float64{-0.75}},
		{"3/4", AnswerFraction, []float64{0.75}},
		{"2.5", AnswerDecimal, []float64{2.5}},
		{"-.125", AnswerDecimal, []float64{-0.125}},
		{`2\sqrt{3}`, AnswerRadical, []float64{2 * math.Sqrt(3)}},
		{`-\sqrt{5}`, AnswerRadical, []float64{-math.Sqrt(5)}},
		{`\sqrt2`, AnswerRadical, []float64{math.Sqrt(2)}},
		{`\frac{\sqrt{3}}{2}`, AnswerRadical, []float64{math.Sqrt(3) / 2}},
		{"(2, -1)", AnswerTuple, []float64{2, -1}},
		{`\left(\frac{1}{2}, 3\right)`, AnswerTuple, []float64{0.5, 3}},
		{"x^2 + 1", AnswerOther, nil},
		{"1, 2", AnswerOther, nil},
		{"[0, 1)", AnswerOther, nil},
		{"", AnswerOther, nil},
		{"3/0", AnswerOther, nil},
		{"1234567890123456789", AnswerOther, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			a := parseAnswer(tt.in)
			if a.kind != tt.kind || len(a.parts) != len(tt.value) {
				t.Fatalf("parseAnswer(%q) = %v with %d parts, want %v with %d", tt.in, a.kind, len(a.parts), tt.kind, len(tt.value))
			}
			for i, p := range a.parts {
				if math.Abs(p.value()-tt.value[i]) > 1e-12 {
					t.Errorf("part %d = %v, want %v", i, p.value(), tt.value[i])
				}
			}
		})
	}
}

func TestRatDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, d int64
		want string
		ok   bool
	}{
		{5, 2, "2.5", true},
		{-1, 8, "-0.125", true},
		{12, 1, "12", true},
		{1, 3, "", false},
		{231525, 100, "2315.25", true},
		{7, 1000, "0.007", true},
		{0, 5, "0", true},
	}
	for _, tt := range tests {
		got, ok := newRat(tt.n, tt.d).decimal()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%d/%d: decimal() = %q, %v; want %q, %v", tt.n, tt.d, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAnswerFormats(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{newRat(-6, 8).latex(), `-\frac{3}{4}`},
		{newRat(6, -3).latex(), "-2"},
		{radical(2, 3), `2\sqrt{3}`},
		{radical(-1, 5), `-\sqrt{5}`},
		{radical(7, 1), "7"},
		{linear(iterm(1, "x"), iterm(-1, "y")), "x - y"},
		{linear(iterm(-3, "x"), iterm(0, "y"), iterm(4, "")), "-3x + 4"},
		{linear(term{newRat(1, 2), "x"}), `\frac{1}{2}x`},
		{linear(), "0"},
		{ordinal(1) + ordinal(2) + ordinal(3) + ordinal(11) + ordinal(12) + ordinal(22) + ordinal(113), "1st2nd3rd11th12th22nd113th"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestReferenceAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" 42 ", "42", true},
		{`We add. The answer is $\boxed{\frac{3}{4}}$.`, `\frac{3}{4}`, true},
		{"Natalia sold 48/2 = 24 clips.\n#### 72", "72", true},
		{"", "", false},
		{`\boxed{ }`, "", false},
		{`the answer is \boxed{3`, "", false},
		{`\boxed{3} and \boxed{4`, "3", true}, // the last box is cut off
		{`\boxed {5}`, "5", true},
		{`\boxed{\{1, 2\}}`, `\{1, 2\}`, true},
		{"#### ", "", false},
		{strings.Repeat("long solution ", 10), "", false},
		{"two\nlines", "", false},
	}
	for _, tt := range tests {
		got, ok := ReferenceAnswer(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ReferenceAnswer(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzReferenceAnswer(f *testing.F) {
	for _, s := range []string{`\boxed{42}`, `\boxed{\frac{1}{2}}`, "#### 7", `\fbox 3`, `\boxed{{}`, "x", `\boxed`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, ok := ReferenceAnswer(s); ok && (a == "" || !strings.Contains(s, a)) {
			t.Fatalf("ReferenceAnswer(%q) = %q", s, a)
		}
		_ = parseAnswer(s)
		_ = TextFeatures(s, s)
		_ = SplitOf(s)
	})
}
