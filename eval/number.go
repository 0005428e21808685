package eval

import (
	"errors"
	"math"
	"math/big"
	"strings"
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
		if math.IsInf(f, 0) {
			f = math.NaN()
		}
		return number{f: f}
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

// evalNumber evaluates s, a normalized answer, as a real number: integers,
// decimals, scientific notation, + − · × ÷ / ^, \frac, \sqrt, \sqrt[n],
// \pi, \infty, parentheses and braces, implicit products (2\sqrt{2}, 3\pi)
// and mixed numbers (3\frac{1}{2} is 3 + 1/2).
func evalNumber(s string) (number, bool) {
	p := exprParser{s: s}
	v, err := p.expr()
	if err != nil || p.pos != len(s) {
		return number{}, false
	}
	if math.IsNaN(v.f) {
		return number{}, false
	}
	return v, true
}

type exprParser struct {
	s     string
	pos   int
	depth int
	ops   int
}

func (p *exprParser) enter() error {
	p.depth++
	p.ops++
	if p.depth > MaxNesting || p.ops > maxOperations {
		return errNotNumber
	}
	return nil
}

func (p *exprParser) leave() { p.depth-- }

func (p *exprParser) peek() byte {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// command reports whether the command \name is next, and consumes it if so.
func (p *exprParser) command(name string) bool {
	if p.peek() != '\\' {
		return false
	}
	rest := p.s[p.pos+1:]
	if !strings.HasPrefix(rest, name) || (len(rest) > len(name) && isLetter(rest[len(name)])) {
		return false
	}
	p.pos += 1 + len(name)
	return true
}

func (p *exprParser) expect(c byte) error {
	if p.peek() != c {
		return errNotNumber
	}
	p.pos++
	return nil
}

// expr := term { (+|−) term }
func (p *exprParser) expr() (number, error) {
	if err := p.enter(); err != nil {
		return number{}, err
	}
	defer p.leave()
	left, err := p.term()
	for err == nil {
		var right number
		switch p.peek() {
		case '+':
			p.pos++
			if right, err = p.term(); err == nil {
				left, err = add(left, right, false)
			}
		case '-':
			p.pos++
			if right, err = p.term(); err == nil {
				left, err = add(left, right, true)
			}
		default:
			return left, nil
		}
	}
	return number{}, err
}

// term := unary { (* | / | \cdot | \times | \div | juxtaposition) unary }
func (p *exprParser) term() (number, error) {
	left, err := p.unary()
	for err == nil {
		var right number
		switch c := p.peek(); {
		case c == '*' || c == '/':
			p.pos++
			if right, err = p.unary(); err == nil {
				left, err = mul(left, right, c == '/')
			}
		case p.command("cdot") || p.command("times"):
			if right, err = p.unary(); err == nil {
				left, err = mul(left, right, false)
			}
		case p.command("div"):
			if right, err = p.unary(); err == nil {
				left, err = mul(left, right, true)
			}
		case p.startsPrimary():
			if right, err = p.power(); err == nil {
				left, err = mul(left, right, false)
			}
		default:
			return left, nil
		}
	}
	return number{}, err
}

func (p *exprParser) startsPrimary() bool {
	switch c := p.peek(); {
	case isDigit(c) || c == '.' || c == '(' || c == '{':
		return true
	case c == '\\':
		rest := p.s[p.pos+1:]
		for _, name := range [...]string{"frac", "sqrt", "pi", "infty"} {
			if strings.HasPrefix(rest, name) && (len(rest) == len(name) || !isLetter(rest[len(name)])) {
				return true
			}
		}
	}
	return false
}

// unary := (−|+) unary | power
func (p *exprParser) unary() (number, error) {
	if err := p.enter(); err != nil {
		return number{}, err
	}
	defer p.leave()
	switch p.peek() {
	case '-':
		p.pos++
		v, err := p.unary()
		if err != nil {
			return number{}, err
		}
		return neg(v), nil
	case '+':
		p.pos++
		return p.unary()
	}
	return p.power()
}

// power := primary [ ^ exponent ]
func (p *exprParser) power() (number, error) {
	base, err := p.primary()
	if err != nil || p.peek() != '^' {
		return base, err
	}
	p.pos++
	exp, err := p.exponent()
	if err != nil {
		return number{}, err
	}
	return pow(base, exp)
}

// exponent := { expr } | (−|+) exponent | digits | primary. A bare digit
// run is the whole exponent (2^10 is 1024, as a reader means it).
func (p *exprParser) exponent() (number, error) {
	if err := p.enter(); err != nil {
		return number{}, err
	}
	defer p.leave()
	switch c := p.peek(); {
	case c == '{':
		p.pos++
		v, err := p.expr()
		if err == nil {
			err = p.expect('}')
		}
		return v, err
	case c == '-' || c == '+':
		p.pos++
		v, err := p.exponent()
		if c == '-' {
			v = neg(v)
		}
		return v, err
	case isDigit(c):
		return p.literal()
	}
	return p.primary()
}

// primary := literal [mixed fraction] | ( expr ) | { expr } | \frac a b |
// \sqrt[n] a | \pi | \infty
func (p *exprParser) primary() (number, error) {
	if err := p.enter(); err != nil {
		return number{}, err
	}
	defer p.leave()
	switch c := p.peek(); {
	case isDigit(c) || c == '.':
		start := p.pos
		v, err := p.literal()
		if err != nil {
			return v, err
		}
		if isDigitRun(p.s[start:p.pos]) {
			if frac, ok := p.mixedFraction(); ok {
				return add(v, frac, false)
			}
		}
		return v, nil
	case c == '(' || c == '{':
		p.pos++
		v, err := p.expr()
		if err == nil {
			err = p.expect(closerOf(c))
		}
		return v, err
	case p.command("frac"):
		num, err := p.argument()
		if err != nil {
			return number{}, err
		}
		den, err := p.argument()
		if err != nil {
			return number{}, err
		}
		return mul(num, den, true)
	case p.command("sqrt"):
		if p.peek() == '[' {
			p.pos++
			index, err := p.expr()
			if err == nil {
				err = p.expect(']')
			}
			if err != nil {
				return number{}, err
			}
			radicand, err := p.argument()
			if err != nil {
				return number{}, err
			}
			return root(radicand, index)
		}
		radicand, err := p.argument()
		if err != nil {
			return number{}, err
		}
		return sqrt(radicand)
	case p.command("pi"):
		return number{f: math.Pi}, nil
	case p.command("infty"):
		return number{f: math.Inf(1)}, nil
	}
	return number{}, errNotNumber
}

// argument is a macro argument: a braced group, one digit, or \pi.
func (p *exprParser) argument() (number, error) {
	switch c := p.peek(); {
	case c == '{':
		p.pos++
		v, err := p.expr()
		if err == nil {
			err = p.expect('}')
		}
		return v, err
	case isDigit(c):
		p.pos++
		return exactNumber(new(big.Rat).SetInt64(int64(c - '0'))), nil
	case p.command("pi"):
		return number{f: math.Pi}, nil
	}
	return number{}, errNotNumber
}

// mixedFraction reads the \frac{b}{c} of a mixed number a\frac{b}{c}, whose
// parts are all plain integers; otherwise it consumes nothing.
func (p *exprParser) mixedFraction() (number, bool) {
	save := p.pos
	if !p.command("frac") {
		return number{}, false
	}
	num, okNum := p.integerArgument()
	den, okDen := p.integerArgument()
	if !okNum || !okDen || den.Sign() == 0 {
		p.pos = save
		return number{}, false
	}
	return exactNumber(new(big.Rat).SetFrac(num, den)), true
}

func (p *exprParser) integerArgument() (*big.Int, bool) {
	c := p.peek()
	if isDigit(c) {
		p.pos++
		return big.NewInt(int64(c - '0')), true
	}
	if c != '{' {
		return nil, false
	}
	end := strings.IndexByte(p.s[p.pos:], '}')
	if end < 2 || end > maxLiteralDigits || !isDigitRun(p.s[p.pos+1:p.pos+end]) {
		return nil, false
	}
	n, _ := new(big.Int).SetString(p.s[p.pos+1:p.pos+end], 10)
	p.pos += end + 1
	return n, true
}

// literal := digits [. digits] [e|E [±] digits], or . digits
func (p *exprParser) literal() (number, error) {
	s, start := p.s, p.pos
	i := start
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := i - start
	fracDigits := 0
	if i < len(s) && s[i] == '.' && i+1 < len(s) && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 || intDigits+fracDigits > maxLiteralDigits {
		return number{}, errNotNumber
	}
	mantissa := s[start:i]
	exponent := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		sign := 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			if s[j] == '-' {
				sign = -1
			}
			j++
		}
		digits := j
		for j < len(s) && isDigit(s[j]) && j-digits < 4 {
			exponent = exponent*10 + int(s[j]-'0')
			j++
		}
		if j > digits { // otherwise the e is not part of the number
			if exponent > maxExponent || (j < len(s) && isDigit(s[j])) {
				return number{}, errNotNumber
			}
			exponent *= sign
			i = j
		}
	}
	p.pos = i
	if mantissa[0] == '.' {
		mantissa = "0" + mantissa
	}
	r, ok := new(big.Rat).SetString(mantissa)
	if !ok {
		return number{}, errNotNumber
	}
	if exponent != 0 {
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exponent))), nil)
		if exponent > 0 {
			r.Mul(r, new(big.Rat).SetInt(scale))
		} else {
			r.Quo(r, new(big.Rat).SetInt(scale))
		}
	}
	return exactNumber(r), nil
}

func closerOf(open byte) byte {
	if open == '(' {
		return ')'
	}
	return '}'
}

func isDigitRun(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
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
		size := int64(base.exact.Num().BitLen() + base.exact.Denom().BitLen())
		if e >= -maxExactBits && e <= maxExactBits && size*max(e, -e) <= maxExactBits {
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
	return approxNumber(math.Pow(base.f, exp.f))
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
