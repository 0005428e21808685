package proof

import (
	"flag"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/relix-lab/relix/experiment/seed"
)

var exhaustive = flag.Bool("exhaustive", false, "check Bucket on all 2³² float32 bit patterns (about a minute of CPU)")

// bucketFormula is Bucket as GRAIL writes it, with a logarithm.
func bucketFormula(x float32) int64 {
	v := float64(x)
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return Buckets - 1
	case math.IsInf(v, -1):
		return -(Buckets - 1)
	}
	a := math.Abs(v)
	if a < 1e-6 {
		return 0
	}
	b := int64(math.Log2(a+1) * Buckets / 10)
	b = min(max(b, 0), Buckets-1)
	if v < 0 {
		return -b
	}
	return b
}

// checkBuckets compares Bucket with the formula on the bit patterns
// [lo, hi] stepping by step, both signs.
func checkBuckets(t *testing.T, lo, hi, step uint32) {
	t.Helper()
	for u := uint64(lo); u <= uint64(hi); u += uint64(step) {
		for _, bits := range []uint32{uint32(u), uint32(u) | signBit} {
			x := math.Float32frombits(bits)
			if got, want := Bucket(x), bucketFormula(x); got != want {
				t.Fatalf("Bucket(%g = %#08x) = %d, want %d", x, bits, got, want)
			}
		}
	}
}

func TestBucketThresholds(t *testing.T) {
	for k := range bucketThresholds {
		// Bisection over the non-negative bit patterns assumes the formula
		// non-decreasing there, which TestBucketMatchesFormula checks.
		lo, hi := uint32(0), uint32(infBits)
		for lo < hi {
			m := lo + (hi-lo)/2
			if bucketFormula(math.Float32frombits(m)) >= int64(k+1) {
				hi = m
			} else {
				lo = m + 1
			}
		}
		if lo != bucketThresholds[k] {
			t.Errorf("threshold of bucket %d: %#08x, want %#08x", k+1, bucketThresholds[k], lo)
		}
	}
	for e, b := range binades {
		for _, n := range b.next {
			if n != noThreshold && n>>23 != uint32(e) {
				t.Errorf("binade %d holds threshold %#08x", e, n)
			}
		}
	}
}

func TestBucketMatchesFormula(t *testing.T) {
	// Every exponent (zeros, subnormals, normals, Inf, NaNs) with 8,000
	// mantissas spread over it, and its first and last few.
	for e := uint32(0); e < 256; e++ {
		lo, hi := e<<23, e<<23|(1<<23-1)
		checkBuckets(t, lo, hi, 1021)
		checkBuckets(t, lo, lo+64, 1)
		checkBuckets(t, hi-64, hi, 1)
	}
	// Every threshold's neighbourhood, where a bucket changes.
	for _, th := range bucketThresholds {
		checkBuckets(t, th-1<<12, th+1<<12, 1)
	}
	checkBuckets(t, math.Float32bits(1e-6)-1<<12, math.Float32bits(1e-6)+1<<12, 1) // the dead zone's edge
	if !*exhaustive {
		t.Log("-exhaustive checks all 2³² inputs")
		return
	}
	// All 2³¹ magnitudes, each with both signs, split across the CPUs.
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := uint32(1<<31) / uint32(workers)
	for w := range workers {
		lo := uint32(w) * chunk
		hi := lo + chunk - 1
		if w == workers-1 {
			hi = 1<<31 - 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := uint64(lo); u <= uint64(hi); u++ {
				for _, bits := range []uint32{uint32(u), uint32(u) | signBit} {
					x := math.Float32frombits(bits)
					if got, want := Bucket(x), bucketFormula(x); got != want {
						t.Errorf("Bucket(%g = %#08x) = %d, want %d", x, bits, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkBucket(b *testing.B) {
	xs := make([]float32, 1024)
	for i := range xs {
		u := float32(int32(uint32(seed.Mix(uint64(i))))) / (1 << 31)
		xs[i] = 4 * u * u * u
	}
	var s int64
	for b.Loop() {
		for _, x := range xs {
			s += Bucket(x)
		}
	}
	sink = s
}

var sink int64
