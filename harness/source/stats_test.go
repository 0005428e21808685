package source

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
)

// The statistical tests run on the fake runner at a fixed checkpoint with
// cooldown 0, so the pool, and its in-zone fraction f, is the same at every
// step: every selector is compared on the same ground. Each proportion is a
// count of groups, and its standard error the binomial one; a test fails
// beyond 3 standard errors (the seeds are fixed, so a test is either always
// within or never).

// rate is a hit rate over groups.
type rate struct{ in, n int }

func (r *rate) add(a Account) { r.in += a.InZoneGroups; r.n += a.GeneratedGroups }
func (r rate) p() float64     { return float64(r.in) / float64(r.n) }
func (r rate) se() float64    { return math.Sqrt(r.p() * (1 - r.p()) / float64(r.n)) }
func (r rate) String() string {
	return fmt.Sprintf("%.4f ± %.4f (95%% CI, %d groups)", r.p(), 1.96*r.se(), r.n)
}

// run runs steps windows (or steps) of a source at ck-0 and returns the hit
// rate of each.
func run(t *testing.T, src Source, steps int) []Account {
	t.Helper()
	out := make([]Account, steps)
	for step := range steps {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		out[step] = b.Account
	}
	return out
}

func total(as []Account) rate {
	var r rate
	for _, a := range as {
		r.add(a)
	}
	return r
}

func within(t *testing.T, what string, a, b, se float64) {
	t.Helper()
	if math.Abs(a-b) > 3*se {
		t.Errorf("%s: %.4f vs %.4f differ by %.1f standard errors", what, a, b, math.Abs(a-b)/se)
	}
}

func statsConfig(t *testing.T, arm spec.Arm, s uint64) Config {
	p := testPool(t)
	return Config{Arm: arm, Train: testTrain(), Seed: s, Pool: p, Runner: newFake(p)}
}

func TestFilterWasteIsOneMinusInZone(t *testing.T) {
	cfg := statsConfig(t, filterArm("filter"), 21)
	f := exactInZone(t, cfg.Runner.(*fake), cfg.Pool, cfg.Train, "ck-0")
	as := run(t, mustNew(t, cfg), 60)
	var used, generated int
	for _, a := range as {
		used += a.UsefulRollouts
		generated += a.GeneratedRollouts
		if math.Abs(a.InZoneFraction-f) > 0.1 {
			t.Fatalf("probe says %.3f in zone, the pool is %.3f", a.InZoneFraction, f)
		}
	}
	waste := 1 - float64(used)/float64(generated)
	hit := total(as)
	t.Logf("in-zone fraction %.4f: filter hit rate %v, waste %.4f (1 − f = %.4f)", f, hit, waste, 1-f)
	within(t, "filter waste vs 1 − in-zone fraction", waste, 1-f, hit.se())
}

func TestRandomMarketMatchesFilter(t *testing.T) {
	cfg := statsConfig(t, filterArm("filter"), 22)
	f := exactInZone(t, cfg.Runner.(*fake), cfg.Pool, cfg.Train, "ck-0")
	filter := total(run(t, mustNew(t, cfg), 60))
	market := total(run(t, mustNew(t, statsConfig(t, marketArm("market", miners(16, Honest, "random")), 22)), 60))
	t.Logf("in-zone fraction %.4f: filter %v, random market %v", f, filter, market)
	within(t, "random market vs filter", market.p(), filter.p(), math.Hypot(market.se(), filter.se()))
	within(t, "random market vs in-zone fraction", market.p(), f, market.se())
}

func TestEstimatorsLearn(t *testing.T) {
	const windows = 60
	cfg := statsConfig(t, marketArm("random", miners(16, Honest, "random")), 23)
	f := exactInZone(t, cfg.Runner.(*fake), cfg.Pool, cfg.Train, "ck-0")
	random := total(run(t, mustNew(t, cfg), windows))
	curves := map[string][]Account{}
	for _, kind := range []string{"history", "learned", "oracle"} {
		as := run(t, mustNew(t, statsConfig(t, marketArm(kind, miners(16, Honest, kind)), 23)), windows)
		curves[kind] = as
		if as[0].UpperBound != (kind == "oracle") {
			t.Errorf("%s market: upper bound %v", kind, as[0].UpperBound)
		}
	}
	early := func(k string) rate { return total(curves[k][:5]) }
	late := func(k string) rate { return total(curves[k][windows-20:]) }
	t.Logf("in-zone fraction %.4f; random market %v", f, random)
	for _, k := range []string{"history", "learned", "oracle"} {
		t.Logf("%-8s windows 1–5 %v, windows %d–%d %v", k, early(k), windows-19, windows, late(k))
	}
	for _, k := range []string{"history", "learned"} {
		e, l := early(k), late(k)
		if l.p()-e.p() < 3*math.Hypot(e.se(), l.se()) {
			t.Errorf("%s: hit rate did not rise: %v then %v", k, e, l)
		}
		if l.p()-random.p() < 3*math.Hypot(l.se(), random.se()) {
			t.Errorf("%s: %v does not beat random %v", k, l, random)
		}
		o := late("oracle")
		if o.p() < l.p()-3*math.Hypot(l.se(), o.se()) {
			t.Errorf("oracle %v does not bound %s %v", o, k, l)
		}
	}
	if o := total(curves["oracle"]); o.p()-random.p() < 3*math.Hypot(o.se(), random.se()) {
		t.Errorf("oracle %v does not beat random %v", o, random)
	}
}
