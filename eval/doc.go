// Package eval grades math answers and turns graded samples into the numbers
// relix reports: pass@k, truncation, and paired comparisons between arms. It
// also holds the σ gate (zone.go), which decides from a group's rewards
// whether GRPO can learn from it, because the rollout sources and the
// simulator's calibration must share one definition and eval is the layer
// both can import.
//
// The same grader scores every training completion (its reward) and every
// held-out sample, so it is exact where the mathematics allows (rational
// arithmetic with math/big), tolerant only where it must be (radicals and π),
// and bounded: model output of any size or shape is graded in linear time,
// and anything over the size or nesting limits is wrong with a reason
// instead of slow.
//
// The package depends on nothing else in relix.
package eval
