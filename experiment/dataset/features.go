package dataset

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// Features are a problem's observable features: what an estimator may look
// at to guess how hard a problem is. The text features (Chars ... Operators)
// and the answer features are computed from the statement and the reference
// answer in the same way for every problem, generated or loaded. The
// structural features (Unknowns, Operations, Steps) are exact for generated
// problems and estimated from the text for loaded ones (see TextFeatures).
type Features struct {
	Chars       int `json:"chars"`        // runes in the statement
	Words       int `json:"words"`        // whitespace-separated words in the statement
	Numbers     int `json:"numbers"`      // numeric literals in the statement ("12", "3.5"; "\frac{3}{4}" is two)
	MaxDigits   int `json:"max_digits"`   // the most digits in one numeric literal
	TotalDigits int `json:"total_digits"` // digits over all numeric literals
	Operators   int `json:"operators"`    // operator symbols and words in the statement (+, \times, "remainder", ...)

	Unknowns   int `json:"unknowns"`   // quantities to solve for (x: 1, a system in x and y: 2)
	Operations int `json:"operations"` // arithmetic operations a direct solution performs
	Steps      int `json:"steps"`      // reasoning steps a direct solution takes

	AnswerKind      AnswerKind `json:"answer_kind"`      // the form of the reference answer
	AnswerDigits    int        `json:"answer_digits"`    // digits written in the reference answer
	AnswerMagnitude float64    `json:"answer_magnitude"` // log10(1 + |value|) of the answer; the largest component of a tuple; 0 for AnswerOther
	AnswerNegative  bool       `json:"answer_negative"`  // the answer (or a component of it) is negative
}

// featureNames are the names of Vector's entries, in order.
var featureNames = [...]string{
	"chars",
	"words",
	"numbers",
	"max_digits",
	"total_digits",
	"operators",
	"unknowns",
	"operations",
	"steps",
	"answer_digits",
	"answer_magnitude",
	"answer_negative",
	"answer_integer",
	"answer_fraction",
	"answer_decimal",
	"answer_radical",
	"answer_tuple",
	"answer_other",
}

// NumFeatures is the length of Features.Vector.
const NumFeatures = len(featureNames)

// FeatureNames returns the names of Features.Vector's entries, in order.
func FeatureNames() []string { return featureNames[:] }

// Vector returns the features as numbers in the order of FeatureNames:
// counts as they are, AnswerNegative as 0 or 1, AnswerKind one-hot.
func (f Features) Vector() []float64 {
	v := make([]float64, NumFeatures)
	f.fill(v)
	return v
}

func (f Features) fill(v []float64) {
	v[0] = float64(f.Chars)
	v[1] = float64(f.Words)
	v[2] = float64(f.Numbers)
	v[3] = float64(f.MaxDigits)
	v[4] = float64(f.TotalDigits)
	v[5] = float64(f.Operators)
	v[6] = float64(f.Unknowns)
	v[7] = float64(f.Operations)
	v[8] = float64(f.Steps)
	v[9] = float64(f.AnswerDigits)
	v[10] = f.AnswerMagnitude
	if f.AnswerNegative {
		v[11] = 1
	}
	if f.AnswerKind <= AnswerOther {
		v[12+int(f.AnswerKind)] = 1
	}
}

// TextFeatures computes the features of a problem known only by its text,
// as the loaders do. The structural features are estimates:
// Unknowns counts the distinct variables x, y, z that stand alone in the
// statement, Operations is max(Operators, Numbers-1) and Steps is
// max(1, Operations).
func TextFeatures(statement, answer string) Features {
	f := statementFeatures(statement)
	f.Unknowns = countUnknowns(statement)
	f.Operations = max(f.Operators, f.Numbers-1)
	f.Steps = max(1, f.Operations)
	f.setAnswer(answer)
	return f
}

// statementFeatures fills the text features of a statement.
func statementFeatures(s string) Features {
	f := Features{Chars: utf8.RuneCountInString(s), Words: countWords(s)}
	f.Operators = countOperators(s)
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		digits := 0
		for i < len(s) && (isDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
			if s[i] != '.' {
				digits++
			}
			i++
		}
		f.Numbers++
		f.TotalDigits += digits
		f.MaxDigits = max(f.MaxDigits, digits)
	}
	return f
}

func (f *Features) setAnswer(answer string) {
	for i := 0; i < len(answer); i++ {
		if isDigit(answer[i]) {
			f.AnswerDigits++
		}
	}
	a := parseAnswer(answer)
	f.AnswerKind = a.kind
	for _, p := range a.parts {
		v := p.value()
		f.AnswerMagnitude = max(f.AnswerMagnitude, math.Log10(1+math.Abs(v)))
		// Rounded so that the feature, and whatever a simulator derives from
		// it, is the same on every platform's math library.
		f.AnswerMagnitude = math.Round(f.AnswerMagnitude*1e6) / 1e6
		if v < 0 {
			f.AnswerNegative = true
		}
	}
}

// countWords counts runs of non-space characters.
func countWords(s string) int {
	n := 0
	inWord := false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space && !inWord {
			n++
		}
		inWord = !space
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// operatorCommands are the LaTeX commands counted as operators.
var operatorCommands = map[string]bool{
	"times": true, "div": true, "cdot": true, "frac": true, "dfrac": true, "tfrac": true, "sqrt": true,
	"pm": true, "bmod": true, "pmod": true, "mod": true, "binom": true, "equiv": true,
}

// operatorWords are the words counted as operators (whole words, any case).
var operatorWords = map[string]bool{
	"plus": true, "minus": true, "times": true, "divided": true, "product": true, "sum": true,
	"difference": true, "quotient": true, "percent": true, "remainder": true, "squared": true,
	"cubed": true, "root": true, "power": true, "mod": true, "modulo": true, "average": true,
	"increase": true, "increased": true, "decrease": true, "decreased": true, "discount": true,
	"twice": true, "double": true, "half": true, "triple": true, "multiply": true, "multiplied": true,
	"subtract": true, "subtracted": true, "add": true, "added": true, "total": true,
}

// countOperators counts operator symbols (+ - × ÷ * / ^ = % < > ≤ ≥ ≡ and
// the Unicode minus), operator LaTeX commands (\times, \frac, ...) and
// operator words ("sum", "remainder", ...). A hyphen between two letters
// ("six-sided") is not an operator.
func countOperators(s string) int {
	n := 0
	var word [10]byte
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			j := i + 1
			for j < len(s) && isASCIILetter(s[j]) {
				j++
			}
			if operatorCommands[s[i+1:j]] {
				n++
			}
			i = max(j, i+1)
			continue
		case isASCIILetter(c):
			j := i
			for j < len(s) && isASCIILetter(s[j]) {
				j++
			}
			if w := s[i:j]; len(w) <= len(word) {
				for k := range len(w) {
					word[k] = w[k] | 0x20 // lower case
				}
				if operatorWords[string(word[:len(w)])] {
					n++
				}
			}
			i = j
			continue
		case c == '-':
			if !(i > 0 && isASCIILetter(s[i-1]) && i+1 < len(s) && isASCIILetter(s[i+1])) {
				n++
			}
		case c == '+' || c == '*' || c == '/' || c == '^' || c == '=' || c == '%' || c == '<' || c == '>':
			n++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch r {
			case '×', '÷', '−', '≤', '≥', '≡':
				n++
			}
			i += size
			continue
		}
		i++
	}
	return n
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// countUnknowns counts the distinct letters x, y and z that stand alone (no
// letter on either side) in s: "2x + 3y = 7" has two.
func countUnknowns(s string) int {
	var seen [3]bool
	prev := rune(0)
	for i, r := range s {
		if r == 'x' || r == 'y' || r == 'z' {
			next, _ := utf8.DecodeRuneInString(s[i+len("x"):])
			if !unicode.IsLetter(prev) && !unicode.IsLetter(next) && prev != '\\' {
				seen[r-'x'] = true
			}
		}
		prev = r
	}
	n := 0
	for _, b := range seen {
		if b {
			n++
		}
	}
	return n
}
