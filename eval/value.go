package eval

import (
	"math/big"
	"slices"
	"strings"
)

// kind is the shape of a parsed answer.
type kind uint8

const (
	kindText   kind = iota // compared as normalized text, the last resort
	kindNumber             // a real number, exact or approximate
	kindTuple              // ordered, brackets matter: (1,2), [0,1), (-\infty,3]
	kindSet                // \{1,2\}: unordered, duplicates collapse
	kindList               // 1, 2, 3: unordered, duplicates count
	kindUnion              // (0,1) \cup (2,3): unordered
	kindMatrix             // \begin{pmatrix}...\end{pmatrix}: row-major cells
	kindExpr               // an expression with variables or functions (symbolic.go)
)

const (
	// maxElements bounds the elements of one tuple, set, list or matrix.
	maxElements = 256
	// maxWork bounds the values parsed plus the pairs compared for one
	// pair of answers.
	maxWork = 1 << 14
)

type value struct {
	kind        kind
	open, close byte // kindTuple: the brackets
	cols        int  // kindMatrix
	num         number
	text        string
	elems       []value
	expr        *node // kindExpr
}

// compareAnswers is Equivalent with its reason.
func compareAnswers(got, want string) error { return compareWithin(got, want, 0) }

// compareWithin is compareAnswers with numbers equal within the relative
// tolerance relTol as well (GradeOptions.RelTolerance; 0: exact rationals).
func compareWithin(got, want string, relTol float64) error {
	got, want = strings.TrimSpace(got), strings.TrimSpace(want)
	switch {
	case want == "":
		return ErrEmptyReference
	case got == "":
		return ErrEmptyAnswer
	case len(got) > MaxAnswerBytes || len(want) > MaxAnswerBytes:
		return ErrAnswerTooLarge
	case got == want:
		return nil
	}
	if equal, ok := comparePlainIntegers(got, want); ok && (equal || relTol == 0) {
		if equal {
			return nil
		}
		return ErrNotEquivalent
	}
	if nestingDepth(got) > MaxNesting || nestingDepth(want) > MaxNesting {
		return ErrTooDeep
	}
	a, err := normalize(rewriteNotation(got))
	if err != nil {
		return err
	}
	b, err := normalize(rewriteNotation(want))
	if err != nil {
		return err
	}
	if a != b {
		o := compareRelations(a, b)
		if o.decided {
			return o.err
		}
		a, b = stripAssignment(o.got), stripAssignment(o.want)
	}
	switch {
	case b == "":
		return ErrEmptyReference
	case a == "":
		return ErrEmptyAnswer
	case a == b:
		return nil
	}
	// Compare in a fixed order so that the result is symmetric by
	// construction, whatever the matching below does with near-ties.
	if a > b {
		a, b = b, a
	}
	c := comparison{work: maxWork, relTol: relTol}
	va, err := c.parse(a, 0)
	if err != nil {
		return err
	}
	vb, err := c.parse(b, 0)
	if err != nil {
		return err
	}
	if c.equal(va, vb) {
		return nil
	}
	if c.work < 0 {
		return ErrTooComplex
	}
	return ErrNotEquivalent
}

// comparePlainIntegers decides pairs of plain integers (optional minus,
// at most 18 digits) without allocating: the grader's most common case.
func comparePlainIntegers(a, b string) (equal, ok bool) {
	na, da, okA := plainInteger(a)
	nb, db, okB := plainInteger(b)
	if !okA || !okB {
		return false, false
	}
	return da == db && (na == nb || da == "0"), true
}

func plainInteger(s string) (negative bool, digits string, ok bool) {
	if s != "" && s[0] == '-' {
		negative, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 || !isDigitRun(s) {
		return false, "", false
	}
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return negative, s, true
}

// nestingDepth is the deepest nesting of brackets and braces in s, so that
// everything after it can recurse without care.
func nestingDepth(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

// comparison parses and compares two answers within a work budget.
type comparison struct {
	work   int
	relTol float64
}

func (c *comparison) parse(s string, depth int) (value, error) {
	c.work--
	if depth > MaxNesting {
		return value{}, ErrTooDeep
	}
	if c.work < 0 {
		return value{}, ErrTooComplex
	}
	if depth > 0 {
		s = stripAssignment(s)
	}
	for len(s) >= 2 && s[0] == '{' && closesAtEnd(s, 0) {
		s = s[1 : len(s)-1]
	}
	if parts := splitMany(s, `\cup`); parts != nil {
		return c.parseAll(kindUnion, parts, depth)
	}
	if rows, ok := matrixRows(s); ok {
		return c.parseMatrix(rows, depth)
	}
	switch {
	case s == `\emptyset` || s == `\varnothing` || s == `\{\}`:
		return value{kind: kindSet}, nil
	case strings.HasPrefix(s, `\{`) && strings.HasSuffix(s, `\}`) && closesAtEnd(s, 0):
		return c.parseAll(kindSet, splitTopLevel(s[2:len(s)-2], ","), depth)
	case len(s) >= 2 && (s[0] == '(' || s[0] == '[') && (s[len(s)-1] == ')' || s[len(s)-1] == ']') && closesAtEnd(s, 0):
		if parts := splitMany(s[1:len(s)-1], ","); parts != nil {
			v, err := c.parseAll(kindTuple, parts, depth)
			v.open, v.close = s[0], s[len(s)-1]
			return v, err
		}
	}
	if parts := splitMany(s, ","); parts != nil {
		return c.parseAll(kindList, parts, depth)
	}
	switch n, ok, outOfRange := numberOf(s); {
	case ok:
		return value{kind: kindNumber, num: n}, nil
	case outOfRange:
		return value{}, ErrOutOfRange
	}
	if n, ok := parseSymbolic(s); ok {
		return value{kind: kindExpr, expr: n}, nil
	}
	return value{kind: kindText, text: canonicalText(s)}, nil
}

func (c *comparison) parseAll(k kind, parts []string, depth int) (value, error) {
	if len(parts) > maxElements {
		return value{}, ErrTooManyElements
	}
	v := value{kind: k, elems: make([]value, len(parts))}
	for i, part := range parts {
		e, err := c.parse(part, depth+1)
		if err != nil {
			return value{}, err
		}
		v.elems[i] = e
	}
	return v, nil
}

func (c *comparison) parseMatrix(rows [][]string, depth int) (value, error) {
	cols := len(rows[0])
	var cells []string
	for _, row := range rows {
		if len(row) != cols {
			return value{kind: kindText, text: "ragged matrix"}, nil
		}
		cells = append(cells, row...)
	}
	v, err := c.parseAll(kindMatrix, cells, depth)
	v.cols = cols
	return v, err
}

// canonicalText is the last resort: a multiple-choice letter in
// parentheses is the letter, and words compare without case.
func canonicalText(s string) string {
	if len(s) == 3 && s[0] == '(' && s[2] == ')' && isLetter(s[1]) {
		return s[1:2]
	}
	if len(s) >= 2 && strings.IndexFunc(s, func(r rune) bool { return r > 'z' || !isLetter(byte(r)) }) < 0 {
		return strings.ToLower(s)
	}
	return s
}

// equal compares two parsed answers.
func (c *comparison) equal(a, b value) bool {
	c.work--
	if c.work < 0 {
		return false
	}
	switch {
	case a.kind == kindExpr || b.kind == kindExpr:
		x, okA := a.tree()
		y, okB := b.tree()
		return okA && okB && identical(x, y, max(relTolerance, c.relTol))
	case a.kind != b.kind:
		switch {
		case unordered(a.kind) && unordered(b.kind) && a.kind != kindUnion && b.kind != kindUnion:
			return c.sameSet(a, b) // a set and a comma list of the same elements
		case a.kind == kindSet && len(a.elems) == 1:
			return c.equal(a.elems[0], b) // {5} answers "find all x" as well as 5
		case b.kind == kindSet && len(b.elems) == 1:
			return c.equal(a, b.elems[0])
		}
		return false
	case a.kind == kindNumber:
		return a.num.equal(b.num) || c.relTol > 0 && within(complex(a.num.f, 0), complex(b.num.f, 0), c.relTol)
	case a.kind == kindText:
		return a.text == b.text
	case a.kind == kindTuple && (a.open != b.open || a.close != b.close):
		return false
	case a.kind == kindMatrix && a.cols != b.cols:
		return false
	case a.kind == kindSet:
		return c.sameSet(a, b)
	case a.kind == kindList || a.kind == kindUnion:
		return c.sameMultiset(a, b)
	}
	// Tuples and matrices: element by element.
	if len(a.elems) != len(b.elems) {
		return false
	}
	for i := range a.elems {
		if !c.equal(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// tree is an expression's or a number's tree.
func (v value) tree() (*node, bool) {
	switch v.kind {
	case kindExpr:
		return v.expr, true
	case kindNumber:
		return &node{op: 'n', num: complex(v.num.f, 0)}, true
	}
	return nil, false
}

func unordered(k kind) bool { return k == kindSet || k == kindList || k == kindUnion }

// sameSet: every element of each has an equal element in the other.
func (c *comparison) sameSet(a, b value) bool {
	if x, y, ok := exactElements(a, b); ok {
		return slices.EqualFunc(slices.CompactFunc(x, ratEqual), slices.CompactFunc(y, ratEqual), ratEqual)
	}
	return c.covers(a, b) && c.covers(b, a)
}

// exactElements are both collections' elements sorted, when every one is
// an exact number: then equality is order, and comparing them costs a
// sort rather than every pair (a set of 256 numbers in any order).
func exactElements(a, b value) (x, y []*big.Rat, ok bool) {
	sorted := func(v value) ([]*big.Rat, bool) {
		out := make([]*big.Rat, len(v.elems))
		for i, e := range v.elems {
			if e.kind != kindNumber || e.num.exact == nil {
				return nil, false
			}
			out[i] = e.num.exact
		}
		slices.SortFunc(out, func(p, q *big.Rat) int { return p.Cmp(q) })
		return out, true
	}
	if x, ok = sorted(a); !ok {
		return nil, nil, false
	}
	if y, ok = sorted(b); !ok {
		return nil, nil, false
	}
	return x, y, true
}

func ratEqual(p, q *big.Rat) bool { return p.Cmp(q) == 0 }

func (c *comparison) covers(a, b value) bool {
	for _, x := range a.elems {
		found := false
		for _, y := range b.elems {
			if c.equal(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// sameMultiset matches elements one to one.
func (c *comparison) sameMultiset(a, b value) bool {
	if len(a.elems) != len(b.elems) {
		return false
	}
	if x, y, ok := exactElements(a, b); ok {
		return slices.EqualFunc(x, y, ratEqual)
	}
	used := make([]bool, len(b.elems))
	for _, x := range a.elems {
		found := false
		for j, y := range b.elems {
			if !used[j] && c.equal(x, y) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// closesAtEnd reports whether the bracket opening at s[open] (any of ( [ {
// or \{) is closed by the last character of s. Brackets of different kinds
// close each other, as in the interval [0,1).
func closesAtEnd(s string, open int) bool {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '}') {
				if s[i+1] == '{' {
					depth++
				} else {
					depth--
				}
			}
			i++
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		default:
			continue
		}
		if depth <= 0 {
			return i == len(s)-1
		}
	}
	return false
}

// splitTopLevel splits s at the separators sep ("," "&" "\\" or "\cup") that
// are not inside brackets, braces or environments.
func splitTopLevel(s, sep string) []string {
	var parts []string
	depth, start := 0, 0
	command := sep[0] == '\\' && len(sep) > 2
	for i := 0; i < len(s); i++ {
		c := s[i]
		if depth == 0 && strings.HasPrefix(s[i:], sep) &&
			(!command || i+len(sep) == len(s) || !isLetter(s[i+len(sep)])) {
			parts = append(parts, s[start:i])
			i += len(sep) - 1
			start = i + 1
			continue
		}
		switch c {
		case '\\':
			j := i + 1
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			switch name := s[i+1 : j]; {
			case name == "begin":
				depth++
			case name == "end":
				depth--
			case j == i+1 && j < len(s):
				if s[j] == '{' {
					depth++
				} else if s[j] == '}' {
					depth--
				}
				j++
			}
			i = j - 1
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	if parts == nil {
		return []string{s}
	}
	return append(parts, s[start:])
}

// splitMany is splitTopLevel when s holds sep at its top level, and nil
// otherwise, without allocating: most answers are one part.
func splitMany(s, sep string) []string {
	if !strings.Contains(s, sep) {
		return nil
	}
	if parts := splitTopLevel(s, sep); len(parts) > 1 {
		return parts
	}
	return nil
}

// matrixRows splits \begin{pmatrix}a&b\\c&d\end{pmatrix} (or bmatrix, or
// matrix: the brackets are decoration) into its cells.
func matrixRows(s string) ([][]string, bool) {
	for _, env := range [...]string{"pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix"} {
		begin, end := `\begin{`+env+`}`, `\end{`+env+`}`
		if !strings.HasPrefix(s, begin) || !strings.HasSuffix(s, end) || len(s) < len(begin)+len(end) {
			continue
		}
		body := strings.TrimSuffix(s[len(begin):len(s)-len(end)], `\\`)
		var rows [][]string
		for _, row := range splitTopLevel(body, `\\`) {
			rows = append(rows, splitTopLevel(row, "&"))
		}
		return rows, len(rows) > 0
	}
	return nil, false
}
