package eval

import (
	"strings"
)

// stripAssignment removes a leading "x =", "x_1 =", "\theta =" or "x \in"
// from an answer: the variable's name is not part of the answer.
func stripAssignment(s string) string {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	switch {
	case i < len(s) && isLetter(s[i]):
		i++
	case i < len(s) && s[i] == '\\':
		j := i + 1
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		if !greekLetters[s[i+1:j]] {
			return s
		}
		i = j
	default:
		return s
	}
	if i < len(s) && s[i] == '_' { // subscript: _1, _n, _{12}
		i++
		switch {
		case i < len(s) && s[i] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 || end > 8 {
				return s
			}
			i += end + 1
		case i < len(s) && (isLetter(s[i]) || isDigit(s[i])):
			i++
		default:
			return s
		}
	}
	for i < len(s) && s[i] == '\'' {
		i++
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '=' && (i+1 == len(s) || s[i+1] != '='):
		i++
	case strings.HasPrefix(s[i:], `\in`) && (i+3 == len(s) || !isLetter(s[i+3])):
		i += 3
	default:
		return s
	}
	if rest := strings.TrimSpace(s[i:]); rest != "" {
		return rest
	}
	return s
}

// stripUnits removes trailing unit words ("5 cm", "12 square units",
// "3 m^2") from an answer that has a number before them. Only words set off
// by a space count, so "2x" keeps its x.
func stripUnits(s string) string {
	head := s
	for {
		j := strings.LastIndexByte(head, ' ')
		if j < 0 || !isUnitWord(head[j+1:]) {
			break
		}
		rest := strings.TrimRight(head[:j], " ")
		if rest == "" {
			break
		}
		head = rest
	}
	if len(head) == len(s) || strings.IndexFunc(head, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return s
	}
	return head
}

// isUnitWord reports whether w looks like a unit: letters, at least two
// of them (or m), optionally raised to a small power (m^2, cm^{3}). Words
// that join answers are not units.
func isUnitWord(w string) bool {
	i := 0
	for i < len(w) && isLetter(w[i]) {
		i++
	}
	word, power := w[:i], w[i:]
	if len(word) < 2 && word != "m" {
		return false
	}
	switch word {
	case "and", "or", "to":
		return false
	}
	switch power {
	case "", "^2", "^3", "^{2}", "^{3}":
		return true
	}
	return false
}

// joinThousands removes the separators from an answer that is exactly one
// number written with comma thousands separators: "1,000" and "12,345.5",
// but not "1, 000" (a list) or "1,00" (a list).
func joinThousands(s string) string {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	lead := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if n := i - lead; n < 1 || n > 3 {
		return s
	}
	groups := 0
	for i < len(s) && s[i] == ',' {
		if !thousandsGroupAt(s, i+1) {
			return s
		}
		i += 4
		groups++
	}
	if groups == 0 {
		return s
	}
	if i < len(s) {
		if s[i] != '.' || i+1 == len(s) {
			return s
		}
		for j := i + 1; j < len(s); j++ {
			if !isDigit(s[j]) {
				return s
			}
		}
	}
	return strings.ReplaceAll(s, ",", "")
}

// spaceMixedNumber rewrites the mixed number "3 1/2" as 3\frac{1}{2}, which
// the value parser reads as 3 + 1/2, before the space between its parts is
// removed.
func spaceMixedNumber(s string) string {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	whole := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == whole || i == len(s) || s[i] != ' ' {
		return s
	}
	wholeEnd := i
	for i < len(s) && s[i] == ' ' {
		i++
	}
	num := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == num || i == len(s) || s[i] != '/' {
		return s
	}
	numEnd := i
	i++
	den := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == den || i != len(s) {
		return s
	}
	return s[:wholeEnd] + `\frac{` + s[num:numEnd] + "}{" + s[den:] + "}"
}

// removeSpaces removes whitespace, except one space between a command name
// and a letter that follows it (\pi r must not become \pir).
func removeSpaces(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	b := make([]byte, 0, len(s))
	inCommand := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n') {
				j++
			}
			if inCommand && j < len(s) && isLetter(s[j]) {
				b = append(b, ' ')
			}
			inCommand = false
			i = j - 1
			continue
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\\' {
				b = append(b, '\\', '\\')
				i++
				inCommand = false
				continue
			}
			inCommand = i+1 < len(s) && isLetter(s[i+1])
		case !isLetter(c):
			inCommand = false
		}
		b = append(b, c)
	}
	return string(b)
}

// braceArgs writes the single-token arguments of \frac and \sqrt in braces,
// so that \frac12, \frac 1 2 and \frac{1}{2} read the same, also as text.
func braceArgs(s string) string {
	if !strings.Contains(s, `\frac`) && !strings.Contains(s, `\sqrt`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	appendBracedArgs(&b, s)
	return b.String()
}

func appendBracedArgs(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '{' {
			// Recurse into the group so that its own \frac12 are braced.
			if arg, end, ok := bracedArgument(s, i); ok {
				b.WriteByte('{')
				appendBracedArgs(b, arg)
				b.WriteByte('}')
				i = end
				continue
			}
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		if j == i+1 && j < len(s) { // \{ \\ and the like
			j++
		}
		name := s[i+1 : j]
		b.WriteString(s[i:j])
		i = j
		args := 0
		switch name {
		case "frac":
			args = 2
		case "sqrt":
			args = 1
			if i < len(s) && s[i] == '[' { // \sqrt[3]{x}
				if end := strings.IndexByte(s[i:], ']'); end > 0 {
					b.WriteString(s[i : i+end+1])
					i += end + 1
				}
			}
		}
		for args > 0 && i < len(s) {
			switch c := s[i]; {
			case c == ' ':
				i++
				continue
			case c == '{':
				arg, end, ok := bracedArgument(s, i)
				if !ok {
					args = 0
					continue
				}
				b.WriteByte('{')
				appendBracedArgs(b, arg)
				b.WriteByte('}')
				i = end
			case c == '\\':
				k := i + 1
				for k < len(s) && isLetter(s[k]) {
					k++
				}
				if k == i+1 {
					args = 0
					continue
				}
				b.WriteByte('{')
				b.WriteString(s[i:k])
				b.WriteByte('}')
				i = k
			case isDigit(c) || isLetter(c):
				b.WriteByte('{')
				b.WriteByte(c)
				b.WriteByte('}')
				i++
			default:
				args = 0
				continue
			}
			args--
		}
	}
}

// rewriteNotation undoes what data and models do to an answer's notation
// before it is normalized: backslashes doubled by over-escaping (\\frac),
// a trailing approximation after an exact answer (\frac{1}{\sqrt3}
// \approx 0.577), thousands separated by a spaced comma (32,\! 349), the
// words "and" and "or" and semicolons between the parts of an answer, and
// ± (1 \pm \sqrt2 is the list 1-\sqrt2, 1+\sqrt2).
func rewriteNotation(s string) string {
	if strings.Contains(s, `\\`) {
		s = undoubleBackslashes(s)
	}
	if i := topLevelIndex(s, `\approx`); i > 0 && strings.TrimSpace(s[:i]) != "" {
		s = s[:i]
	}
	if i := topLevelIndex(s, "≈"); i > 0 && strings.TrimSpace(s[:i]) != "" {
		s = s[:i]
	}
	if strings.Contains(s, ",") {
		s = joinSpacedThousands(s)
	}
	s = separateParts(s)
	if i := topLevelIndex(s, `\pm`); i >= 0 && topLevelIndex(s[i+3:], `\pm`) < 0 && !strings.Contains(s, ",") {
		left, right := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+3:])
		if right != "" {
			if left == "" {
				s = "-" + right + "," + right
			} else {
				s = left + "-(" + right + ")," + left + "+" + right
			}
		}
	}
	return s
}

// doubledCommands are the commands whose doubled backslash is an escape,
// not LaTeX's line break (which a matrix's rows keep).
var doubledCommands = []string{"frac", "dfrac", "tfrac", "sqrt", "left", "right", "pi", "cdot", "times", "text",
	"mathrm", "mathbf", "boxed", "infty", "leq", "geq", "le", "ge", "neq", "ne", "sin", "cos", "tan", "log", "ln",
	"pm", "cup", "approx", "in", "emptyset", "varnothing", "circ", "theta", "alpha", "beta", "{", "}"}

func undoubleBackslashes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\\' {
			rest := s[i+2:]
			for _, cmd := range doubledCommands {
				if strings.HasPrefix(rest, cmd) && (len(cmd) == 1 || len(rest) == len(cmd) || !isLetter(rest[len(cmd)])) {
					i++ // drop the first backslash
					break
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// topLevelIndex is the index of the first sep outside brackets and braces
// (and not the start of a longer command), or −1.
func topLevelIndex(s, sep string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		if depth == 0 && strings.HasPrefix(s[i:], sep) {
			end := i + len(sep)
			if sep[0] != '\\' || end == len(s) || !isLetter(s[end]) {
				return i
			}
		}
	}
	return -1
}

// joinSpacedThousands removes a comma with a thin, negative or plain space
// after it between a digit and exactly three digits: 32,\! 349 is 32349.
func joinSpacedThousands(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ',' && i > 0 && isDigit(s[i-1]) {
			j, thin := spacesAfter(s, i+1)
			if thin && j+3 <= len(s) && isDigitRun(s[j:j+3]) && (j+3 == len(s) || !isDigit(s[j+3])) {
				i = j - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// spacesAfter is where the spaces and LaTeX's thin spaces (\, \!) from s[i]
// on end, and whether there was a thin space: "1, 000" is a list, while
// "32,\! 349" is a number typeset with a spaced separator.
func spacesAfter(s string, i int) (int, bool) {
	thin := false
	for i < len(s) {
		switch {
		case s[i] == ' ':
			i++
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == '!' || s[i+1] == ','):
			i += 2
			thin = true
		default:
			return i, thin
		}
	}
	return i, thin
}

// partWords are what separates an answer's parts, as models write them.
var partWords = []string{`\text{ and }`, `\text{and}`, `\text{ and}`, `\text{and }`, `\text{ or }`, `\text{or}`,
	`\mbox{ and }`, `\mbox{and}`, `\mbox{ or }`, ` and `, ` or `}

// separateParts writes the separators between an answer's parts as
// commas: the words and/or, and semicolons.
func separateParts(s string) string {
	for _, w := range partWords {
		if strings.Contains(s, w) {
			s = strings.ReplaceAll(s, w, ",")
		}
	}
	if strings.Contains(s, ";") {
		b := []byte(s)
		for i, c := range b {
			if c == ';' && (i == 0 || b[i-1] != '\\') { // \; is a space
				b[i] = ','
			}
		}
		s = string(b)
	}
	for strings.Contains(s, ",,") {
		s = strings.ReplaceAll(s, ",,", ",")
	}
	for _, junk := range []string{", ,", ",\\quad,"} {
		s = strings.ReplaceAll(s, junk, ",")
	}
	return s
}
