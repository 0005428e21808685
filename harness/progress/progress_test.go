package progress

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/harness"
	"github.com/stretchr/testify/assert"
)

func TestLogLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := NewLog(&buf, clock, 30*time.Second)
	run := cluster.Run{Arm: "market", Seed: 1}
	l.Start(run, 0, 10)
	now = now.Add(10 * time.Second)
	l.Step(run, harness.StepReport{Step: 1, Steps: 10, Accepted: 8, Waste: 0.5, Pass1: math.NaN()})
	now = now.Add(30 * time.Second)
	l.Step(run, harness.StepReport{Step: 4, Steps: 10, Accepted: 32, Waste: 0.25, Pass1: 0.4})
	l.Step(run, harness.StepReport{Step: 10, Steps: 10, Accepted: 80, Waste: 0.2, Pass1: 0.45})
	l.Finish(run, nil)
	l.Finish(cluster.Run{Arm: "uniform", Seed: 2}, errors.New("worker crashed"))
	assert.Equal(t, "market/seed-1: started (10 steps)\n"+
		"market/seed-1: step 4/10 accepted 32  waste 25.0%  pass@1 0.400    eta 1m0s\n"+
		"market/seed-1: step 10/10 accepted 80  waste 20.0%  pass@1 0.450  \n"+
		"market/seed-1: done in 40s\n"+
		"uniform/seed-2: failed: worker crashed\n", buf.String(),
		"one line per interval, and always the last step")
}

func TestTerminalDrawsWithoutBlocking(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	term := NewTerminal(&buf, time.Now)
	run := cluster.Run{Arm: "uniform", Seed: 3}
	term.Start(run, 2, 5)
	for s := 3; s <= 5; s++ {
		term.Step(run, harness.StepReport{Step: s, Steps: 5, Accepted: int64(8 * s), Waste: 0.1, Pass1: 0.3})
	}
	term.Finish(run, nil)
	term.Wait()
	assert.Contains(t, buf.String(), "uniform/seed-3")
}
