package market

import (
	"testing"

	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

// Every adversary against the auction, in one market: none is ever trained
// on where it cheats, and none gains where it does not.
//   - stale, forger, padder: a tampered group never wins; whoever reaches
//     the proof fails it (a forged reward fails at admission);
//   - copycat: its copy is the very group it copied (identity-free seeds)
//     and arrives later, so it never wins over an honest original;
//   - withholder: it arrives last, loses every tie and sometimes misses the
//     deadline: it wins less of what it submits than its honest twin;
//   - sybil: one operator's identities hold one claim a prompt between
//     them; every other identity's claim is a duplicate.
func TestAuctionAdversaries(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	tr.Reward.Truncated = "grade" // a padded completion keeps its reward, so padding reaches the proof
	arm := auctionArm(sourcetest.Miners(6, Honest, "learned"), sourcetest.Miners(2, Stale, "learned"),
		sourcetest.Miners(2, Forger, "learned"), sourcetest.Miners(2, Copycat, "random"), sourcetest.Miners(2, Padder, "learned"),
		sourcetest.Miners(2, Withholder, "learned"), sourcetest.Miners(3, Sybil, "learned"))
	arm.Market.Auction.Deadline = 40
	m := newMarket(t, arm, tr, 17, sourcetest.NewFake(p))
	fates := map[string]int{}
	submitted, won := map[string]int{}, map[string]int{}
	for step := range 20 {
		published := "ck-2"
		if step < 2 {
			published = "ck-0"
		}
		u, b := auctionWindow(t, m, step, published)
		sourcetest.CheckAccount(t, b, tr)
		claims := map[claim]int{}
		for _, a := range u.attempts {
			beh := a.miner.spec.Behaviour
			if beh == Padder && a.sub != nil && !a.sub.padded {
				beh = Honest // every completion already at the cap: nothing to pad
			}
			fates[beh+" "+a.fate]++
			if a.submitted && a.fate != source.ReasonLate {
				submitted[beh]++
			}
			switch a.fate {
			case source.ReasonAccepted:
				won[beh]++
				switch beh {
				case Stale, Forger, Padder:
					t.Fatalf("window %d: %s %s won", step, beh, a)
				case Copycat:
					for _, o := range u.attempts {
						if o.prompt == a.prompt && o != a && o.miner.spec.Behaviour == Honest && o.fate == source.ReasonOutranked && o.arrival < a.arrival {
							t.Fatalf("window %d: copycat %s won over the honest original %s", step, a, o)
						}
					}
				}
				fallthrough
			case source.ReasonOutranked, source.RejectedPrefix + source.CheckProof:
				claims[claim{a.miner.operator, a.prompt}]++
			}
			if beh == Withholder && a.submitted && a.arrival < u.ak.Deadline-1 {
				t.Fatalf("window %d: withholder %s arrived at %g, before %g", step, a, a.arrival, u.ak.Deadline-1)
			}
			if a.fate == source.RejectedPrefix+source.CheckProof && (beh == Honest || beh == Copycat || beh == Withholder || beh == Sybil) {
				t.Fatalf("window %d: %s %s failed its proof", step, beh, a)
			}
		}
		for c, n := range claims {
			if n > 1 {
				t.Fatalf("window %d: operator %d holds %d claims on prompt %d", step, c.operator, n, c.prompt)
			}
		}
	}
	t.Log(fates)
	rate := func(b string) float64 { return float64(won[b]) / float64(max(submitted[b], 1)) }
	t.Logf("wins per submission: honest %.3f, withholder %.3f, sybil %.3f, copycat %.3f", rate(Honest), rate(Withholder), rate(Sybil), rate(Copycat))
	if rate(Withholder) >= rate(Honest) {
		t.Errorf("withholding won %.3f of what it submitted, honest miners %.3f: the deadline did not price it", rate(Withholder), rate(Honest))
	}
	for _, k := range []string{"stale rejected:proof", "forger rejected:rewards", "padder rejected:proof", "withholder late", "sybil duplicate", "honest accepted"} {
		if fates[k] == 0 {
			t.Errorf("no %q in 20 windows: the test does not exercise it", k)
		}
	}
}
