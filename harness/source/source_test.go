package source_test

import (
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

func TestRewarder(t *testing.T) {
	p := sourcetest.Pool(t).Problems[0]
	right := runners.Completion{Text: `so \boxed{` + p.Answer + `}`, Finish: runners.FinishStop}
	wrong := runners.Completion{Text: `so \boxed{` + p.Answer + `1}`, Finish: runners.FinishStop}
	cut := right
	cut.Finish = runners.FinishLength
	zero, grade := source.NewRewarder(spec.Reward{Truncated: "zero"}), source.NewRewarder(spec.Reward{Truncated: "grade"})
	for _, c := range []struct {
		r    source.Rewarder
		c    runners.Completion
		want float64
	}{{zero, right, 1}, {zero, wrong, 0}, {zero, cut, 0}, {grade, cut, 1}, {grade, wrong, 0}} {
		if got := c.r(&p, c.c); got != c.want {
			t.Errorf("reward of %q (finish %s) = %g, want %g", c.c.Text, c.c.Finish, got, c.want)
		}
	}
}
