package zone

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// The tests run the committed experiments/zone-sweep.yaml, shrunk with
// --set overrides so that each finishes in seconds.

func load(t testing.TB, sets ...string) (*spec.Spec, *dataset.Set) {
	t.Helper()
	s, err := spec.Load("../../experiments/zone-sweep.yaml", sets...)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Dataset.Train.Generated
	pool, err := dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix}, dataset.Train)
	if err != nil {
		t.Fatal(err)
	}
	return s, pool
}

func sweep(t testing.TB, s *spec.Spec, pool *dataset.Set, jobs int) *Result {
	t.Helper()
	res, err := Sweep(context.Background(), Config{Backends: simOnly, Spec: s, Pool: pool, Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// aggregate returns the aggregate point of selector at level li.
func aggregate(t testing.TB, res *Result, li int, selector string) Point {
	t.Helper()
	for _, p := range res.Points {
		if p.Target == res.Levels[li].Target && p.Selector == selector && p.Seed == nil {
			return p
		}
	}
	t.Fatalf("no aggregate point for %s at %g", selector, res.Levels[li].Target)
	return Point{}
}

// TestFilterWasteIsOneMinusInZone: with uniform draws and the reactive
// filter, a group is in the zone with probability f, the pool's in-zone
// fraction, so the filter's expected waste is 1 − f. At every
// point of the default grid, the measured waste's interval across seeds
// must contain 1 − f. Fifteen 95% intervals would all cover by chance only
// about half the time, so each is widened to 1 − 0.05/15 (Bonferroni): the
// test then fails by chance at most 5% of the time, whatever the seeds.
func TestFilterWasteIsOneMinusInZone(t *testing.T) {
	if raceEnabled {
		t.Skip("statistics need many windows; skipped under the race detector")
	}
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=2000", "sweep.selectors=[{name: filter, kind: filter}]",
		"sweep.seeds=[1, 2, 3, 4, 5]", "sweep.windows=20", "sweep.warmup=0")
	res := sweep(t, s, pool, 0)
	if len(res.Levels) != 15 {
		t.Fatalf("%d levels; want the default grid's 15", len(res.Levels))
	}
	n := float64(len(s.Sweep.Seeds))
	wide := tQuantile(1-0.025/float64(len(res.Levels)), n-1) / tQuantile(0.975, n-1)
	outside95 := 0
	for li, lv := range res.Levels {
		p := aggregate(t, res, li, "filter")
		want := 1 - lv.Achieved
		half := (p.WasteCIHigh - p.WasteCILow) / 2
		if math.Abs(p.Waste-want) > wide*half {
			t.Errorf("in-zone %.4f: filter waste %.4f, interval ±%.4f (widened ±%.4f), does not contain 1 − f = %.4f",
				lv.Achieved, p.Waste, half, wide*half, want)
		}
		if want < p.WasteCILow || want > p.WasteCIHigh {
			outside95++
		}
		if p.WasteCarried != p.Waste || !math.IsNaN(p.Multiplier) || !math.IsNaN(p.LateShare) {
			t.Errorf("in-zone %.4f: the filter has no in-flight work and no multiplier: %+v", lv.Achieved, p)
		}
	}
	t.Logf("1 − f outside the plain 95%% interval at %d of %d points (expected about %.2f)", outside95, len(res.Levels), 0.05*float64(len(res.Levels)))
}

// TestOracleBoundsOtherMarkets: a miner that knows every prompt's true
// success probability picks the candidate most likely in the zone, so its
// market wastes less than any market whose miners guess, at every level.
// A blur of 0.5 on the logit costs the hit rate about as much as this
// test's few windows can resolve (counted in full, in-flight work, a fixed
// cost per window, hides the rest), so the bound is checked against the
// markets that guess worse: random, history, learned and noise ≥ 1.
func TestOracleBoundsOtherMarkets(t *testing.T) {
	if raceEnabled {
		t.Skip("statistics need many windows; skipped under the race detector")
	}
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=2000", "sweep.grid=[0.01, 0.05, 0.15]",
		"sweep.seeds=[1, 2]", "sweep.windows=6", "sweep.warmup=6")
	res := sweep(t, s, pool, 0)
	for li, lv := range res.Levels {
		oracle := aggregate(t, res, li, "oracle")
		for _, sel := range s.Sweep.Selectors {
			if sel.Kind != "market" || sel.Name == "oracle" {
				continue
			}
			p := aggregate(t, res, li, sel.Name)
			blurred := sel.Estimator.Kind == "oracle" && sel.Estimator.Noise < 1
			if !blurred && oracle.Waste > p.Waste {
				t.Errorf("in-zone %.2f: the oracle market wastes %.4f, more than %s's %.4f", lv.Target, oracle.Waste, sel.Name, p.Waste)
			}
			if !blurred && oracle.WasteCarried > p.WasteCarried {
				t.Errorf("in-zone %.2f: carried over, the oracle market wastes %.4f, more than %s's %.4f", lv.Target, oracle.WasteCarried, sel.Name, p.WasteCarried)
			}
		}
		if f := aggregate(t, res, li, "filter"); oracle.Multiplier <= 1 || oracle.Waste >= f.Waste {
			t.Errorf("in-zone %.2f: the oracle market (waste %.4f, ×%.2f) does not beat the filter (%.4f)", lv.Target, oracle.Waste, oracle.Multiplier, f.Waste)
		}
	}
}

// canon prints a result with the seeds' values rather than their addresses.
func canon(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%+v\n", res.Levels, res.Runs)
	for _, p := range res.Points {
		seed := "all"
		if p.Seed != nil {
			seed = fmt.Sprint(*p.Seed)
		}
		p.Seed = nil
		fmt.Fprintf(&b, "%s %+v\n", seed, p)
	}
	return b.String()
}

func TestDeterministicWhateverJobsAndGOMAXPROCS(t *testing.T) {
	s, pool := load(t, "dataset.train.generated.size=500", "sweep.grid=[0.05, 0.12]",
		"sweep.selectors=[{name: filter, kind: filter}, {name: learned, kind: market, estimator: {kind: learned}}, {name: oracle-1, kind: market, estimator: {kind: oracle, noise: 1}}]",
		"sweep.seeds=[1, 2]", "sweep.windows=2", "sweep.warmup=2")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	one := canon(sweep(t, s, pool, 1))
	runtime.GOMAXPROCS(4)
	four := canon(sweep(t, s, pool, 4))
	if one != four {
		t.Fatalf("the sweep differs with 1 job on 1 thread and 4 jobs on 4:\n%s\n%s", one, four)
	}
}

// TestLevelMatchesSampledInZoneShare checks the search and the exact
// in-zone fraction against sampling: one group of G per prompt from the
// level's checkpoint, graded by the real grader, passes the σ gate about
// Achieved of the time.
func TestLevelMatchesSampledInZoneShare(t *testing.T) {
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=2000")
	tr := s.Train
	ctx := context.Background()
	var shifts []float64
	for _, target := range []float64{0.03, 0.08, 0.14} {
		lv, r, err := findLevel(ctx, simOnly, s.Runner, tr, pool, target)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(lv.Achieved/target-1) > levelTolerance {
			t.Errorf("target %g: achieved %g", target, lv.Achieved)
		}
		shifts = append(shifts, lv.Shift)
		in, n := sampledInZone(t, r, s, pool, 4)
		share := float64(in) / float64(n)
		se := math.Sqrt(lv.Achieved * (1 - lv.Achieved) / float64(n))
		if math.Abs(share-lv.Achieved) > 4*se {
			t.Errorf("target %g: %d of %d sampled groups in the zone (%.4f); the exact fraction is %.4f (4 SE = %.4f)", target, in, n, share, lv.Achieved, 4*se)
		}
		r.Close()
	}
	for i := 1; i < len(shifts); i++ {
		if !(shifts[i] < shifts[i-1]) {
			t.Errorf("a wider zone needs easier problems: shifts %v", shifts)
		}
	}
}

func TestLevelErrors(t *testing.T) {
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=300")
	ctx := context.Background()
	if _, _, err := findLevel(ctx, simOnly, s.Runner, s.Train, pool, 0.9); err == nil || !strings.Contains(err.Error(), "no difficulty offset") {
		t.Errorf("an unreachable in-zone fraction: got %v", err)
	}
	w := s.Runner
	w.Kind = "worker"
	if _, _, err := findLevel(ctx, simOnly, w, s.Train, pool, 0.05); err == nil || !strings.Contains(err.Error(), "needs runner kind sim") {
		t.Errorf("a worker runner: got %v", err)
	}
}

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=300", "arms=[{name: filter, source: uniform, filter: dynamic}]")
	_, err := Sweep(context.Background(), Config{Backends: simOnly, Spec: s, Pool: pool})
	if err == nil || !strings.Contains(err.Error(), "the spec has none") {
		t.Errorf("no market arm to copy: got %v", err)
	}
	s, _ = load(t, "dataset.train.generated.size=300", "sweep.selectors=[{name: filter, kind: filter}]", "arms=[{name: filter, source: uniform, filter: dynamic}]")
	if _, err := newPlan(s); err != nil {
		t.Errorf("a filter-only sweep needs no market arm: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=300")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Sweep(ctx, Config{Backends: simOnly, Spec: s, Pool: pool}); err != context.Canceled {
		t.Errorf("got %v; want context.Canceled", err)
	}
}

// sampledInZone generates reps groups of G for every prompt of the pool at
// the runner's base checkpoint and counts those whose training rewards pass
// the σ gate.
func sampledInZone(t *testing.T, r runners.Runner, s *spec.Spec, pool *dataset.Set, reps int) (in, n int) {
	t.Helper()
	reward := source.NewRewarder(s.Train.Reward)
	prompts := make([]runners.Prompt, pool.Len())
	for i := range pool.Problems {
		prompts[i] = runners.Prompt{ID: pool.Problems[i].ID, Text: pool.Problems[i].Statement}
	}
	g := s.Train.GroupSize
	rewards := make([]float64, g)
	for rep := range reps {
		smp := runners.Sampling{Temperature: s.Train.Sampling.Temperature, TopP: s.Train.Sampling.TopP,
			MaxTokens: s.Train.Sampling.MaxTokens, Seed: uint64(1000 + rep)}
		comps, err := r.Generate(context.Background(), r.Base(), prompts, g, smp)
		if err != nil {
			t.Fatal(err)
		}
		for i := range comps {
			for j, c := range comps[i] {
				rewards[j] = reward(&pool.Problems[i], c)
			}
			if eval.InZone(rewards, s.Train.SigmaMin) {
				in++
			}
			n++
		}
	}
	return in, n
}

// An auction selector is a market of the difficulty auction: its points
// carry the market's shares and a multiplier over the filter, and no window
// trains on more than N groups.
func TestAuctionSelectors(t *testing.T) {
	t.Parallel()
	s, pool := load(t, "dataset.train.generated.size=2000", "sweep.grid=[0.05]",
		"sweep.seeds=[1]", "sweep.windows=3", "sweep.warmup=3")
	res := sweep(t, s, pool, 0)
	seen := 0
	for _, p := range res.Points {
		if p.Kind != "auction" || p.Seed == nil {
			continue
		}
		seen++
		if math.IsNaN(p.Multiplier) || !(p.InFlightShare > 0 && p.InFlightShare < 1) {
			t.Errorf("%s: multiplier %g, in-flight share %g; want a market's", p.Selector, p.Multiplier, p.InFlightShare)
		}
		if p.UsefulGroups > int64(s.Train.GroupsPerStep*p.Windows) {
			t.Errorf("%s: %d groups trained on in %d windows of %d", p.Selector, p.UsefulGroups, p.Windows, s.Train.GroupsPerStep)
		}
	}
	if seen != 2 {
		t.Fatalf("%d auction points; the committed sweep has two auction selectors", seen)
	}
}
