package sourcetest

import (
	"math"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
)

// CheckAccount checks the identities every account keeps: the fates sum to
// the groups generated, the rollouts agree with the counts, and a market's
// miners add up to its window.
func CheckAccount(t *testing.T, b *source.Batch, tr spec.Train) {
	t.Helper()
	a := b.Account
	g := tr.GroupSize
	if a.Accepted+a.Discarded+a.Missed+a.InFlight+a.Late+a.Duplicate+a.Outranked+a.Carried+a.Rejected != a.GeneratedGroups {
		t.Fatalf("fates %+v do not sum to %d generated groups", a, a.GeneratedGroups)
	}
	r := a.Rejections
	if r.Window+r.Checkpoint+r.Dataset+r.Cooldown+r.Rewards+r.Sigma+r.Proof != a.Rejected {
		t.Fatalf("rejections %+v do not sum to %d", r, a.Rejected)
	}
	if a.GeneratedRollouts != g*a.GeneratedGroups || len(b.Rollouts) != a.GeneratedRollouts {
		t.Fatalf("%d rollouts, %d generated rollouts of %d groups of %d", len(b.Rollouts), a.GeneratedRollouts, a.GeneratedGroups, g)
	}
	if a.UsefulGroups != len(b.Groups) || a.Accepted+a.CarriedIn != a.UsefulGroups || a.UsefulRollouts != g*a.UsefulGroups {
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
		if ro.Reason == source.ReasonInFlight {
			inFlight += int64(ro.Tokens)
		}
		if ro.Truncated {
			trunc++
		}
		if ro.Accepted != (ro.Reason == source.ReasonAccepted) {
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
	// The carried-in groups lead the batch; their rows are their own
	// windows'.
	for _, gr := range b.Groups[:min(a.CarriedIn, len(b.Groups))] {
		accepted += len(gr.Completions)
		for _, c := range gr.Completions {
			useful += int64(c.NumTokens)
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
			if m.Accepted+m.Missed+m.InFlight+m.Late+m.Duplicate+m.Outranked+m.Carried+m.Rejected != m.GeneratedGroups {
				t.Fatalf("miner %s: fates do not sum: %+v", m.Name, m)
			}
		}
		if gen != a.GeneratedGroups || acc != a.Accepted {
			t.Fatalf("miners generated %d and had %d accepted; the window %d and %d", gen, acc, a.GeneratedGroups, a.Accepted)
		}
	}
}
