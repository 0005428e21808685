package eval

import (
	"slices"
	"strings"
)

// maxBoxTries bounds how many box commands, from the last one backwards,
// are tried when the later ones are unclosed (a completion cut off inside
// its final \boxed{ still counts an earlier, complete one).
const maxBoxTries = 8

// ExtractAnswer returns the final answer of a completion: the argument of
// its last complete \boxed{...} or \fbox{...}, found by a balanced-brace walk
// (nested braces and escaped \{ \} are fine); for \boxed without braces, the
// rest of its line up to a $. With opts.FallbackLastNumber, a completion
// with no complete box answers with the last number of its final non-empty
// line.
//
// The answer is a substring of completion; no allocation is made. When no
// answer is found the error says why (ErrNoAnswer, ErrUnclosedBox,
// ErrEmptyAnswer, or a size limit).
func ExtractAnswer(completion string, opts GradeOptions) (string, error) {
	if len(completion) > MaxCompletionBytes {
		return "", ErrCompletionTooLarge
	}
	err := ErrNoAnswer
	// Newest first. The answer's box is almost always in the last few
	// hundred bytes, which a backward search finds without reading the
	// rest; a completion without one there is scanned forward, where the
	// search is vectorized (a backward one is not).
	var found [maxBoxTries]int
	n := 0 // found[:n], newest first
	backward := prevBox(completion, len(completion), max(0, len(completion)-boxTail)) >= 0
	if backward {
		// Found near the end: an earlier box is looked for only while the
		// later ones are unclosed, one backward search each.
		found[0], n = prevBox(completion, len(completion), 0), 1
	} else {
		n = lastBoxes(completion, &found)
		slices.Reverse(found[:n])
	}
	for i := 0; i < n; i++ {
		answer, boxErr := boxArgument(completion, found[i])
		if boxErr == nil {
			return answer, nil
		}
		if boxErr != ErrUnclosedBox {
			return answer, boxErr
		}
		err = boxErr
		if backward && n < maxBoxTries {
			if at := prevBox(completion, found[i], 0); at >= 0 {
				found[n], n = at, n+1
			}
		}
	}
	if opts.FallbackLastNumber {
		if number, ok := lastNumberOfFinalLine(completion); ok {
			if len(number) > MaxAnswerBytes {
				return "", ErrAnswerTooLarge
			}
			return number, nil
		}
		if err == ErrNoAnswer {
			err = errNoNumberOnFinalLine
		}
	}
	return "", err
}

// boxTail is how far from a completion's end its box is looked for
// backwards first.
const boxTail = 512

// prevBox is the start of the last box command (\boxed or \fbox, not
// followed by a letter) that starts before end and at or after from, or −1.
func prevBox(s string, end, from int) int {
	for end > from {
		at := strings.LastIndex(s[from:end], "box")
		if at < 0 {
			return -1
		}
		at += from
		if at < 0 {
			return -1
		}
		switch {
		case at >= 1 && s[at-1] == '\\' && strings.HasPrefix(s[at:], "boxed") && (at+5 == len(s) || !isLetter(s[at+5])):
			return at - 1
		case at >= 2 && s[at-2] == '\\' && s[at-1] == 'f' && (at+3 == len(s) || !isLetter(s[at+3])):
			return at - 2
		}
		end = at
	}
	return -1
}

// lastBoxes records in found the positions of the last maxBoxTries box
// commands of s (\boxed and \fbox, whole commands: not followed by a
// letter), oldest first, and returns how many it recorded. Both commands
// end in "box", so one strings.Index pass (vectorized on common platforms)
// finds both.
func lastBoxes(s string, found *[maxBoxTries]int) int {
	seen := 0
	for from := 0; ; {
		i := strings.Index(s[from:], "box")
		if i < 0 {
			break
		}
		at := from + i
		from = at + 3
		start := -1
		switch {
		case at >= 1 && s[at-1] == '\\' && strings.HasPrefix(s[at:], "boxed"):
			start, from = at-1, at+5
		case at >= 2 && s[at-2] == '\\' && s[at-1] == 'f':
			start = at - 2
		}
		if start < 0 || (from < len(s) && isLetter(s[from])) {
			continue
		}
		found[seen%maxBoxTries] = start
		seen++
	}
	kept := min(seen, maxBoxTries)
	if seen > maxBoxTries { // the ring wrapped: rotate it oldest first
		var ordered [maxBoxTries]int
		for i := range kept {
			ordered[i] = found[(seen-kept+i)%maxBoxTries]
		}
		*found = ordered
	}
	return kept
}

// boxArgument returns the argument of the box command starting at s[at].
func boxArgument(s string, at int) (string, error) {
	i := at + 1
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '{' {
		start := i + 1
		depth := 1
		for i = start; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++ // \{ \} and \\ do not open or close groups
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					return checkAnswer(s[start:i])
				}
			}
			if i-start > MaxAnswerBytes {
				return "", ErrAnswerTooLarge
			}
		}
		return "", ErrUnclosedBox
	}
	if i == len(s) {
		return "", ErrUnclosedBox // cut off right after the command
	}
	// \boxed 5: the rest of the line, up to the closing $ of inline maths.
	end := i
	for end < len(s) && s[end] != '$' && s[end] != '\n' {
		end++
		if end-i > MaxAnswerBytes {
			return "", ErrAnswerTooLarge
		}
	}
	answer := strings.TrimRight(strings.TrimSpace(s[i:end]), ".")
	answer = strings.TrimSuffix(strings.TrimSuffix(answer, `\]`), `\)`)
	return checkAnswer(answer)
}

func checkAnswer(answer string) (string, error) {
	if len(answer) > MaxAnswerBytes {
		return "", ErrAnswerTooLarge
	}
	if strings.TrimSpace(answer) == "" {
		return "", ErrEmptyAnswer
	}
	return answer, nil
}

// lastNumberOfFinalLine finds the last number on the last non-empty line of
// s: an optionally signed integer or decimal, with thousands separators, or a
// fraction a/b.
func lastNumberOfFinalLine(s string) (string, bool) {
	s = strings.TrimRight(s, " \t\r\n")
	line := s[strings.LastIndexByte(s, '\n')+1:]
	end := len(line)
	for end > 0 && !isDigit(line[end-1]) {
		end--
	}
	if end == 0 {
		return "", false
	}
	start := end
	for start > 0 {
		c := line[start-1]
		switch {
		case isDigit(c):
			start--
		case (c == '.' || c == '/' || c == ',') && start >= 2 && isDigit(line[start-2]):
			if c == ',' && !thousandsGroupAt(line, start) {
				return line[start:end], true
			}
			start--
		default:
			if c == '-' {
				start--
			}
			return line[start:end], true
		}
	}
	return line[start:end], true
}

// thousandsGroupAt reports whether s[i:] starts with exactly three digits
// that are not followed by another digit: the group after a separator.
func thousandsGroupAt(s string, i int) bool {
	return i+3 <= len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) &&
		(i+3 == len(s) || !isDigit(s[i+3]))
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
