package zone

import (
	"math"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g; want %.12g", what, got, want)
	}
}

// TestEstimateByHand recomputes a mean, its standard error and its
// Student-t interval from their definitions.
func TestEstimateByHand(t *testing.T) {
	e := estimateOf([]float64{0.8, 0.9, 1.0})
	// mean 0.9; sample sd 0.1; se 0.1/√3; t(0.975, 2) = 4.302652729749464
	// (Student's table).
	se := 0.1 / math.Sqrt(3)
	near(t, "mean", e.mean, 0.9)
	near(t, "se", e.se, se)
	near(t, "low", e.low, 0.9-4.302652729749464*se)
	near(t, "high", e.high, 0.9+4.302652729749464*se)

	one := estimateOf([]float64{0.7})
	if one.mean != 0.7 || !math.IsNaN(one.se) || !math.IsNaN(one.low) || !math.IsNaN(one.high) {
		t.Errorf("one seed: %+v; want the value with no interval", one)
	}
	if none := estimateOf(nil); !math.IsNaN(none.mean) {
		t.Errorf("no seeds: %+v", none)
	}
}

// TestRatioByHand: a = {2, 4} (mean 3, se 1), b = {1, 1} (mean 1, se 0):
// ratio 3, relative se 1/3, t(0.975, 1) = 12.706204736174705.
func TestRatioByHand(t *testing.T) {
	r := ratioOf([]float64{2, 4}, []float64{1, 1})
	near(t, "ratio", r.mean, 3)
	near(t, "se", r.se, 1)
	half := 12.706204736174705 / 3
	near(t, "low", r.low, 3*math.Exp(-half))
	near(t, "high", r.high, 3*math.Exp(half))
	if r := ratioOf(nil, nil); !math.IsNaN(r.mean) {
		t.Errorf("no seeds: %+v", r)
	}
}

// TestStatsOfATally computes one run's figures by hand: 100 groups of 8
// generated, 8 accepted; 20 in the zone, of which 10 were submitted before
// a seal (8 accepted, 1 duplicate, 1 late); 30 still in flight.
func TestStatsOfATally(t *testing.T) {
	tl := Tally{Windows: 1, GeneratedGroups: 100, GeneratedRollouts: 800, UsefulGroups: 8, UsefulRollouts: 64,
		InZoneGroups: 20, Accepted: 8, Duplicate: 1, Late: 1, InFlight: 30, Missed: 60}
	s := statsOf(tl)
	near(t, "waste", s.waste, 1-64.0/800)
	near(t, "hit", s.hit, 0.2)
	near(t, "carried", s.carried, 1-0.2*8.0/10)
	near(t, "useful per 1000", s.useful1000, 80)
	near(t, "late", s.late, 0.01)
	near(t, "duplicate", s.dup, 0.01)
	near(t, "in flight", s.inflight, 0.3)

	// The filter: every group in the zone is accepted, nothing is in flight,
	// so both accountings agree and equal 1 − hit rate.
	f := statsOf(Tally{GeneratedGroups: 40, GeneratedRollouts: 320, UsefulGroups: 8, UsefulRollouts: 64, InZoneGroups: 8, Accepted: 8, Discarded: 32})
	near(t, "filter waste", f.waste, 0.8)
	near(t, "filter carried", f.carried, 0.8)
}

// TestPointsAggregate builds the rows of one level with a filter and a
// market over two seeds and checks the per-seed and aggregate figures.
func TestPointsAggregate(t *testing.T) {
	sels := []spec.Selector{{Name: "filter", Kind: "filter"}, {Name: "m", Kind: "market"}}
	seeds := []uint64{1, 2}
	filter := func(gen int) Tally {
		return Tally{Windows: 2, GeneratedGroups: gen, GeneratedRollouts: 8 * gen, UsefulGroups: 16, UsefulRollouts: 128, InZoneGroups: 16, Accepted: 16}
	}
	market := func(gen, inZone int) Tally {
		return Tally{Windows: 2, GeneratedGroups: gen, GeneratedRollouts: 8 * gen, UsefulGroups: 16, UsefulRollouts: 128,
			InZoneGroups: inZone, Accepted: 16, Late: 4, InFlight: 10}
	}
	runs := []Run{
		{Level: 0, Selector: sels[0], Seed: 1, Tally: filter(160)}, {Level: 0, Selector: sels[0], Seed: 2, Tally: filter(200)},
		{Level: 0, Selector: sels[1], Seed: 1, Tally: market(80, 20)}, {Level: 0, Selector: sels[1], Seed: 2, Tally: market(64, 20)},
	}
	pts := points([]Level{{Target: 0.1, Achieved: 0.1}}, sels, seeds, runs)
	if len(pts) != 6 {
		t.Fatalf("%d points; want 2 selectors × (2 seeds + the aggregate)", len(pts))
	}
	// Filter rates 0.1 and 0.08; market rates 0.2 and 0.25.
	f, m := pts[2], pts[5]
	if f.Seed != nil || m.Seed != nil || *pts[0].Seed != 1 || *pts[4].Seed != 2 {
		t.Fatalf("seeds: %v %v %v %v", f.Seed, m.Seed, pts[0].Seed, pts[4].Seed)
	}
	near(t, "filter waste", f.Waste, 1-0.09)
	near(t, "seed 1 multiplier", pts[3].Multiplier, 0.2/0.1)
	near(t, "seed 2 multiplier", pts[4].Multiplier, 0.25/0.08)
	near(t, "multiplier", m.Multiplier, 0.225/0.09)
	// Carried: hit × accepted/submitted = (20/80)·(16/20) = 0.2 and
	// (20/64)·(16/20) = 0.25.
	near(t, "carried", m.WasteCarried, 1-0.225)
	near(t, "multiplier carried", m.MultiplierCarried, 0.225/0.09)
	near(t, "in flight", m.InFlightShare, (10.0/80+10.0/64)/2)
	if m.GeneratedGroups != 144 || m.UsefulGroups != 32 || m.Windows != 2 {
		t.Errorf("aggregate counts: %+v", m)
	}
	if !math.IsNaN(f.Multiplier) || !math.IsNaN(f.LateShare) || !math.IsNaN(pts[0].WasteCILow) {
		t.Errorf("the filter has no multiplier or late share, and a seed's row no interval: %+v %+v", f, pts[0])
	}
	if !(m.MultiplierLow < m.Multiplier && m.Multiplier < m.MultiplierHigh) {
		t.Errorf("multiplier interval [%g, %g] around %g", m.MultiplierLow, m.MultiplierHigh, m.Multiplier)
	}
}
