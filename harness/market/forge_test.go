package market

import (
	"context"
	"slices"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

// intended is the check meant to catch each adversary.
func intended(a *attempt) string {
	switch a.miner.spec.Behaviour {
	case Stale:
		return source.CheckProof
	case Copycat:
		return "distinct"
	case Padder:
		return source.CheckProof
	}
	return "" // a forger: by its mode
}

func TestAdversaries(t *testing.T) {
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	tr := sourcetest.Train()
	arm := sourcetest.MarketArm("market", sourcetest.Miners(8, Honest, "history"), sourcetest.Miners(2, Stale, "random"), sourcetest.Miners(2, Forger, "history"), sourcetest.Miners(2, Copycat, "random"),
		sourcetest.Miners(2, Padder, "history"), sourcetest.Miners(1, Withholder, "history"), sourcetest.Miners(2, Sybil, "history"))
	tr.Reward.Truncated = "grade" // a padded completion keeps its reward, so padding reaches the proof
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
		sourcetest.CheckAccount(t, b, tr)
		for _, a := range w.attempts {
			beh := a.miner.spec.Behaviour
			if beh == Padder && a.sub != nil && !a.sub.padded {
				beh = Honest // nothing to pad: an honest group
			}
			if beh == Withholder || beh == Sybil {
				// Real work, submitted late or from many identities: the race
				// may accept it (TestAuctionAdversaries prices both).
				counts[beh+" "+a.fate]++
				continue
			}
			if beh == Honest {
				if c, ok := source.IsRejection(a.fate); ok {
					t.Fatalf("window %d: honest %s rejected by %s", step, a, c)
				}
				continue
			}
			if a.fate == source.ReasonAccepted {
				t.Fatalf("window %d: %s %s accepted", step, beh, a)
			}
			if beh == Stale && published == w.base {
				t.Fatalf("window %d: a stale miner generated while the base was published", step)
			}
			if !a.submitted || a.fate == source.ReasonLate {
				continue // missed, in flight or late: no check was reached
			}
			want := intended(a)
			if beh == Forger {
				want = source.CheckRewards
				if a.sub.forgery == forgeTokens {
					want = source.CheckProof
					if sameTexts(a.sub.completions, a.comps) {
						t.Fatalf("window %d: %s forged tokens without rewriting a completion", step, a)
					}
				}
			}
			counts[beh+" "+a.fate]++
			if want == "distinct" {
				// Every check passes; only distinctness fails.
				if a.fate != source.ReasonDuplicate {
					t.Fatalf("window %d: copycat %s is %s, want duplicate", step, a, a.fate)
				}
				if c, err := w.verify(ctx, a.sub, ""); err != nil || c != "" {
					t.Fatalf("window %d: copycat %s fails %s (%v); it should pass every check", step, a, c, err)
				}
				continue
			}
			if a.fate != source.RejectedPrefix+want {
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
	for _, k := range []string{"stale rejected:proof", "forger rejected:rewards", "forger rejected:proof", "copycat duplicate", "padder rejected:proof", "withholder late"} {
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
