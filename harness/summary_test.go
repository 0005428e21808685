package harness

import (
	"fmt"
	"math"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/spec"
)

// scoresOf scores 4 samples of each of n problems, sample j of problem i
// correct when correct(i, j).
func scoresOf(t *testing.T, n int, correct func(i, j int) bool) eval.Scores {
	t.Helper()
	var samples []eval.Sample
	for i := range n {
		for j := range 4 {
			samples = append(samples, eval.Sample{Problem: fmt.Sprintf("p%02d", i), Sample: j, Correct: correct(i, j), Tokens: 10})
		}
	}
	sc, err := eval.Score(samples, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestCrossedRows(t *testing.T) {
	t.Parallel()
	const n = 12
	a, b := map[uint64]eval.Scores{}, map[uint64]eval.Scores{}
	// Arm a beats b by a margin that depends on the training seed.
	for sd, margin := range map[uint64]int{1: 1, 2: 3, 3: 2} {
		a[sd] = scoresOf(t, n, func(i, j int) bool { return (i+j)%4 < margin })
		b[sd] = scoresOf(t, n, func(i, j int) bool { return (i+j)%4 < 1 })
	}
	a[4] = scoresOf(t, n-1, func(i, j int) bool { return true }) // other problems: not paired
	seeds := pairedSeeds(a, b, []uint64{3, 1, 2, 4})
	if fmt.Sprint(seeds) != "[3 1 2]" {
		t.Fatalf("paired seeds %v, want [3 1 2]", seeds)
	}
	rows, err := crossedRows(spec.Pair{"a", "b"}, a, b, seeds, 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	// pass@1 and truncation, per seed (in seeds' order) then over seeds.
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 8", len(rows))
	}
	want := []struct {
		seed  uint64 // 0: over seeds
		value float64
	}{{3, 0.25}, {3, 0}, {1, 0}, {1, 0}, {2, 0.5}, {2, 0}, {0, 0.25}, {0, 0}}
	for i, w := range want {
		r := rows[i]
		if (w.seed == 0) != (r.Seed == nil) || (r.Seed != nil && *r.Seed != w.seed) || math.Abs(r.Value-w.value) > 1e-12 || r.N != n {
			t.Errorf("row %d: %+v, want seed %d value %v", i, r, w.seed, w.value)
		}
		if r.Seed != nil && !math.IsNaN(r.BootLow) {
			t.Errorf("row %d: a per-seed row with a bootstrap", i)
		}
	}
	agg := rows[6]
	// The seeds disagree (0, 0.25, 0.5) while every problem agrees within
	// a seed: the interval is the seeds' spread, t with about 2 df.
	if agg.Method != "paired t over seeds × problems" || !(agg.CILow < 0 && agg.CIHigh > 0.5) || math.IsNaN(agg.BootLow) {
		t.Errorf("over seeds: %+v", agg)
	}
}
