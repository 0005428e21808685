package proof

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relix-lab/relix/runners"
)

// commitReference is Commit as first written: magnitudes in float64, kept
// with their indices in two arrays.
func commitReference(hidden []float32, c *Coefficients) Commitment {
	var cm Commitment
	var mags [TopK]float64
	n := 0
	for i, x := range hidden {
		m := math.Abs(float64(x))
		if math.IsNaN(m) {
			m = 0
		}
		if n == TopK && m <= mags[TopK-1] {
			continue
		}
		j := min(n, TopK-1)
		for j > 0 && mags[j-1] < m {
			mags[j], cm.Indices[j] = mags[j-1], cm.Indices[j-1]
			j--
		}
		mags[j], cm.Indices[j] = m, uint32(i)
		n = min(n+1, TopK)
	}
	var s int64
	for k, i := range cm.Indices {
		s += c[k] * bucketFormula(hidden[i])
	}
	cm.Sketch = uint32(((s % Prime) + Prime) % Prime)
	return cm
}

func TestCommitMatchesReference(t *testing.T) {
	// Ties, signed zeros, subnormals, infinities and NaNs, where a change
	// in how magnitudes are compared would show.
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN()), math.MaxFloat32, 0.5421}
	c := NewCoefficients(randomness(3))
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 20000 {
		width := TopK + r.IntN(100)
		if trial%50 == 0 { // past sortWidth: the insertion pass
			width = sortWidth + r.IntN(200)
		}
		h := make([]float32, width)
		for i := range h {
			switch r.IntN(4) {
			case 0:
				h[i] = special[r.IntN(len(special))]
			case 1:
				h[i] = math.Float32frombits(r.Uint32())
			default:
				h[i] = float32(r.NormFloat64() * 4)
			}
		}
		got, err := Commit(h, &c)
		if want := commitReference(h, &c); err != nil || got != want {
			t.Fatalf("trial %d: %+v (%v), want %+v for %v", trial, got, err, want, h)
		}
	}
}

// challengeReference is ChallengePositions' draw as first written, with a
// map for the set of positions drawn so far.
func challengeReference(seed [32]byte, n, k int) []int {
	rng := rand.New(rand.NewChaCha8(seed))
	picked := make(map[int]bool, k)
	pos := make([]int, 0, k)
	for j := n - k; j < n; j++ {
		t := rng.IntN(j + 1)
		if picked[t] {
			t = j
		}
		picked[t] = true
		pos = append(pos, t)
	}
	slices.Sort(pos)
	return pos
}

func TestChallengePositionsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := range 3000 {
		n := 2 + r.IntN(200) // small n: many collisions for the set to resolve
		if trial%10 == 0 {
			n = 1 + r.IntN(8192)
		}
		k := 1 + r.IntN(min(n-1, 40))
		tok := tokens(r, n)
		w := randomness(trial)
		seed := challengeSeed(runners.TokensDigest(tok), w)
		if got, want := ChallengePositions(tok, w, k), challengeReference(seed, n, k); !slices.Equal(got, want) {
			t.Fatalf("trial %d (n %d, k %d): %v, want %v", trial, n, k, got, want)
		}
	}
}

func benchStates() [][]float32 {
	hs, _ := model(64)(context.Background(), "published", tokens(rand.New(rand.NewPCG(1, 1)), 1000), []int{0, 100, 200, 300, 400, 500, 600, 700})
	return hs
}

// BenchmarkCommitMany commits 4,096 different hidden states of the sim's
// width, too many for the branch predictor to learn (BenchmarkCommit's 8
// it learns, and then measures what no run sees).
func BenchmarkCommitMany(b *testing.B) {
	pos := make([]int, 4096)
	for i := range pos {
		pos[i] = 2 * i
	}
	hs, _ := model(64)(context.Background(), "published", tokens(rand.New(rand.NewPCG(1, 1)), 2*len(pos)), pos)
	c := NewCoefficients(randomness(1))
	for b.Loop() {
		for _, h := range hs {
			if _, err := Commit(h, &c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCommit commits 8 hidden states of the sim's width.
func BenchmarkCommit(b *testing.B) {
	hs := benchStates()
	c := NewCoefficients(randomness(1))
	for b.Loop() {
		for _, h := range hs {
			if _, err := Commit(h, &c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkCommitReference(b *testing.B) {
	hs := benchStates()
	c := NewCoefficients(randomness(1))
	for b.Loop() {
		for _, h := range hs {
			commitReference(h, &c)
		}
	}
}
