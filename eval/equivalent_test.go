package eval

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// equivalenceCases covers every notation the grader normalizes, each with
// cases that must and must not match. Every case is checked in both
// directions.
var equivalenceCases = []struct {
	got, want string
	equal     bool
}{
	// Integers and signs.
	{"42", "42", true},
	{"42", "43", false},
	{"007", "7", true},
	{"-5", "5", false},
	{"-5", "−5", true}, // Unicode minus
	{"-0", "0", true},
	{"+5", "5", true},
	{" 12 ", "12", true},
	{"12.", "12", true},
	{"1234567890123456789012", "1234567890123456789012", true},
	{"1234567890123456789012", "1234567890123456789013", false},

	// Decimals.
	{"0.5", ".5", true},
	{"0.50", "0.5", true},
	{"3.0", "3", true},
	{"3.01", "3", false},
	{"-0.25", "-.25", true},
	{"2.5", "2.50000", true},

	// Fractions: \frac, \dfrac, \tfrac, a/b, \frac ab, negatives.
	{"0.5", `\frac{1}{2}`, true},
	{"1/2", `\frac{1}{2}`, true},
	{"0.5", "1/2", true},
	{`\dfrac{1}{2}`, `\frac12`, true},
	{`\tfrac{3}{4}`, "0.75", true},
	{`\frac34`, "3/4", true},
	{`\frac{2}{4}`, `\frac{1}{2}`, true},
	{`\frac{1}{3}`, `\frac{1}{4}`, false},
	{`-\frac{1}{2}`, `\frac{-1}{2}`, true},
	{`-\frac{1}{2}`, "-0.5", true},
	{`\frac{-1}{2}`, `\frac{1}{2}`, false},
	{`\frac ab`, `\frac{a}{b}`, true},
	{`\frac ab`, `\frac{b}{a}`, false},
	{`\frac{10}{4}`, "2.5", true},
	{`\frac{1}{0}`, "0", false},
	{`\left(\frac{1}{2}\right)`, "0.5", true},

	// Mixed numbers.
	{`3\frac{1}{2}`, "3.5", true},
	{`3\frac{1}{2}`, `\frac{7}{2}`, true},
	{"3 1/2", "7/2", true},
	{`-2\frac{1}{4}`, "-2.25", true},
	{`3\frac12`, "3.5", true},
	{`3\frac{1}{2}`, "1.5", false}, // not 3·(1/2)

	// Scientific notation.
	{"1.5e3", "1500", true},
	{"1.5E3", "1500", true},
	{"2.5e-2", "0.025", true},
	{`1.5\times10^{3}`, "1500", true},
	{`1.5 \times 10^3`, "1500", true},
	{`3\cdot10^2`, "300", true},
	{`10^{-3}`, "0.001", true},
	{"1e3", "100", false},
	{`6.02\times10^{23}`, "602000000000000000000000", true},

	// Thousands separators, and the list that looks like one.
	{"1,000", "1000", true},
	{"1, 000", "1000", false}, // a list of 1 and 0
	{"1,000", "1, 000", false},
	{"1{,}000", "1000", true},
	{`1\,000`, "1000", true},
	{"1 000", "1000", true}, // narrow no-break space
	{"1,000,000", "1000000", true},
	{"1,000,000", "10^6", true},
	{"12,345.67", "12345.67", true},
	{"1,00", "100", false},
	{"-1,000", "-1000", true},

	// Percent, degrees, dollars.
	{`50\%`, "50", true},
	{"50%", "50", true},
	{`50\%`, "0.5", false},
	{`90^\circ`, "90", true},
	{`90^{\circ}`, "90", true},
	{"90°", "90", true},
	{`45^\circ`, "90", false},
	{`\$5.00`, "5", true},
	{`\$1,000`, "1000", true},

	// Spacing commands, \left \right, $ and display delimiters.
	{`\!5`, "5", true},
	{`2\,\sqrt{2}`, `2\sqrt2`, true},
	{`$\frac{1}{2}$`, "0.5", true},
	{`\(\frac{1}{2}\)`, "1/2", true},
	{`\[ 7 \]`, "7", true},
	{`\left[ 1, 2 \right]`, "[1,2]", true},
	{`\displaystyle\frac{1}{2}`, "0.5", true},
	{"10^3", "1000", true},

	// Text wrappers and plain text.
	{`\text{(B)}`, "B", true},
	{"(B)", "B", true},
	{`\textbf{B}`, "B", true},
	{`\text{B}`, "C", false},
	{`\mathrm{B}`, "B", true},
	{`\mbox{B}`, "(B)", true},
	{`\text{Yes}`, "yes", true},
	{`\text{even}`, "odd", false},
	{`\text{no solution}`, "no solution", true},
	{`\textbf{\textit{A}}`, "A", true},

	// A leading assignment.
	{"x = 5", "5", true},
	{"x=5", "y = 5", true},
	{`x_1 = 3`, "3", true},
	{`\theta = 30^\circ`, "30", true},
	{"k = 4", "5", false},
	{`x \in [1, 2]`, "[1,2]", true},
	{"x = 1, y = 2", "1, 2", true},
	{"2x = 4", "4", false},

	// Trailing unit words.
	{"5 cm", "5", true},
	{`10\text{ inches}`, "10", true},
	{`10\text{inches}`, "10", true},
	{"12 square units", "12", true},
	{`5\mbox{ cm}^2`, "5", true},
	{"3 m^2", "3", true},
	{"5 cm", "6", false},
	{`\frac{1}{2} \text{ dollars}`, "0.5", true},
	{"2x", "2", false}, // a variable is not a unit
	{"4 and 5", "4", false},

	// Radicals and π: equal within a relative tolerance of 1e-9.
	{`2\sqrt{2}`, `\sqrt{8}`, true},
	{`2\sqrt2`, `\sqrt8`, true},
	{`\sqrt{12}`, `2\sqrt{3}`, true},
	{`\frac{\sqrt{3}}{2}`, `\frac{\sqrt3}2`, true},
	{`\frac{\sqrt{3}}{2}`, `\frac{1}{2}\sqrt{3}`, true},
	{`\frac{\sqrt{3}}{2}`, `\sqrt{3}/2`, true},
	{`\frac{\sqrt{3}}{2}`, "0.8660254037844386", true},
	{`\frac{\sqrt{3}}{2}`, "0.866", false},
	{`\sqrt{2}`, "1.414", false},
	{`\sqrt{2}`, `\sqrt{3}`, false},
	{`\sqrt{4}`, "2", true},
	{`\sqrt{\frac{9}{4}}`, "1.5", true},
	{`\sqrt[3]{8}`, "2", true},
	{`\sqrt[3]{-27}`, "-3", true},
	{`3\pi`, `3 \pi`, true},
	{`3\pi`, `\pi \cdot 3`, true},
	{`3π`, `3\pi`, true},
	{`\frac{\pi}{2}`, `\pi/2`, true},
	{`\frac{\pi}{2}`, `\frac{1}{2}\pi`, true},
	{`2\pi`, "6.28", false},
	{`\pi`, "3.14159", false},
	{`\pi r^2`, `\pi r^2`, true},
	{`\frac{5\sqrt{2}}{2}`, `\frac{5}{\sqrt{2}}`, true},
	{`1+\sqrt{2}`, `\sqrt{2}+1`, true},
	{`1-\sqrt{2}`, `\sqrt{2}-1`, false},

	// Powers and arithmetic.
	{"2^{10}", "1024", true},
	{"2^10", "1024", true},
	{"2^{100}", "1267650600228229401496703205376", true},
	{"2^{-1}", "0.5", true},
	{"(-2)^3", "-8", true},
	{"-2^2", "-4", true},
	{"2+3", "5", true},
	{"2*3", "6", true},
	{`12\div4`, "3", true},
	{"2(3+4)", "14", true},
	{"4^{1/2}", "2", true},

	// Rationals are compared exactly: a decimal is not a nearby fraction.
	{"0.333", `\frac13`, false},
	{"0.3333333333", `\frac{1}{3}`, false},
	{"0.125", `\frac18`, true},
	{"0.1", `\frac{1}{10}`, true},

	// Tuples and intervals: ordered, and the brackets matter.
	{"(1,2)", "(1, 2)", true},
	{"(1,2)", "[1,2]", false},
	{"(1,2)", "(2,1)", false},
	{"(1,2)", "(1,2,3)", false},
	{`(\frac12, 3)`, "(0.5, 3)", true},
	{`\left(1,2\right)`, "(1,2)", true},
	{"[1,2)", "[1, 2)", true},
	{"[1,2)", "(1,2]", false},
	{`(-\infty, 3]`, `(-\infty,3]`, true},
	{`(-\infty,3)`, `(-\infty,3]`, false},
	{`(-\infty, \infty)`, `(-∞, ∞)`, true},
	{`[0, \infty)`, `[0, -\infty)`, false},
	{`(-\infty,0)\cup(1,\infty)`, `(1,\infty)\cup(-\infty,0)`, true},
	{`(-\infty,0)\cup(1,\infty)`, `(-\infty,0]\cup(1,\infty)`, false},
	{`(-\infty,0) ∪ (1,\infty)`, `(-\infty,0)\cup(1,\infty)`, true},
	{"(1,2)", "1, 2", false}, // a point is not a list of solutions
	{"(3, (1,2))", "(3,(1,2))", true},
	{"(3, (1,2))", "(3,[1,2])", false},

	// Sets and comma lists: unordered.
	{`\{1,2,3\}`, `\{3,2,1\}`, true},
	{`\{1,2\}`, `\{1,2,3\}`, false},
	{`\left\{1,2\right\}`, `\{2,1\}`, true},
	{`\{1,1,2\}`, `\{1,2\}`, true},
	{`\{1,2\}`, "2, 1", true},
	{`\{5\}`, "5", true},
	{`\emptyset`, `\varnothing`, true},
	{`\emptyset`, `\{0\}`, false},
	{"1, 2, 3", "3, 2, 1", true},
	{"1, 2", "1, 2, 2", false},
	{"1,2", "1, 2", true},
	{`\frac12, 3`, "3, 0.5", true},
	{"-1, 1", "1, -1", true},
	{"-1, 1", "1, 1", false},
	{`\{(1,2), (3,4)\}`, `\{(3,4),(1,2)\}`, true},
	{`\{(1,2), (3,4)\}`, `\{(4,3),(1,2)\}`, false},

	// Matrices: element by element, the bracket style is decoration.
	{`\begin{pmatrix}1&2\\3&4\end{pmatrix}`, `\begin{bmatrix}1 & 2 \\ 3 & 4\end{bmatrix}`, true},
	{`\begin{pmatrix}1&2\\3&4\end{pmatrix}`, `\begin{pmatrix}1&2\\4&3\end{pmatrix}`, false},
	{`\begin{pmatrix}\frac12\\3\end{pmatrix}`, `\begin{pmatrix}0.5\\3\end{pmatrix}`, true},
	{`\begin{pmatrix}1&2\end{pmatrix}`, `\begin{pmatrix}1\\2\end{pmatrix}`, false},
	{`\begin{pmatrix}1 & 2 \\ 3 & 4 \\ \end{pmatrix}`, `\begin{pmatrix}1&2\\3&4\end{pmatrix}`, true},

	// Algebraic answers are compared as normalized text.
	{"x^2+1", "x^2 + 1", true},
	{"x^2+1", "x^2+2", false},
	{`\frac{x}{2}`, `\dfrac{x}{2}`, true},
	{`\frac12x`, `\frac{1}{2}x`, true},
	{"2x+1", "1+2x", true}, // the randomized identity test (symbolic.go)
	{`\sin x`, `\sin x`, true},

	// Near misses.
	{"0.5", `\frac{1}{3}`, false},
	{`\sqrt{2}`, "2", false},
	{"[1,2]", "[1,3]", false},
	{`\{1,2\}`, "(1,2)", false},
	{"1,2", "12", false},
	{"100", "1000", false},
	{`10\%`, "1", false},
	{`\begin{pmatrix}1&2\end{pmatrix}`, "(1,2)", false},
	{`\infty`, "1e300", false},
	{`-\infty`, `\infty`, false},

	// A reference answer wrapped in \boxed.
	{"5", `\boxed{5}`, true},
	{"6", `\boxed{5}`, false},
}

func TestEquivalent(t *testing.T) {
	t.Parallel()
	for _, tc := range equivalenceCases {
		t.Run(tc.got+" vs "+tc.want, func(t *testing.T) {
			t.Parallel()
			if got := Equivalent(tc.got, tc.want); got != tc.equal {
				t.Errorf("Equivalent(%q, %q) = %v, want %v", tc.got, tc.want, got, tc.equal)
			}
			if got := Equivalent(tc.want, tc.got); got != tc.equal {
				t.Errorf("Equivalent(%q, %q) = %v, want %v (reversed)", tc.want, tc.got, got, tc.equal)
			}
		})
	}
}

func TestEquivalenceCaseCount(t *testing.T) {
	t.Parallel()
	equal, different := 0, 0
	for _, tc := range equivalenceCases {
		if tc.equal {
			equal++
		} else {
			different++
		}
	}
	if equal+different < 150 || different < 50 {
		t.Errorf("%d equal and %d different cases; the grader's contract wants at least 150, with plenty of both", equal, different)
	}
}

func TestEquivalentReasons(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1)
	for _, tc := range []struct {
		got, want string
		err       error
	}{
		{"5", "5", nil},
		{"5", "6", ErrNotEquivalent},
		{"", "6", ErrEmptyAnswer},
		{"$ $", "6", ErrEmptyAnswer},
		{"5", "  ", ErrEmptyReference},
		{strings.Repeat("1", MaxAnswerBytes+1), "1", ErrAnswerTooLarge},
		{deep, "1", ErrTooDeep},
		{strings.Repeat(`\text{`, MaxNesting+2) + "1" + strings.Repeat("}", MaxNesting+2), "1", ErrTooDeep},
	} {
		if err := EquivalentReason(tc.got, tc.want); !errors.Is(err, tc.err) {
			t.Errorf("EquivalentReason(%.20q, %q) = %v, want %v", tc.got, tc.want, err, tc.err)
		}
	}
}

// TestExactNumberFloat holds exactNumber's quick float to big.Rat's own.
func TestExactNumberFloat(t *testing.T) {
	for _, r := range []*big.Rat{big.NewRat(1, 3), big.NewRat(-2, 7), big.NewRat(1<<53-1, 3), big.NewRat(5, 1<<52), big.NewRat(0, 1),
		new(big.Rat).SetFrac(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(3))} {
		want, _ := r.Float64()
		if got := exactNumber(r).f; got != want {
			t.Errorf("exactNumber(%v).f = %v, want %v", r, got, want)
		}
	}
}

// TestNumericEdges: numbers past the exact budget or a float64 are exact
// or refused with a reason of their own, never silently equal; a
// collection of numbers in another order compares in a sort, up to the
// element limit, past which it is too large.
func TestNumericEdges(t *testing.T) {
	set := func(n int, reversed bool) string {
		parts := make([]string, n)
		for i := range parts {
			k := i
			if reversed {
				k = n - 1 - i
			}
			parts[i] = strconv.Itoa(k)
		}
		return `\{` + strings.Join(parts, ",") + `\}`
	}
	for _, c := range []struct {
		got, want string
		err       error
	}{
		{`10^{-1000}`, `0`, ErrNotEquivalent},
		{`10^{-1000}`, `10^{-1001}`, ErrNotEquivalent},
		{`10^{-1000}`, `\frac{1}{10^{1000}}`, nil},
		{`10^{-5000}`, `0`, ErrOutOfRange},
		{`10^{-5000}`, `10^{-5001}`, ErrOutOfRange},
		{`2^{10000}`, `2^{10001}`, ErrOutOfRange},
		{`10^{1000}`, `10^{1000}+1`, ErrNotEquivalent},
		{set(128, false), set(128, true), nil},
		{set(256, false), set(256, true), nil},
		{"1, 2, 2, " + strings.Repeat("3, ", 200) + "4", "4, " + strings.Repeat("3, ", 200) + "2, 2, 1", nil},
		{set(257, false), set(257, true), ErrTooManyElements},
	} {
		if err := EquivalentReason(c.got, c.want); !errors.Is(err, c.err) && !(err == nil && c.err == nil) {
			t.Errorf("Equivalent(%.30q, %.30q): %v, want %v", c.got, c.want, err, c.err)
		}
	}
}
