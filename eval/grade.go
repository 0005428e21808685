package eval

import (
	"errors"
	"strings"
)

// Limits that keep grading bounded whatever a model writes. Inputs over a
// limit are graded wrong with a reason; they are never slow.
const (
	// MaxCompletionBytes is the largest completion that is graded at all
	// (8192 tokens of text are about 32 KB).
	MaxCompletionBytes = 1 << 20
	// MaxAnswerBytes is the largest extracted or reference answer.
	MaxAnswerBytes = 4096
	// MaxNesting is the deepest nesting of brackets, braces and operators
	// inside one answer.
	MaxNesting = 32
)

// Reasons an answer is graded wrong. Verdict.Reason holds their text, so the
// wording is part of relix's output format.
var (
	ErrNoAnswer            = errors.New("no boxed answer")
	ErrUnclosedBox         = errors.New("unclosed \\boxed")
	ErrEmptyAnswer         = errors.New("empty answer")
	ErrEmptyReference      = errors.New("empty reference answer")
	ErrCompletionTooLarge  = errors.New("input too large: completion")
	ErrAnswerTooLarge      = errors.New("input too large: answer")
	ErrTooDeep             = errors.New("input too deeply nested")
	ErrTooComplex          = errors.New("input too complex")
	ErrTooManyElements     = errors.New("input too large: more than 256 elements in a tuple, set, list or matrix")
	ErrOutOfRange          = errors.New("number out of range: too large or too small to compare exactly")
	ErrNotEquivalent       = errors.New("not equivalent")
	errNoNumberOnFinalLine = errors.New("no boxed answer and no number on the final line")
)

// GradeOptions tunes the grader. The zero value is the default used for
// training rewards and evaluation.
type GradeOptions struct {
	// FallbackLastNumber takes the last number on the final non-empty line
	// of a completion that has no \boxed{} (or \fbox{}) answer.
	FallbackLastNumber bool
	// RelTolerance, when positive, also takes two numbers as equal when
	// they are within it of each other relatively (|a−b| ≤ tol·max(1,|a|,|b|)),
	// exact rationals included: 0.333 answers \frac13 at 1e-3.
	RelTolerance float64
}

// Verdict is the grade of one completion.
type Verdict struct {
	Correct bool
	// Extracted is the answer found in the completion, as written there
	// (empty when none was found).
	Extracted string
	// Reason says why the completion is wrong; empty when it is correct.
	Reason string
}

// Grade extracts the final answer from completion and compares it with the
// reference answer. It is safe for concurrent use, and for the common cases
// (an answer written exactly as the reference, or two plain integers) it
// does not allocate.
func Grade(completion, reference string, opts GradeOptions) Verdict {
	answer, err := ExtractAnswer(completion, opts)
	if err != nil {
		return Verdict{Extracted: answer, Reason: err.Error()}
	}
	if err := compareWithin(answer, reference, opts.RelTolerance); err != nil {
		// A reference of several parts may be answered one box a part:
		// \boxed{(2,2)} and \boxed{(6,2)}.
		if joined, ok := boxedParts(completion); ok && severalParts(reference) && compareWithin(joined, reference, opts.RelTolerance) == nil {
			return Verdict{Correct: true, Extracted: joined}
		}
		return Verdict{Extracted: answer, Reason: err.Error()}
	}
	return Verdict{Correct: true, Extracted: answer}
}

// boxedParts joins the arguments of a completion's last complete boxes
// (at most maxBoxTries), in the order written, as one comma list; ok is
// false for fewer than two.
func boxedParts(completion string) (string, bool) {
	var found [maxBoxTries]int
	n := lastBoxes(completion, &found)
	if n < 2 {
		return "", false
	}
	var parts []string
	for _, at := range found[:n] {
		if part, err := boxArgument(completion, at); err == nil {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, ","), len(parts) >= 2
}

// severalParts reports whether a reference lists several answers: a
// top-level comma list or a set of more than one element.
func severalParts(reference string) bool {
	s := strings.TrimSpace(reference)
	if strings.HasPrefix(s, `\{`) && strings.HasSuffix(s, `\}`) {
		s = s[2 : len(s)-2]
	}
	return len(splitTopLevel(s, ",")) > 1 || topLevelIndex(s, `\pm`) >= 0 ||
		strings.Contains(s, " and ") || strings.Contains(s, `\text{ and }`)
}

// Equivalent reports whether an answer means the same as a reference:
// after normalizing the notation, equal as exact rationals, as real numbers
// within a relative tolerance of 1e-9 (radicals, π, functions), as
// expressions by the randomized identity test, as equations and
// inequalities by their residuals, element by element for tuples,
// intervals and matrices, and as unordered collections for sets and comma
// lists; as normalized text otherwise. eval/README.md lists every rule. It
// is symmetric except that an interval answers an inequality and not the
// reverse.
func Equivalent(got, want string) bool {
	return compareAnswers(got, want) == nil
}

// EquivalentReason is Equivalent with the reason a pair is not equivalent
// (nil when it is): ErrNotEquivalent, or one of the size and emptiness errors.
func EquivalentReason(got, want string) error {
	return compareAnswers(got, want)
}
