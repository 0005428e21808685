package market

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/seed"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

func newMarket(t testing.TB, arm spec.Arm, tr spec.Train, s uint64, r runners.Runner) *Source {
	t.Helper()
	m, err := New(source.Config{Arm: arm, Train: tr, Seed: s, Pool: sourcetest.Pool(t), Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// byArrival sorts a window's submitted attempts as the validator saw them.
func byArrival(w *race) []*attempt {
	var subs []*attempt
	for _, a := range w.attempts {
		if a.submitted {
			subs = append(subs, a)
		}
	}
	tie := func(a *attempt) uint64 {
		return seed.Mix(w.tieSeed ^ seed.Mix(uint64(a.miner.index)<<40^uint64(a.seq)<<2^uint64(evArrive)))
	}
	slices.SortFunc(subs, func(a, b *attempt) int { return cmp.Or(cmp.Compare(a.arrival, b.arrival), cmp.Compare(tie(a), tie(b))) })
	return subs
}

func TestWindowAcceptsFirstNValidDistinct(t *testing.T) {
	// Oracle sourcetest.Miners on a small pool crowd the same prompts, so duplicates
	// are common; random sourcetest.Miners and latency make late arrivals common.
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	arm := sourcetest.MarketArm("market", sourcetest.Miners(6, Honest, "oracle"), sourcetest.Miners(6, Honest, "random"))
	arm.Market.Candidates = 64
	tr := sourcetest.Train()
	m := newMarket(t, arm, tr, 11, f)
	ctx := context.Background()
	var duplicates, late, inFlight, missed int
	for step := range 30 {
		w, b, err := m.window(ctx, step, "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		sourcetest.CheckAccount(t, b, tr)
		// Replay the validator's rule on the arrivals in order.
		taken := map[int]bool{}
		var accepted []*attempt
		for _, a := range byArrival(w) {
			want := source.ReasonAccepted
			switch {
			case len(accepted) == tr.GroupsPerStep:
				want = source.ReasonLate
			case taken[a.prompt]:
				want = source.ReasonDuplicate
			}
			if a.fate != want {
				t.Fatalf("window %d: %s arriving at %g is %s, want %s", step, a, a.arrival, a.fate, want)
			}
			if want == source.ReasonAccepted {
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
				if a.fate != source.ReasonInFlight || a.submitted {
					t.Fatalf("window %d: %s done after the seal is %s", step, a, a.fate)
				}
				inFlight++
			case !a.inZone:
				if a.fate != source.ReasonMissed || a.submitted {
					t.Fatalf("window %d: %s outside the zone is %s", step, a, a.fate)
				}
				missed++
			case a.fate == source.ReasonLate:
				if a.arrival <= b.Account.SealTime {
					t.Fatalf("window %d: %s late at %g, sealed at %g", step, a, a.arrival, b.Account.SealTime)
				}
				late++
			case a.fate == source.ReasonDuplicate:
				duplicates++
			}
		}
	}
	t.Logf("30 windows: %d duplicates, %d late, %d in flight, %d missed", duplicates, late, inFlight, missed)
	if duplicates == 0 || late == 0 || inFlight == 0 || missed == 0 {
		t.Fatal("the windows did not exercise every fate")
	}
}

// A window that does not fill stops starting groups at max_rounds·N and
// trains on what was accepted; one that fills is not cut short.
func TestMaxRoundsCapsAWindow(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	for _, rounds := range []int{1, 3} {
		arm := sourcetest.MarketArm("market", sourcetest.Miners(4, Honest, "random"))
		arm.Market.MaxRounds = rounds
		m := newMarket(t, arm, tr, 7, sourcetest.NewFake(p))
		capped := 0
		for step := range 10 {
			_, b, err := m.window(context.Background(), step, "ck-0")
			if err != nil {
				t.Fatal(err)
			}
			sourcetest.CheckAccount(t, b, tr)
			started := 0
			for _, mn := range b.Account.Miners {
				started += mn.GeneratedGroups
			}
			if started > rounds*tr.GroupsPerStep {
				t.Fatalf("max_rounds %d, window %d: %d groups started; want at most %d", rounds, step, started, rounds*tr.GroupsPerStep)
			}
			if b.Account.Capped {
				capped++
				if started != rounds*tr.GroupsPerStep {
					t.Fatalf("max_rounds %d, window %d: capped after %d groups started", rounds, step, started)
				}
			}
		}
		if capped == 0 {
			t.Errorf("max_rounds %d: no window was capped; the test shows nothing", rounds)
		}
	}
}

// window is Window on a race market, also returning the race.
func (m *Source) window(ctx context.Context, step int, published string) (*race, *source.Batch, error) {
	r, b, err := m.windowOf(ctx, step, published)
	if err != nil {
		return nil, nil, err
	}
	return r.(*race), b, nil
}
