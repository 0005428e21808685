package eval

import "errors"

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
	ErrNotEquivalent       = errors.New("not equivalent")
	errNoNumberOnFinalLine = errors.New("no boxed answer and no number on the final line")
)

// GradeOptions tunes the grader. The zero value is the default used for
// training rewards and evaluation.
type GradeOptions struct {
	// FallbackLastNumber takes the last number on the final non-empty line
	// of a completion that has no \boxed{} (or \fbox{}) answer.
	FallbackLastNumber bool
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
	if err := compareAnswers(answer, reference); err != nil {
		return Verdict{Extracted: answer, Reason: err.Error()}
	}
	return Verdict{Correct: true, Extracted: answer}
}

// Equivalent reports whether two final answers mean the same thing: after
// normalizing the notation, equal as exact rationals, as real numbers within
// a relative tolerance of 1e-9 (radicals, π), element by element for tuples,
// intervals, matrices, and as unordered collections for sets and comma
// lists; as normalized text otherwise. It is symmetric.
func Equivalent(got, want string) bool {
	return compareAnswers(got, want) == nil
}

// EquivalentReason is Equivalent with the reason a pair is not equivalent
// (nil when it is): ErrNotEquivalent, or one of the size and emptiness errors.
func EquivalentReason(got, want string) error {
	return compareAnswers(got, want)
}
