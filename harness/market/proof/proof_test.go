package proof

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/seed"
)

// model is a stand-in for a runner's Hidden: the state after a prefix is a
// rolling hash of the prefix seeded by the checkpoint, spread over width
// entries of magnitude up to 4 (as the sim's are).
func model(width int) HiddenFunc {
	return func(_ context.Context, checkpoint string, tokens []uint32, positions []int) ([][]float32, error) {
		sum := sha256.Sum256([]byte(checkpoint))
		h := binary.LittleEndian.Uint64(sum[:])
		last := slices.Max(positions)
		prefix := make([]uint64, last+1)
		for t := 0; t <= last; t++ {
			h = seed.Mix(h ^ uint64(tokens[t]) ^ uint64(t)<<32)
			prefix[t] = h
		}
		out := make([][]float32, len(positions))
		for i, p := range positions {
			v := make([]float32, width)
			for k := range v {
				u := float32(int32(uint32(seed.Mix(prefix[p]+uint64(k+1)*0x9e3779b97f4a7c15)))) / (1 << 31)
				v[k] = 4 * u * u * u
			}
			out[i] = v
		}
		return out, nil
	}
}

func randomness(i int) Randomness { return sha256.Sum256(fmt.Appendf(nil, "window %d", i)) }

func tokens(r *rand.Rand, n int) []uint32 {
	t := make([]uint32, n)
	for i := range t {
		t[i] = uint32(r.IntN(151936))
	}
	return t
}

func TestCoefficients(t *testing.T) {
	a, b := NewCoefficients(randomness(1)), NewCoefficients(randomness(2))
	if a != NewCoefficients(randomness(1)) {
		t.Fatal("coefficients are not a function of the randomness")
	}
	if a == b {
		t.Fatal("two windows share their coefficients")
	}
	for _, c := range [][TopK]int64{a, b} {
		for _, x := range c {
			if x < -CoeffRange || x > CoeffRange {
				t.Fatalf("coefficient %d outside [−%d, %d]", x, CoeffRange, CoeffRange)
			}
		}
	}
}

func TestPRFCounterMode(t *testing.T) {
	// Block i of the PRF is SHA-256(label ‖ "||" ‖ part ‖ i big-endian).
	out := make([]byte, 40)
	prf("sketch", out, []byte("abc"))
	b0 := sha256.Sum256([]byte("sketch||abc\x00\x00\x00\x00"))
	b1 := sha256.Sum256([]byte("sketch||abc\x00\x00\x00\x01"))
	if !slices.Equal(out[:32], b0[:]) || !slices.Equal(out[32:], b1[:8]) {
		t.Fatal("PRF is not SHA-256 in counter mode")
	}
}

func TestBucket(t *testing.T) {
	for _, c := range []struct {
		x    float32
		want int64
	}{
		{0, 0}, {5e-7, 0}, {-5e-7, 0},
		{0.5, 0},  // log2(1.5)·1.6 = 0.94
		{1, 1},    // log2(2)·1.6 = 1.6
		{-3, -3},  // log2(4)·1.6 = 3.2
		{4, 3},    // log2(5)·1.6 = 3.7
		{100, 10}, // log2(101)·1.6 = 10.65
		{1e6, 15}, // clamped
		{-1e9, -15},
		{float32(math.Inf(1)), 15}, {float32(math.Inf(-1)), -15}, {float32(math.NaN()), 0},
	} {
		if got := Bucket(c.x); got != c.want {
			t.Errorf("Bucket(%g) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestCommitTopK(t *testing.T) {
	h := make([]float32, 40)
	for i := range h {
		h[i] = float32(i) * 0.01
	}
	h[7], h[3], h[30] = -9, 8, 8 // largest magnitudes; 3 and 30 tie
	c := NewCoefficients(randomness(0))
	cm, err := Commit(h, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{7, 3, 30, 39, 38, 37, 36, 35, 34, 33, 32, 31, 29, 28, 27, 26}
	if !slices.Equal(cm.Indices[:], want) {
		t.Fatalf("indices %v, want %v", cm.Indices, want)
	}
	var s int64
	for k, i := range want {
		s += c[k] * Bucket(h[i])
	}
	if got := int64(cm.Sketch); got != ((s%Prime)+Prime)%Prime {
		t.Fatalf("sketch %d, want %d", got, ((s%Prime)+Prime)%Prime)
	}
	if _, err := Commit(h[:TopK-1], &c); err == nil {
		t.Fatal("a state narrower than TopK was committed")
	}
}

func TestToleranceAndDistance(t *testing.T) {
	if got := Tolerance(8, 0); got != 8 {
		t.Fatalf("Tolerance(8, 0) = %d", got)
	}
	if got := Tolerance(8, 8100); got != 8+450 {
		t.Fatalf("Tolerance(8, 8100) = %d", got)
	}
	if d := Distance(3, Prime-2); d != 5 {
		t.Fatalf("modular distance %d, want 5", d)
	}
	if d := Distance(10, 4); d != 6 {
		t.Fatalf("distance %d, want 6", d)
	}
}

func TestChallengePositions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tok := tokens(r, 8192)
	p := ChallengePositions(tok, randomness(1), Challenges)
	if len(p) != Challenges || !slices.IsSorted(p) || len(slices.Compact(slices.Clone(p))) != Challenges {
		t.Fatalf("positions %v: want %d sorted distinct", p, Challenges)
	}
	if p[0] < 0 || p[len(p)-1] >= len(tok) {
		t.Fatalf("positions %v out of range", p)
	}
	if !slices.Equal(p, ChallengePositions(tok, randomness(1), Challenges)) {
		t.Fatal("positions are not a function of tokens and randomness")
	}
	if slices.Equal(p, ChallengePositions(tok, randomness(2), Challenges)) {
		t.Fatal("another window's randomness gave the same positions")
	}
	tok[8000]++
	if slices.Equal(p, ChallengePositions(tok, randomness(1), Challenges)) {
		t.Fatal("another token gave the same positions")
	}
	if got := ChallengePositions(tok[:5], randomness(1), Challenges); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("short completion: positions %v, want all", got)
	}
	// Every position is challenged about equally often.
	counts := make([]int, 64)
	for i := range 4000 {
		for _, q := range ChallengePositions(tokens(r, 64), randomness(i), 8) {
			counts[q]++
		}
	}
	for q, c := range counts { // expected 500, sd ≈ 21
		if c < 400 || c > 600 {
			t.Fatalf("position %d challenged %d times of 4000·8/64 = 500", q, c)
		}
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	h := model(64)
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		w := randomness(trial)
		n := 1 + r.IntN(8192)
		tok := tokens(r, n)
		honest := NewProver(h, "published", tok, w)
		res, err := Verify(ctx, h, "published", tok, honest, w, 8)
		if err != nil || !res.OK {
			t.Fatalf("trial %d: honest completion of %d tokens rejected: %+v %v", trial, n, res, err)
		}
		// One checkpoint off: the prover generated with another checkpoint.
		stale := NewProver(h, "older", tok, w)
		if res, _ := Verify(ctx, h, "published", tok, stale, w, 8); res.OK {
			t.Fatalf("trial %d: completion of another checkpoint accepted", trial)
		}
		// One token changed after committing, anywhere in the first three
		// quarters (a change at position k is caught when some challenge
		// lands at or after k: with probability 1 − (k/n)^32).
		edited := slices.Clone(tok)
		k := r.IntN(max(1, 3*n/4))
		edited[k] = (edited[k] + 1) % 151936
		if res, _ := Verify(ctx, h, "published", edited, honest, w, 8); res.OK {
			t.Fatalf("trial %d: token %d of %d changed after committing, accepted", trial, k, n)
		}
	}
}

func TestVerifyToleratesDrift(t *testing.T) {
	// A validator whose hidden states differ from the miner's by float noise
	// (another GPU) still accepts: most buckets do not move, and a moved one
	// shifts the sketch by one coefficient.
	ctx := context.Background()
	h := model(64)
	drift := func(ctx context.Context, ck string, tok []uint32, pos []int) ([][]float32, error) {
		hs, err := h(ctx, ck, tok, pos)
		for _, v := range hs {
			for k := range v {
				v[k] *= 1 + 1e-5
			}
		}
		return hs, err
	}
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		w := randomness(100 + trial)
		tok := tokens(r, 4096)
		res, err := Verify(ctx, drift, "published", tok, NewProver(h, "published", tok, w), w, 8)
		if err != nil || !res.OK {
			t.Fatalf("trial %d: drift of 1e-5 rejected: %+v %v", trial, res, err)
		}
	}
}

type forged []Commitment

func (f forged) Open(context.Context, []int) ([]Commitment, error) { return f, nil }

func TestVerifyRejectsBadOpenings(t *testing.T) {
	ctx := context.Background()
	h := model(64)
	w := randomness(7)
	tok := tokens(rand.New(rand.NewPCG(7, 8)), 100)
	for name, o := range map[string]Opener{
		"too few":        forged(make([]Commitment, 3)),
		"repeated index": forged(make([]Commitment, Challenges)), // all indices 0
		"out of range": forged(func() []Commitment {
			c := make([]Commitment, Challenges)
			for i := range c {
				for k := range c[i].Indices {
					c[i].Indices[k] = uint32(64 + k)
				}
			}
			return c
		}()),
	} {
		res, err := Verify(ctx, h, "published", tok, o, w, 8)
		if err != nil || res.OK {
			t.Errorf("%s: accepted (%+v, %v)", name, res, err)
		}
	}
	if res, _ := Verify(ctx, h, "published", nil, NewProver(h, "published", nil, w), w, 8); res.OK {
		t.Error("an empty completion was accepted")
	}
}

func BenchmarkVerify8192(b *testing.B) {
	ctx := context.Background()
	h := model(64)
	w := randomness(1)
	tok := tokens(rand.New(rand.NewPCG(1, 1)), 8192)
	p := NewProver(h, "published", tok, w)
	for b.Loop() {
		if res, err := Verify(ctx, h, "published", tok, p, w, 8); err != nil || !res.OK {
			b.Fatal(res, err)
		}
	}
}
