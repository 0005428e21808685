// Package eval grades math answers and turns graded samples into the numbers
// relix reports: pass@k, truncation, and paired comparisons between arms.
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
