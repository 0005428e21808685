package source_test

import (
	"context"
	"math"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/harness/uniform"
)

// The probe is measured through the uniform source, the simplest one that
// runs it.

func TestProbeSampledWithoutOracle(t *testing.T) {
	// A runner without true probabilities (a GPU worker) gets a sampled
	// estimate, the same for every arm, close to the exact value.
	p := sourcetest.Pool(t)
	f := sourcetest.NewFake(p)
	tr := sourcetest.Train()
	exact := sourcetest.New(t, uniform.New, source.Config{Arm: sourcetest.FilterArm("a"), Train: tr, Seed: 1, Pool: p, Runner: f})
	var got [2]source.Account
	for i, name := range []string{"a", "b"} {
		src := sourcetest.New(t, uniform.New, source.Config{Arm: sourcetest.FilterArm(name), Train: tr, Seed: 1, Pool: p, Runner: sourcetest.NoOracle{Runner: f}})
		b, err := src.Next(context.Background(), 0, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		got[i] = b.Account
	}
	b, err := exact.Next(context.Background(), 0, "ck-0", "ck-0")
	if err != nil {
		t.Fatal(err)
	}
	want := b.Account.InZoneFraction
	if got[0].InZoneMethod != source.InZoneSampled || b.Account.InZoneMethod != source.InZoneOracle {
		t.Fatalf("methods %q and %q", got[0].InZoneMethod, b.Account.InZoneMethod)
	}
	if got[0].InZoneFraction != got[1].InZoneFraction {
		t.Fatalf("two arms sampled different probes: %g and %g", got[0].InZoneFraction, got[1].InZoneFraction)
	}
	if se := math.Sqrt(want * (1 - want) / source.DefaultProbeSize); math.Abs(got[0].InZoneFraction-want) > 3*se {
		t.Fatalf("sampled %g, exact %g (se %g)", got[0].InZoneFraction, want, se)
	}
}

func TestProbeEvery(t *testing.T) {
	p := sourcetest.Pool(t)
	tr := sourcetest.Train()
	tr.ProbeEvery = 3
	src := sourcetest.New(t, uniform.New, source.Config{Arm: spec.Arm{Name: "uniform", Source: "uniform", Filter: "none"}, Train: tr, Seed: 1, Pool: p, Runner: sourcetest.NewFake(p)})
	for step := range 4 {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		measured := !math.IsNaN(b.Account.InZoneFraction)
		if want := step%3 == 0; measured != want {
			t.Fatalf("step %d: measured %v, want %v (probe_every 3)", step, measured, want)
		}
		if !measured && b.Account.InZoneMethod != source.InZoneNotMeasured {
			t.Fatalf("step %d: method %q, want %q", step, b.Account.InZoneMethod, source.InZoneNotMeasured)
		}
	}
}
