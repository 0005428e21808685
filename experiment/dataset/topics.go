package dataset

import (
	"math/rand/v2"
	"strings"
)

// Helpers shared by the topic generators. Every generator computes its
// answer exactly (integers or rat) and writes it in a grader form.

// between draws uniformly from [lo, hi].
func between(r *rand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

// nonzero draws uniformly from [lo, hi] without 0.
func nonzero(r *rand.Rand, lo, hi int64) int64 {
	for {
		if v := between(r, lo, hi); v != 0 {
			return v
		}
	}
}

// withDigits draws a number of exactly d digits (at least 2 when d is 1, so
// that no problem multiplies by 0 or 1).
func withDigits(r *rand.Rand, d int) int64 {
	lo := ipow(10, int64(d-1))
	if d == 1 {
		lo = 2
	}
	return between(r, lo, ipow(10, int64(d))-1)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// term is one term c·v of a linear expression; v is "" for a constant.
type term struct {
	c rat
	v string
}

func iterm(c int64, v string) term { return term{ratInt(c), v} }

// linear writes a sum of terms the way a textbook does: "3x - y + 4",
// "-x + \frac{1}{2}y", leaving out zero terms and unit coefficients.
func linear(ts ...term) string {
	var b strings.Builder
	for _, t := range ts {
		if t.c.isZero() {
			continue
		}
		c := t.c
		switch {
		case b.Len() == 0 && c.n < 0:
			b.WriteString("-")
			c = c.neg()
		case b.Len() > 0 && c.n < 0:
			b.WriteString(" - ")
			c = c.neg()
		case b.Len() > 0:
			b.WriteString(" + ")
		}
		if t.v != "" && c.n == 1 && c.d == 1 {
			b.WriteString(t.v)
			continue
		}
		b.WriteString(c.latex())
		b.WriteString(t.v)
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}

// signed writes an integer operand, negative ones in parentheses.
func signed(n int64) string {
	if n < 0 {
		return "(" + itoa(n) + ")"
	}
	return itoa(n)
}

// plural writes "1 apple" or "3 apples".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// ordinal writes 1st, 2nd, 3rd, 4th, 11th, 21st, ...
func ordinal(n int64) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return itoa(n) + suffix
}
