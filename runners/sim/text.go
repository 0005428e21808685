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
	steps := min(pr.steps, 9)
	v := textVariant(ch, wrong, truncated, steps)
	if t := pr.texts[v].Load(); t != nil {
		return *t
	}
	t := writeText(pr, ch, wrong, truncated, steps)
	pr.texts[v].Store(&t)
	return t
}

// A problem's texts are a function of whether the completion looped, how
// many of its (at most 9) steps it wrote before the cap when it boxed
// nothing, and otherwise its answer and whether it stopped: the variants
// are looped (0), cut off after 0 to 8 steps (1–9), then each answer
// (right, or one of the wrong ones) stopped or not.
const (
	textVariantsCut = 1 + 9
	textVariants    = textVariantsCut + 2*(1+wrongAnswers)
)

func textVariant(ch choices, wrong int, truncated bool, steps int) int {
	switch {
	case ch.looped:
		return 0
	case !ch.answered():
		return 1 + max(0, cutSteps(ch, steps)) // none written either way below 0
	}
	answer := 0
	if !ch.correct {
		answer = 1 + wrong
	}
	v := textVariantsCut + 2*answer
	if truncated {
		v++
	}
	return v
}

// cutSteps is how many of its steps a completion that reached the cap
// before its answer wrote: the share of the steps before the cap.
func cutSteps(ch choices, steps int) int {
	return min(steps-1, int(float64(steps)*float64(ch.maxTokens)/ch.reasoning))
}

func writeText(pr *problem, ch choices, wrong int, truncated bool, steps int) string {
	answer := pr.answer
	if !ch.correct {
		answer = pr.wrong[wrong]
	}
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
		done = cutSteps(ch, steps)
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
