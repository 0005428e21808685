package market

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

func auctionArm(groups ...spec.MinerGroup) spec.Arm {
	arm := sourcetest.MarketArm("auction", groups...)
	arm.Market.Kind = spec.MarketAuction
	arm.Market.Auction = &spec.Auction{Deadline: 150, SigmaMin: 0.24, PerPrompt: 10, Memory: 10, Value: spec.ValueDifficulty}
	return arm
}

// auctionWindow runs window step of an auction market and returns it.
func auctionWindow(t *testing.T, m *Source, step int, published string) (*auction, *source.Batch) {
	t.Helper()
	r, b, err := m.windowOf(context.Background(), step, published)
	if err != nil {
		t.Fatal(err)
	}
	return r.(*auction), b
}

// The auction's rules, replayed on each window from its attempts: nothing
// arrives after the deadline and is admitted; the admitted groups, ranked
// by value, throughput and arrival, win top down on distinct prompts until
// N have won, and every other admitted group is outranked; no group an
// adversary made is ever trained on.
func TestAuctionAwardsTopDown(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	arm := auctionArm(sourcetest.Miners(4, Honest, "oracle"), sourcetest.Miners(4, Honest, "learned"),
		sourcetest.Miners(2, Stale, "random"), sourcetest.Miners(2, Forger, "learned"), sourcetest.Miners(1, Copycat, "random"))
	arm.Market.Auction.Deadline = 40
	m := newMarket(t, arm, tr, 13, sourcetest.NewFake(p))
	fates := map[string]int{}
	for step := range 12 {
		published := "ck-2"
		if step < 2 {
			published = "ck-0"
		}
		u, b := auctionWindow(t, m, step, published)
		sourcetest.CheckAccount(t, b, tr)
		if b.Account.SealTime != u.ak.Deadline {
			t.Fatalf("window %d closed at %g, its deadline is %g", step, b.Account.SealTime, u.ak.Deadline)
		}
		var admitted []*attempt
		for _, a := range u.attempts {
			fates[a.miner.spec.Behaviour+" "+a.fate]++
			if a.fate == "" {
				t.Fatalf("window %d: %s has no fate", step, a)
			}
			if a.submitted && a.arrival > u.ak.Deadline && a.fate != source.ReasonLate {
				t.Fatalf("window %d: %s arrived at %g after the deadline and is %s", step, a, a.arrival, a.fate)
			}
			if a.fate == source.ReasonAccepted && a.miner.spec.Behaviour != Honest && a.miner.spec.Behaviour != Copycat {
				t.Fatalf("window %d: %s %s won", step, a.miner.spec.Behaviour, a)
			}
			switch a.fate {
			case source.ReasonAccepted, source.ReasonOutranked, source.RejectedPrefix + source.CheckProof:
				admitted = append(admitted, a)
			}
		}
		slices.SortStableFunc(admitted, func(x, y *attempt) int {
			return cmp.Or(cmp.Compare(difficulty(y.sub.rewards), difficulty(x.sub.rewards)),
				cmp.Compare(throughput(y), throughput(x)), cmp.Compare(x.arrival, y.arrival))
		})
		won := map[int]bool{}
		wins := 0
		for _, a := range admitted {
			want := source.ReasonOutranked
			if wins < tr.GroupsPerStep && !won[a.prompt] {
				want = a.fate // proved: accepted, or failed its proof
				if want == source.ReasonOutranked {
					t.Fatalf("window %d: %s outranked with a slot free and its prompt not won", step, a)
				}
			}
			if a.fate != want {
				t.Fatalf("window %d: %s (value %.3f) is %s, want %s", step, a, difficulty(a.sub.rewards), a.fate, want)
			}
			if a.fate == source.ReasonAccepted {
				wins++
				won[a.prompt] = true
			}
		}
		if wins != len(b.Groups) || wins > tr.GroupsPerStep {
			t.Fatalf("window %d: %d winners, %d groups in the batch", step, wins, len(b.Groups))
		}
	}
	t.Log(fates)
	for _, k := range []string{"honest accepted", "honest outranked", "forger rejected:rewards", "stale rejected:proof"} {
		if fates[k] == 0 {
			t.Errorf("no %q in 12 windows: the test does not exercise it", k)
		}
	}
}

// Two identities on one prompt generate the very same group (the seed
// names the window and the prompt), and one miner cannot claim a prompt
// twice: the copy of an admitted group adds nothing to the batch.
func TestAuctionIdentitiesBuyNothing(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	m := newMarket(t, auctionArm(sourcetest.Miners(4, Honest, "random"), sourcetest.Miners(3, Copycat, "random")), tr, 5, sourcetest.NewFake(p))
	copies := 0
	for step := range 6 {
		u, b := auctionWindow(t, m, step, "ck-0")
		byPrompt := map[int]*attempt{}
		for _, a := range u.attempts {
			if o, ok := byPrompt[a.prompt]; ok {
				copies++
				if fmt.Sprint(o.comps) != fmt.Sprint(a.comps) {
					t.Fatalf("window %d: %s and %s generated prompt %d differently", step, o, a, a.prompt)
				}
			}
			byPrompt[a.prompt] = a
		}
		prompts := map[string]bool{}
		for _, g := range b.Groups {
			if prompts[g.Prompt.ID] {
				t.Fatalf("window %d: prompt %s trained on twice", step, g.Prompt.ID)
			}
			prompts[g.Prompt.ID] = true
		}
	}
	if copies == 0 {
		t.Fatal("no prompt was generated twice: the test shows nothing")
	}
}

// A window that cannot fill burns its empty slots and trains on what won;
// a deadline too short for any group to arrive trains on nothing.
func TestAuctionBurnsUnfilledSlots(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	for _, c := range []struct {
		deadline float64
		budget   int
	}{{0.01, 0}, {150, 3}} {
		arm := auctionArm(sourcetest.Miners(6, Honest, "random"))
		arm.Market.Auction.Deadline, arm.Market.Auction.ProofBudget = c.deadline, c.budget
		m := newMarket(t, arm, tr, 3, sourcetest.NewFake(p))
		_, b := auctionWindow(t, m, 0, "ck-0")
		sourcetest.CheckAccount(t, b, tr)
		want := c.budget
		if c.deadline < 1 {
			want = 0
		}
		if len(b.Groups) > want || !b.Account.Capped {
			t.Errorf("deadline %g, proof budget %d: %d groups trained on (capped %v); want at most %d", c.deadline, c.budget, len(b.Groups), b.Account.Capped, want)
		}
	}
}

// The same seed gives the same windows.
func TestAuctionIsDeterministic(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	arm := auctionArm(sourcetest.Miners(4, Honest, "learned"), sourcetest.Miners(1, Forger, "learned"))
	a, b := newMarket(t, arm, tr, 9, sourcetest.NewFake(p)), newMarket(t, arm, tr, 9, sourcetest.NewFake(p))
	for step := range 5 {
		_, x := auctionWindow(t, a, step, "ck-1")
		_, y := auctionWindow(t, b, step, "ck-1")
		if fmt.Sprint(*x) != fmt.Sprint(*y) {
			t.Fatalf("window %d differs between two runs of one seed", step)
		}
	}
}

// A miner's expected value of a group is nil at p = 0 and 1 and largest for
// hard prompts inside the zone; its values sum the gate-passing outcomes.
func TestAuctionScore(t *testing.T) {
	score := auctionScore(8, 0.24, nil, difficulty)
	if score(0) != 0 || math.Abs(score(1)) > 1e-15 {
		t.Fatalf("score(0) = %g, score(1) = %g; want 0", score(0), score(1))
	}
	best, arg := 0.0, 0.0
	for p := 0.01; p < 1; p += 0.01 {
		if s := score(p); s > best {
			best, arg = s, p
		}
	}
	if !(arg > 0.1 && arg < 0.5) {
		t.Errorf("the score peaks at p = %.2f; want a hard prompt, below 0.5", arg)
	}
	if v := difficulty([]float64{1, 1, 0, 0, 0, 0, 0, 0}); math.Abs(v-math.Sqrt(0.1875)*0.75) > 1e-12 {
		t.Errorf("value of 2 of 8: %g", v)
	}
}

// A miner weighs each outcome by the share of recent windows it would have
// won: with every clearing value at 2 of 8 right (the most a group can be
// worth), only k = 2 counts, and the score peaks near p = 1/4; with half of
// them there and half unfilled, every other outcome counts half.
func TestAuctionScoreAgainstTheClearingValue(t *testing.T) {
	top := binaryValue(difficulty, 2, 8)
	score := auctionScore(8, 0.24, []float64{top, top, top}, difficulty)
	best, arg := 0.0, 0.0
	for p := 0.01; p < 1; p += 0.01 {
		if s := score(p); s > best {
			best, arg = s, p
		}
	}
	want := binomial(8, 2) * math.Pow(0.25, 2) * math.Pow(0.75, 6) * binaryValue(difficulty, 2, 8)
	if math.Abs(arg-0.25) > 0.011 || math.Abs(score(0.25)-want) > 1e-12 {
		t.Errorf("peak at p = %.2f, score(1/4) = %g; want 0.25 and %g", arg, score(0.25), want)
	}
	half := auctionScore(8, 0.24, []float64{top, 0}, difficulty)
	free := auctionScore(8, 0.24, nil, difficulty)
	for _, p := range []float64{0.1, 0.5, 0.8} {
		k2 := binomial(8, 2) * math.Pow(p, 2) * math.Pow(1-p, 6) * top
		if want := (free(p)-k2)/2 + k2; math.Abs(half(p)-want) > 1e-12 {
			t.Errorf("score(%g) against one full and one unfilled window: %g; want %g", p, half(p), want)
		}
	}
	l := lesson{groups: []lessonGroup{{successes: 2}, {successes: 4}, {successes: 1}}, accepted: []int{0, 1}}
	if c := clearingValue(l, 8, 2, difficulty); c != binaryValue(difficulty, 4, 8) {
		t.Errorf("clearing value %g; want the lower winner's, %g", c, binaryValue(difficulty, 4, 8))
	}
	if c := clearingValue(l, 8, 3, difficulty); c != 0 {
		t.Errorf("a window with a slot unfilled clears at %g; want 0", c)
	}
}

// With carry, a window whose winners and what earlier windows carried are
// fewer than N trains on nothing and carries its winners; one that brings
// the count to N trains on all of them, the carried first and as they were
// generated; a change of checkpoint drops what is held.
func TestAuctionCarriesPartialBatches(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	arm := auctionArm(sourcetest.Miners(3, Honest, "learned"), sourcetest.Miners(1, Copycat, "random"))
	arm.Market.Auction.Deadline, arm.Market.Auction.Carry = 4, true
	m := newMarket(t, arm, tr, 7, sourcetest.NewFake(p))
	won := map[string]string{} // by prompt id: the carried winners' completions, as they won
	var held []string
	full, holds, drops := 0, 0, 0
	for step := range 24 {
		published := fmt.Sprintf("ck-%d", step/8)
		u, b := auctionWindow(t, m, step, published)
		sourcetest.CheckAccount(t, b, tr)
		a := b.Account
		if a.Dropped > 0 {
			drops++
			if a.Dropped != len(held) || step%8 != 0 {
				t.Fatalf("window %d dropped %d groups holding %d", step, a.Dropped, len(held))
			}
			held = nil
		}
		var winners []*attempt
		for _, at := range u.attempts {
			if at.fate == source.ReasonAccepted || at.fate == source.ReasonCarried {
				winners = append(winners, at)
			}
		}
		switch {
		case len(b.Groups) == 0:
			holds++
			for _, w := range winners {
				if w.fate != source.ReasonCarried {
					t.Fatalf("window %d holds, but %s is %s", step, w, w.fate)
				}
				won[p.Problems[w.prompt].ID] = fmt.Sprint(w.comps)
				held = append(held, p.Problems[w.prompt].ID)
			}
		case len(b.Groups) == tr.GroupsPerStep:
			full++
			if a.CarriedIn != len(held) {
				t.Fatalf("window %d trains %d carried groups, %d held", step, a.CarriedIn, len(held))
			}
			for i, g := range b.Groups[:a.CarriedIn] { // in the order they won, by rank within a window
				if !slices.Contains(held, g.Prompt.ID) || fmt.Sprint(g.Completions) != won[g.Prompt.ID] || g.Checkpoint != published {
					t.Fatalf("window %d: carried group %d (%s) is not a group held as it won", step, i, g.Prompt.ID)
				}
			}
			held = nil
		default:
			t.Fatalf("window %d trains %d groups: with carry a step trains none or N", step, len(b.Groups))
		}
	}
	t.Logf("%d full batches, %d held windows, %d drops", full, holds, drops)
	if full == 0 || holds == 0 || drops == 0 {
		t.Errorf("%d full batches, %d holds, %d drops: the test does not exercise each", full, holds, drops)
	}
}
