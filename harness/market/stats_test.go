package market

import (
	"math"
	"testing"

	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

func TestEstimatorsLearn(t *testing.T) {
	const windows = 60
	cfg := sourcetest.Config(t, sourcetest.MarketArm("random", sourcetest.Miners(16, Honest, "random")), 23)
	f := sourcetest.ExactInZone(t, cfg.Runner.(*sourcetest.Fake), cfg.Pool, cfg.Train, "ck-0")
	random := sourcetest.Total(sourcetest.Run(t, mustNew(t, cfg), windows))
	curves := map[string][]source.Account{}
	for _, kind := range []string{"history", "learned", "oracle"} {
		as := sourcetest.Run(t, mustNew(t, sourcetest.Config(t, sourcetest.MarketArm(kind, sourcetest.Miners(16, Honest, kind)), 23)), windows)
		curves[kind] = as
		if as[0].UpperBound != (kind == "oracle") {
			t.Errorf("%s market: upper bound %v", kind, as[0].UpperBound)
		}
	}
	early := func(k string) sourcetest.Rate { return sourcetest.Total(curves[k][:5]) }
	late := func(k string) sourcetest.Rate { return sourcetest.Total(curves[k][windows-20:]) }
	t.Logf("in-zone fraction %.4f; random market %v", f, random)
	for _, k := range []string{"history", "learned", "oracle"} {
		t.Logf("%-8s windows 1–5 %v, windows %d–%d %v", k, early(k), windows-19, windows, late(k))
	}
	for _, k := range []string{"history", "learned"} {
		e, l := early(k), late(k)
		if l.P()-e.P() < 3*math.Hypot(e.SE(), l.SE()) {
			t.Errorf("%s: hit rate did not rise: %v then %v", k, e, l)
		}
		if l.P()-random.P() < 3*math.Hypot(l.SE(), random.SE()) {
			t.Errorf("%s: %v does not beat random %v", k, l, random)
		}
		o := late("oracle")
		if o.P() < l.P()-3*math.Hypot(l.SE(), o.SE()) {
			t.Errorf("oracle %v does not bound %s %v", o, k, l)
		}
	}
	if o := sourcetest.Total(curves["oracle"]); o.P()-random.P() < 3*math.Hypot(o.SE(), random.SE()) {
		t.Errorf("oracle %v does not beat random %v", o, random)
	}
}
