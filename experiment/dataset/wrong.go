package dataset

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// WrongAnswer returns a plausible wrong answer to p, drawn with r: the
// mistakes a solver makes, written in the same form as the reference.
//
//   - integers: off by one, a sign slip, off by ten, doubled, two digits
//     swapped;
//   - fractions: upside down, numerator or denominator off by one, a sign
//     slip;
//   - decimals: the last digit off by one, the decimal point moved, a sign
//     slip;
//   - radicals: the coefficient off by one, a sign slip;
//   - tuples: two components swapped, or one of them wrong as above.
//
// Its value always differs from the reference's. An answer of no form
// relix recognizes (AnswerOther, only in loaded files) gets its last number
// increased by one, or "+1" appended when it has no number.
func WrongAnswer(p Problem, r *rand.Rand) string {
	a := parseAnswer(p.Answer)
	switch a.kind {
	case AnswerOther:
		return wrongText(p.Answer)
	case AnswerTuple:
		return wrongTuple(a.parts, r)
	}
	return formatScalar(wrongScalar(a.parts[0], r))
}

// wrongScalar returns a mistaken version of v with a different value.
func wrongScalar(v scalar, r *rand.Rand) scalar {
	var (
		cands [8]rat // the mistakes that apply to v
		n     int
	)
	add := func(c rat) {
		cands[n] = c
		n++
	}
	c := v.coef
	one := ratInt(1)
	switch v.kind {
	case AnswerInteger:
		add(c.add(one))
		add(c.sub(one))
		add(c.neg())
		if abs(c.n) >= 10 {
			add(c.add(ratInt(10)))
			add(c.sub(ratInt(10)))
		}
		add(c.mul(ratInt(2)))
		if s, ok := swapDigits(c.n, r); ok {
			add(ratInt(s))
		}
	case AnswerFraction:
		if c.n != 0 {
			add(newRat(c.d*sign(c.n), abs(c.n)))
			add(newRat(c.n, c.d+1))
		}
		add(newRat(c.n+1, c.d))
		add(newRat(c.n-1, c.d))
		add(c.neg())
	case AnswerDecimal:
		// The last digit off by one, unless that is too small a change for
		// any grader to tell apart from rounding.
		if ulp := newRat(1, ipow(10, int64(max(v.places, 1)))); ulp.float() >= 1e-6*math.Abs(c.float()) {
			add(c.add(ulp))
			add(c.sub(ulp))
		}
		add(c.mul(ratInt(10)))
		add(c.div(ratInt(10)))
		add(c.neg())
	case AnswerRadical:
		add(c.add(one))
		if d := c.sub(one); !d.isZero() {
			add(d)
		}
		add(c.neg())
	}
	// Keep the mistakes that change the value (the sign of 0 does not).
	kept := 0
	for _, w := range cands[:n] {
		if w != c {
			cands[kept] = w
			kept++
		}
	}
	w := v
	w.coef = c.add(one) // always a mistake, for 0 written as a fraction or decimal
	if kept > 0 {
		w.coef = cands[r.IntN(kept)]
	}
	return w
}

func sign(n int64) int64 {
	if n < 0 {
		return -1
	}
	return 1
}

// swapDigits swaps two adjacent, different digits of n.
func swapDigits(n int64, r *rand.Rand) (int64, bool) {
	s := []byte(strconv.FormatInt(abs(n), 10))
	var at []int
	for i := 0; i+1 < len(s); i++ {
		if s[i] != s[i+1] && !(i == 0 && s[i+1] == '0') {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return 0, false
	}
	i := at[r.IntN(len(at))]
	s[i], s[i+1] = s[i+1], s[i]
	m, _ := strconv.ParseInt(string(s), 10, 64)
	return m * sign(n), true
}

func wrongTuple(parts []scalar, r *rand.Rand) string {
	w := append([]scalar(nil), parts...)
	i, j := r.IntN(len(w)), r.IntN(len(w))
	if i != j && w[i].value() != w[j].value() && r.IntN(2) == 0 {
		w[i], w[j] = w[j], w[i]
	} else {
		w[i] = wrongScalar(w[i], r)
	}
	s := make([]string, len(w))
	for k, v := range w {
		s[k] = formatScalar(v)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// formatScalar writes v in the form of its kind.
func formatScalar(v scalar) string {
	switch v.kind {
	case AnswerDecimal:
		if s, ok := v.coef.decimal(); ok {
			return s
		}
	case AnswerRadical:
		if v.coef.isInt() {
			return radical(v.coef.n, v.root)
		}
		root := radical(abs(v.coef.n), v.root)
		if abs(v.coef.n) == 1 {
			root = radical(1, v.root)
		}
		s := `\frac{` + root + `}{` + itoa(v.coef.d) + `}`
		if v.coef.n < 0 {
			s = "-" + s
		}
		return s
	}
	return v.coef.latex()
}

// wrongText increases the last number in s by one (keeping the digits'
// width so "0.05" becomes "0.06"), or appends "+1".
func wrongText(s string) string {
	end := strings.LastIndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if end < 0 {
		return s + "+1"
	}
	start := end
	for start > 0 && isDigit(s[start-1]) {
		start--
	}
	digits := []byte(s[start : end+1])
	i := len(digits) - 1
	for ; i >= 0 && digits[i] == '9'; i-- {
		digits[i] = '0'
	}
	if i < 0 {
		digits = append([]byte{'1'}, digits...)
	} else {
		digits[i]++
	}
	return s[:start] + string(digits) + s[end+1:]
}
