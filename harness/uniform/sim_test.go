package uniform

import (
	"context"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/source/sourcetest"
)

// TestSimUniform checks the uniform sources on the sim: the filter keeps
// only groups in the zone; without it, every group drawn is kept.
func TestSimUniform(t *testing.T) {
	s, p, r := sourcetest.NewSim(t)
	ctx := context.Background()
	for _, arm := range []spec.Arm{{Name: "uniform", Source: "uniform", Filter: "none"}, sourcetest.FilterArm("filter")} {
		src := mustNew(t, source.Config{Arm: arm, Train: s.Train, Seed: 1, Pool: p, Runner: r})
		for step := range 3 {
			b, err := src.Next(ctx, step, r.Base(), r.Base())
			if err != nil {
				t.Fatal(err)
			}
			sourcetest.CheckAccount(t, b, s.Train)
			if len(b.Groups) != s.Train.GroupsPerStep {
				t.Fatalf("%s step %d: %d groups", arm.Name, step, len(b.Groups))
			}
			t.Logf("%s step %d: %d generated, in zone %.3f (probe %.3f), waste %.3f, truncated %d of %d",
				arm.Name, step, b.Account.GeneratedGroups, b.Account.HitRate, b.Account.InZoneFraction, b.Account.Waste,
				b.Account.TruncatedRollouts, b.Account.GeneratedRollouts)
		}
	}
}
