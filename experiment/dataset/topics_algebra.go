package dataset

import (
	"fmt"
	"math/rand/v2"
)

// ---- linear equations in one unknown ----

func genLinear(r *rand.Rand, level int) draft {
	d := draft{unknowns: 1}
	var eq string
	var x rat
	switch level {
	case 1: // x ± a = b
		xv, a := between(r, -20, 40), between(r, 2, 50)
		if r.IntN(2) == 0 {
			eq = fmt.Sprintf("x + %d = %d", a, xv+a)
		} else {
			eq = fmt.Sprintf("x - %d = %d", a, xv-a)
		}
		x, d.operations, d.steps = ratInt(xv), 1, 1
	case 2: // ax + b = c
		xv, a, b := between(r, -15, 15), between(r, 2, 12), nonzero(r, -40, 40)
		eq = linear(iterm(a, "x"), iterm(b, "")) + " = " + itoa(a*xv+b)
		x, d.operations, d.steps = ratInt(xv), 2, 2
	case 3: // ax + b = cx + d
		xv := between(r, -15, 15)
		a, c := nonzero(r, -12, 12), nonzero(r, -12, 12)
		for a == c {
			c = nonzero(r, -12, 12)
		}
		b := nonzero(r, -30, 30)
		dd := a*xv + b - c*xv
		eq = linear(iterm(a, "x"), iterm(b, "")) + " = " + linear(iterm(c, "x"), iterm(dd, ""))
		x, d.operations, d.steps = ratInt(xv), 4, 3
	case 4: // a(x + b) = c(x - e) + f
		a, c := between(r, 2, 9), between(r, 2, 9)
		for a == c {
			c = between(r, 2, 9)
		}
		b, e, f := between(r, 1, 12), between(r, 1, 12), nonzero(r, -20, 20)
		if f > 0 {
			eq = fmt.Sprintf("%d(x + %d) = %d(x - %d) + %d", a, b, c, e, f)
		} else {
			eq = fmt.Sprintf("%d(x + %d) = %d(x - %d) - %d", a, b, c, e, -f)
		}
		x = newRat(f-c*e-a*b, a-c)
		d.operations, d.steps = 5, 4
	default: // (p1 x + q1)/m1 - (p2 x + q2)/m2 = k
		m1, m2 := between(r, 2, 9), between(r, 2, 9)
		for m1 == m2 {
			m2 = between(r, 2, 9)
		}
		p1, p2 := between(r, 1, 5), between(r, 1, 5)
		q1, q2 := nonzero(r, -9, 9), nonzero(r, -9, 9)
		k := nonzero(r, -6, 6)
		coef := m2*p1 - m1*p2
		if coef == 0 {
			return genLinear(r, level)
		}
		eq = fmt.Sprintf(`\frac{%s}{%d} - \frac{%s}{%d} = %d`,
			linear(iterm(p1, "x"), iterm(q1, "")), m1, linear(iterm(p2, "x"), iterm(q2, "")), m2, k)
		x = newRat(k*m1*m2-m2*q1+m1*q2, coef)
		d.operations, d.steps = 7, 5
	}
	d.statement = fmt.Sprintf(pick(r, "Solve for $x$: $%s$.", "Find $x$ if $%s$.", "What value of $x$ satisfies $%s$?"), eq)
	if !x.isInt() {
		d.statement += " Express your answer as a fraction in simplest form."
	}
	d.answer = x.latex()
	return d
}

// ---- systems of two linear equations ----

func genSystems(r *rand.Rand, level int) draft {
	d := draft{unknowns: 2, operations: 4}
	var a1, b1, a2, b2 int64
	var x, y rat
	switch level {
	case 1: // x + y = s, x - y = t
		xv, yv := between(r, 1, 25), between(r, 1, 25)
		a1, b1, a2, b2 = 1, 1, 1, -1
		x, y, d.steps = ratInt(xv), ratInt(yv), 2
	case 2, 3:
		lo, hi, neg := int64(1), int64(6), level == 3
		if neg {
			hi = 9
		}
		coef := func() int64 {
			if neg {
				return nonzero(r, -hi, hi)
			}
			return between(r, lo, hi)
		}
		for a1*b2-a2*b1 == 0 {
			a1, b1, a2, b2 = coef(), coef(), coef(), coef()
			if level == 2 {
				b2 = pick(r, int64(1), -1) // one equation solves easily for y
			}
		}
		x, y = ratInt(between(r, -10, 10)), ratInt(between(r, -10, 10))
		d.steps = level + 1
	case 4:
		if r.IntN(2) == 0 {
			return ticketProblem(r)
		}
		for a1*b2-a2*b1 == 0 {
			a1, b1, a2, b2 = nonzero(r, -15, 15), nonzero(r, -15, 15), nonzero(r, -15, 15), nonzero(r, -15, 15)
		}
		x, y, d.steps = ratInt(between(r, -20, 20)), ratInt(between(r, -20, 20)), 5
	default: // a fractional solution
		var c1, c2, det int64
		for det == 0 || abs(det) > 24 {
			a1, b1, a2, b2 = nonzero(r, -9, 9), nonzero(r, -9, 9), nonzero(r, -9, 9), nonzero(r, -9, 9)
			det = a1*b2 - a2*b1
		}
		c1, c2 = between(r, -30, 30), between(r, -30, 30)
		x, y = newRat(c1*b2-b1*c2, det), newRat(a1*c2-c1*a2, det)
		d.steps = 6
	}
	c1 := ratInt(a1).mul(x).add(ratInt(b1).mul(y))
	c2 := ratInt(a2).mul(x).add(ratInt(b2).mul(y))
	d.statement = fmt.Sprintf("Solve the system of equations $%s = %s$ and $%s = %s$. Give your answer as an ordered pair $(x, y)$.",
		linear(iterm(a1, "x"), iterm(b1, "y")), c1.latex(), linear(iterm(a2, "x"), iterm(b2, "y")), c2.latex())
	d.answer = "(" + x.latex() + ", " + y.latex() + ")"
	return d
}

// ticketProblem is a system in words with a single number for an answer.
func ticketProblem(r *rand.Rand) draft {
	adult, child := between(r, 8, 20), between(r, 3, 7)
	na, nc := between(r, 10, 200), between(r, 10, 200)
	return draft{
		statement: fmt.Sprintf("A theater sold %d tickets for a show. Adult tickets cost %d dollars and child tickets cost %d dollars, "+
			"and the tickets brought in %d dollars in total. How many adult tickets were sold?", na+nc, adult, child, na*adult+nc*child),
		answer:   itoa(na),
		unknowns: 2, operations: 4, steps: 4,
	}
}

// ---- arithmetic and geometric sequences ----

func genSequences(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	switch level {
	case 1: // the next term
		a, k := between(r, -20, 50), nonzero(r, -12, 15)
		d.statement = fmt.Sprintf("What is the next term of the arithmetic sequence $%d, %d, %d, %d, \\ldots$?", a, a+k, a+2*k, a+3*k)
		d.answer = itoa(a + 4*k)
	case 2: // the n-th term
		if r.IntN(2) == 0 {
			a, k, n := between(r, -20, 50), nonzero(r, -9, 12), between(r, 10, 60)
			d.statement = fmt.Sprintf("An arithmetic sequence has first term $%d$ and common difference $%d$. What is its %s term?", a, k, ordinal(n))
			d.answer = itoa(a + (n-1)*k)
		} else {
			a, q := between(r, 1, 9), between(r, 2, 4)
			d.statement = fmt.Sprintf("What is the next term of the geometric sequence $%d, %d, %d, %d, \\ldots$?", a, a*q, a*q*q, a*q*q*q)
			d.answer = itoa(a * ipow(q, 4))
		}
		d.operations, d.steps = 2, 2
	case 3: // a sum, or counting terms
		a, k, n := between(r, 1, 30), between(r, 1, 12), between(r, 8, 50)
		if r.IntN(2) == 0 {
			d.statement = fmt.Sprintf("What is the sum of the first $%d$ terms of the arithmetic sequence $%d, %d, %d, \\ldots$?", n, a, a+k, a+2*k)
			d.answer = itoa(n * (2*a + (n-1)*k) / 2)
		} else {
			d.statement = fmt.Sprintf("How many terms does the arithmetic sequence $%d, %d, %d, \\ldots, %d$ have?", a, a+k, a+2*k, a+(n-1)*k)
			d.answer = itoa(n)
		}
		d.operations, d.steps = 3, 3
	case 4: // a term from two others, or a geometric sum
		if r.IntN(2) == 0 {
			a, k := between(r, -30, 30), nonzero(r, -9, 9)
			p := between(r, 2, 8)
			q := p + between(r, 3, 12)
			m := q + between(r, 5, 30)
			d.statement = fmt.Sprintf("In an arithmetic sequence, the %s term is $%d$ and the %s term is $%d$. What is the %s term?",
				ordinal(p), a+(p-1)*k, ordinal(q), a+(q-1)*k, ordinal(m))
			d.answer = itoa(a + (m-1)*k)
			d.operations, d.steps = 5, 4
		} else {
			a, q, n := between(r, 1, 9), between(r, 2, 3), between(r, 5, 10)
			d.statement = fmt.Sprintf("What is the sum $%d + %d + %d + \\cdots + %d$, where each term is $%d$ times the one before?",
				a, a*q, a*q*q, a*ipow(q, n-1), q)
			d.answer = itoa(a * (ipow(q, n) - 1) / (q - 1))
			d.operations, d.steps = 4, 4
		}
	default: // an infinite geometric series with a fractional ratio
		num := between(r, 1, 4)
		den := between(r, num+1, 7)
		if gcd(num, den) != 1 {
			return genSequences(r, level)
		}
		ratio := newRat(num, den)
		if r.IntN(2) == 0 {
			ratio = ratio.neg()
		}
		first := ratInt(between(r, 1, 12) * den * den)
		t2, t3 := first.mul(ratio), first.mul(ratio).mul(ratio)
		sum := first.div(ratInt(1).sub(ratio))
		d.statement = fmt.Sprintf("What is the sum of the infinite geometric series $%s$?",
			linear(term{first, ""}, term{t2, ""}, term{t3, ""})+" + \\cdots")
		if !sum.isInt() {
			d.statement += " Express your answer as a fraction in simplest form."
		}
		d.answer = sum.latex()
		d.operations, d.steps = 4, 5
	}
	return d
}
