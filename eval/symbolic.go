package eval

import (
	"math"
	"math/cmplx"
	"slices"
	"strconv"
	"strings"
)

// Expressions with variables are compared by the randomized identity test:
// both sides are parsed into a tree and evaluated, in complex arithmetic,
// at the same fixed pseudo-random points (every variable a real number of
// either sign, 0.4 ≤ |v| ≤ 2.6, drawn from a hash of its name and the
// point's number); they are equivalent when they agree within relTolerance
// at symbolicPoints points where both are finite. Two different analytic
// expressions agree only on a set of measure zero, so a false accept needs
// symbolicPoints independent near-coincidences: for a difference that is a
// polynomial of degree d in one variable, the chance that one point lands
// within the tolerance of one of its d roots is about d·2·1e-9/2.2, so six
// points put it below 1e-40 even at degree 1,000. The points are the same
// on every run and machine: verdicts are deterministic. Real points of both
// signs tell |x| from x and \sqrt{x^2} from x; functions outside their real
// domain take the principal complex branch on both sides alike.

const (
	// symbolicPoints is how many points must agree.
	symbolicPoints = 6
	// symbolicTries bounds the points tried, some of which may be poles.
	symbolicTries = 16
	// maxNodes bounds an expression tree.
	maxNodes = 512
	// maxFactorial bounds n! (171! overflows a float64).
	maxFactorial = 170
)

// node is an expression tree's node.
type node struct {
	op   byte // 'n' number, 'v' variable, '+', '*', '/', '^', '-' negation, '!' factorial, 'f' function
	num  complex128
	name string // a variable's or a function's name
	a, b *node
}

// symParser parses the normalized notation into a tree.
type symParser struct {
	cursor
	depth int
	nodes int
	vars  bool // a variable was read
}

// parseSymbolic parses s as an expression, or reports that it is not one:
// words (three or more letters that name no function) are text, not a
// product of variables.
func parseSymbolic(s string) (*node, bool) {
	if s == "" || len(s) > MaxAnswerBytes {
		return nil, false
	}
	if len(s) > 1 && strings.IndexFunc(s, func(r rune) bool { return r > 'z' || !isLetter(byte(r)) }) < 0 {
		return nil, false // a word ("no", "yes") is text, never a product of letters
	}
	p := &symParser{cursor: cursor{s: s}}
	n, ok := p.expr()
	if !ok || p.peek() != 0 {
		return nil, false
	}
	return n, true
}

func (p *symParser) newNode(n node) (*node, bool) {
	p.nodes++
	if p.nodes > maxNodes {
		return nil, false
	}
	return &n, true
}

// word consumes the bare word w (not followed by a letter) if it is next.
func (p *symParser) word(w string) bool {
	rest := p.s[p.pos:]
	if !strings.HasPrefix(rest, w) || (len(rest) > len(w) && isLetter(rest[len(w)])) {
		return false
	}
	p.pos += len(w)
	return true
}

func (p *symParser) enter() bool {
	p.depth++
	return p.depth <= MaxNesting
}

func (p *symParser) leave() { p.depth-- }

// expr := term (± term)*
func (p *symParser) expr() (*node, bool) {
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	n, ok := p.term()
	for ok {
		c := p.peek()
		if c != '+' && c != '-' {
			break
		}
		p.pos++
		var t *node
		if t, ok = p.term(); !ok {
			break
		}
		if c == '-' {
			if t, ok = p.newNode(node{op: '-', a: t}); !ok {
				break
			}
		}
		n, ok = p.newNode(node{op: '+', a: n, b: t})
	}
	return n, ok
}

// term := unary ((· | × | * | / | ÷ | juxtaposition) unary)*
func (p *symParser) term() (*node, bool) {
	n, ok := p.unary()
	for ok {
		op := byte('*')
		switch {
		case p.peek() == '*' || p.peek() == '/':
			op = p.peek()
			p.pos++
		case p.command("cdot") || p.command("times"):
		case p.command("div"):
			op = '/'
		case p.startsFactor():
		default:
			return n, true
		}
		var f *node
		if f, ok = p.power(); !ok {
			break
		}
		n, ok = p.newNode(node{op: op, a: n, b: f})
	}
	return n, ok
}

// startsFactor reports whether a factor multiplied by juxtaposition
// follows: 2x, x(x+1), 3\sqrt{2}, x\sin y.
func (p *symParser) startsFactor() bool {
	c := p.peek()
	switch {
	case isLetter(c) || isDigit(c) || c == '(' || c == '{' || c == '.':
		return true
	case c == '\\':
		rest := p.s[p.pos+1:]
		for name := range symCommands {
			if strings.HasPrefix(rest, name) && (len(rest) == len(name) || !isLetter(rest[len(name)])) {
				return true
			}
		}
	}
	return false
}

// unary := ± unary | power
func (p *symParser) unary() (*node, bool) {
	sign := p.peek()
	if sign != '-' && sign != '+' {
		return p.power()
	}
	p.pos++
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	n, ok := p.unary()
	if !ok || sign == '+' {
		return n, ok
	}
	return p.newNode(node{op: '-', a: n})
}

// power := postfix [^ exponent]; a^b^c is a^(b^c).
func (p *symParser) power() (*node, bool) {
	base, ok := p.postfix()
	if !ok || p.peek() != '^' {
		return base, ok
	}
	p.pos++
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	exp, ok := p.exponent()
	if !ok {
		return nil, false
	}
	return p.newNode(node{op: '^', a: base, b: exp})
}

// exponent is a braced group, one digit or letter, or -digit.
func (p *symParser) exponent() (*node, bool) {
	switch c := p.peek(); {
	case c == '{' || c == '(':
		return p.group(c)
	case isDigit(c):
		p.pos++
		return p.newNode(node{op: 'n', num: complex(float64(c-'0'), 0)})
	case c == '-':
		p.pos++
		e, ok := p.exponent()
		if !ok {
			return nil, false
		}
		return p.newNode(node{op: '-', a: e})
	case isLetter(c) || c == '\\':
		return p.postfix()
	}
	return nil, false
}

// postfix := primary !*
func (p *symParser) postfix() (*node, bool) {
	n, ok := p.primary()
	for ok && p.peek() == '!' {
		p.pos++
		n, ok = p.newNode(node{op: '!', a: n})
	}
	return n, ok
}

// group reads a bracketed expression opened by open.
func (p *symParser) group(open byte) (*node, bool) {
	p.pos++
	n, ok := p.expr()
	if !ok || p.peek() != closerOf(open) {
		return nil, false
	}
	p.pos++
	return n, true
}

// symFunctions are the functions read with or without a backslash.
var symFunctions = map[string]func(complex128) complex128{
	"sin": cmplx.Sin, "cos": cmplx.Cos, "tan": cmplx.Tan,
	"sec":    func(z complex128) complex128 { return 1 / cmplx.Cos(z) },
	"csc":    func(z complex128) complex128 { return 1 / cmplx.Sin(z) },
	"cot":    func(z complex128) complex128 { return cmplx.Cos(z) / cmplx.Sin(z) },
	"arcsin": cmplx.Asin, "arccos": cmplx.Acos, "arctan": cmplx.Atan,
	"sinh": cmplx.Sinh, "cosh": cmplx.Cosh, "tanh": cmplx.Tanh,
	"ln": cmplx.Log, "log": cmplx.Log, "exp": cmplx.Exp,
}

// inverses are what f^{-1} means for the trigonometric functions.
var inverses = map[string]string{"sin": "arcsin", "cos": "arccos", "tan": "arctan"}

// symCommands are the commands that can start a factor.
var symCommands = map[string]bool{"frac": true, "sqrt": true, "pi": true, "left": true, "binom": true, "dbinom": true, "tbinom": true}

func init() {
	for name := range symFunctions {
		symCommands[name] = true
	}
	for name := range greekLetters {
		symCommands[name] = true
	}
}

// primary := number | variable | constant | ( expr ) | { expr } | |expr| |
// \frac a b | \sqrt[n] a | function argument
func (p *symParser) primary() (*node, bool) {
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	switch c := p.peek(); {
	case isDigit(c) || c == '.':
		start := p.pos
		for p.pos < len(p.s) && (isDigit(p.s[p.pos]) || p.s[p.pos] == '.') {
			p.pos++
		}
		lit := p.s[start:p.pos]
		if strings.Count(lit, ".") > 1 || lit == "." || len(lit) > maxLiteralDigits {
			return nil, false
		}
		v, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return nil, false
		}
		return p.newNode(node{op: 'n', num: complex(v, 0)})
	case c == '(' || c == '{':
		return p.group(c)
	case c == '|':
		p.pos++
		n, ok := p.expr()
		if !ok || p.peek() != '|' {
			return nil, false
		}
		p.pos++
		return p.newNode(node{op: 'f', name: "abs", a: n})
	case p.command("left"):
		return p.leftRight()
	case p.command("frac"):
		num, ok := p.argument()
		if !ok {
			return nil, false
		}
		den, ok := p.argument()
		if !ok {
			return nil, false
		}
		return p.newNode(node{op: '/', a: num, b: den})
	case p.command("binom") || p.command("dbinom") || p.command("tbinom"):
		n, ok := p.argument()
		if !ok {
			return nil, false
		}
		k, ok := p.argument()
		if !ok {
			return nil, false
		}
		return p.newNode(node{op: 'f', name: "binom", a: n, b: k})
	case p.command("sqrt"):
		index := &node{op: 'n', num: 2}
		if p.peek() == '[' {
			p.pos++
			var ok bool
			if index, ok = p.expr(); !ok || p.peek() != ']' {
				return nil, false
			}
			p.pos++
		}
		radicand, ok := p.argument()
		if !ok {
			return nil, false
		}
		return p.newNode(node{op: 'f', name: "root", a: radicand, b: index})
	case p.command("pi") || p.word("pi"):
		return p.newNode(node{op: 'n', num: math.Pi})
	case p.command("infty"):
		return nil, false // infinity is not a point value: intervals handle it
	case c == '\\':
		return p.commandPrimary()
	case isLetter(c):
		return p.letters()
	}
	return nil, false
}

// leftRight reads \left( … \right) and \left| … \right| (normalize has
// removed most of them already).
func (p *symParser) leftRight() (*node, bool) {
	c := p.peek()
	if c != '(' && c != '|' && c != '[' {
		return nil, false
	}
	p.pos++
	n, ok := p.expr()
	if !ok || !p.command("right") {
		return nil, false
	}
	closer := closerOf(c)
	if c == '|' {
		closer = '|'
	}
	if p.peek() != closer {
		return nil, false
	}
	p.pos++
	if c == '|' {
		return p.newNode(node{op: 'f', name: "abs", a: n})
	}
	return n, true
}

// commandPrimary is a function or a Greek letter named by a command.
func (p *symParser) commandPrimary() (*node, bool) {
	for name := range symFunctions {
		if p.command(name) {
			return p.function(name)
		}
	}
	p.pos++
	start := p.pos
	for p.pos < len(p.s) && isLetter(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	if !greekLetters[name] {
		return nil, false
	}
	return p.variable(`\` + name)
}

// letters reads a run of letters: a function's name, or single-letter
// variables (xy is x·y); a longer word is not an expression.
func (p *symParser) letters() (*node, bool) {
	for _, name := range []string{"arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos", "tan", "sec", "csc", "cot", "log", "exp", "ln"} {
		if p.word(name) {
			return p.function(name)
		}
	}
	if p.word("sqrt") {
		radicand, ok := p.argument()
		if !ok {
			return nil, false
		}
		return p.newNode(node{op: 'f', name: "root", a: radicand, b: &node{op: 'n', num: 2}})
	}
	end := p.pos
	for end < len(p.s) && isLetter(p.s[end]) {
		end++
	}
	if end-p.pos > 2 {
		return nil, false
	}
	c := p.s[p.pos]
	p.pos++
	switch c {
	case 'e':
		return p.newNode(node{op: 'n', num: complex(math.E, 0)})
	case 'i':
		return p.newNode(node{op: 'n', num: 1i})
	}
	return p.variable(string(c))
}

// variable reads an optional subscript after a variable's name: x_1, x_{12}.
func (p *symParser) variable(name string) (*node, bool) {
	if p.peek() == '_' {
		p.pos++
		switch c := p.peek(); {
		case c == '{':
			end := strings.IndexByte(p.s[p.pos:], '}')
			if end < 0 || end > 16 {
				return nil, false
			}
			name += "_" + p.s[p.pos+1:p.pos+end]
			p.pos += end + 1
		case isLetter(c) || isDigit(c):
			name += "_" + string(c)
			p.pos++
		default:
			return nil, false
		}
	}
	for p.peek() == '\'' {
		name += "'"
		p.pos++
	}
	p.vars = true
	return p.newNode(node{op: 'v', name: name})
}

// function reads a function's optional power, base and argument: \sin^2 x
// is (\sin x)^2, \sin^{-1} x is \arcsin x, \log_2 x is \ln x/\ln 2. An
// unbracketed argument runs over a product of numbers, letters and
// powers (\sin 2x is \sin(2x)) and stops at anything else.
func (p *symParser) function(name string) (*node, bool) {
	var power, base *node
	var ok bool
	if name == "log" && p.peek() == '_' {
		p.pos++
		if base, ok = p.exponent(); !ok {
			return nil, false
		}
	}
	if p.peek() == '^' {
		p.pos++
		if power, ok = p.exponent(); !ok {
			return nil, false
		}
		if inv, has := inverses[name]; has && power.op == '-' && power.a.op == 'n' && power.a.num == 1 {
			name, power = inv, nil
		}
	}
	var arg *node
	switch c := p.peek(); {
	case c == '(' || c == '{':
		arg, ok = p.group(c)
	case p.command("left"):
		arg, ok = p.leftRight()
	default:
		arg, ok = p.power()
		for ok && (isLetter(p.peek()) || isDigit(p.peek()) || p.startsGreek()) && !p.startsFunction() {
			var f *node
			if f, ok = p.power(); ok {
				arg, ok = p.newNode(node{op: '*', a: arg, b: f})
			}
		}
	}
	if !ok {
		return nil, false
	}
	n, ok := p.newNode(node{op: 'f', name: name, a: arg})
	if ok && base != nil {
		n, ok = p.newNode(node{op: '/', a: n, b: &node{op: 'f', name: "ln", a: base}})
	}
	if ok && power != nil {
		n, ok = p.newNode(node{op: '^', a: n, b: power})
	}
	return n, ok
}

// startsGreek reports whether a Greek letter's command is next.
func (p *symParser) startsGreek() bool {
	if p.peek() != '\\' {
		return false
	}
	j := p.pos + 1
	for j < len(p.s) && isLetter(p.s[j]) {
		j++
	}
	return greekLetters[p.s[p.pos+1:j]]
}

// startsFunction reports whether a bare function name is next.
func (p *symParser) startsFunction() bool {
	rest := p.s[p.pos:]
	for name := range symFunctions {
		if strings.HasPrefix(rest, name) {
			return true
		}
	}
	return false
}

// argument is a macro argument: a braced group, one digit or one letter.
func (p *symParser) argument() (*node, bool) {
	switch c := p.peek(); {
	case c == '{':
		return p.group(c)
	case isDigit(c):
		p.pos++
		return p.newNode(node{op: 'n', num: complex(float64(c-'0'), 0)})
	case isLetter(c):
		p.pos++
		if c == 'e' {
			return p.newNode(node{op: 'n', num: complex(math.E, 0)})
		}
		return p.variable(string(c))
	case c == '\\':
		return p.primary()
	}
	return nil, false
}

// variables appends the tree's variable names to dst.
func (n *node) variables(dst []string) []string {
	if n == nil {
		return dst
	}
	if n.op == 'v' && !slices.Contains(dst, n.name) {
		dst = append(dst, n.name)
	}
	return n.b.variables(n.a.variables(dst))
}

// eval evaluates the tree with the variables' values at.
func (n *node) eval(at map[string]complex128) complex128 {
	switch n.op {
	case 'n':
		return n.num
	case 'v':
		return at[n.name]
	case '-':
		return -n.a.eval(at)
	case '+':
		return n.a.eval(at) + n.b.eval(at)
	case '*':
		return n.a.eval(at) * n.b.eval(at)
	case '/':
		return n.a.eval(at) / n.b.eval(at)
	case '^':
		return power(n.a.eval(at), n.b.eval(at))
	case '!':
		return factorial(n.a.eval(at))
	}
	x := n.a.eval(at)
	switch n.name {
	case "abs":
		return complex(cmplx.Abs(x), 0)
	case "binom":
		return choose(x, n.b.eval(at))
	case "root":
		k := n.b.eval(at)
		// An odd root of a negative real is real: \sqrt[3]{-8} is −2.
		if imag(x) == 0 && real(x) < 0 && imag(k) == 0 && real(k) == math.Trunc(real(k)) && int64(real(k))%2 != 0 {
			return complex(-math.Pow(-real(x), 1/real(k)), 0)
		}
		return power(x, 1/k)
	}
	return symFunctions[n.name](x)
}

// power is z^w, exact for small integer exponents (so that (x+1)^2 and
// x^2+2x+1 agree to rounding) and the principal branch otherwise.
func power(z, w complex128) complex128 {
	if imag(w) == 0 && real(w) == math.Trunc(real(w)) && math.Abs(real(w)) <= 64 {
		k := int(real(w))
		r := complex(1, 0)
		base := z
		for e := abs(k); e > 0; e >>= 1 {
			if e&1 == 1 {
				r *= base
			}
			base *= base
		}
		if k < 0 {
			return 1 / r
		}
		return r
	}
	if z == 0 {
		if real(w) > 0 {
			return 0
		}
		return cmplx.NaN()
	}
	return cmplx.Pow(z, w)
}

// factorial is n! for a non-negative integer n ≤ maxFactorial.
func factorial(z complex128) complex128 {
	n := real(z)
	if imag(z) != 0 || n < 0 || n != math.Trunc(n) || n > maxFactorial {
		return cmplx.NaN()
	}
	r := 1.0
	for k := 2.0; k <= n; k++ {
		r *= k
	}
	return complex(r, 0)
}

// choose is n choose k for integers 0 ≤ k ≤ n ≤ maxFactorial.
func choose(n, k complex128) complex128 {
	a, b := real(n), real(k)
	if imag(n) != 0 || imag(k) != 0 || a != math.Trunc(a) || b != math.Trunc(b) || b < 0 || a < b || a > maxFactorial {
		return cmplx.NaN()
	}
	r := 1.0
	for j := 1.0; j <= b; j++ {
		r = r * (a - b + j) / j
	}
	return complex(math.Round(r), 0)
}

// point is the value of variable name at point t.
func point(name string, t int) complex128 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	h = splitmix(h ^ uint64(t)*0x9e3779b97f4a7c15)
	v := 0.4 + 2.2*float64(h>>11)/(1<<53)
	if h&1 == 1 {
		v = -v
	}
	return complex(v, 0)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// usable is a value a comparison can use: finite and not absurdly large.
func usable(z complex128) bool {
	return !cmplx.IsNaN(z) && !cmplx.IsInf(z) && cmplx.Abs(z) < 1e150
}

func near(a, b complex128) bool { return within(a, b, relTolerance) }

func within(a, b complex128, tol float64) bool {
	return cmplx.Abs(a-b) <= tol*max(1, cmplx.Abs(a), cmplx.Abs(b))
}

// samples evaluates the trees at the points where all are usable, until
// symbolicPoints are; it reports false when too few are.
func samples(trees ...*node) ([][]complex128, bool) {
	var names []string
	for _, t := range trees {
		names = t.variables(names)
	}
	slices.Sort(names)
	at := make(map[string]complex128, len(names))
	out := make([][]complex128, len(trees))
	got := 0
	for t := 0; t < symbolicTries && got < symbolicPoints; t++ {
		for _, name := range names {
			at[name] = point(name, t)
		}
		vals := make([]complex128, len(trees))
		ok := true
		for i, tree := range trees {
			if vals[i] = tree.eval(at); !usable(vals[i]) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for i := range trees {
			out[i] = append(out[i], vals[i])
		}
		got++
		if len(names) == 0 {
			break // a constant: one point says it all
		}
	}
	return out, got > 0 && (got == symbolicPoints || len(names) == 0)
}

// identical reports whether a and b agree at every point within the
// relative tolerance tol.
func identical(a, b *node, tol float64) bool {
	v, ok := samples(a, b)
	if !ok {
		return false
	}
	for t := range v[0] {
		if !within(v[0][t], v[1][t], tol) {
			return false
		}
	}
	return true
}

// proportional reports whether a = k·b at every point for one constant k
// of the sign wanted (+1 positive, −1 negative, 0 either), k ≠ 0: the test
// for equations and inequalities, whose residuals are a and b.
func proportional(a, b *node, sign int) bool {
	v, ok := samples(a, b)
	if !ok {
		return false
	}
	var k complex128
	found := false
	for t := range v[0] {
		x, y := v[0][t], v[1][t]
		if near(y, 0) {
			if !near(x, 0) {
				return false
			}
			continue
		}
		q := x / y
		if !found {
			k, found = q, true
			if near(k, 0) || math.Abs(imag(k)) > relTolerance*cmplx.Abs(k) {
				return false
			}
			if sign != 0 && (real(k) > 0) != (sign > 0) {
				return false
			}
		} else if !near(q, k) {
			return false
		}
	}
	return found
}
