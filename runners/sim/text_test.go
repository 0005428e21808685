package sim

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// textReference is completionText as first written, a line at a time.
func textReference(pr *problem, ch choices, wrong int, truncated bool) string {
	answer := pr.answer
	if !ch.correct {
		answer = pr.wrong[wrong]
	}
	steps := min(pr.steps, 9)
	b := []byte(textOpening)
	writeSteps := func(done int) {
		for i := 1; i <= done; i++ {
			b = append(b, "Step "...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, textStep...)
		}
	}
	if ch.looped {
		writeSteps(max(1, steps/2))
		for range loopRepeats {
			b = append(b, textLoop...)
		}
		return string(b)
	}
	done := steps
	if !ch.answered() {
		done = min(steps-1, int(float64(steps)*float64(ch.maxTokens)/ch.reasoning))
	}
	writeSteps(done)
	if !ch.answered() {
		return string(append(b, textUnfinished...))
	}
	b = append(append(append(b, textAnswer...), answer...), textClose...)
	if truncated {
		b = append(b, textRamble...)
	}
	return string(b)
}

func TestCompletionTextMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	pr := &problem{answer: "42", wrong: [wrongAnswers]string{"41", "43", "-42", "4.2"}}
	for trial := range 20000 {
		pr.steps = rng.IntN(12)
		ch := choices{
			maxTokens: 1 + rng.IntN(8192), correct: rng.IntN(2) == 0,
			reasoning: 1 + rng.Float64()*12000, looped: rng.IntN(5) == 0,
		}
		wrong, truncated := rng.IntN(wrongAnswers), rng.IntN(2) == 0
		require.Equal(t, textReference(pr, ch, wrong, truncated), completionText(pr, ch, wrong, truncated),
			"trial %d: steps %d, %+v, wrong %d, truncated %v", trial, pr.steps, ch, wrong, truncated)
	}
}

// TestReleasedTokensAreReused: ids written into a slice given back are
// those of a fresh one, and slices of any other capacity are ignored.
func TestReleasedTokensAreReused(t *testing.T) {
	r := newFixture(t).runner
	fresh := tokenIDs(7, 3000)
	require.Equal(t, 4096, cap(fresh))
	for range 3 {
		junk := tokenIDs(8, 4000)
		for i := range junk {
			junk[i] = 1<<32 - 1
		}
		r.ReleaseTokens([][]uint32{junk, make([]uint32, 5, 3000), nil})
		require.Equal(t, fresh, tokenIDs(7, 3000))
	}
	require.Len(t, tokenIDs(9, 1<<18), 1<<18) // past the pools
}
