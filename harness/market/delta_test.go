package market

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

// TestApplyRebuildsTheState runs a market with every estimator and
// behaviour through windows with a cooldown, then applies the windows'
// deltas to a new market: every estimator's memories and weights and every
// cooldown must be the very same floats and steps, not just close.
func TestApplyRebuildsTheState(t *testing.T) {
	for _, kind := range []string{spec.MarketRace, spec.MarketAuction, "auction-carry"} {
		t.Run(kind, func(t *testing.T) { applyRebuildsTheState(t, kind) })
	}
}

func applyRebuildsTheState(t *testing.T, kind string) {
	carry := kind == "auction-carry"
	if carry {
		kind = spec.MarketAuction
	}
	arm := sourcetest.MarketArm("mixed",
		sourcetest.Miners(2, Honest, "learned"), sourcetest.Miners(2, Honest, "history"), sourcetest.Miners(1, Honest, "oracle"),
		sourcetest.Miners(1, Honest, "random"), sourcetest.Miners(1, Stale, "random"), sourcetest.Miners(1, Forger, "learned"),
		sourcetest.Miners(1, Copycat, "random"))
	if kind == spec.MarketAuction {
		arm.Market.Kind = kind
		arm.Market.Auction = &spec.Auction{Deadline: 40, SigmaMin: 0.24, PerPrompt: 10, Memory: 10, Value: spec.ValueDifficulty, Carry: carry}
		if carry {
			arm.Market.Auction.Deadline = 6 // too short to fill a window: winners are carried
		}
	}
	tr := sourcetest.Train()
	tr.Cooldown = 4
	f := sourcetest.NewFake(sourcetest.Pool(t))
	live := newMarket(t, arm, tr, 3, f)
	var deltas [][]byte
	for step := range 12 {
		if _, err := live.Window(context.Background(), step, fmt.Sprintf("ck-%d", step/3)); err != nil {
			t.Fatal(err)
		}
		d, err := live.Delta()
		if err != nil {
			t.Fatal(err)
		}
		deltas = append(deltas, d)
	}
	replayed := newMarket(t, arm, tr, 3, f)
	for step, d := range deltas {
		if err := replayed.Apply(step, d); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(live.cool, replayed.cool) {
		t.Error("the cooldowns differ")
	}
	if !slices.Equal(live.carry, replayed.carry) || live.carryCkpt != replayed.carryCkpt {
		t.Errorf("what is carried differs: %v at %q live, %v at %q replayed", live.carry, live.carryCkpt, replayed.carry, replayed.carryCkpt)
	}
	if carry && len(live.carry) == 0 {
		t.Error("nothing is carried after the last window: the test shows nothing")
	}
	if !slices.Equal(live.clearings, replayed.clearings) {
		t.Errorf("the clearing values differ: %v live, %v replayed", live.clearings, replayed.clearings)
	}
	for i, mn := range live.miners {
		switch est := mn.est.(type) {
		case *learned:
			other := replayed.miners[i].est.(*learned)
			if !reflect.DeepEqual(est.w, other.w) || !reflect.DeepEqual(est.mem, other.mem) {
				t.Errorf("miner %s: the learned estimator differs", mn.name)
			}
			if len(est.mem) == 0 {
				t.Errorf("miner %s remembers nothing: the test shows nothing", mn.name)
			}
		case *history:
			other := replayed.miners[i].est.(*history)
			if !reflect.DeepEqual(est.prompts, other.prompts) || !reflect.DeepEqual(est.keys, other.keys) {
				t.Errorf("miner %s: the history estimator differs", mn.name)
			}
		}
	}
	b1, err := live.Window(context.Background(), 12, "ck-4")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := replayed.Window(context.Background(), 12, "ck-4")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%#v", b1) != fmt.Sprintf("%#v", b2) {
		t.Error("the next window differs")
	}
}

func TestApplyRejectsAnInconsistentDelta(t *testing.T) {
	l := lesson{groups: []lessonGroup{{miner: 1, prompt: 7, successes: 3}, {miner: 0, prompt: 9, successes: 8}}, accepted: []int{1}}
	for name, c := range map[string]struct {
		l    lesson
		want string
	}{
		"miner":      {lesson{groups: []lessonGroup{{miner: 2}}}, "source delta: value 2 out of range (want < 2)"},
		"prompt":     {lesson{groups: []lessonGroup{{prompt: 10}}}, "source delta: value 10 out of range (want < 10)"},
		"accepted":   {lesson{groups: l.groups, accepted: []int{2}}, "source delta: value 2 out of range (want < 2)"},
		"accepted 2": {lesson{groups: l.groups, accepted: []int{1, 1}}, "source delta: group 1 accepted twice"},
	} {
		_, err := decodeDelta(encodeDelta(c.l, 2, false, false), 2, 10, false, false)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v\nwant %s", name, err, c.want)
		}
	}
	got, err := decodeDelta(encodeDelta(l, 2, false, false), 2, 10, false, false)
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Errorf("round trip: %v, %v", got, err)
	}
	held := l
	held.carry, held.carryCkpt = []carried{{step: 4, prompt: 9, miner: 1}}, "ck-2"
	held.ranked = []rankedGroup{{group: 0, claimed: 3}}
	got, err = decodeDelta(encodeDelta(held, 2, true, true), 2, 10, true, true)
	if err != nil || !reflect.DeepEqual(got, held) {
		t.Errorf("round trip with carry: %v, %v", got, err)
	}
	if _, err := decodeDelta(encodeDelta(lesson{carry: []carried{{prompt: 10}}}, 2, true, true), 2, 10, true, true); err == nil {
		t.Error("a carried prompt outside the pool decodes")
	}
}

// FuzzDecodeDelta feeds the market's delta reader what a journal on disk
// might hold: it must never panic, and what it accepts is canonical — it
// encodes back to the very bytes read, so no two files give one state.
func FuzzDecodeDelta(f *testing.F) {
	f.Add(encodeDelta(lesson{groups: []lessonGroup{{miner: 1, prompt: 7, successes: 3}, {miner: 0, prompt: 9, successes: 8}}, accepted: []int{1, 0}}, 2, false, false), false, false)
	f.Add(encodeDelta(lesson{}, 2, false, false), false, false)
	f.Add(encodeDelta(lesson{groups: []lessonGroup{{miner: 1, prompt: 7, successes: 3}, {miner: 0, prompt: 9, successes: 8}}, accepted: []int{1},
		ranked: []rankedGroup{{group: 0, claimed: 2}}, carry: []carried{{step: 3, prompt: 2, miner: 1}}, carryCkpt: "ck-1"}, 2, true, true), true, true)
	f.Add([]byte{}, true, false)
	f.Fuzz(func(t *testing.T, b []byte, auction, carry bool) {
		l, err := decodeDelta(b, 2, 10, auction, carry)
		if err != nil {
			return
		}
		if again := encodeDelta(l, 2, auction, carry); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes, but encodes back to %x", b, again)
		}
	})
}
