package dataset

import (
	"strconv"
	"strings"
)

// rat is an exact rational number n/d in lowest terms with d > 0. The
// generator computes every answer with it, so a reference answer is never a
// rounded float. Operands stay small (the generator bounds them), so int64
// does not overflow.
type rat struct{ n, d int64 }

func newRat(n, d int64) rat {
	if d == 0 {
		panic("dataset: zero denominator")
	}
	if d < 0 {
		n, d = -n, -d
	}
	g := gcd(abs(n), d)
	return rat{n / g, d / g}
}

func ratInt(n int64) rat { return rat{n, 1} }

func (a rat) add(b rat) rat { return newRat(a.n*b.d+b.n*a.d, a.d*b.d) }
func (a rat) sub(b rat) rat { return newRat(a.n*b.d-b.n*a.d, a.d*b.d) }
func (a rat) mul(b rat) rat { return newRat(a.n*b.n, a.d*b.d) }
func (a rat) div(b rat) rat { return newRat(a.n*b.d, a.d*b.n) }
func (a rat) neg() rat      { return rat{-a.n, a.d} }
func (a rat) isInt() bool   { return a.d == 1 }
func (a rat) isZero() bool  { return a.n == 0 }
func (a rat) float() float64 {
	return float64(a.n) / float64(a.d)
}

// latex writes a in the grader's fraction form: "7", "-3", "\frac{3}{4}",
// "-\frac{3}{4}".
func (a rat) latex() string {
	if a.d == 1 {
		return strconv.FormatInt(a.n, 10)
	}
	s := `\frac{` + strconv.FormatInt(abs(a.n), 10) + `}{` + strconv.FormatInt(a.d, 10) + `}`
	if a.n < 0 {
		return "-" + s
	}
	return s
}

// decimal writes a as an exact, minimal decimal ("2.5", "-0.125", "12") when
// its denominator has no prime factor other than 2 and 5.
func (a rat) decimal() (string, bool) {
	d := a.d
	places := 0
	for d%10 == 0 {
		d /= 10
		places++
	}
	scale := int64(1)
	for d%2 == 0 {
		d /= 2
		scale *= 5
		places++
	}
	for d%5 == 0 {
		d /= 5
		scale *= 2
		places++
	}
	if d != 1 {
		return "", false
	}
	// a = n*scale / 10^places
	digits := strconv.FormatInt(abs(a.n)*scale, 10)
	for len(digits) <= places {
		digits = "0" + digits
	}
	intPart, frac := digits[:len(digits)-places], strings.TrimRight(digits[len(digits)-places:], "0")
	s := intPart
	if frac != "" {
		s += "." + frac
	}
	if a.n < 0 {
		s = "-" + s
	}
	return s, true
}

func gcd(a, b int64) int64 {
	a, b = abs(a), abs(b)
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

func lcm(a, b int64) int64 { return a / gcd(a, b) * b }

func abs(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

func ipow(b, e int64) int64 {
	r := int64(1)
	for range e {
		r *= b
	}
	return r
}

func factorial(n int64) int64 { return perm(n, n) }

// perm is n!/(n-k)!.
func perm(n, k int64) int64 {
	r := int64(1)
	for i := int64(0); i < k; i++ {
		r *= n - i
	}
	return r
}

func choose(n, k int64) int64 {
	if k < 0 || k > n {
		return 0
	}
	if k > n-k {
		k = n - k
	}
	r := int64(1)
	for i := int64(1); i <= k; i++ {
		r = r * (n - k + i) / i
	}
	return r
}

// squareFree splits n > 0 into k²·m with m square-free, so √n = k√m.
func squareFree(n int64) (k, m int64) {
	k, m = 1, n
	for f := int64(2); f*f <= m; f++ {
		for m%(f*f) == 0 {
			m /= f * f
			k *= f
		}
	}
	return k, m
}

// radical writes c·√m in the grader's form: "2\sqrt{3}", "-\sqrt{5}", or an
// integer when m is 1.
func radical(c, m int64) string {
	if m == 1 {
		return strconv.FormatInt(c, 10)
	}
	root := `\sqrt{` + strconv.FormatInt(m, 10) + `}`
	switch c {
	case 1:
		return root
	case -1:
		return "-" + root
	}
	return strconv.FormatInt(c, 10) + root
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
