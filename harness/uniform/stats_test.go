package uniform

import (
	"math"
	"testing"

	"github.com/relix-lab/relix/harness/source/sourcetest"
)

func TestFilterWasteIsOneMinusInZone(t *testing.T) {
	cfg := sourcetest.Config(t, sourcetest.FilterArm("filter"), 21)
	f := sourcetest.ExactInZone(t, cfg.Runner.(*sourcetest.Fake), cfg.Pool, cfg.Train, "ck-0")
	as := sourcetest.Run(t, mustNew(t, cfg), 60)
	var used, generated int
	for _, a := range as {
		used += a.UsefulRollouts
		generated += a.GeneratedRollouts
		if math.Abs(a.InZoneFraction-f) > 0.1 {
			t.Fatalf("probe says %.3f in zone, the pool is %.3f", a.InZoneFraction, f)
		}
	}
	waste := 1 - float64(used)/float64(generated)
	hit := sourcetest.Total(as)
	t.Logf("in-zone fraction %.4f: filter hit rate %v, waste %.4f (1 − f = %.4f)", f, hit, waste, 1-f)
	sourcetest.Within(t, "filter waste vs 1 − in-zone fraction", waste, 1-f, hit.SE())
}
