package eval

import (
	"math"
	"math/big"
	"strings"
)

// exprParser is numberOf's recursive-descent parser (expr → term → unary
// → power → primary). depth and ops bound its work, so a hostile answer
// cannot make grading slow or deep.
type exprParser struct {
	cursor
	depth int
	ops   int
}

// cursor is a parser's position in a normalized answer, which both parsers
// (this one and symbolic.go's) read the same way.
type cursor struct {
	s   string
	pos int
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

func (p *cursor) peek() byte {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// command reports whether the command \name is next, and consumes it if so.
func (p *cursor) command(name string) bool {
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
	if fracDigits == 0 && exponent == 0 && intDigits <= 18 {
		// A plain integer, the commonest literal: no string parsing.
		var v int64
		for _, c := range []byte(mantissa) {
			v = v*10 + int64(c-'0')
		}
		return exactNumber(new(big.Rat).SetInt64(v)), nil
	}
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
