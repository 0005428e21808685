package sim

import (
	"strconv"

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
// reached the cap before its answer has no box.
func completionText(pr *problem, ch choices, wrong int, truncated bool) string {
	answer := pr.answer
	if !ch.correct {
		answer = pr.wrong[wrong]
	}
	steps := min(pr.steps, 9)
	b := make([]byte, 0, len(textOpening)+steps*(len("Step 9")+len(textStep))+len(textAnswer)+len(answer)+len(textClose)+len(textRamble))
	b = append(b, textOpening...)
	if ch.looped {
		// It loops somewhere in its reasoning and never boxes an answer.
		done := max(1, steps/2)
		for i := 1; i <= done; i++ {
			b = append(b, "Step "...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, textStep...)
		}
		for range loopRepeats {
			b = append(b, textLoop...)
		}
		return string(b)
	}
	done := steps
	if !ch.answered() {
		// The share of the steps written before the cap.
		done = min(steps-1, int(float64(steps)*float64(ch.maxTokens)/ch.reasoning))
	}
	for i := 1; i <= done; i++ {
		b = append(b, "Step "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, textStep...)
	}
	if !ch.answered() {
		b = append(b, textUnfinished...)
		return string(b)
	}
	b = append(b, textAnswer...)
	b = append(b, answer...)
	b = append(b, textClose...)
	if truncated {
		b = append(b, textRamble...)
	}
	return string(b)
}

// vocabSize is the sim's vocabulary (Qwen3's).
const vocabSize = 151936

// tokenIDs derives a completion's n token ids from its own seed (SplitMix64
// over the position), so they cost nothing unless asked for.
func tokenIDs(root uint64, n int) []uint32 {
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(seed.Mix(root+uint64(i)*0x9e3779b97f4a7c15) % vocabSize)
	}
	return ids
}
