package market

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

func mustNew(t testing.TB, cfg source.Config) *Source { return sourcetest.New(t, New, cfg) }

// TestSimMarketTrains trains the sim for a few steps from a market with
// every adversary, publishing every other step, and checks the accounts and
// that no adversary ever gets a group in.
func TestSimMarketTrains(t *testing.T) {
	s, p, r := sourcetest.NewSim(t)
	tr := s.Train
	tr.PublishEvery = 2
	arm := sourcetest.MarketArm("market", sourcetest.Miners(6, Honest, "learned"), sourcetest.Miners(2, Honest, "oracle"),
		sourcetest.Miners(1, Stale, "random"), sourcetest.Miners(1, Forger, "history"), sourcetest.Miners(1, Copycat, "random"))
	arm.Market.Candidates = 64
	src := mustNew(t, source.Config{Arm: arm, Train: tr, Seed: 1, Pool: p, Runner: r})
	ctx := context.Background()
	current, published := r.Base(), r.Base()
	reasons := map[string]int{}
	for step := range 8 {
		b, err := src.Next(ctx, step, current, published)
		if err != nil {
			t.Fatal(err)
		}
		sourcetest.CheckAccount(t, b, tr)
		a := b.Account
		if a.Capped || a.InZoneMethod != source.InZoneOracle || !a.UpperBound || a.Checkpoint != published {
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

// BenchmarkMarketWindow simulates windows of the reference market size:
// K = 32 honest learned sourcetest.Miners (1,000 tokens/s, 0.5 s latency), N = 8,
// G = 8, 64 candidates, on the sim's calibrated base policy (max 8192
// tokens). Cooldown 0 keeps the pool from running out over b.N windows.
func BenchmarkMarketWindow(b *testing.B) {
	s, p, r := sourcetest.NewSim(b)
	tr := s.Train
	tr.Cooldown = 0
	arm := sourcetest.MarketArm("market", sourcetest.Miners(32, Honest, "learned"))
	arm.Market.Candidates = 64
	src, err := New(source.Config{Arm: arm, Train: tr, Seed: 1, Pool: p, Runner: r})
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
// calibrated base policy (cooldown 0, a fixed checkpoint), learned sourcetest.Miners
// beat random ones once they have seen a few windows, and oracle sourcetest.Miners
// bound both.
func TestSimEstimators(t *testing.T) {
	s, p, r := sourcetest.NewSim(t)
	tr := s.Train
	tr.Cooldown = 0
	ctx := context.Background()
	const windows = 40
	late := map[string]sourcetest.Rate{}
	var f float64
	for _, kind := range []string{"random", "learned", "oracle"} {
		arm := sourcetest.MarketArm(kind, sourcetest.Miners(16, Honest, kind))
		arm.Market.Candidates = 64
		src := mustNew(t, source.Config{Arm: arm, Train: tr, Seed: 2, Pool: p, Runner: r})
		var l sourcetest.Rate
		for step := range windows {
			b, err := src.Next(ctx, step, r.Base(), r.Base())
			if err != nil {
				t.Fatal(err)
			}
			if step >= windows/2 {
				l.Add(b.Account)
			}
			f = b.Account.InZoneFraction
		}
		late[kind] = l
		t.Logf("%-8s windows %d–%d: hit rate %v", kind, windows/2+1, windows, l)
	}
	t.Logf("in-zone fraction %.4f", f)
	rnd, lrn, orc := late["random"], late["learned"], late["oracle"]
	sourcetest.Within(t, "random market vs in-zone fraction", rnd.P(), f, rnd.SE())
	if lrn.P()-rnd.P() < 3*math.Hypot(lrn.SE(), rnd.SE()) {
		t.Errorf("learned %v does not beat random %v", lrn, rnd)
	}
	if orc.P()-lrn.P() < 3*math.Hypot(lrn.SE(), orc.SE()) {
		t.Errorf("oracle %v does not bound learned %v", orc, lrn)
	}
}
