package market

import (
	"context"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/market/proof"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

// inZoneAttempt generates groups of prompt i for miner mn (with its group
// number as the seed) until one is in the zone, or out of it when in is
// false.
func inZoneAttempt(t *testing.T, w *window, mn *miner, i int, in bool) *attempt {
	t.Helper()
	for seq := 100; seq < 400; seq++ {
		a := &attempt{miner: mn, seq: seq, prompt: i, ckpt: w.published}
		if mn.spec.Behaviour == Stale {
			a.ckpt = w.base
		}
		a.rng = seed.Stream(1, "test", seq)
		if err := w.generate(context.Background(), a, w.sampling(mn, seq)); err != nil {
			t.Fatal(err)
		}
		if a.inZone == in {
			return a
		}
	}
	t.Fatalf("no group of prompt %d with in-zone %v", i, in)
	return nil
}

// middling returns the first pool prompts whose success probability at ck
// is near 1/2.
func middling(t *testing.T, f *sourcetest.Fake, ck string, n int) []int {
	var out []int
	for i, pr := range sourcetest.Pool(t).Problems {
		if q, _ := f.SuccessProbability(context.Background(), ck, source.Prompt(&pr), runners.Sampling{}, "zero"); q > 0.35 && q < 0.65 {
			out = append(out, i)
			if len(out) == n {
				return out
			}
		}
	}
	t.Fatal("too few middling prompts")
	return nil
}

func TestValidatorChecks(t *testing.T) {
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	tr := sourcetest.Train()
	tr.Cooldown = spec.Forever
	m := newMarket(t, sourcetest.MarketArm("market", sourcetest.Miners(2, Honest, "random"), sourcetest.Miners(1, Stale, "random")), tr, 3, f)
	ctx := context.Background()
	mid := middling(t, f, "ck-2", 4)
	m.cool.Use(mid[3], 0) // cooling down at window 1
	w, err := m.openRace(1, "ck-2")
	if err != nil {
		t.Fatal(err)
	}
	honest, other, stale := m.miners[0], m.miners[1], m.miners[2]
	valid := func(i int) *submission { return w.honestSubmission(inZoneAttempt(t, w.window, honest, i, true)) }
	edit := func(s *submission, f func(*submission)) *submission { f(s); return s }
	for _, c := range []struct {
		name string
		sub  *submission
		want string
	}{
		{"another window", edit(valid(mid[0]), func(s *submission) { s.window = 0 }), "rejected:window"},
		{"another checkpoint", edit(valid(mid[0]), func(s *submission) { s.checkpoint = "ck-1" }), "rejected:checkpoint"},
		{"unknown prompt", edit(valid(mid[0]), func(s *submission) { s.prompt = "p-0000000000000000" }), "rejected:dataset"},
		{"cooling down", valid(mid[3]), "rejected:cooldown"},
		{"a reward flipped", edit(valid(mid[0]), func(s *submission) {
			s.rewards = slices.Clone(s.rewards)
			s.rewards[0] = 1 - s.rewards[0]
		}), "rejected:rewards"},
		{"a reward off by 1e-5", edit(valid(mid[0]), func(s *submission) {
			s.rewards = slices.Clone(s.rewards)
			s.rewards[0] += 1e-5
		}), "rejected:rewards"},
		{"a reward off by 1e-7", edit(valid(mid[0]), func(s *submission) {
			s.rewards = slices.Clone(s.rewards)
			s.rewards[0] += 1e-7
		}), "accepted"},
		{"a completion missing", edit(valid(mid[0]), func(s *submission) { s.completions = s.completions[1:] }), "rejected:rewards"},
		{"zero variance", w.honestSubmission(inZoneAttempt(t, w.window, honest, mid[0], false)), "rejected:sigma"},
		{"stale checkpoint", w.honestSubmission(inZoneAttempt(t, w.window, stale, mid[0], true)), "rejected:proof"},
		{"honest", valid(mid[0]), "accepted"},
	} {
		got, err := w.validate(ctx, c.sub)
		if err != nil || got != c.want {
			t.Errorf("%s: %s (%v), want %s", c.name, got, err, c.want)
		}
	}
	// The first valid group of a prompt is accepted, the next is a
	// duplicate, and once the window is sealed everything is late.
	first := inZoneAttempt(t, w.window, honest, mid[1], true)
	if got, _ := w.validate(ctx, w.honestSubmission(first)); got != source.ReasonAccepted {
		t.Fatalf("first group of a prompt: %s", got)
	}
	w.accept(first)
	if got, _ := w.validate(ctx, w.honestSubmission(inZoneAttempt(t, w.window, other, mid[1], true))); got != source.ReasonDuplicate {
		t.Fatalf("second group of an accepted prompt: %s, want duplicate", got)
	}
	w.sealed = true
	if got, _ := w.validate(ctx, valid(mid[2])); got != source.ReasonLate {
		t.Fatalf("after the seal: %s, want late", got)
	}
}

func TestProofComputesSharedHiddenStatesOnce(t *testing.T) {
	// An honest group's commitments and the validator's check are the same
	// computation and cost one Hidden call per completion; a stale miner's
	// are not (another checkpoint), cost two, and are still rejected.
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	tr := sourcetest.Train()
	m := newMarket(t, sourcetest.MarketArm("market", sourcetest.Miners(1, Honest, "random"), sourcetest.Miners(1, Stale, "random")), tr, 3, f)
	w, err := m.openRace(1, "ck-2")
	if err != nil {
		t.Fatal(err)
	}
	mid := middling(t, f, "ck-2", 2)
	for _, c := range []struct {
		name  string
		mn    *miner
		i     int
		want  string
		calls int64
	}{
		{"honest", m.miners[0], mid[0], source.ReasonAccepted, int64(tr.GroupSize)},
		{"stale", m.miners[1], mid[1], "rejected:proof", 2 * int64(tr.GroupSize)}, // every completion is checked
	} {
		sub := w.honestSubmission(inZoneAttempt(t, w.window, c.mn, c.i, true))
		before := f.HiddenCalls()
		got, err := w.validate(context.Background(), sub)
		if err != nil || got != c.want {
			t.Fatalf("%s: %s (%v), want %s", c.name, got, err, c.want)
		}
		if n := f.HiddenCalls() - before; n != c.calls {
			t.Errorf("%s: %d Hidden calls for %d completions, want %d", c.name, n, tr.GroupSize, c.calls)
		}
	}
}

func TestProofThroughRunner(t *testing.T) {
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	m := newMarket(t, sourcetest.MarketArm("market", sourcetest.Miners(1, Honest, "random")), sourcetest.Train(), 4, f)
	ctx := context.Background()
	w, err := m.open(0, "ck-3")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range middling(t, f, "ck-3", 20) {
		a := inZoneAttempt(t, w, m.miners[0], i, true)
		tokens, err := w.replay(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for j, tok := range tokens {
			commit := proof.NewProver(f.Hidden, "ck-3", tok, w.randomness)
			if res, err := proof.Verify(ctx, f.Hidden, "ck-3", tok, commit, w.randomness, 8); err != nil || !res.OK {
				t.Fatalf("honest completion %d of prompt %d rejected: %+v %v", j, i, res, err)
			}
			edited := slices.Clone(tok)
			k := a.rng.IntN(len(tok) * 3 / 4)
			edited[k] = (edited[k] + 1) % 1000
			if res, _ := proof.Verify(ctx, f.Hidden, "ck-3", edited, commit, w.randomness, 8); res.OK {
				t.Fatalf("completion %d of prompt %d with token %d changed accepted", j, i, k)
			}
			offByOne := proof.NewProver(f.Hidden, "ck-2", tok, w.randomness)
			if res, _ := proof.Verify(ctx, f.Hidden, "ck-3", tok, offByOne, w.randomness, 8); res.OK {
				t.Fatalf("completion %d of prompt %d generated one checkpoint earlier accepted", j, i)
			}
		}
	}
}
