package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// AnswerKind is the form of a reference answer, as far as relix can tell
// from its text.
type AnswerKind uint8

// The answer forms. The generator only writes the first five (and tuples of
// them); a loaded file may hold anything, which is AnswerOther.
const (
	AnswerInteger  AnswerKind = iota // "42", "-7"
	AnswerFraction                   // "\frac{3}{4}", "-\frac{3}{4}", "3/4"
	AnswerDecimal                    // "2.5", "-0.125"
	AnswerRadical                    // "2\sqrt{3}", "\sqrt{5}", "\frac{\sqrt{3}}{2}"
	AnswerTuple                      // "(2, -1)", "(\frac{1}{2}, 3)"
	AnswerOther                      // an expression, a word, an interval, ...
)

var answerKindNames = [...]string{"integer", "fraction", "decimal", "radical", "tuple", "other"}

func (k AnswerKind) String() string {
	if int(k) < len(answerKindNames) {
		return answerKindNames[k]
	}
	return "AnswerKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name, so JSON shows "fraction", not 1.
func (k AnswerKind) MarshalText() ([]byte, error) {
	if int(k) >= len(answerKindNames) {
		return nil, fmt.Errorf("dataset: invalid answer kind %d", k)
	}
	return []byte(answerKindNames[k]), nil
}

// UnmarshalText reads a kind's name.
func (k *AnswerKind) UnmarshalText(b []byte) error {
	for i, name := range answerKindNames {
		if string(b) == name {
			*k = AnswerKind(i)
			return nil
		}
	}
	return fmt.Errorf("dataset: unknown answer kind %q; want one of %s", b, strings.Join(answerKindNames[:], ", "))
}

// scalar is one parsed numeric answer, coef·√root (root is 1 unless the
// answer is a radical).
type scalar struct {
	kind   AnswerKind // integer, fraction, decimal or radical
	coef   rat
	root   int64
	places int // decimal places as written (decimal kind only)
}

func (s scalar) value() float64 { return s.coef.float() * math.Sqrt(float64(s.root)) }

// parsedAnswer is a reference answer taken apart: one scalar, or the
// components of a tuple, or nothing (AnswerOther).
type parsedAnswer struct {
	kind  AnswerKind
	parts []scalar
}

// parseAnswer recognizes the answer forms the generator writes and the
// common spellings of them in datasets. Anything else is AnswerOther.
func parseAnswer(s string) parsedAnswer {
	s = normalizeAnswer(s)
	if len(s) >= 2 && (s[0] == '(' && s[len(s)-1] == ')') && strings.Contains(s, ",") {
		fields := strings.Split(s[1:len(s)-1], ",")
		parts := make([]scalar, 0, len(fields))
		for _, f := range fields {
			v, ok := parseScalar(f)
			if !ok {
				return parsedAnswer{kind: AnswerOther}
			}
			parts = append(parts, v)
		}
		return parsedAnswer{kind: AnswerTuple, parts: parts}
	}
	if isThousands(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	v, ok := parseScalar(s)
	if !ok {
		return parsedAnswer{kind: AnswerOther}
	}
	return parsedAnswer{kind: v.kind, parts: []scalar{v}}
}

// normalizeAnswer drops what does not change an answer's value: math-mode
// dollars, spaces, \left/\right, \dfrac and \tfrac spelled as \frac.
func normalizeAnswer(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "$")
	s = strings.TrimSuffix(s, "$")
	for i := 0; i < len(s); i++ {
		// Only spaces and the commands answerNotation rewrites (\left,
		// \right, \!, \,, \dfrac, \tfrac) need the replacer.
		if c := s[i]; c == ' ' || c == '\t' || c == '\n' ||
			c == '\\' && i+1 < len(s) && strings.IndexByte("lr!,dt", s[i+1]) >= 0 {
			return answerNotation.Replace(s)
		}
	}
	return s
}

var answerNotation = strings.NewReplacer(" ", "", "\t", "", "\n", "", `\left`, "", `\right`, "", `\!`, "", `\,`, "",
	`\dfrac`, `\frac`, `\tfrac`, `\frac`)

// isThousands reports whether s is an integer written with thousands
// separators, "1,234,567".
func isThousands(s string) bool {
	s = strings.TrimPrefix(s, "-")
	groups := strings.Split(s, ",")
	if len(groups) < 2 || len(groups[0]) == 0 || len(groups[0]) > 3 || !allDigits(groups[0]) {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 || !allDigits(g) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseScalar parses one normalized number: an integer, a decimal, a
// fraction (a/b or \frac{a}{b}) or a radical (k\sqrt{m}, \frac{k\sqrt{m}}{d}),
// each with an optional leading sign.
func parseScalar(s string) (scalar, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	v, ok := parseUnsigned(s)
	if !ok {
		return scalar{}, false
	}
	if neg {
		v.coef = v.coef.neg()
	}
	return v, true
}

func parseUnsigned(s string) (scalar, bool) {
	if allDigits(s) {
		n, ok := atoi(s)
		return scalar{kind: AnswerInteger, coef: ratInt(n), root: 1}, ok
	}
	if ip, fp, found := strings.Cut(s, "."); found {
		if (ip == "" || allDigits(ip)) && allDigits(fp) && len(fp) <= 12 {
			if ip == "" {
				ip = "0"
			}
			n, ok := atoi(ip + fp)
			return scalar{kind: AnswerDecimal, coef: newRat(n, ipow(10, int64(len(fp)))), root: 1, places: len(fp)}, ok
		}
		return scalar{}, false
	}
	if a, b, found := strings.Cut(s, "/"); found {
		num, ok1 := parseSigned(a)
		den, ok2 := atoi(b)
		if !ok1 || !ok2 || den == 0 {
			return scalar{}, false
		}
		return scalar{kind: AnswerFraction, coef: newRat(num, den), root: 1}, true
	}
	if rest, found := strings.CutPrefix(s, `\frac`); found {
		a, rest, ok1 := braced(rest)
		b, rest, ok2 := braced(rest)
		if !ok1 || !ok2 || rest != "" {
			return scalar{}, false
		}
		den, ok := atoi(b)
		if !ok || den == 0 {
			return scalar{}, false
		}
		if num, ok := parseSigned(a); ok {
			return scalar{kind: AnswerFraction, coef: newRat(num, den), root: 1}, true
		}
		if v, ok := parseScalar(a); ok && v.kind == AnswerRadical {
			v.coef = v.coef.div(ratInt(den))
			return v, true
		}
		return scalar{}, false
	}
	if k, rest, found := strings.Cut(s, `\sqrt`); found {
		c := int64(1)
		if k != "" {
			var ok bool
			if c, ok = atoi(k); !ok {
				return scalar{}, false
			}
		}
		m, rest, ok := braced(rest)
		if !ok {
			// \sqrt2: a single digit argument without braces.
			if len(rest) != 1 || !allDigits(rest) {
				return scalar{}, false
			}
			m, rest = rest, ""
		}
		root, ok := atoi(m)
		if !ok || rest != "" || root == 0 {
			return scalar{}, false
		}
		return scalar{kind: AnswerRadical, coef: ratInt(c), root: root}, true
	}
	return scalar{}, false
}

func parseSigned(s string) (int64, bool) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		n, ok := atoi(rest)
		return -n, ok
	}
	return atoi(s)
}

// atoi parses a non-negative integer small enough for exact rational
// arithmetic (at most 15 digits).
func atoi(s string) (int64, bool) {
	if !allDigits(s) || len(s) > 15 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// braced splits "{a}rest" into a and rest, matching nested braces.
func braced(s string) (inner, rest string, ok bool) {
	if !strings.HasPrefix(s, "{") {
		return "", s, false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[1:i], s[i+1:], true
			}
		}
	}
	return "", s, false
}
