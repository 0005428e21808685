package eval

import (
	"strings"
)

// Answers that are relations are compared as relations (the rules table in
// README.md):
//
//   - two equations are equivalent when their residuals (left − right) are
//     proportional: y = -\frac12x+\frac34 is 2x+4y-3=0; two assignments of
//     a variable (x = 5, y = 2x+1) are left to the value comparison, which
//     drops the variable's name;
//   - two inequalities, or systems of them (a chain a < x < b is two), are
//     equivalent when each one's residual, written as r > 0 or r ≥ 0, is a
//     positive multiple of one of the other's with the same strictness:
//     5 \ge x is x \le 5, -x > -1 is x < 1;
//   - an interval answers an inequality in one variable with constant
//     bounds (x > 3 is (3, \infty), -793 < a < 10 is (-793, 10)), but an
//     inequality does not answer an interval: the reference "(3, 5)" may be
//     a point, and accepting "3 < x < 5" for it would reward an answer that
//     hedges between readings;
//   - an equation answering a reference that is no relation is read as an
//     assignment of its last member, whatever its left side (f(x) = 1,
//     (p,q) = (3,2)); in a chain (z = 3+3 = 6) every member without
//     variables must equal the last, so z = 3+3 = 2 is wrong.

// relation is an answer's members and the relation operators between them.
type relation struct {
	members []string
	ops     []string // "=", "<", ">", `\le`, `\ge`, `\ne`
}

var relationOps = []string{`\le`, `\ge`, `\ne`, "<=", ">=", "=", "<", ">"}

// splitRelation splits a normalized answer at its top-level relation
// operators; ok is false when it has none.
func splitRelation(s string) (relation, bool) {
	var r relation
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
			continue
		case ')', ']', '}':
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		if s[i] == ',' {
			return relation{}, false // a list: its parts are compared one by one
		}
		for _, op := range relationOps {
			if !strings.HasPrefix(s[i:], op) || (op[0] == '\\' && i+len(op) < len(s) && isLetter(s[i+len(op)])) {
				continue
			}
			r.members = append(r.members, s[start:i])
			r.ops = append(r.ops, canonicalOp(op))
			i += len(op) - 1
			start = i + 1
			break
		}
	}
	if len(r.ops) == 0 {
		return r, false
	}
	r.members = append(r.members, s[start:])
	for _, m := range r.members {
		if strings.TrimSpace(m) == "" {
			return r, false
		}
	}
	return r, true
}

func canonicalOp(op string) string {
	switch op {
	case "<=":
		return `\le`
	case ">=":
		return `\ge`
	}
	return op
}

func (r relation) equations() bool  { return allOps(r.ops, "=") }
func (r relation) inequality() bool { return allOps(r.ops, "<", ">", `\le`, `\ge`) && len(r.ops) <= 2 }
func (r relation) single() bool     { return len(r.ops) == 1 }
func (r relation) last() string     { return r.members[len(r.members)-1] }
func (r relation) assignment() bool {
	if !r.single() || !r.equations() {
		return false
	}
	lhs, ok := parseSymbolic(r.members[0])
	if !ok || lhs.op != 'v' {
		return false
	}
	rhs, ok := parseSymbolic(r.members[1])
	return !ok || !containsVariable(rhs, lhs.name)
}

func allOps(ops []string, allowed ...string) bool {
	for _, op := range ops {
		found := false
		for _, a := range allowed {
			found = found || op == a
		}
		if !found {
			return false
		}
	}
	return true
}

func containsVariable(n *node, name string) bool {
	for _, v := range n.variables(nil) {
		if v == name {
			return true
		}
	}
	return false
}

// relationOutcome is what comparing relations decided: a verdict, or the
// answers to compare as values instead.
type relationOutcome struct {
	decided   bool
	err       error
	got, want string
}

// compareRelations applies the rules above to an answer and a reference,
// both normalized with their leading assignments kept.
func compareRelations(got, want string) relationOutcome {
	out := relationOutcome{got: got, want: want}
	rg, okG := splitRelation(got)
	rw, okW := splitRelation(want)
	if !okG && !okW {
		return out
	}
	if okG && rg.equations() && len(rg.ops) > 1 {
		if !consistentChain(rg) {
			return relationOutcome{decided: true, err: ErrNotEquivalent}
		}
		out.got, okG = rg.members[0]+"="+rg.last(), true
		rg = relation{members: []string{rg.members[0], rg.last()}, ops: []string{"="}}
	}
	if okW && rw.equations() && len(rw.ops) > 1 {
		if !consistentChain(rw) {
			return out // an odd reference: compared as written
		}
		out.want = rw.members[0] + "=" + rw.last()
		rw = relation{members: []string{rw.members[0], rw.last()}, ops: []string{"="}}
	}
	switch {
	case okG && okW && rg.equations() && rw.equations():
		if rg.assignment() && rw.assignment() {
			return out // the value comparison drops the names
		}
		return verdict(sameEquation(rg, rw))
	case okG && okW && rg.inequality() && rw.inequality():
		return verdict(sameInequalities(rg, rw))
	case okG && okW:
		return relationOutcome{decided: true, err: ErrNotEquivalent} // an equation is no inequality
	case okW && rw.inequality():
		if interval, ok := intervalOf(rw); ok {
			out.want = interval
			return out
		}
		return relationOutcome{decided: true, err: ErrNotEquivalent}
	case okG && rg.inequality():
		return relationOutcome{decided: true, err: ErrNotEquivalent} // an inequality does not answer an interval or a value
	case okG && rg.single() && rg.equations() && assignable(rg.members[0]):
		out.got = rg.last()
	case okW && rw.single() && rw.equations() && assignable(rw.members[0]):
		out.want = rw.last()
	case okG || okW:
		return relationOutcome{decided: true, err: ErrNotEquivalent} // 2x = 4 does not say 4
	}
	return out
}

// assignable reports whether an equation's left side names what its right
// side is the value of: a variable, a function's value (f(x), P(2)) or a
// tuple of variables ((p,q)); an expression such as 2x is not one.
func assignable(lhs string) bool {
	if n, ok := parseSymbolic(lhs); ok && n.op == 'v' {
		return true
	}
	if len(lhs) >= 2 && lhs[0] == '(' && closesAtEnd(lhs, 0) {
		for _, part := range splitTopLevel(lhs[1:len(lhs)-1], ",") {
			if n, ok := parseSymbolic(part); !ok || n.op != 'v' {
				return false
			}
		}
		return true
	}
	i := 0
	for i < len(lhs) && isLetter(lhs[i]) {
		i++
	}
	if i > 0 && i < len(lhs) && lhs[i] == '(' && closesAtEnd(lhs, i) {
		return true
	}
	// A name: m\angle A, AB, S_{ABC}; no digit or operator, so no expression.
	return !strings.ContainsAny(lhs, "0123456789+-*/^()")
}

func verdict(ok bool) relationOutcome {
	if ok {
		return relationOutcome{decided: true}
	}
	return relationOutcome{decided: true, err: ErrNotEquivalent}
}

// consistentChain reports whether every member of an equation chain that
// has no variables equals its last member.
func consistentChain(r relation) bool {
	last, ok := parseSymbolic(r.last())
	if !ok {
		return true
	}
	for _, m := range r.members[1 : len(r.members)-1] {
		n, ok := parseSymbolic(m)
		if ok && len(n.variables(nil)) == 0 && !identical(n, last, relTolerance) {
			return false
		}
	}
	return true
}

// residual is left − right of a single relation.
func residual(left, right string) (*node, bool) {
	l, okL := parseSymbolic(left)
	r, okR := parseSymbolic(right)
	if !okL || !okR {
		return nil, false
	}
	return &node{op: '+', a: l, b: &node{op: '-', a: r}}, true
}

func sameEquation(a, b relation) bool {
	ra, okA := residual(a.members[0], a.members[1])
	rb, okB := residual(b.members[0], b.members[1])
	return okA && okB && proportional(ra, rb, 0)
}

// inequalityPart is one inequality as r > 0 (strict) or r ≥ 0.
type inequalityPart struct {
	r      *node
	strict bool
}

func inequalityParts(r relation) ([]inequalityPart, bool) {
	var parts []inequalityPart
	for i, op := range r.ops {
		left, right := r.members[i], r.members[i+1]
		if op == "<" || op == `\le` {
			left, right = right, left
		}
		res, ok := residual(left, right)
		if !ok {
			return nil, false
		}
		parts = append(parts, inequalityPart{r: res, strict: op == "<" || op == ">"})
	}
	return parts, true
}

func sameInequalities(a, b relation) bool {
	pa, okA := inequalityParts(a)
	pb, okB := inequalityParts(b)
	if !okA || !okB || len(pa) != len(pb) {
		return false
	}
	used := make([]bool, len(pb))
	for _, x := range pa {
		found := false
		for j, y := range pb {
			if !used[j] && x.strict == y.strict && proportional(x.r, y.r, 1) {
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

// intervalOf writes an inequality in one variable with constant bounds as
// the interval of its solutions: x > 3 is (3,\infty), 1 \le x < 2 is [1,2).
func intervalOf(r relation) (string, bool) {
	lower, upper := `-\infty`, `\infty`
	lowerOpen, upperOpen := true, true
	variable := ""
	isVariable := func(m string) bool {
		n, ok := parseSymbolic(m)
		if !ok || n.op != 'v' || (variable != "" && n.name != variable) {
			return false
		}
		variable = n.name
		return true
	}
	isConstant := func(m string) bool {
		n, ok := parseSymbolic(m)
		return ok && len(n.variables(nil)) == 0
	}
	for i, op := range r.ops {
		left, right := r.members[i], r.members[i+1]
		upperSide := op == "<" || op == `\le` // left < right: the variable's upper bound is right
		strict := op == "<" || op == ">"
		switch {
		case isVariable(left) && isConstant(right):
			if upperSide {
				upper, upperOpen = right, strict
			} else {
				lower, lowerOpen = right, strict
			}
		case isConstant(left) && isVariable(right):
			if upperSide {
				lower, lowerOpen = left, strict
			} else {
				upper, upperOpen = left, strict
			}
		default:
			return "", false
		}
	}
	open, closer := "[", "]"
	if lowerOpen {
		open = "("
	}
	if upperOpen {
		closer = ")"
	}
	return open + lower + "," + upper + closer, true
}
