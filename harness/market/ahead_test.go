package market

import (
	"context"
	"fmt"
	"reflect"
	"testing"

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
