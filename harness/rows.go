package harness

import (
	"math"

	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners"
)

// rolloutRows turns a batch's record of every generated completion into
// rows of the rollouts table. A row is useful when its group carried
// gradient into the step: accepted, with rewards that pass the runner's
// std_epsilon (runners.HasSignal, the rule the runner's update applies), so
// the useful rows of a step are what its useful_rollouts counts, but for
// the carried-in groups an auction with carry trains, whose rows are an
// earlier window's.
func rolloutRows(id cluster.Run, step int32, b *source.Batch, stdEpsilon float64, reuse []results.Rollout) []results.Rollout {
	rows := reuse[:0]
	if cap(rows) < len(b.Rollouts) {
		rows = make([]results.Rollout, len(b.Rollouts))
	}
	rows = rows[:len(b.Rollouts)]
	signal := trainedSignal(b.Rollouts, stdEpsilon)
	for i, r := range b.Rollouts {
		reason := r.Reason
		if r.Accepted {
			reason = ""
		}
		rows[i] = results.Rollout{
			Arm: id.Arm, Seed: id.Seed, Step: step, Window: int64(r.Window + 1),
			Checkpoint: r.Checkpoint, Miner: r.Miner, Group: int32(r.Group), Prompt: r.Prompt,
			Completion: int32(r.Completion), Reward: r.Reward, Tokens: int32(r.Tokens),
			Truncated: r.Truncated, Accepted: r.Accepted, Useful: r.Accepted && signal[r.Group],
			Reason: reason, Arrival: r.Arrival,
		}
	}
	return rows
}

// trainedSignal says, for each group the step trained on (by its index),
// whether its rewards carried signal. Rows of a group share its fate, and
// the rewards a step trains on are the ones the rows hold (the harness's,
// which a market submission must match to be accepted).
func trainedSignal(rollouts []source.Rollout, stdEpsilon float64) map[int]bool {
	rewards := map[int][]float64{}
	for _, r := range rollouts {
		if r.Accepted {
			rewards[r.Group] = append(rewards[r.Group], r.Reward)
		}
	}
	signal := make(map[int]bool, len(rewards))
	for g, rs := range rewards {
		signal[g] = runners.HasSignal(rs, stdEpsilon)
	}
	return signal
}

// stepRow is the steps table's row of one optimizer step. A rollout is
// useful when it carried gradient: vanilla GRPO trains on every group it
// drew, but a zero-variance group has zero advantages and moves nothing, so
// its inference is as wasted as a group the filter discards. For the filter
// and the market every trained group passed the σ gate and the two counts
// agree.
//
// What the step trained on is read from the batch: how many of the n slots
// it filled, and the mean reward of the completions in them.
func stepRow(id cluster.Run, step int32, checkpoint string, lr float64, m runners.StepMetrics, b *source.Batch, n int) results.Step {
	a := b.Account
	window, trainedReward := math.NaN(), math.NaN()
	if len(a.Miners) > 0 {
		window = a.SealTime
	}
	var sum float64
	var completions int
	for _, g := range b.Groups {
		for _, r := range g.Rewards {
			sum += r
		}
		completions += len(g.Rewards)
	}
	if completions > 0 {
		trainedReward = sum / float64(completions)
	}
	usefulGroups := m.Groups - m.Skipped
	usefulRollouts := m.Sequences
	waste := 0.0
	if a.GeneratedRollouts > 0 {
		waste = 1 - float64(usefulRollouts)/float64(a.GeneratedRollouts)
	}
	return results.Step{
		Arm: id.Arm, Seed: id.Seed, Step: step, Checkpoint: checkpoint,
		Loss: m.Loss, GradNorm: m.GradNorm, KL: m.KL, ClipFraction: m.ClipFrac, Entropy: m.Entropy, LR: lr,
		InZoneFraction:    a.InZoneFraction,
		ZeroStdShare:      share(a.ZeroStdGroups, a.GeneratedGroups),
		Truncation:        share(a.TruncatedRollouts, a.GeneratedRollouts),
		Waste:             waste,
		UsefulGroups:      int32(usefulGroups),
		GeneratedGroups:   int32(a.GeneratedGroups),
		LateGroups:        int32(a.Late),
		DuplicateGroups:   int32(a.Duplicate),
		InvalidGroups:     int32(a.Rejected),
		MissedGroups:      int32(a.Missed + a.Discarded),
		InFlightGroups:    int32(a.InFlight),
		OutrankedGroups:   int32(a.Outranked),
		UsefulRollouts:    int64(usefulRollouts),
		GeneratedRollouts: int64(a.GeneratedRollouts),
		Tokens:            a.GeneratedTokens,
		TrainedGroups:     int32(len(b.Groups)),
		BurnedSlots:       int32(max(n-len(b.Groups), 0)),
		WindowSeconds:     window,
		TrainedReward:     trainedReward,
		CarriedGroups:     int32(a.Carried),
		CarriedInGroups:   int32(a.CarriedIn),
		DroppedGroups:     int32(a.Dropped),
	}
}

func share(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}
