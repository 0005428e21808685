package sim

import (
	"math/bits"
	"strconv"
	"strings"
	"sync"

	"github.com/relix-lab/relix/experiment/seed"
)

// The words of a simulated completion. The text is a short sketch: what is
// graded is its box, exactly as in a real model's output; the token count,
// not the text's length, is what truncation and proofs are about.
const (
	textOpening = "Let me work through this step by step.\n"
	textAnswer  = "So the final answer is $\\boxed{"
	textClose   = "}$."
	// textRamble follows a box the completion failed to stop after; the
	// completion is cut off inside it.
	textRamble = "\nWait, let me double-check this by another method. Suppose instead that"
	// textUnfinished is where a completion that reached the cap before its
	// answer is cut off.
	textUnfinished = "Next, we need to consider the case where"
	textStep       = ": work it out.\n"
	// textLoop is the line a looped completion repeats until the cap.
	textLoop = "Wait, let me re-check that step.\n"
	// loopRepeats is how many times the text shows it (the token count,
	// not the text, carries the loop's length).
	loopRepeats = 4
)

// completionText writes a completion: an opening, a line per reasoning
// step, then the boxed answer (the reference when correct, one of the
// problem's plausible wrong answers otherwise) and, when the completion did
// not stop, the start of a ramble that the cap cuts off. A completion that
// reached the cap before its answer has no box. A late market window
// writes millions of them, so each is one allocation of its exact size,
// its step lines cut from one constant.
func completionText(pr *problem, ch choices, wrong int, truncated bool) string {
	steps := min(pr.steps, 9)
	var done int
	var tail [4]string
	switch {
	case ch.looped:
		// It loops somewhere in its reasoning and never boxes an answer.
		done, tail[0] = max(1, steps/2), loopText
	case !ch.answered():
		// The share of the steps written before the cap.
		done, tail[0] = min(steps-1, int(float64(steps)*float64(ch.maxTokens)/ch.reasoning)), textUnfinished
	default:
		answer := pr.answer
		if !ch.correct {
			answer = pr.wrong[wrong]
		}
		done, tail[0], tail[1], tail[2] = steps, textAnswer, answer, textClose
		if truncated {
			tail[3] = textRamble
		}
	}
	lines := stepLines[:stepEnds[max(done, 0)]]
	var b strings.Builder
	b.Grow(len(textOpening) + len(lines) + len(tail[0]) + len(tail[1]) + len(tail[2]) + len(tail[3]))
	b.WriteString(textOpening)
	b.WriteString(lines)
	for _, t := range tail {
		b.WriteString(t)
	}
	return b.String()
}

// stepLines is the lines "Step 1" to "Step 9" of a completion's reasoning,
// and stepEnds[k] the length of its first k.
var stepLines, stepEnds = func() (string, [10]int) {
	var b strings.Builder
	var ends [10]int
	for i := 1; i <= 9; i++ {
		b.WriteString("Step " + strconv.Itoa(i) + textStep)
		ends[i] = b.Len()
	}
	return b.String(), ends
}()

// loopText is a looped completion's repeated line, loopRepeats times.
var loopText = strings.Repeat(textLoop, loopRepeats)

// vocabSize is the sim's vocabulary (Qwen3's).
const vocabSize = 151936

// tokenIDs derives a completion's n token ids from its own seed (SplitMix64
// over the position), so they cost nothing unless asked for.
func tokenIDs(root uint64, n int) []uint32 {
	ids := takeTokens(n)
	for i := range ids {
		ids[i] = uint32(seed.Mix(root+uint64(i)*0x9e3779b97f4a7c15) % vocabSize)
	}
	return ids
}

// Token id slices of completions whose caller is done with them come back
// through ReleaseTokens and are handed out again: a market proof replays a
// group of up to 8 × 8,192 ids, drops them once checked, and they were a
// third of a market run's allocation. A slice is pooled by its capacity, a
// power of two from 2¹⁰ to 2¹⁷ ids.
const (
	minPooledTokens = 10
	maxPooledTokens = 17
)

var tokenPools [maxPooledTokens + 1]sync.Pool // of *[]uint32, by log₂ capacity

// takeTokens is a slice of n ids, its contents undefined.
func takeTokens(n int) []uint32 {
	class := max(minPooledTokens, bits.Len(uint(max(n, 1)-1)))
	if class > maxPooledTokens {
		return make([]uint32, n)
	}
	if p, ok := tokenPools[class].Get().(*[]uint32); ok {
		return (*p)[:n]
	}
	return make([]uint32, n, 1<<class)
}

// ReleaseTokens gives the sim back the token ids of completions it
// generated: the caller must not use them afterwards. Slices the sim did
// not hand out are left to the garbage collector.
func (r *Runner) ReleaseTokens(tokens [][]uint32) {
	for _, t := range tokens {
		c := cap(t)
		if class := bits.Len(uint(c)) - 1; class >= minPooledTokens && class <= maxPooledTokens && c == 1<<class {
			t = t[:c]
			tokenPools[class].Put(&t)
		}
	}
}
