package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/market"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

func mustNew(t testing.TB, cfg source.Config) source.Source {
	return sourcetest.New(t, newSource, cfg)
}

// digest hashes everything a batch holds.
func digest(b *source.Batch) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%#v\n%#v\n%#v", b.Groups, b.Account, b.Rollouts))
}

// mixedMarket has every estimator and every behaviour.
func mixedMarket() spec.Arm {
	return sourcetest.MarketArm("mixed",
		sourcetest.Miners(3, market.Honest, "learned"), sourcetest.Miners(3, market.Honest, "history"), sourcetest.Miners(2, market.Honest, "random"), sourcetest.Miners(2, market.Honest, "oracle"),
		sourcetest.Miners(1, market.Stale, "random"), sourcetest.Miners(1, market.Forger, "learned"), sourcetest.Miners(1, market.Copycat, "random"))
}

// trace runs a source from step from to step to, applying the deltas of
// the steps before from first, and returns each step's batch digest and
// delta.
func trace(t *testing.T, arm spec.Arm, deltas [][]byte, from, to int) ([][32]byte, [][]byte) {
	t.Helper()
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	tr.Cooldown = 3
	src := mustNew(t, source.Config{Arm: arm, Train: tr, Seed: 9, Pool: p, Runner: sourcetest.NewFake(p)})
	for step, d := range deltas[:from] {
		if err := src.Apply(step, d); err != nil {
			t.Fatal(err)
		}
	}
	var digests [][32]byte
	var out [][]byte
	for step := from; step < to; step++ {
		// The trainer moves every step; a checkpoint is published every 3.
		current, published := fmt.Sprintf("ck-%d", step), fmt.Sprintf("ck-%d", step/3*3)
		b, err := src.Next(context.Background(), step, current, published)
		if err != nil {
			t.Fatal(err)
		}
		d, err := src.Delta()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, digest(b))
		out = append(out, d)
	}
	return digests, out
}

func sameTrace(t *testing.T, what string, d1, d2 [][32]byte, s1, s2 [][]byte) {
	t.Helper()
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("%s: batch %d differs", what, i)
		}
		if !bytes.Equal(s1[i], s2[i]) {
			t.Fatalf("%s: delta of batch %d differs:\n%x\n%x", what, i, s1[i], s2[i])
		}
	}
}

func TestDeterministicWhateverGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, arm := range []spec.Arm{mixedMarket(), sourcetest.FilterArm("filter"), {Name: "uniform", Source: "uniform", Filter: "none"}} {
		runtime.GOMAXPROCS(1)
		d1, s1 := trace(t, arm, nil, 0, 9)
		runtime.GOMAXPROCS(4)
		d4, s4 := trace(t, arm, nil, 0, 9)
		sameTrace(t, arm.Name+" with GOMAXPROCS 1 and 4", d1, d4, s1, s4)
	}
}

// TestResume resumes a source after step k by applying the deltas of steps
// 0..k-1 to a new one: every later batch and delta is the uninterrupted
// run's, for every k, which is what a resumed run relies on.
func TestResume(t *testing.T) {
	for _, arm := range []spec.Arm{mixedMarket(), sourcetest.FilterArm("filter")} {
		d, s := trace(t, arm, nil, 0, 10)
		for _, k := range []int{1, 5, 9} {
			d2, s2 := trace(t, arm, s, k, 10)
			sameTrace(t, fmt.Sprintf("%s resumed after step %d", arm.Name, k), d[k:], d2, s[k:], s2)
		}
	}
}

func TestApplyRejectsAnotherSource(t *testing.T) {
	p := sourcetest.Pool(t)
	_, s := trace(t, mixedMarket(), nil, 0, 1)
	src := mustNew(t, source.Config{Arm: sourcetest.FilterArm("filter"), Train: sourcetest.Train(), Pool: p, Runner: sourcetest.NewFake(p)})
	want := `source delta: a delta of a "market" source; want uniform`
	if err := src.Apply(0, s[0]); err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	other := mixedMarket()
	other.Market.Miners[0].Count++
	m := mustNew(t, source.Config{Arm: other, Train: sourcetest.Train(), Pool: p, Runner: sourcetest.NewFake(p)})
	want = "source delta: a market of 13 miners; this one has 14"
	if err := m.Apply(0, s[0]); err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
}

func TestNewSourceErrors(t *testing.T) {
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	for name, c := range map[string]struct {
		cfg  source.Config
		want string
	}{
		"none":      {source.Config{Arm: spec.Arm{Name: "base", Source: "none"}, Train: sourcetest.Train(), Pool: p, Runner: f}, `source: arm "base" has source "none"; want uniform or market`},
		"no pool":   {source.Config{Arm: sourcetest.FilterArm("u"), Train: sourcetest.Train(), Runner: f}, "source: no training problems"},
		"no honest": {source.Config{Arm: sourcetest.MarketArm("m", sourcetest.Miners(2, market.Stale, "random")), Train: sourcetest.Train(), Pool: p, Runner: f}, `source: market arm "m" has no honest miner: no window could ever fill`},
		"oracle without oracle": {source.Config{Arm: sourcetest.MarketArm("m", sourcetest.Miners(2, market.Honest, "oracle")), Train: sourcetest.Train(), Pool: p, Runner: sourcetest.NoOracle{Runner: f}},
			`source: arm "m": market.miners[0]: the oracle estimator needs a runner that knows true success probabilities (runners.Oracle, as the sim does); runner sourcetest.NoOracle does not`},
		"cap": {source.Config{Arm: spec.Arm{Name: "u", Source: "uniform", Filter: "dynamic"}, Train: sourcetest.Train(), Pool: p, Runner: f}, `source: arm "u": max_gen_rounds is 0; want at least 1 with filter dynamic`},
	} {
		_, err := newSource(c.cfg)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", name, err, c.want)
		}
	}
}

func TestRandomMarketMatchesFilter(t *testing.T) {
	cfg := sourcetest.Config(t, sourcetest.FilterArm("filter"), 22)
	f := sourcetest.ExactInZone(t, cfg.Runner.(*sourcetest.Fake), cfg.Pool, cfg.Train, "ck-0")
	filter := sourcetest.Total(sourcetest.Run(t, mustNew(t, cfg), 60))
	random := sourcetest.Total(sourcetest.Run(t, mustNew(t, sourcetest.Config(t, sourcetest.MarketArm("market", sourcetest.Miners(16, market.Honest, "random")), 22)), 60))
	t.Logf("in-zone fraction %.4f: filter %v, random market %v", f, filter, random)
	sourcetest.Within(t, "random market vs filter", random.P(), filter.P(), math.Hypot(random.SE(), filter.SE()))
	sourcetest.Within(t, "random market vs in-zone fraction", random.P(), f, random.SE())
}
