package source

import (
	"context"
	"math"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

func TestRewarder(t *testing.T) {
	p := testPool(t).Problems[0]
	right := runners.Completion{Text: `so \boxed{` + p.Answer + `}`, Finish: runners.FinishStop}
	wrong := runners.Completion{Text: `so \boxed{` + p.Answer + `1}`, Finish: runners.FinishStop}
	cut := right
	cut.Finish = runners.FinishLength
	zero, grade := NewRewarder(spec.Reward{Truncated: "zero"}), NewRewarder(spec.Reward{Truncated: "grade"})
	for _, c := range []struct {
		r    Rewarder
		c    runners.Completion
		want float64
	}{{zero, right, 1}, {zero, wrong, 0}, {zero, cut, 0}, {grade, cut, 1}, {grade, wrong, 0}} {
		if got := c.r(&p, c.c); got != c.want {
			t.Errorf("reward of %q (finish %s) = %g, want %g", c.c.Text, c.c.Finish, got, c.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	p := testPool(t)
	f := newFake(p)
	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"none":      {Config{Arm: spec.Arm{Name: "base", Source: "none"}, Train: testTrain(), Pool: p, Runner: f}, `source: arm "base" has source "none"; want uniform or market`},
		"no pool":   {Config{Arm: filterArm("u"), Train: testTrain(), Runner: f}, "source: no training problems"},
		"no honest": {Config{Arm: marketArm("m", miners(2, Stale, "random")), Train: testTrain(), Pool: p, Runner: f}, `source: market arm "m" has no honest miner: no window could ever fill`},
		"oracle without oracle": {Config{Arm: marketArm("m", miners(2, Honest, "oracle")), Train: testTrain(), Pool: p, Runner: noOracle{f}},
			`source: arm "m": market.miners[0]: the oracle estimator needs a runner that knows true success probabilities (runners.Oracle, as the sim does); runner source.noOracle does not`},
		"cap": {Config{Arm: spec.Arm{Name: "u", Source: "uniform", Filter: "dynamic"}, Train: testTrain(), Pool: p, Runner: f}, `source: arm "u": max_gen_rounds is 0; want at least 1 with filter dynamic`},
	} {
		_, err := New(c.cfg)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", name, err, c.want)
		}
	}
}

// checkAccount checks the identities every account keeps.
func checkAccount(t *testing.T, b *Batch, tr spec.Train) {
	t.Helper()
	a := b.Account
	g := tr.GroupSize
	if a.Accepted+a.Discarded+a.Missed+a.InFlight+a.Late+a.Duplicate+a.Rejected != a.GeneratedGroups {
		t.Fatalf("fates %+v do not sum to %d generated groups", a, a.GeneratedGroups)
	}
	r := a.Rejections
	if r.Window+r.Checkpoint+r.Dataset+r.Cooldown+r.Rewards+r.Sigma+r.Proof != a.Rejected {
		t.Fatalf("rejections %+v do not sum to %d", r, a.Rejected)
	}
	if a.GeneratedRollouts != g*a.GeneratedGroups || len(b.Rollouts) != a.GeneratedRollouts {
		t.Fatalf("%d rollouts, %d generated rollouts of %d groups of %d", len(b.Rollouts), a.GeneratedRollouts, a.GeneratedGroups, g)
	}
	if a.UsefulGroups != len(b.Groups) || a.Accepted != a.UsefulGroups || a.UsefulRollouts != g*a.UsefulGroups {
		t.Fatalf("useful %d groups, %d rollouts; %d accepted, %d in the batch", a.UsefulGroups, a.UsefulRollouts, a.Accepted, len(b.Groups))
	}
	if want := 1 - float64(a.UsefulRollouts)/float64(a.GeneratedRollouts); math.Abs(a.Waste-want) > 1e-12 {
		t.Fatalf("waste %g, want %g", a.Waste, want)
	}
	if a.Capped != (a.UsefulGroups < tr.GroupsPerStep) || a.UsefulGroups > tr.GroupsPerStep {
		t.Fatalf("%d useful groups of %d, capped %v", a.UsefulGroups, tr.GroupsPerStep, a.Capped)
	}
	var tokens, useful, inFlight int64
	accepted, inZone, trunc := 0, 0, 0
	for i, ro := range b.Rollouts {
		tokens += int64(ro.Tokens)
		if ro.Reason == ReasonInFlight {
			inFlight += int64(ro.Tokens)
		}
		if ro.Truncated {
			trunc++
		}
		if ro.Accepted != (ro.Reason == ReasonAccepted) {
			t.Fatalf("rollout %d: accepted %v, reason %s", i, ro.Accepted, ro.Reason)
		}
		if ro.Accepted {
			accepted++
			useful += int64(ro.Tokens)
		}
		if ro.InZone && ro.Completion == 0 {
			inZone++
		}
	}
	if tokens != a.GeneratedTokens || useful != a.UsefulTokens || trunc != a.TruncatedRollouts || accepted != a.UsefulRollouts || inZone != a.InZoneGroups {
		t.Fatalf("rollouts disagree with the account: tokens %d/%d, useful %d/%d, truncated %d/%d, accepted %d/%d, in zone %d/%d",
			tokens, a.GeneratedTokens, useful, a.UsefulTokens, trunc, a.TruncatedRollouts, accepted, a.UsefulRollouts, inZone, a.InZoneGroups)
	}
	if a.InFlightTokens < 0 || a.InFlightTokens > inFlight {
		t.Fatalf("%d in-flight groups of %d tokens had %d generated at the seal", a.InFlight, inFlight, a.InFlightTokens)
	}
	for _, gr := range b.Groups {
		if len(gr.Completions) != g || len(gr.Rewards) != g || gr.Checkpoint == "" {
			t.Fatalf("group %s: %d completions, %d rewards, checkpoint %q", gr.Prompt.ID, len(gr.Completions), len(gr.Rewards), gr.Checkpoint)
		}
	}
	if a.Source == "market" {
		var gen, acc int
		for _, m := range a.Miners {
			gen += m.GeneratedGroups
			acc += m.Accepted
			if m.Accepted+m.Missed+m.InFlight+m.Late+m.Duplicate+m.Rejected != m.GeneratedGroups {
				t.Fatalf("miner %s: fates do not sum: %+v", m.Name, m)
			}
		}
		if gen != a.GeneratedGroups || acc != a.Accepted {
			t.Fatalf("miners generated %d and had %d accepted; the window %d and %d", gen, acc, a.GeneratedGroups, a.Accepted)
		}
	}
}

func TestUniformNoFilter(t *testing.T) {
	p := testPool(t)
	tr := testTrain()
	tr.Cooldown = spec.Forever
	src := mustNew(t, Config{Arm: spec.Arm{Name: "uniform", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: newFake(p)})
	seen := map[string]bool{}
	zeroStd := 0
	for step := range 20 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, b, tr)
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
		if b.Account.InZoneMethod != InZoneOracle || b.Account.ProbeSize != DefaultProbeSize {
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
	p := testPool(t)
	f := newFake(p)
	f.centre = 100
	arm := filterArm("filter")
	arm.MaxGenRounds = 3
	src := mustNew(t, Config{Arm: arm, Train: testTrain(), Seed: 1, Pool: p, Runner: f})
	b, err := src.Next(context.Background(), 0, "ck-0", "ck-0")
	if err != nil {
		t.Fatal(err)
	}
	checkAccount(t, b, testTrain())
	a := b.Account
	if !a.Capped || a.GeneratedGroups != 24 || len(b.Groups) != 0 || a.Discarded != 24 || a.Waste != 1 || a.Rounds != 3 {
		t.Fatalf("capped %v after %d groups in %d rounds, %d kept, waste %g; want capped after 24 in 3, none kept, waste 1",
			a.Capped, a.GeneratedGroups, a.Rounds, len(b.Groups), a.Waste)
	}
}

func TestFilterNeverOvergenerates(t *testing.T) {
	p := testPool(t)
	src := mustNew(t, Config{Arm: filterArm("filter"), Train: testTrain(), Seed: 2, Pool: p, Runner: newFake(p)})
	for step := range 10 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, b, testTrain())
		a := b.Account
		if len(b.Groups) != 8 || a.Discarded != a.GeneratedGroups-8 || a.InZoneGroups != 8 {
			t.Fatalf("step %d: %d kept, %d discarded of %d, %d in zone", step, len(b.Groups), a.Discarded, a.GeneratedGroups, a.InZoneGroups)
		}
		// The last group generated is the one that filled the batch.
		if last := b.Rollouts[len(b.Rollouts)-1]; last.Reason != ReasonAccepted {
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
	p := testPool(t).First(20)
	tr := testTrain()
	tr.Cooldown = spec.Forever
	src := mustNew(t, Config{Arm: spec.Arm{Name: "u", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: newFake(p)})
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

func TestProbeSampledWithoutOracle(t *testing.T) {
	// A runner without true probabilities (a GPU worker) gets a sampled
	// estimate, the same for every arm, close to the exact value.
	p := testPool(t)
	f := newFake(p)
	tr := testTrain()
	exact := mustNew(t, Config{Arm: filterArm("a"), Train: tr, Seed: 1, Pool: p, Runner: f})
	var got [2]Account
	for i, name := range []string{"a", "b"} {
		src := mustNew(t, Config{Arm: filterArm(name), Train: tr, Seed: 1, Pool: p, Runner: noOracle{f}})
		b, err := src.Next(context.Background(), 0, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		got[i] = b.Account
	}
	b, err := exact.Next(context.Background(), 0, "ck-0", "ck-0")
	if err != nil {
		t.Fatal(err)
	}
	want := b.Account.InZoneFraction
	if got[0].InZoneMethod != InZoneSampled || b.Account.InZoneMethod != InZoneOracle {
		t.Fatalf("methods %q and %q", got[0].InZoneMethod, b.Account.InZoneMethod)
	}
	if got[0].InZoneFraction != got[1].InZoneFraction {
		t.Fatalf("two arms sampled different probes: %g and %g", got[0].InZoneFraction, got[1].InZoneFraction)
	}
	if se := math.Sqrt(want * (1 - want) / DefaultProbeSize); math.Abs(got[0].InZoneFraction-want) > 3*se {
		t.Fatalf("sampled %g, exact %g (se %g)", got[0].InZoneFraction, want, se)
	}
}

func TestProbeEvery(t *testing.T) {
	p := testPool(t)
	tr := testTrain()
	tr.ProbeEvery = 3
	src := mustNew(t, Config{Arm: spec.Arm{Name: "uniform", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: newFake(p)})
	for step := range 4 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		measured := !math.IsNaN(b.Account.InZoneFraction)
		if want := step%3 == 0; measured != want {
			t.Fatalf("step %d: measured %v, want %v (probe_every 3)", step, measured, want)
		}
		if !measured && b.Account.InZoneMethod != InZoneNotMeasured {
			t.Fatalf("step %d: method %q, want %q", step, b.Account.InZoneMethod, InZoneNotMeasured)
		}
	}
}
