package zone

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkFindLevel searches the difficulty offset of one grid point on
// the committed sweep's pool of 4,000 prompts.
func BenchmarkFindLevel(b *testing.B) {
	s, pool := load(b)
	p, err := newPlan(s)
	if err != nil {
		b.Fatal(err)
	}
	runners := 0
	for b.Loop() {
		lv, r, err := findLevel(context.Background(), simOnly, s.Runner, p.train, pool, 0.05)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		runners += lv.Runners
	}
	b.ReportMetric(float64(runners)/float64(b.N), "runners/op")
}

// BenchmarkWindow measures one selector's windows of the committed sweep
// at the ends of the grid, per window (no warm-up).
func BenchmarkWindow(b *testing.B) {
	s, pool := load(b, "sweep.warmup=0", "sweep.windows=1")
	p, err := newPlan(s)
	if err != nil {
		b.Fatal(err)
	}
	for _, target := range []float64{0.01, 0.15} {
		_, r, err := findLevel(context.Background(), simOnly, s.Runner, p.train, pool, target)
		if err != nil {
			b.Fatal(err)
		}
		for _, sel := range s.Sweep.Selectors {
			b.Run(fmt.Sprintf("%g/%s", target, sel.Name), func(b *testing.B) {
				groups := 0
				for b.Loop() {
					t, err := p.run(context.Background(), r, pool, sel, 1)
					if err != nil {
						b.Fatal(err)
					}
					groups += t.GeneratedGroups
				}
				b.ReportMetric(float64(groups)/float64(b.N), "groups/window")
			})
		}
	}
}
