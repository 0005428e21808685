package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
)

// digest hashes everything a batch holds.
func digest(b *Batch) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%#v\n%#v\n%#v", b.Groups, b.Account, b.Rollouts))
}

// mixedMarket has every estimator and every behaviour.
func mixedMarket() spec.Arm {
	return marketArm("mixed",
		miners(3, Honest, "learned"), miners(3, Honest, "history"), miners(2, Honest, "random"), miners(2, Honest, "oracle"),
		miners(1, Stale, "random"), miners(1, Forger, "learned"), miners(1, Copycat, "random"))
}

// trace runs a source from step from to step to, restoring state first when
// given, and returns each step's batch digest and State bytes.
func trace(t *testing.T, arm spec.Arm, state []byte, from, to int) ([][32]byte, [][]byte) {
	t.Helper()
	p := testPool(t)
	tr := testTrain()
	tr.Cooldown = 3
	src := mustNew(t, Config{Arm: arm, Train: tr, Seed: 9, Pool: p, Runner: newFake(p)})
	if state != nil {
		if err := src.Restore(state); err != nil {
			t.Fatal(err)
		}
	}
	var digests [][32]byte
	var states [][]byte
	for step := from; step < to; step++ {
		// The trainer moves every step; a checkpoint is published every 3.
		current, published := fmt.Sprintf("ck-%d", step), fmt.Sprintf("ck-%d", step/3*3)
		b, err := src.Next(context.Background(), step, current, published)
		if err != nil {
			t.Fatal(err)
		}
		st, err := src.State()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, digest(b))
		states = append(states, st)
	}
	return digests, states
}

func sameTrace(t *testing.T, what string, d1, d2 [][32]byte, s1, s2 [][]byte) {
	t.Helper()
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("%s: batch %d differs", what, i)
		}
		if !bytes.Equal(s1[i], s2[i]) {
			t.Fatalf("%s: state after batch %d differs:\n%s\n%s", what, i, s1[i], s2[i])
		}
	}
}

func TestDeterministicWhateverGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, arm := range []spec.Arm{mixedMarket(), filterArm("filter"), {Name: "uniform", Source: "uniform", Filter: "none"}} {
		runtime.GOMAXPROCS(1)
		d1, s1 := trace(t, arm, nil, 0, 9)
		runtime.GOMAXPROCS(4)
		d4, s4 := trace(t, arm, nil, 0, 9)
		sameTrace(t, arm.Name+" with GOMAXPROCS 1 and 4", d1, d4, s1, s4)
	}
}

func TestResume(t *testing.T) {
	for _, arm := range []spec.Arm{mixedMarket(), filterArm("filter")} {
		d, s := trace(t, arm, nil, 0, 10)
		d2, s2 := trace(t, arm, s[4], 5, 10)
		sameTrace(t, arm.Name+" resumed after step 5", d[5:], d2, s[5:], s2)
	}
}

func TestRestoreRejectsAnotherSource(t *testing.T) {
	p := testPool(t)
	_, s := trace(t, mixedMarket(), nil, 0, 1)
	src := mustNew(t, Config{Arm: filterArm("filter"), Train: testTrain(), Pool: p, Runner: newFake(p)})
	want := `source state: version 1 of a market source of arm "mixed"; want version 1 of a uniform source of arm "filter"`
	if err := src.Restore(s[0]); err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
	other := mixedMarket()
	other.Market.Miners[0].Estimator.Kind = "history"
	m := mustNew(t, Config{Arm: other, Train: testTrain(), Pool: p, Runner: newFake(p)})
	want = "source state: miner honest-00 has a learned estimator; the market's has history"
	if err := m.Restore(s[0]); err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant %s", err, want)
	}
}
