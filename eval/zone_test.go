package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestInZone(t *testing.T) {
	for _, c := range []struct {
		rewards []float64
		sigma   float64
		want    bool
	}{
		{[]float64{1, 1, 0, 0, 0, 0, 0, 0}, 0.43, true}, // std √(2·6)/8 = 0.433
		{[]float64{1, 0, 0, 0, 0, 0, 0, 0}, 0.43, false},
		{[]float64{1, 0, 0, 0, 0, 0, 0, 0}, 0, true},
		{[]float64{1, 1, 1, 1, 1, 1, 1, 0}, 0, true},
		{[]float64{0, 0, 0, 0, 0, 0, 0, 0}, 0, false},
		{[]float64{1, 1, 1, 1, 1, 1, 1, 1}, 0, false},
		{[]float64{1, 1, 1, 1, 0, 0, 0, 0}, 0.49, true},
		{nil, 0, false},
	} {
		if got := InZone(c.rewards, c.sigma); got != c.want {
			t.Errorf("InZone(%v, %g) = %v, want %v", c.rewards, c.sigma, got, c.want)
		}
	}
}

func TestInZoneChance(t *testing.T) {
	// σ_min → 0: 1 − p^G − (1−p)^G.
	for _, p := range []float64{0, 0.01, 0.3, 0.5, 0.97, 1} {
		want := 1 - math.Pow(p, 8) - math.Pow(1-p, 8)
		if got := InZoneChance(p, 8, 0); math.Abs(got-want) > 1e-12 {
			t.Errorf("InZoneChance(%g, 8, 0) = %g, want %g", p, got, want)
		}
	}
	// σ_min 0.43, G = 8: 2 to 6 correct of 8.
	z := NewZone(8, 0.43)
	for k := range 9 {
		if want := k >= 2 && k <= 6; z.In(k) != want {
			t.Errorf("NewZone(8, 0.43).In(%d) = %v, want %v", k, z.In(k), want)
		}
	}
	p := 0.3
	var want float64
	for k := 2; k <= 6; k++ {
		want += binomial(8, k) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(8-k))
	}
	if got := InZoneChance(p, 8, 0.43); math.Abs(got-want) > 1e-12 {
		t.Errorf("InZoneChance(0.3, 8, 0.43) = %g, want %g", got, want)
	}
}

func TestPowIntMatchesPow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e-300, 5e-324, math.SmallestNonzeroFloat64, 1 - 1e-16, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), -0.3, 2, 1e300}
	for range 200000 {
		xs = append(xs, r.Float64())
	}
	for range 20000 {
		xs = append(xs, math.Float64frombits(r.Uint64()))
	}
	for _, x := range xs {
		for n := 0; n <= 70; n++ {
			got, want := powInt(x, n), math.Pow(x, float64(n))
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("powInt(%v, %d) = %v; math.Pow gives %v", x, n, got, want)
			}
		}
	}
}
