package runners

import "github.com/relix-lab/relix/eval"

// Advantages returns GRPO's group-relative advantages of rewards:
// A_j = r_j − mean (mode "mean") or (r_j − mean) / std (mode "std"), with
// the population std. A group whose std is below eps carries no signal and
// is skipped: Advantages returns nil, false. Every runner uses this formula,
// so the sim and a worker agree on which groups train.
func Advantages(rewards []float64, mode string, eps float64) ([]float64, bool) {
	if !HasSignal(rewards, eps) {
		return nil, false
	}
	mean, std := eval.MeanStd(rewards)
	adv := make([]float64, len(rewards))
	for j, r := range rewards {
		adv[j] = r - mean
		if mode == "std" {
			adv[j] /= std
		}
	}
	return adv, true
}

// HasSignal reports whether a group with these rewards carries signal into a
// step with std_epsilon eps, the rule Advantages applies: the harness
// labels the completions of the groups it does as useful, and so they
// count what StepMetrics.Sequences counts.
func HasSignal(rewards []float64, eps float64) bool {
	if len(rewards) == 0 {
		return false
	}
	_, std := eval.MeanStd(rewards)
	return std >= eps && std != 0
}
