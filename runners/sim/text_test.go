package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompletionTextIsWrittenOnce: a problem's texts are cached by variant,
// and the cached text is the one written for every choice of that variant.
func TestCompletionTextIsWrittenOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	for trial := range 20000 {
		pr := &problem{answer: "42", wrong: [wrongAnswers]string{"41", "43", "-42", "4.2"}, steps: rng.IntN(12)}
		if trial%100 == 0 {
			pr.steps = 0
		}
		for range 8 {
			ch := choices{
				maxTokens: 1 + rng.IntN(8192), correct: rng.IntN(2) == 0,
				reasoning: 1 + rng.Float64()*12000, looped: rng.IntN(5) == 0,
			}
			wrong, truncated := rng.IntN(wrongAnswers), rng.IntN(2) == 0
			steps := min(pr.steps, 9)
			require.Equal(t, writeText(pr, ch, wrong, truncated, steps), completionText(pr, ch, wrong, truncated),
				"trial %d: %+v, wrong %d, truncated %v", trial, ch, wrong, truncated)
		}
	}
}
