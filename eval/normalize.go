package eval

import (
	"strings"
	"unicode/utf8"
)

// normalize rewrites an answer into the notation the value parser reads:
// LaTeX spacing, sizing, text wrappers, degree and percent signs, $ and
// display delimiters removed; \dfrac and \tfrac spelled \frac; Unicode maths
// symbols spelled as LaTeX; trailing unit words removed; thousands
// separators joined; whitespace removed. A leading "x =" is kept:
// relation.go reads equations whole and strips what is an assignment.
// Work is linear in the length of s.
func normalize(s string) (string, error) {
	b, err := appendClean(make([]byte, 0, len(s)+8), s, 0)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	t = strings.TrimRight(t, ". ")
	t = stripUnits(t)
	t = joinThousands(t)
	t = spaceMixedNumber(t)
	t = removeSpaces(t)
	return braceArgs(t), nil
}

// appendClean appends s to dst with the notation-only parts of LaTeX removed
// (see normalize). Text wrappers are unwrapped recursively, at most
// MaxNesting deep.
func appendClean(dst []byte, s string, depth int) ([]byte, error) {
	if depth > MaxNesting {
		return dst, ErrTooDeep
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			dst = appendSymbol(dst, r, s[i:i+size])
			i += size
		case c == '$' || c == '%':
			i++
		case c == '~':
			dst = append(dst, ' ')
			i++
		case c == '{' && strings.HasPrefix(s[i:], "{,}"):
			// LaTeX's unspaced comma: a thousands separator before a group
			// of three digits, a comma otherwise.
			if !thousandsGroupAt(s, i+3) {
				dst = append(dst, ',')
			}
			i += 3
		case c == '^' && degreeSignAt(s, i+1) > 0:
			i += 1 + degreeSignAt(s, i+1)
		case c == '\\':
			var err error
			dst, i, err = appendCommand(dst, s, i, depth)
			if err != nil {
				return dst, err
			}
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, nil
}

// appendCommand handles the command starting at the backslash s[i] and
// returns where the scan continues.
func appendCommand(dst []byte, s string, i, depth int) ([]byte, int, error) {
	if i+1 == len(s) {
		return dst, i + 1, nil
	}
	if next := s[i+1]; !isLetter(next) {
		switch next {
		case ',', '!': // thin space, negative thin space: "1\,000" is 1000
		case ';', ':', ' ':
			dst = append(dst, ' ')
		case '%', '$': // percent and dollar signs
		case '(', ')', '[', ']': // inline and display maths delimiters
		default: // \{ \} \\ and the like keep their meaning
			dst = append(dst, '\\', next)
		}
		return dst, i + 2, nil
	}
	j := i + 1
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	switch name := s[i+1 : j]; name {
	case "left", "right", "middle", "big", "Big", "bigg", "Bigg",
		"bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr":
		if j < len(s) && s[j] == '.' { // \left. and \right. are invisible
			j++
		}
		return dst, j, nil
	case "dfrac", "tfrac", "cfrac":
		return append(dst, `\frac`...), j, nil
	case "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits",
		"circ", "degree", "dollar", "mathdollar", "percent":
		return dst, j, nil
	case "quad", "qquad", "enspace", "thinspace", "medspace", "thickspace":
		return append(dst, ' '), j, nil
	case "le", "leq":
		return append(dst, `\le`...), j, nil
	case "ge", "geq":
		return append(dst, `\ge`...), j, nil
	case "ne", "neq":
		return append(dst, `\ne`...), j, nil
	case "text", "textbf", "textit", "textrm", "textsf", "texttt", "textnormal", "textup",
		"mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "mbox", "hbox",
		"boxed", "fbox":
		arg, end, ok := bracedArgument(s, j)
		if !ok {
			return dst, j, nil // a wrapper without an argument wraps nothing
		}
		if name[0] != 'b' && name[0] != 'f' {
			// Text is words: keep it apart from what precedes it, so that a
			// unit in "10\text{cm}" is still a trailing word.
			dst = append(dst, ' ')
		}
		dst, err := appendClean(dst, arg, depth+1)
		return dst, end, err
	default:
		return append(dst, s[i:j]...), j, nil
	}
}

// appendSymbol spells the Unicode maths symbols models write as LaTeX. The
// commands it writes end in a space so that "πr" does not read as \pir.
func appendSymbol(dst []byte, r rune, raw string) []byte {
	switch r {
	case '−', '﹣', '－':
		return append(dst, '-')
	case '×':
		return append(dst, `\times `...)
	case '·', '⋅':
		return append(dst, `\cdot `...)
	case '÷':
		return append(dst, `\div `...)
	case 'π':
		return append(dst, `\pi `...)
	case '√':
		return append(dst, `\sqrt `...)
	case '∞':
		return append(dst, `\infty `...)
	case '∪':
		return append(dst, `\cup `...)
	case '∈':
		return append(dst, `\in `...)
	case '≤':
		return append(dst, `\le `...)
	case '≥':
		return append(dst, `\ge `...)
	case '≠':
		return append(dst, `\ne `...)
	case '°':
		return dst
	case '\u00a0':
		return append(dst, ' ')
	case '\u2009', '\u202f', '\u2007', '\u200a', '\u2008', '\u200b':
		return dst // thin spaces group digits: "1 000" is 1000
	}
	return append(dst, raw...)
}

// degreeSignAt returns the length of a degree sign (\circ or {\circ})
// starting at s[i], or 0.
func degreeSignAt(s string, i int) int {
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, `\circ`) && (len(rest) == 5 || !isLetter(rest[5])):
		return 5
	case strings.HasPrefix(rest, `{\circ}`):
		return 7
	}
	return 0
}

// bracedArgument returns the balanced {...} group at s[i] (after optional
// spaces): its content and the index after its closing brace.
func bracedArgument(s string, i int) (arg string, end int, ok bool) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '{' {
		return "", i, false
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[i+1 : j], j + 1, true
			}
		}
	}
	return "", i, false
}

// greekLetters may name a variable in a leading assignment ("\theta = 30").
var greekLetters = map[string]bool{
	"alpha": true, "beta": true, "gamma": true, "delta": true, "epsilon": true,
	"varepsilon": true, "zeta": true, "eta": true, "theta": true, "vartheta": true,
	"iota": true, "kappa": true, "lambda": true, "mu": true, "nu": true, "xi": true,
	"rho": true, "sigma": true, "tau": true, "upsilon": true, "phi": true,
	"varphi": true, "chi": true, "psi": true, "omega": true, "Gamma": true,
	"Delta": true, "Theta": true, "Lambda": true, "Xi": true, "Sigma": true,
	"Phi": true, "Psi": true, "Omega": true,
}
