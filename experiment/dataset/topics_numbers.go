package dataset

import (
	"fmt"
	"math/rand/v2"
)

// ---- arithmetic: integer (and some decimal) expressions ----

var evalTemplates = []string{"What is $%s$?", "Compute $%s$.", "Evaluate $%s$."}

func genArithmetic(r *rand.Rand, level int) draft {
	if (level == 2 || level == 3) && r.IntN(3) == 0 {
		return decimalArithmetic(r, level)
	}
	a := arith{r: r, minDigits: 1, maxDigits: 2, ops: level, opset: "+-*/", mulLeft: 2}
	switch level {
	case 1:
		a.minDigits, a.opset = 2, "+-"
	case 2:
		a.opset = "+-*"
	case 4:
		a.maxDigits, a.negatives = 3, true
	case 5:
		a.minDigits, a.maxDigits, a.negatives, a.ops = 2, 3, true, 5+r.IntN(2)
	}
	e := a.build(a.ops)
	return draft{
		statement:  fmt.Sprintf(pick(r, evalTemplates...), e.s),
		answer:     itoa(e.v),
		operations: a.ops,
		steps:      a.ops,
	}
}

// arith builds a random integer expression with a given number of
// operations. Division only ever divides a literal by a literal that goes
// into it, so every value is an integer; at most mulLeft multiplications
// (each by a factor of 2..12) keep the values in int64.
type arith struct {
	r                    *rand.Rand
	minDigits, maxDigits int
	ops                  int
	opset                string
	negatives            bool
	mulLeft              int
}

// expr is an expression's LaTeX, its value and the precedence of its top
// operator (1: + -, 2: × ÷, 3: a literal).
type expr struct {
	s    string
	v    int64
	prec int
}

func (a *arith) literal() int64 {
	n := withDigits(a.r, a.minDigits+a.r.IntN(a.maxDigits-a.minDigits+1))
	if a.negatives && a.r.IntN(5) == 0 {
		n = -n
	}
	return n
}

func lit(n int64) expr { return expr{signed(n), n, 3} }

func (a *arith) build(ops int) expr {
	if ops == 0 {
		return lit(a.literal())
	}
	op := a.opset[a.r.IntN(len(a.opset))]
	if op == '*' && a.mulLeft == 0 || op == '/' && ops > 1 {
		op = pick(a.r, byte('+'), '-')
	}
	switch op {
	case '*':
		a.mulLeft--
		inner, factor := a.build(ops-1), lit(between(a.r, 2, 12))
		if a.r.IntN(2) == 0 {
			return binop('*', factor, inner)
		}
		return binop('*', inner, factor)
	case '/':
		d := between(a.r, 2, 12)
		return binop('/', lit(a.literal()*d), lit(d))
	}
	left := a.r.IntN(ops)
	return binop(op, a.build(left), a.build(ops-1-left))
}

func binop(op byte, l, r expr) expr {
	prec := 1
	if op == '*' || op == '/' {
		prec = 2
	}
	ls, rs := l.s, r.s
	if l.prec < prec {
		ls = "(" + ls + ")"
	}
	if r.prec < prec || r.prec == prec && (op == '-' || op == '/') {
		rs = "(" + rs + ")"
	}
	e := expr{prec: prec}
	switch op {
	case '+':
		e.s, e.v = ls+" + "+rs, l.v+r.v
	case '-':
		e.s, e.v = ls+" - "+rs, l.v-r.v
	case '*':
		e.s, e.v = ls+` \times `+rs, l.v*r.v
	case '/':
		e.s, e.v = ls+` \div `+rs, l.v/r.v
	}
	return e
}

// decimalArithmetic: level 2 adds or subtracts two decimals, level 3
// multiplies one by a whole number and adds another.
func decimalArithmetic(r *rand.Rand, level int) draft {
	dec := func() (rat, string) {
		places := 1 + r.IntN(2)
		v := newRat(between(r, 11, 9999), ipow(10, int64(places)))
		s, _ := v.decimal()
		return v, s
	}
	x, xs := dec()
	y, ys := dec()
	var v rat
	var s string
	ops := 1
	if level == 2 {
		if r.IntN(2) == 0 {
			v, s = x.add(y), xs+" + "+ys
		} else {
			v, s = x.sub(y), xs+" - "+ys
		}
	} else {
		k := between(r, 2, 9)
		v, s, ops = x.mul(ratInt(k)).add(y), xs+` \times `+itoa(k)+" + "+ys, 2
	}
	ans, _ := v.decimal()
	return draft{statement: fmt.Sprintf(pick(r, evalTemplates...), s), answer: ans, operations: ops, steps: ops + 1}
}

// ---- fractions: sums, differences, products and quotients of fractions ----

// frac is a fraction as the statement shows it (not necessarily reduced).
type frac struct{ a, b int64 }

func (f frac) value() rat { return newRat(f.a, f.b) }
func (f frac) String() string {
	return `\frac{` + itoa(f.a) + `}{` + itoa(f.b) + `}`
}

// properFrac draws a/b with 1 ≤ a < b ≤ maxDen, in lowest terms when
// reduced is set.
func properFrac(r *rand.Rand, maxDen int64, reduced bool) frac {
	for {
		b := between(r, 2, maxDen)
		a := between(r, 1, b-1)
		if !reduced || gcd(a, b) == 1 {
			return frac{a, b}
		}
	}
}

const fracSuffix = " Express your answer as a fraction in simplest form."

func genFractions(r *rand.Rand, level int) draft {
	var s string
	var v rat
	d := draft{operations: 1}
	switch level {
	case 1: // same denominator
		b := between(r, 3, 15)
		x, y := frac{between(r, 1, b-1), b}, frac{between(r, 1, b-1), b}
		if r.IntN(2) == 0 || x.a == y.a {
			s, v = x.String()+" + "+y.String(), x.value().add(y.value())
		} else {
			s, v = x.String()+" - "+y.String(), x.value().sub(y.value())
		}
		d.steps = 2
	case 2: // unlike denominators
		x, y := properFrac(r, 12, true), properFrac(r, 12, true)
		for x.b == y.b {
			y = properFrac(r, 12, true)
		}
		if r.IntN(2) == 0 {
			s, v = x.String()+" + "+y.String(), x.value().add(y.value())
		} else {
			s, v = x.String()+" - "+y.String(), x.value().sub(y.value())
		}
		d.steps = 3
	case 3: // product or quotient
		x, y := properFrac(r, 15, false), properFrac(r, 15, false)
		if r.IntN(2) == 0 {
			s, v, d.steps = x.String()+` \times `+y.String(), x.value().mul(y.value()), 2
		} else {
			s, v, d.steps = x.String()+` \div `+y.String(), x.value().div(y.value()), 3
		}
	case 4: // three terms
		x, y, z := properFrac(r, 12, false), properFrac(r, 12, false), properFrac(r, 12, false)
		s = x.String() + " + " + y.String() + " - " + z.String()
		v = x.value().add(y.value()).sub(z.value())
		d.operations, d.steps = 2, 5
	default: // a quotient of sums, or a product of mixed numbers
		if r.IntN(2) == 0 {
			x, y, z, w := properFrac(r, 9, true), properFrac(r, 9, true), properFrac(r, 9, true), properFrac(r, 9, true)
			den := z.value().sub(w.value())
			for den.isZero() {
				w = properFrac(r, 9, true)
				den = z.value().sub(w.value())
			}
			s = `\left(` + x.String() + " + " + y.String() + `\right) \div \left(` + z.String() + " - " + w.String() + `\right)`
			v = x.value().add(y.value()).div(den)
			d.operations, d.steps = 3, 7
		} else {
			p, q := between(r, 1, 4), between(r, 1, 4)
			x, y := properFrac(r, 9, true), properFrac(r, 9, true)
			s = itoa(p) + x.String() + ` \times ` + itoa(q) + y.String()
			v = ratInt(p).add(x.value()).mul(ratInt(q).add(y.value()))
			d.operations, d.steps = 3, 5
		}
	}
	if v.isZero() {
		return genFractions(r, level)
	}
	d.statement = fmt.Sprintf(pick(r, evalTemplates...), s)
	if !v.isInt() || r.IntN(2) == 0 {
		d.statement += fracSuffix
	}
	d.answer = v.latex()
	return d
}

// ---- percentages ----

func percentAnswer(v rat) string {
	if s, ok := v.decimal(); ok {
		return s
	}
	return v.latex() // unreachable: percentages only ever divide by 2s and 5s
}

func genPercentages(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	var v rat
	switch level {
	case 1: // a friendly percent of a number that makes it whole
		p := pick(r, int64(5), 10, 20, 25, 40, 50, 75, 150, 200)
		n := between(r, 1, 40) * (100 / gcd(p, 100))
		v = newRat(p*n, 100)
		d.statement = fmt.Sprintf("What is $%d\\%%$ of $%d$?", p, n)
	case 2: // any percent of any number; the answer may be a decimal
		p, n := between(r, 1, 99), between(r, 10, 500)
		v = newRat(p*n, 100)
		d.statement = fmt.Sprintf("What is $%d\\%%$ of $%d$?", p, n)
		d.steps = 2
	case 3: // what percent; percent change
		d.operations, d.steps = 2, 2
		if r.IntN(2) == 0 {
			p := between(r, 1, 40) * 5
			b := between(r, 1, 20) * (100 / gcd(p, 100))
			v = ratInt(p)
			d.statement = fmt.Sprintf("What percent of $%d$ is $%d$? Give the number without the percent sign.", b, p*b/100)
		} else {
			p := between(r, 1, 19) * 5
			old := between(r, 1, 30) * (100 / gcd(p, 100))
			nw, verb, change := old*(100+p)/100, "rose", "increase"
			if r.IntN(2) == 0 {
				nw, verb, change = old*(100-p)/100, "fell", "decrease"
			}
			v = ratInt(p)
			d.statement = fmt.Sprintf("A price %s from %d dollars to %d dollars. By what percent did it %s? Give the number without the percent sign.",
				verb, old, nw, change)
			d.steps = 3
		}
	case 4: // successive changes, or undoing a discount
		d.operations, d.steps = 2, 3
		if r.IntN(2) == 0 {
			price := between(r, 2, 60) * 10
			p, q := between(r, 1, 10)*5, between(r, 1, 10)*5
			v = ratInt(price).mul(newRat(100+p, 100)).mul(newRat(100-q, 100))
			d.statement = fmt.Sprintf("A jacket costs %d dollars. Its price is raised by $%d\\%%$ and then the new price is lowered by $%d\\%%$. What is the final price in dollars?", price, p, q)
		} else {
			p := pick(r, int64(10), 15, 20, 25, 30, 40, 50, 60, 75)
			orig := between(r, 1, 60) * (100 / gcd(100-p, 100))
			v = ratInt(orig)
			d.statement = fmt.Sprintf("After a $%d\\%%$ discount, a bicycle costs %d dollars. What was its price, in dollars, before the discount?", p, orig*(100-p)/100)
		}
	default: // compound interest, exact
		principal := between(r, 1, 50) * 100
		rate := between(r, 1, 12)
		years := between(r, 2, 4)
		v = ratInt(principal)
		for range years {
			v = v.mul(newRat(100+rate, 100))
		}
		d.statement = fmt.Sprintf("A deposit of %d dollars earns $%d\\%%$ interest per year, compounded once a year. What is the exact balance, in dollars, after %d years?", principal, rate, years)
		d.operations, d.steps = int(years), int(years)+1
	}
	d.answer = percentAnswer(v)
	return d
}

// ---- powers and roots ----

// maxExponent[b] is the largest e with b^e ≤ 10^6.
var maxExponent = [...]int64{2: 19, 3: 12, 4: 9, 5: 8, 6: 7, 7: 7}

// squareFreeBases are radicands already in simplest form.
var squareFreeBases = []int64{2, 3, 5, 6, 7, 10, 11, 13, 14, 15, 17, 19, 21, 22, 23}

func genPowers(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	var s, ans string
	radicalSuffix := ""
	switch level {
	case 1:
		switch r.IntN(3) {
		case 0:
			b := between(r, 2, 25)
			s, ans = fmt.Sprintf("%d^2", b), itoa(b*b)
		case 1:
			b := between(r, 2, 6)
			s, ans = fmt.Sprintf("%d^3", b), itoa(b*b*b)
		default:
			b := between(r, 2, 30)
			s, ans = fmt.Sprintf(`\sqrt{%d}`, b*b), itoa(b)
		}
	case 2:
		d.steps = 2
		switch r.IntN(3) {
		case 0:
			b := between(r, 2, 5)
			e := between(r, 4, maxExponent[b]/2+4)
			s, ans = fmt.Sprintf("%d^{%d}", b, e), itoa(ipow(b, e))
		case 1:
			b := between(r, 2, 12)
			s, ans = fmt.Sprintf(`\sqrt[3]{%d}`, b*b*b), itoa(b)
		default:
			b, e := between(r, 2, 9), between(r, 3, 5)
			s, ans = fmt.Sprintf("(-%d)^{%d}", b, e), itoa(ipow(-b, e))
		}
	case 3:
		if r.IntN(2) == 0 {
			k, m := between(r, 2, 12), pick(r, squareFreeBases...)
			s, ans = fmt.Sprintf(`\sqrt{%d}`, k*k*m), radical(k, m)
			radicalSuffix = " Express your answer in simplest radical form."
			d.steps = 3
		} else {
			a, b := between(r, 2, 15), between(r, 2, 6)
			s, ans = fmt.Sprintf("%d^2 + %d^3", a, b), itoa(a*a+b*b*b)
			d.operations, d.steps = 3, 3
		}
	case 4:
		if r.IntN(2) == 0 {
			m := pick(r, squareFreeBases...)
			p, q := between(r, 1, 9), between(r, 1, 9)
			op, c := "+", p+q
			if r.IntN(2) == 0 {
				op, c = "-", p-q
			}
			if c == 0 {
				return genPowers(r, level)
			}
			s, ans = fmt.Sprintf(`\sqrt{%d} %s \sqrt{%d}`, p*p*m, op, q*q*m), radical(c, m)
			radicalSuffix = " Express your answer in simplest radical form."
			d.operations, d.steps = 3, 4
		} else {
			// b^m · b^n / b^e with a result b^t of at most 10^6.
			b := between(r, 2, 7)
			maxT := maxExponent[b]
			m, n := between(r, 2, 9), between(r, 2, 9)
			t := between(r, 1, min(maxT, m+n))
			s, ans = fmt.Sprintf(`\frac{%d^{%d} \cdot %d^{%d}}{%d^{%d}}`, b, m, b, n, b, m+n-t), itoa(ipow(b, t))
			d.operations, d.steps = 3, 3
		}
	default:
		if r.IntN(2) == 0 { // rational exponents
			c, q := between(r, 2, 5), between(r, 2, 3)
			p := between(r, 1, 3)
			if p%q == 0 {
				p++
			}
			base := ipow(c, q)
			v := ratInt(ipow(c, p))
			sign := ""
			if r.IntN(2) == 0 {
				sign, v = "-", newRat(1, ipow(c, p))
			}
			s, ans = fmt.Sprintf("%d^{%s%d/%d}", base, sign, p, q), v.latex()
			d.operations, d.steps = 2, 4
		} else { // a product of radicals
			a := pick(r, squareFreeBases...) * ipow(between(r, 1, 4), 2)
			b := pick(r, squareFreeBases...) * ipow(between(r, 1, 4), 2)
			k, m := squareFree(a * b)
			s, ans = fmt.Sprintf(`\sqrt{%d} \cdot \sqrt{%d}`, a, b), radical(k, m)
			if m != 1 {
				radicalSuffix = " Express your answer in simplest radical form."
			}
			d.operations, d.steps = 3, 5
		}
	}
	d.statement = fmt.Sprintf(pick(r, "What is $%s$?", "Compute $%s$.", "Simplify $%s$."), s) + radicalSuffix
	d.answer = ans
	return d
}
