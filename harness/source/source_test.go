package source_test

import (
	"sync"
	"testing"

	"github.com/relix-lab/relix/eval"
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

// TestRewarderRemembersGrade: the rewarder's verdicts, remembered or not,
// are eval.Grade's, for answers graded again and again from many
// goroutines (the memo's lock is what go test -race checks here).
func TestRewarderRemembersGrade(t *testing.T) {
	p := sourcetest.Pool(t).Problems[0]
	texts := []string{`\boxed{` + p.Answer + `}`, `\boxed{` + p.Answer + `.0}`, `\boxed{-` + p.Answer + `}`, `no box`,
		`\boxed{\frac{1}{2}}`, `\boxed{0.5}`, `\boxed{` + p.Answer + `} then \boxed{7}`, `\boxed{}`}
	reward := source.NewRewarder(spec.Reward{Truncated: "grade"})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				text := texts[(i+g)%len(texts)]
				want := 0.0
				if eval.Grade(text, p.Answer, eval.GradeOptions{}).Correct {
					want = 1
				}
				if got := reward(&p, runners.Completion{Text: text, Finish: runners.FinishStop}); got != want {
					t.Errorf("reward of %q = %g, Grade says %g", text, got, want)
				}
			}
		}()
	}
	wg.Wait()
}
