package eval

import (
	"errors"
	"math"
	"math/big"
)

// number is a real value: exact when it is rational and small enough to
// keep exactly, approximate (float64) otherwise. f is set either way.
type number struct {
	exact *big.Rat
	f     float64
}

const (
	// maxExactBits bounds the size of an exact rational (numerator plus
	// denominator bits); bigger results continue approximately, which keeps
	// every operation fast.
	maxExactBits = 4096
	// maxLiteralDigits bounds a number literal; longer ones are not numbers.
	maxLiteralDigits = 600
	// maxExponent bounds the exponent of scientific notation (1e400).
	maxExponent = 400
	// maxOperations bounds the operations evaluated in one expression.
	maxOperations = 1024
	// relTolerance is how close two numbers must be when either is
	// irrational (radicals, π): |a−b| ≤ relTolerance·max(|a|,|b|).
	relTolerance = 1e-9
	// absTolerance is how close two such numbers near zero must be.
	absTolerance = 1e-12
)

var errNotNumber = errors.New("not a number")

// exactNumber keeps r exactly when it is small enough. A bigger one goes on
// approximately; one too big for a float64 is NaN, which makes the whole
// expression not a number rather than equal to \infty.
func exactNumber(r *big.Rat) number {
	if r.Num().BitLen()+r.Denom().BitLen() > maxExactBits {
		f, _ := r.Float64()
		if math.IsInf(f, 0) || (f == 0 && r.Sign() != 0) {
			f = math.NaN() // beyond a float64 too: not silently 0 or ∞ (numberOf says so)
		}
		return number{f: f}
	}
	if n, d := r.Num(), r.Denom(); n.IsInt64() && d.IsInt64() {
		// Both exact in a float64: their IEEE quotient is the nearest
		// float64 to n/d, as Float64 gives, without its big division.
		if a, b := n.Int64(), d.Int64(); a > -1<<53 && a < 1<<53 && b < 1<<53 {
			return number{exact: r, f: float64(a) / float64(b)}
		}
	}
	f, _ := r.Float64()
	return number{exact: r, f: f}
}

func approxNumber(f float64) (number, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return number{}, errNotNumber
	}
	return number{f: f}, nil
}

// equal compares exactly when both numbers are exact, and within the
// tolerance otherwise. A decimal is an exact statement: 0.333 is not 1/3.
func (a number) equal(b number) bool {
	if a.exact != nil && b.exact != nil {
		return a.exact.Cmp(b.exact) == 0
	}
	if math.IsInf(a.f, 0) || math.IsInf(b.f, 0) {
		return a.f == b.f
	}
	diff := math.Abs(a.f - b.f)
	return diff <= absTolerance || diff <= relTolerance*math.Max(math.Abs(a.f), math.Abs(b.f))
}

// numberOf evaluates s, a normalized answer, as a real number: integers,
// decimals, scientific notation, + − · × ÷ / ^, \frac, \sqrt, \sqrt[n],
// \pi, \infty, parentheses and braces, implicit products (2\sqrt{2}, 3\pi)
// and mixed numbers (3\frac{1}{2} is 3 + 1/2). outOfRange reports a number
// it could not hold: exact past maxExactBits and beyond a float64 too
// (10^{-5000}), which no comparison may call equal to 0 or to another
// such number.
func numberOf(s string) (n number, ok, outOfRange bool) {
	p := exprParser{cursor: cursor{s: s}}
	v, err := p.expr()
	if err != nil || p.pos != len(s) {
		return number{}, false, false
	}
	if math.IsNaN(v.f) {
		return number{}, false, true
	}
	return v, true, false
}

func neg(a number) number {
	if a.exact != nil {
		return number{exact: new(big.Rat).Neg(a.exact), f: -a.f}
	}
	return number{f: -a.f}
}

func add(a, b number, subtract bool) (number, error) {
	if a.exact != nil && b.exact != nil {
		if subtract {
			return exactNumber(new(big.Rat).Sub(a.exact, b.exact)), nil
		}
		return exactNumber(new(big.Rat).Add(a.exact, b.exact)), nil
	}
	if subtract {
		return approxOrInfinity(a.f-b.f, a, b)
	}
	return approxOrInfinity(a.f+b.f, a, b)
}

func mul(a, b number, divide bool) (number, error) {
	if divide && ((b.exact != nil && b.exact.Sign() == 0) || (b.exact == nil && b.f == 0)) {
		return number{}, errNotNumber
	}
	if a.exact != nil && b.exact != nil {
		if divide {
			return exactNumber(new(big.Rat).Quo(a.exact, b.exact)), nil
		}
		return exactNumber(new(big.Rat).Mul(a.exact, b.exact)), nil
	}
	if divide {
		return approxOrInfinity(a.f/b.f, a, b)
	}
	return approxOrInfinity(a.f*b.f, a, b)
}

// approxOrInfinity keeps an infinite result only when an operand was already
// infinite (−\infty is an interval end); an overflow is not a number.
func approxOrInfinity(f float64, a, b number) (number, error) {
	if math.IsInf(f, 0) && (math.IsInf(a.f, 0) || math.IsInf(b.f, 0)) {
		return number{f: f}, nil
	}
	return approxNumber(f)
}

func pow(base, exp number) (number, error) {
	if base.exact != nil && exp.exact != nil && exp.exact.IsInt() && exp.exact.Num().IsInt64() {
		e := exp.exact.Num().Int64()
		// The result's size is about |e| times the base's, less one bit a
		// factor at most: 10^{-1000} (3,322 bits) is computed, and
		// exactNumber keeps it when it fits.
		low := int64(max(base.exact.Num().BitLen()-1, 0) + max(base.exact.Denom().BitLen()-1, 0))
		if e >= -maxExactBits && e <= maxExactBits && low*max(e, -e) <= maxExactBits {
			if e < 0 && base.exact.Sign() == 0 {
				return number{}, errNotNumber
			}
			n := big.NewInt(max(e, -e))
			num := new(big.Int).Exp(base.exact.Num(), n, nil)
			den := new(big.Int).Exp(base.exact.Denom(), n, nil)
			if e < 0 {
				num, den = den, num
			}
			return exactNumber(new(big.Rat).SetFrac(num, den)), nil
		}
	}
	if math.IsInf(base.f, 0) || math.IsInf(exp.f, 0) {
		return number{}, errNotNumber
	}
	f := math.Pow(base.f, exp.f)
	if math.IsInf(f, 0) || (f == 0 && base.f != 0) {
		return number{f: math.NaN()}, nil // out of range, not 0 or ∞ (numberOf)
	}
	return approxNumber(f)
}

// sqrt is exact for perfect squares (\sqrt{9/4} is 3/2).
func sqrt(a number) (number, error) {
	if a.f < 0 || (a.exact != nil && a.exact.Sign() < 0) || math.IsInf(a.f, 0) {
		return number{}, errNotNumber
	}
	if a.exact != nil {
		num := new(big.Int).Sqrt(a.exact.Num())
		den := new(big.Int).Sqrt(a.exact.Denom())
		if new(big.Int).Mul(num, num).Cmp(a.exact.Num()) == 0 && new(big.Int).Mul(den, den).Cmp(a.exact.Denom()) == 0 {
			return exactNumber(new(big.Rat).SetFrac(num, den)), nil
		}
	}
	return approxNumber(math.Sqrt(a.f))
}

// root is the real n-th root, for a whole n from 2 to 64.
func root(a, index number) (number, error) {
	if index.exact == nil || !index.exact.IsInt() || index.f < 2 || index.f > 64 || math.IsInf(a.f, 0) {
		return number{}, errNotNumber
	}
	n := int(index.f)
	if n == 2 {
		return sqrt(a)
	}
	if a.f < 0 {
		if n%2 == 0 {
			return number{}, errNotNumber
		}
		return approxNumber(-math.Pow(-a.f, 1/float64(n)))
	}
	return approxNumber(math.Pow(a.f, 1/float64(n)))
}
