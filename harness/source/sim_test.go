package source

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

// The sim tests run the sources on the embedded simulator with the
// calibrated base policy and the training pool of experiments/paired.yaml.

var (
	pairedOnce sync.Once
	paired     *spec.Spec
	pairedPool *dataset.Set
	pairedErr  error
)

func loadPaired(t testing.TB) (*spec.Spec, *dataset.Set) {
	t.Helper()
	pairedOnce.Do(func() {
		paired, pairedErr = spec.Load("../../experiments/paired.yaml")
		if pairedErr != nil {
			return
		}
		g := paired.Dataset.Train.Generated
		pairedPool, pairedErr = dataset.Generate(dataset.GeneratorConfig{Size: g.Size, Seed: g.Seed, Mix: g.Mix}, dataset.Train)
	})
	if pairedErr != nil {
		t.Fatal(pairedErr)
	}
	return paired, pairedPool
}

func newSim(t testing.TB) (*spec.Spec, *dataset.Set, *sim.Runner) {
	t.Helper()
	s, p := loadPaired(t)
	r, err := sim.New(s.Runner.Sim, runners.Options{Problems: []*dataset.Set{p}})
	if err != nil {
		t.Fatal(err)
	}
	return s, p, r
}

// TestSimMarketTrains trains the sim for a few steps from a market with
// every adversary, publishing every other step, and checks the accounts and
// that no adversary ever gets a group in.
func TestSimMarketTrains(t *testing.T) {
	s, p, r := newSim(t)
	tr := s.Train
	tr.PublishEvery = 2
	arm := marketArm("market", miners(6, Honest, "learned"), miners(2, Honest, "oracle"),
		miners(1, Stale, "random"), miners(1, Forger, "history"), miners(1, Copycat, "random"))
	arm.Market.Candidates = 64
	src := mustNew(t, Config{Arm: arm, Train: tr, Seed: 1, Pool: p, Runner: r})
	ctx := context.Background()
	current, published := r.Base(), r.Base()
	reasons := map[string]int{}
	for step := range 8 {
		b, err := src.Next(ctx, step, current, published)
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, b, tr)
		a := b.Account
		if a.Capped || a.InZoneMethod != InZoneOracle || !a.UpperBound || a.Checkpoint != published {
			t.Fatalf("step %d: capped %v, in-zone by %q, upper bound %v, checkpoint %s", step, a.Capped, a.InZoneMethod, a.UpperBound, a.Checkpoint)
		}
		for _, ro := range b.Rollouts {
			if ro.Completion == 0 && ro.Miner[:6] != Honest {
				reasons[ro.Miner[:len(ro.Miner)-3]+" "+ro.Reason]++
				if ro.Accepted {
					t.Fatalf("step %d: %s got a group accepted", step, ro.Miner)
				}
			}
		}
		t.Logf("step %d: in zone %.3f, %d groups generated, hit rate %.3f, waste %.3f, sealed at %.0f s, rejections %+v",
			step, a.InZoneFraction, a.GeneratedGroups, a.HitRate, a.Waste, a.SealTime, a.Rejections)
		next, _, err := r.Step(ctx, current, b.Groups, runners.NewHyper(tr.GRPO, step, 300, published))
		if err != nil {
			t.Fatal(err)
		}
		current = next
		if (step+1)%tr.PublishEvery == 0 {
			published = current
		}
	}
	t.Log(reasons)
	for reason := range reasons {
		switch reason {
		case "stale rejected:proof", "forger rejected:rewards", "forger rejected:proof", "copycat duplicate":
		case "stale missed", "stale in-flight", "stale late", "forger in-flight", "forger late",
			"copycat missed", "copycat in-flight", "copycat late":
		default:
			t.Errorf("unexpected fate %q", reason)
		}
	}
	for _, want := range []string{"stale rejected:proof", "forger rejected:proof", "copycat duplicate"} {
		if reasons[want] == 0 {
			t.Errorf("no %q in 8 windows", want)
		}
	}
}

// TestSimUniform checks the uniform sources on the sim: the filter keeps
// only groups in the zone; without it, every group drawn is kept.
func TestSimUniform(t *testing.T) {
	s, p, r := newSim(t)
	ctx := context.Background()
	for _, arm := range []spec.Arm{{Name: "uniform", Source: "uniform", Filter: "none"}, filterArm("filter")} {
		src := mustNew(t, Config{Arm: arm, Train: s.Train, Seed: 1, Pool: p, Runner: r})
		for step := range 3 {
			b, err := src.Next(ctx, step, r.Base(), r.Base())
			if err != nil {
				t.Fatal(err)
			}
			checkAccount(t, b, s.Train)
			if len(b.Groups) != s.Train.GroupsPerStep {
				t.Fatalf("%s step %d: %d groups", arm.Name, step, len(b.Groups))
			}
			t.Logf("%s step %d: %d generated, in zone %.3f (probe %.3f), waste %.3f, truncated %d of %d",
				arm.Name, step, b.Account.GeneratedGroups, b.Account.HitRate, b.Account.InZoneFraction, b.Account.Waste,
				b.Account.TruncatedRollouts, b.Account.GeneratedRollouts)
		}
	}
}

// BenchmarkMarketWindow simulates windows of the reference market size:
// K = 32 honest learned miners (1,000 tokens/s, 0.5 s latency), N = 8,
// G = 8, 64 candidates, on the sim's calibrated base policy (max 8192
// tokens). Cooldown 0 keeps the pool from running out over b.N windows.
func BenchmarkMarketWindow(b *testing.B) {
	s, p, r := newSim(b)
	tr := s.Train
	tr.Cooldown = 0
	arm := marketArm("market", miners(32, Honest, "learned"))
	arm.Market.Candidates = 64
	src, err := NewMarket(Config{Arm: arm, Train: tr, Seed: 1, Pool: p, Runner: r})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var groups, completions, tokens int64
	start := time.Now()
	step := 0
	for b.Loop() {
		bt, err := src.Window(ctx, step, r.Base())
		if err != nil {
			b.Fatal(err)
		}
		groups += int64(bt.Account.GeneratedGroups)
		completions += int64(bt.Account.GeneratedRollouts)
		tokens += bt.Account.GeneratedTokens
		step++
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(step)/elapsed, "windows/s")
	b.ReportMetric(float64(groups)/float64(step), "groups/window")
	b.ReportMetric(float64(completions)/elapsed, "completions/s")
	_ = fmt.Sprint(tokens)
}

// TestSimEstimators is the statistical check end to end: on the sim's
// calibrated base policy (cooldown 0, a fixed checkpoint), learned miners
// beat random ones once they have seen a few windows, and oracle miners
// bound both.
func TestSimEstimators(t *testing.T) {
	s, p, r := newSim(t)
	tr := s.Train
	tr.Cooldown = 0
	ctx := context.Background()
	const windows = 40
	late := map[string]rate{}
	var f float64
	for _, kind := range []string{"random", "learned", "oracle"} {
		arm := marketArm(kind, miners(16, Honest, kind))
		arm.Market.Candidates = 64
		src := mustNew(t, Config{Arm: arm, Train: tr, Seed: 2, Pool: p, Runner: r})
		var l rate
		for step := range windows {
			b, err := src.Next(ctx, step, r.Base(), r.Base())
			if err != nil {
				t.Fatal(err)
			}
			if step >= windows/2 {
				l.add(b.Account)
			}
			f = b.Account.InZoneFraction
		}
		late[kind] = l
		t.Logf("%-8s windows %d–%d: hit rate %v", kind, windows/2+1, windows, l)
	}
	t.Logf("in-zone fraction %.4f", f)
	rnd, lrn, orc := late["random"], late["learned"], late["oracle"]
	within(t, "random market vs in-zone fraction", rnd.p(), f, rnd.se())
	if lrn.p()-rnd.p() < 3*math.Hypot(lrn.se(), rnd.se()) {
		t.Errorf("learned %v does not beat random %v", lrn, rnd)
	}
	if orc.p()-lrn.p() < 3*math.Hypot(lrn.se(), orc.se()) {
		t.Errorf("oracle %v does not bound learned %v", orc, lrn)
	}
}
