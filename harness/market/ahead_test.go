package market

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

// TestAheadChangesNoBatch runs a market with every behaviour through
// windows twice: in turn, and with each window raced ahead while the
// step before is still being used, sometimes with a checkpoint that turns
// out not to be the one published. The batches and deltas must be the
// same: a race ahead is taken only when it is the race Next would run.
func TestAheadChangesNoBatch(t *testing.T) {
	arm := sourcetest.MarketArm("mixed",
		sourcetest.Miners(2, Honest, "learned"), sourcetest.Miners(1, Honest, "oracle"),
		sourcetest.Miners(1, Stale, "random"), sourcetest.Miners(1, Forger, "learned"),
		sourcetest.Miners(1, Copycat, "random"))
	tr := sourcetest.Train()
	tr.Cooldown = 4
	f := sourcetest.NewFake(sourcetest.Pool(t))
	ctx := context.Background()
	inTurn, ahead := newMarket(t, arm, tr, 3, f), newMarket(t, arm, tr, 3, f)
	defer ahead.Close()
	published := func(step int) string { return fmt.Sprintf("ck-%d", step/3) }
	for step := range 10 {
		want, err := inTurn.Next(ctx, step, "", published(step))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ahead.Next(ctx, step, "", published(step))
		if err != nil {
			t.Fatal(err)
		}
		// Compared as printed: figures not measured are NaN, which
		// DeepEqual never finds equal.
		if fmt.Sprint(*got) != fmt.Sprint(*want) {
			t.Fatalf("step %d: the batch raced ahead differs", step)
		}
		dw, _ := inTurn.Delta()
		dg, _ := ahead.Delta()
		if !reflect.DeepEqual(dg, dw) {
			t.Fatalf("step %d: the delta differs", step)
		}
		guess := published(step + 1)
		if step%4 == 1 {
			guess = "ck-wrong" // the trainer published another checkpoint after all
		}
		ahead.Ahead(ctx, step+1, "", guess)
	}
}

// TestLookaheadChangesNoBatch runs the same windows on a runner that
// answers one generate call a round trip and on one that answers several,
// where every group a miner starts brings other miners' next groups along,
// in both mechanisms: with every behaviour, the batches and deltas must be
// the same, and far fewer round trips carry the groups. An auction asks
// for no group its miner would start after the deadline, so it asks for
// few more groups than are started.
func TestLookaheadChangesNoBatch(t *testing.T) {
	behaviours := []spec.MinerGroup{
		sourcetest.Miners(4, Honest, "learned"), sourcetest.Miners(1, Honest, "oracle"),
		sourcetest.Miners(1, Stale, "random"), sourcetest.Miners(1, Forger, "learned"),
		sourcetest.Miners(1, Copycat, "random")}
	auction := auctionArm(append(behaviours, sourcetest.Miners(1, Withholder, "learned"), sourcetest.Miners(1, Padder, "random"),
		sourcetest.Miners(3, Sybil, "learned"))...)
	auction.Market.Auction.Deadline = 40
	for _, c := range []struct {
		name  string
		arm   spec.Arm
		extra float64 // groups asked for beyond those started, at most, as a share of them
	}{
		{"race", sourcetest.MarketArm("mixed", behaviours...), 1},
		{"auction", auction, 0.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := sourcetest.Train()
			tr.Cooldown = 4
			pool := sourcetest.Pool(t)
			many := &sourcetest.Batching{Fake: sourcetest.NewFake(pool)}
			one, ahead := newMarket(t, c.arm, tr, 3, sourcetest.NewFake(pool)), newMarket(t, c.arm, tr, 3, many)
			ctx := context.Background()
			started := 0
			for step := range 12 {
				published := fmt.Sprintf("ck-%d", step/3)
				want, err := one.Next(ctx, step, "", published)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ahead.Next(ctx, step, "", published)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(*got) != fmt.Sprint(*want) {
					t.Fatalf("step %d: the batch differs with groups generated ahead", step)
				}
				dw, _ := one.Delta()
				dg, _ := ahead.Delta()
				if !reflect.DeepEqual(dg, dw) {
					t.Fatalf("step %d: the delta differs with groups generated ahead", step)
				}
				for _, m := range got.Account.Miners {
					started += m.GeneratedGroups
				}
			}
			t.Logf("%d groups started, %d asked for in %d round trips", started, many.Groups, many.Trips)
			if many.Trips*2 > started {
				t.Errorf("%d round trips for %d groups started: the lookahead saves too little", many.Trips, started)
			}
			if many.Groups < started || float64(many.Groups-started) > c.extra*float64(started) {
				t.Errorf("%d groups asked for, %d started", many.Groups, started)
			}
		})
	}
}
