package runners

import "github.com/relix-lab/relix/eval"

// Advantages returns GRPO's group-relative advantages of rewards:
// A_j = r_j − mean (mode "mean") or (r_j − mean) / std (mode "std"), with
// the population std. A group whose std is below eps carries no signal and
// is skipped: Advantages returns nil, false. Every runner uses this formula,
// so the sim and a worker agree on which groups train.
func Advantages(rewards []float64, mode string, eps float64) ([]float64, bool) {
	if len(rewards) == 0 {
		return nil, false
	}
	mean, std := eval.MeanStd(rewards)
	if std < eps || std == 0 {
		return nil, false
	}
	adv := make([]float64, len(rewards))
	for j, r := range rewards {
		adv[j] = r - mean
		if mode == "std" {
			adv[j] /= std
		}
	}
	return adv, true
}
