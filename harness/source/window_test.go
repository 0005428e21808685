package source

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source/proof"
	"github.com/relix-lab/relix/runners"
)

func newMarket(t testing.TB, arm spec.Arm, tr spec.Train, s uint64, r runners.Runner) *Market {
	t.Helper()
	m, err := NewMarket(Config{Arm: arm, Train: tr, Seed: s, Pool: testPool(t), Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// byArrival sorts a window's submitted attempts as the validator saw them.
func byArrival(w *window) []*attempt {
	var subs []*attempt
	for _, a := range w.attempts {
		if a.submitted {
			subs = append(subs, a)
		}
	}
	tie := func(a *attempt) uint64 {
		return mix64(w.tieSeed ^ mix64(uint64(a.miner.index)<<40^uint64(a.seq)<<2^uint64(evArrive)))
	}
	slices.SortFunc(subs, func(a, b *attempt) int { return cmp.Or(cmp.Compare(a.arrival, b.arrival), cmp.Compare(tie(a), tie(b))) })
	return subs
}

func TestWindowAcceptsFirstNValidDistinct(t *testing.T) {
	// Oracle miners on a small pool crowd the same prompts, so duplicates
	// are common; random miners and latency make late arrivals common.
	p := testPool(t)
	f := newFake(p)
	arm := marketArm("market", miners(6, Honest, "oracle"), miners(6, Honest, "random"))
	arm.Market.Candidates = 64
	tr := testTrain()
	m := newMarket(t, arm, tr, 11, f)
	ctx := context.Background()
	var duplicates, late, inFlight, missed int
	for step := range 30 {
		w, b, err := m.window(ctx, step, "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, b, tr)
		// Replay the validator's rule on the arrivals in order.
		taken := map[int]bool{}
		var accepted []*attempt
		for _, a := range byArrival(w) {
			want := ReasonAccepted
			switch {
			case len(accepted) == tr.GroupsPerStep:
				want = ReasonLate
			case taken[a.prompt]:
				want = ReasonDuplicate
			}
			if a.fate != want {
				t.Fatalf("window %d: %s arriving at %g is %s, want %s", step, a, a.arrival, a.fate, want)
			}
			if want == ReasonAccepted {
				taken[a.prompt] = true
				accepted = append(accepted, a)
			}
		}
		if len(accepted) != tr.GroupsPerStep || b.Account.SealTime != accepted[len(accepted)-1].arrival {
			t.Fatalf("window %d: %d accepted, sealed at %g", step, len(accepted), b.Account.SealTime)
		}
		for i, a := range accepted {
			if b.Groups[i].Prompt.ID != p.Problems[a.prompt].ID || !slices.Equal(b.Groups[i].Rewards, a.rewards) {
				t.Fatalf("window %d: group %d of the batch is not the %d-th accepted", step, i, i)
			}
		}
		for _, a := range w.attempts {
			switch {
			case a.done > b.Account.SealTime:
				if a.fate != ReasonInFlight || a.submitted {
					t.Fatalf("window %d: %s done after the seal is %s", step, a, a.fate)
				}
				inFlight++
			case !a.inZone:
				if a.fate != ReasonMissed || a.submitted {
					t.Fatalf("window %d: %s outside the zone is %s", step, a, a.fate)
				}
				missed++
			case a.fate == ReasonLate:
				if a.arrival <= b.Account.SealTime {
					t.Fatalf("window %d: %s late at %g, sealed at %g", step, a, a.arrival, b.Account.SealTime)
				}
				late++
			case a.fate == ReasonDuplicate:
				duplicates++
			}
		}
	}
	t.Logf("30 windows: %d duplicates, %d late, %d in flight, %d missed", duplicates, late, inFlight, missed)
	if duplicates == 0 || late == 0 || inFlight == 0 || missed == 0 {
		t.Fatal("the windows did not exercise every fate")
	}
}

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
		if err := w.generate(context.Background(), a); err != nil {
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
func middling(t *testing.T, f *fake, ck string, n int) []int {
	var out []int
	for i, pr := range testPool(t).Problems {
		if q, _ := f.SuccessProbability(context.Background(), ck, problemPrompt(&pr), runners.Sampling{}, "zero"); q > 0.35 && q < 0.65 {
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
	p := testPool(t)
	f := newFake(p)
	tr := testTrain()
	tr.Cooldown = spec.Forever
	m := newMarket(t, marketArm("market", miners(2, Honest, "random"), miners(1, Stale, "random")), tr, 3, f)
	ctx := context.Background()
	mid := middling(t, f, "ck-2", 4)
	m.cool.use(mid[3], 0) // cooling down at window 1
	w, err := m.open(1, "ck-2")
	if err != nil {
		t.Fatal(err)
	}
	honest, other, stale := m.miners[0], m.miners[1], m.miners[2]
	valid := func(i int) *submission { return w.honestSubmission(inZoneAttempt(t, w, honest, i, true)) }
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
		{"zero variance", w.honestSubmission(inZoneAttempt(t, w, honest, mid[0], false)), "rejected:sigma"},
		{"stale checkpoint", w.honestSubmission(inZoneAttempt(t, w, stale, mid[0], true)), "rejected:proof"},
		{"honest", valid(mid[0]), "accepted"},
	} {
		got, err := w.validate(ctx, c.sub)
		if err != nil || got != c.want {
			t.Errorf("%s: %s (%v), want %s", c.name, got, err, c.want)
		}
	}
	// The first valid group of a prompt is accepted, the next is a
	// duplicate, and once the window is sealed everything is late.
	first := inZoneAttempt(t, w, honest, mid[1], true)
	if got, _ := w.validate(ctx, w.honestSubmission(first)); got != ReasonAccepted {
		t.Fatalf("first group of a prompt: %s", got)
	}
	w.accept(first)
	if got, _ := w.validate(ctx, w.honestSubmission(inZoneAttempt(t, w, other, mid[1], true))); got != ReasonDuplicate {
		t.Fatalf("second group of an accepted prompt: %s, want duplicate", got)
	}
	w.sealed = true
	if got, _ := w.validate(ctx, valid(mid[2])); got != ReasonLate {
		t.Fatalf("after the seal: %s, want late", got)
	}
}

func TestProofThroughRunner(t *testing.T) {
	p := testPool(t)
	f := newFake(p)
	m := newMarket(t, marketArm("market", miners(1, Honest, "random")), testTrain(), 4, f)
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

// intended is the check meant to catch each adversary.
func intended(a *attempt) string {
	switch a.miner.spec.Behaviour {
	case Stale:
		return CheckProof
	case Copycat:
		return "distinct"
	}
	return "" // a forger: by its mode
}

func TestAdversaries(t *testing.T) {
	p := testPool(t)
	f := newFake(p)
	tr := testTrain()
	arm := marketArm("market", miners(8, Honest, "history"), miners(2, Stale, "random"), miners(2, Forger, "history"), miners(2, Copycat, "random"))
	m := newMarket(t, arm, tr, 5, f)
	ctx := context.Background()
	counts := map[string]int{}
	for step := range 25 {
		published := "ck-3"
		if step < 2 {
			published = "ck-0" // the base: nothing is stale yet
		}
		w, b, err := m.window(ctx, step, published)
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, b, tr)
		for _, a := range w.attempts {
			beh := a.miner.spec.Behaviour
			if beh == Honest {
				if c, ok := IsRejection(a.fate); ok {
					t.Fatalf("window %d: honest %s rejected by %s", step, a, c)
				}
				continue
			}
			if a.fate == ReasonAccepted {
				t.Fatalf("window %d: %s %s accepted", step, beh, a)
			}
			if beh == Stale && published == w.base {
				t.Fatalf("window %d: a stale miner generated while the base was published", step)
			}
			if !a.submitted || a.fate == ReasonLate {
				continue // missed, in flight or late: no check was reached
			}
			want := intended(a)
			if beh == Forger {
				want = CheckRewards
				if a.sub.forgery == forgeTokens {
					want = CheckProof
					if sameTexts(a.sub.completions, a.comps) {
						t.Fatalf("window %d: %s forged tokens without rewriting a completion", step, a)
					}
				}
			}
			counts[beh+" "+a.fate]++
			if want == "distinct" {
				// Every check passes; only distinctness fails.
				if a.fate != ReasonDuplicate {
					t.Fatalf("window %d: copycat %s is %s, want duplicate", step, a, a.fate)
				}
				if c, err := w.verify(ctx, a.sub, ""); err != nil || c != "" {
					t.Fatalf("window %d: copycat %s fails %s (%v); it should pass every check", step, a, c, err)
				}
				continue
			}
			if a.fate != RejectedPrefix+want {
				t.Fatalf("window %d: %s %s is %s, want rejected:%s", step, beh, a, a.fate, want)
			}
			// With its intended check skipped, the submission passes every
			// other: no earlier (or later) accident caught it.
			if c, err := w.verify(ctx, a.sub, want); err != nil || c != "" {
				t.Fatalf("window %d: %s %s with %s skipped still fails %s (%v)", step, beh, a, want, c, err)
			}
		}
	}
	t.Log(counts)
	for _, k := range []string{"stale rejected:proof", "forger rejected:rewards", "forger rejected:proof", "copycat duplicate"} {
		if counts[k] < 3 {
			t.Errorf("only %d submissions %s", counts[k], k)
		}
	}
}

func sameTexts(a, b []runners.Completion) bool {
	for j := range a {
		if a[j].Text != b[j].Text {
			return false
		}
	}
	return true
}

func TestForgeClaim(t *testing.T) {
	z := eval.NewZone(8, 0.43)
	for _, r := range [][]float64{
		{0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}, {1, 0, 0, 0, 0, 0, 0, 0},
		{1, 1, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 0, 0, 1, 0, 1}, {1, 1, 1, 1, 1, 1, 1, 0},
	} {
		c := forgeClaim(r, z)
		if slices.Equal(c, r) || !eval.InZone(c, 0.43) {
			t.Errorf("forgeClaim(%v) = %v: want a different vector in the zone", r, c)
		}
	}
	// A gate nothing passes: the claim still differs.
	if c := forgeClaim([]float64{0, 0, 0}, eval.NewZone(3, 0.49)); slices.Equal(c, []float64{0, 0, 0}) {
		t.Error("forgeClaim claimed the truth")
	}
}

func TestSpliceTokens(t *testing.T) {
	for _, tok := range [][]uint32{{1, 2, 3, 4}, {7, 7, 7}, {5}} {
		for p := range tok {
			if out := spliceTokens(tok, p); slices.Equal(out, tok) || !slices.Equal(out[:p], tok[:p]) {
				t.Errorf("spliceTokens(%v, %d) = %v", tok, p, out)
			}
		}
	}
}
