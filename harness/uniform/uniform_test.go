package uniform

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

func mustNew(t testing.TB, cfg source.Config) *Source { return sourcetest.New(t, New, cfg) }

func TestUniformNoFilter(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	tr.Cooldown = spec.Forever
	src := mustNew(t, source.Config{Arm: spec.Arm{Name: "uniform", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: sourcetest.NewFake(p)})
	seen := map[string]bool{}
	zeroStd := 0
	for step := range 20 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		sourcetest.CheckAccount(t, b, tr)
		if len(b.Groups) != 8 || b.Account.GeneratedGroups != 8 || b.Account.Waste != 0 {
			t.Fatalf("step %d: %d groups of %d generated, waste %g; want 8 of 8, waste 0", step, len(b.Groups), b.Account.GeneratedGroups, b.Account.Waste)
		}
		for _, g := range b.Groups {
			if seen[g.Prompt.ID] {
				t.Fatalf("step %d: prompt %s drawn again under cooldown forever", step, g.Prompt.ID)
			}
			seen[g.Prompt.ID] = true
			if g.Checkpoint != "ck-0" {
				t.Fatalf("group generated with %q, want the current ck-0", g.Checkpoint)
			}
		}
		zeroStd += b.Account.ZeroStdGroups
		if b.Account.InZoneMethod != source.InZoneOracle || b.Account.ProbeSize != source.DefaultProbeSize {
			t.Fatalf("in-zone measured by %q on %d prompts", b.Account.InZoneMethod, b.Account.ProbeSize)
		}
	}
	if zeroStd == 0 {
		t.Fatal("no zero-variance group was trained on; vanilla GRPO keeps them")
	}
}

func TestFilterCap(t *testing.T) {
	// Every prompt is certain to fail: the filter stops at its cap and
	// trains on nothing.
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	f.Centre = 100
	arm := sourcetest.FilterArm("filter")
	arm.MaxGenRounds = 3
	src := mustNew(t, source.Config{Arm: arm, Train: sourcetest.Train(), Seed: 1, Pool: p, Runner: f})
	b, err := src.Next(context.Background(), 0, "ck-0", "ck-0")
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.CheckAccount(t, b, sourcetest.Train())
	a := b.Account
	if !a.Capped || a.GeneratedGroups != 24 || len(b.Groups) != 0 || a.Discarded != 24 || a.Waste != 1 || a.Rounds != 3 {
		t.Fatalf("capped %v after %d groups in %d rounds, %d kept, waste %g; want capped after 24 in 3, none kept, waste 1",
			a.Capped, a.GeneratedGroups, a.Rounds, len(b.Groups), a.Waste)
	}
}

func TestFilterNeverOvergenerates(t *testing.T) {
	p := sourcetest.Pool(t)
	src := mustNew(t, source.Config{Arm: sourcetest.FilterArm("filter"), Train: sourcetest.Train(), Seed: 2, Pool: p, Runner: sourcetest.NewFake(p)})
	for step := range 10 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		sourcetest.CheckAccount(t, b, sourcetest.Train())
		a := b.Account
		if len(b.Groups) != 8 || a.Discarded != a.GeneratedGroups-8 || a.InZoneGroups != 8 {
			t.Fatalf("step %d: %d kept, %d discarded of %d, %d in zone", step, len(b.Groups), a.Discarded, a.GeneratedGroups, a.InZoneGroups)
		}
		// The last group generated is the one that filled the batch.
		if last := b.Rollouts[len(b.Rollouts)-1]; last.Reason != source.ReasonAccepted {
			t.Fatalf("step %d: the last group generated was %s", step, last.Reason)
		}
		for _, g := range b.Groups {
			if !eval.InZone(g.Rewards, 0.43) {
				t.Fatalf("step %d: kept a group outside the zone: %v", step, g.Rewards)
			}
		}
	}
}

func TestPoolExhausted(t *testing.T) {
	p := sourcetest.Pool(t).First(20)
	tr := sourcetest.Train()
	tr.Cooldown = spec.Forever
	src := mustNew(t, source.Config{Arm: spec.Arm{Name: "u", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: sourcetest.NewFake(p)})
	ctx := context.Background()
	for step := range 2 {
		if _, err := src.Next(ctx, step, "ck-0", "ck-0"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := src.Next(ctx, 2, "ck-0", "ck-0")
	want := "source: training pool generated/train/seed-5 exhausted at step 3: 4 of 20 problems may be drawn (cooldown forever), 8 needed per step; use a larger train set or a finite train.cooldown"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
}

// TestRoundsAheadChangeNoBatch runs the filter on a runner that answers one
// generate call a round trip and on one that answers several, where each
// round brings the next along: the batches and deltas must be the same
// with the fake's difficulty at two centres and where no group passes (the
// cap), and the rounds must take about half the round trips.
func TestRoundsAheadChangeNoBatch(t *testing.T) {
	for _, c := range []struct {
		name   string
		centre float64
	}{{"centre 0", 0}, {"centre 2", 2}, {"none pass", 100}} {
		t.Run(c.name, func(t *testing.T) {
			p := sourcetest.Pool(t)
			one, batching := sourcetest.NewFake(p), &sourcetest.Batching{Fake: sourcetest.NewFake(p)}
			one.Centre, batching.Centre = c.centre, c.centre
			arm := sourcetest.FilterArm("filter")
			plain := mustNew(t, source.Config{Arm: arm, Train: sourcetest.Train(), Seed: 3, Pool: p, Runner: one})
			ahead := mustNew(t, source.Config{Arm: arm, Train: sourcetest.Train(), Seed: 3, Pool: p, Runner: batching})
			rounds := 0
			for step := range 12 {
				want, err := plain.Next(context.Background(), step, "ck-0", "ck-0")
				if err != nil {
					t.Fatal(err)
				}
				got, err := ahead.Next(context.Background(), step, "ck-0", "ck-0")
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(*got) != fmt.Sprint(*want) { // NaN figures: compared as printed
					t.Fatalf("step %d: the batch differs with rounds generated ahead", step)
				}
				dw, _ := plain.Delta()
				dg, _ := ahead.Delta()
				if !bytes.Equal(dg, dw) {
					t.Fatalf("step %d: the delta differs with rounds generated ahead", step)
				}
				rounds += got.Account.Rounds
			}
			t.Logf("%d rounds in %d round trips, %d groups asked for", rounds, batching.Trips, batching.Groups)
			if rounds > 12 && batching.Trips*3 > rounds*2 {
				t.Errorf("%d round trips for %d rounds: the rounds ahead save too little", batching.Trips, rounds)
			}
		})
	}
}
