package dataset

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

var update = flag.Bool("update", false, "rewrite the golden files and fixtures under testdata/")

func mustGenerate(t testing.TB, cfg GeneratorConfig, split Split) *Set {
	t.Helper()
	s, err := Generate(cfg, split)
	if err != nil {
		t.Fatalf("Generate(%+v, %s): %v", cfg, split, err)
	}
	return s
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := GeneratorConfig{Size: 500, Seed: 7}
	a, b := mustGenerate(t, cfg, Train), mustGenerate(t, cfg, Train)
	if a.Hash != b.Hash || !slices.Equal(a.Problems, b.Problems) {
		t.Fatal("two runs with the same config differ")
	}
	if c := mustGenerate(t, GeneratorConfig{Size: 500, Seed: 8}, Train); c.Hash == a.Hash {
		t.Fatal("seeds 7 and 8 give the same set")
	}
}

// TestGeneratePinned pins one set's hash: a change to any topic generator,
// the split rule or the seeding changes every generated dataset, and must be
// a deliberate one (update the golden file and this hash together).
func TestGeneratePinned(t *testing.T) {
	t.Parallel()
	s := mustGenerate(t, GeneratorConfig{Size: 2000, Seed: 1}, Train)
	const want = "sha256:190398addc3b138dac326f7825e1cc3ad5872827f958e4cceacdf8661f9d7a2a"
	if s.Hash != want {
		t.Errorf("Generate(size 2000, seed 1, train).Hash = %s, want %s", s.Hash, want)
	}
}

// TestGenerateGolden shows a reviewer what the generator writes: the first
// problems of each split with their answers and features.
func TestGenerateGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	for _, split := range Splits() {
		for _, p := range mustGenerate(t, GeneratorConfig{Size: 2 * len(topics), Seed: 1}, split).Problems {
			line, err := json.Marshal(struct {
				Split Split `json:"split"`
				Problem
			}{split, p})
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
	}
	checkGolden(t, filepath.Join("testdata", "generated.golden.jsonl"), buf.Bytes())
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return "line " + itoa(int64(i+1)) + ":\nwant " + w[i] + "\ngot  " + g[i]
		}
	}
	return "lengths differ"
}

func TestSplitsAreDisjoint(t *testing.T) {
	t.Parallel()
	train := mustGenerate(t, GeneratorConfig{Size: 5000, Seed: 1}, Train)
	for _, held := range []*Set{
		mustGenerate(t, GeneratorConfig{Size: 1000, Seed: 1}, HeldOut),
		mustGenerate(t, GeneratorConfig{Size: 1000, Seed: 2}, HeldOut), // another seed: still disjoint
	} {
		statements := make(map[string]bool, train.Len())
		for _, p := range train.Problems {
			statements[p.Statement] = true
		}
		for _, p := range held.Problems {
			if statements[p.Statement] || train.Contains(p.ID) {
				t.Fatalf("%s: held-out problem %s is also a training problem: %s", held.Name, p.ID, p.Statement)
			}
		}
		if ids := Overlap(train, held); len(ids) != 0 {
			t.Fatalf("Overlap(train, %s) = %v", held.Name, ids)
		}
	}
}

func TestGenerateFollowsTheRules(t *testing.T) {
	t.Parallel()
	for _, split := range Splits() {
		s := mustGenerate(t, GeneratorConfig{Size: 3000, Seed: 3}, split)
		if s.Len() != 3000 {
			t.Fatalf("%s: %d problems, want 3000", split, s.Len())
		}
		for i, p := range s.Problems {
			if got := SplitOf(p.Statement); got != split {
				t.Fatalf("%s problem %d belongs to %s by the split rule: %s", split, i, got, p.Statement)
			}
			if p.ID != ProblemID(p.Statement) {
				t.Fatalf("problem %d: id %s, want ProblemID(statement) %s", i, p.ID, ProblemID(p.Statement))
			}
			if q, ok := s.Lookup(p.ID); !ok || q.Statement != p.Statement {
				t.Fatalf("Lookup(%s) = %v, %v", p.ID, q, ok)
			}
			if a := parseAnswer(p.Answer); a.kind == AnswerOther {
				t.Fatalf("problem %d (%s): answer %q is in no known form", i, p.Topic, p.Answer)
			}
			if p.Features.AnswerKind == AnswerOther || p.Features.Steps < 1 || p.Features.Operations < 1 {
				t.Fatalf("problem %d (%s): implausible features %+v", i, p.Topic, p.Features)
			}
		}
	}
}

func TestGenerateIsPrefixStable(t *testing.T) {
	t.Parallel()
	small := mustGenerate(t, GeneratorConfig{Size: 300, Seed: 5}, HeldOut)
	large := mustGenerate(t, GeneratorConfig{Size: 1200, Seed: 5}, HeldOut)
	if !slices.Equal(small.Problems, large.Problems[:300]) {
		t.Fatal("the first 300 problems of a 1200-problem set differ from a 300-problem set")
	}
	if large.First(300).Hash != small.Hash {
		t.Fatal("First(300).Hash differs from the 300-problem set's hash")
	}
}

func TestGenerateMix(t *testing.T) {
	t.Parallel()
	mix := map[string]float64{"arithmetic": 3, "fractions": 1, "systems": 0.5, "probability": 0.5, "modular": 0}
	s := mustGenerate(t, GeneratorConfig{Size: 1000, Seed: 1, Mix: mix}, Train)
	counts := map[string]int{}
	for _, p := range s.Problems {
		counts[p.Topic]++
	}
	total := 5.0
	for name, w := range mix {
		want := 1000 * w / total
		if math.Abs(float64(counts[name])-want) > 1 {
			t.Errorf("topic %s: %d problems, want %.0f ± 1", name, counts[name], want)
		}
	}
	if len(counts) != 4 {
		t.Errorf("topics generated: %v, want only the four with positive weights", counts)
	}

	// Without a mix, every topic equally, in every prefix.
	s = mustGenerate(t, GeneratorConfig{Size: 10 * len(topics), Seed: 1}, Train)
	counts = map[string]int{}
	for _, p := range s.Problems {
		counts[p.Topic]++
	}
	for _, name := range Topics() {
		if counts[name] != 10 {
			t.Errorf("default mix: topic %s has %d of %d problems, want 10", name, counts[name], s.Len())
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   GeneratorConfig
		split Split
		want  string
	}{
		{"size", GeneratorConfig{Size: 0}, Train, "dataset: generator size 0; want at least 1"},
		{"split", GeneratorConfig{Size: 1}, "test", `dataset: unknown split "test"; want "train" or "heldout"`},
		{"unknown topics", GeneratorConfig{Size: 1, Mix: map[string]float64{"geometry": 1, "algebra": 1, "fractions": 1}}, Train,
			`dataset: unknown topic "algebra", "geometry" in mix; topics are arithmetic, fractions, percentages, linear_equations, systems, powers_roots, combinatorics, modular, gcd_lcm, probability, sequences`},
		{"negative weight", GeneratorConfig{Size: 1, Mix: map[string]float64{"fractions": -1}}, Train,
			`dataset: topic "fractions" has weight -1; want a finite weight ≥ 0`},
		{"NaN weight", GeneratorConfig{Size: 1, Mix: map[string]float64{"fractions": math.NaN()}}, Train,
			`dataset: topic "fractions" has weight NaN; want a finite weight ≥ 0`},
		{"all zero", GeneratorConfig{Size: 1, Mix: map[string]float64{"fractions": 0}}, Train,
			"dataset: every topic in the mix has weight 0; give at least one of arithmetic, fractions, percentages, linear_equations, systems, powers_roots, combinatorics, modular, gcd_lcm, probability, sequences a positive weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Generate(tt.cfg, tt.split)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant       %s", err, tt.want)
			}
		})
	}
}

func TestCandidateGivesUpWhenExhausted(t *testing.T) {
	t.Parallel()
	// A topic with a single problem: the second request cannot be met.
	only := draft{statement: "What is $2 + 2$?", answer: "4", operations: 1, steps: 1}
	fixed := topic{"fixed", func(*rand.Rand, int) draft { return only }}
	split := SplitOf(only.statement)
	r := newTestRand(1)
	p, ok := candidate(r, fixed, GeneratorConfig{}, split, map[string]struct{}{})
	if !ok {
		t.Fatal("first candidate refused")
	}
	if _, ok := candidate(r, fixed, GeneratorConfig{}, split, map[string]struct{}{p.ID: {}}); ok {
		t.Fatal("a repeated problem was accepted")
	}
}

// TestDifficultySpread checks that the features a simulator derives
// difficulty from vary within every topic and rise with the level.
func TestDifficultySpread(t *testing.T) {
	t.Parallel()
	for _, tp := range topics {
		t.Run(tp.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRand(11)
			var meanSteps [Levels + 1]float64
			steps := map[int]bool{}
			const n = 200
			for level := 1; level <= Levels; level++ {
				for range n {
					d := tp.generate(r, level)
					meanSteps[level] += float64(d.steps) / n
					steps[d.steps] = true
				}
			}
			if len(steps) < 3 {
				t.Errorf("only %d distinct step counts", len(steps))
			}
			if meanSteps[Levels] <= meanSteps[1]+1 {
				t.Errorf("mean steps %.2f at level 1 and %.2f at level %d; want a rise of more than one step", meanSteps[1], meanSteps[Levels], Levels)
			}
		})
	}
	s := mustGenerate(t, GeneratorConfig{Size: 2000, Seed: 1}, Train)
	var lo, hi int
	lo = math.MaxInt
	digits := map[int]bool{}
	for _, p := range s.Problems {
		lo, hi = min(lo, p.Features.Steps), max(hi, p.Features.Steps)
		digits[p.Features.MaxDigits] = true
	}
	if lo != 1 || hi < 6 || len(digits) < 4 {
		t.Errorf("steps range %d..%d and %d distinct max-digit counts; want 1..≥6 and ≥4", lo, hi, len(digits))
	}
}

func BenchmarkGenerate(b *testing.B) {
	for range b.N {
		if _, err := Generate(GeneratorConfig{Size: 2000, Seed: 1}, Train); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "problems/s")
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func TestGenerateLevelsWeightTheDifficulty(t *testing.T) {
	t.Parallel()
	meanSteps := func(levels []float64) float64 {
		s := mustGenerate(t, GeneratorConfig{Size: 400, Seed: 3, Levels: levels}, Train)
		again := mustGenerate(t, GeneratorConfig{Size: 400, Seed: 3, Levels: levels}, Train)
		assert.Equal(t, s.Hash, again.Hash, "deterministic")
		var sum float64
		for _, p := range s.Problems {
			sum += float64(p.Features.Steps)
		}
		return sum / float64(s.Len())
	}
	easy, even, hard := meanSteps([]float64{1, 1, 0, 0, 0}), meanSteps(nil), meanSteps([]float64{0, 0, 0, 1, 1})
	assert.Less(t, easy, even)
	assert.Less(t, even, hard)
	for _, bad := range [][]float64{{1, 1}, {0, 0, 0, 0, 0}, {1, -1, 1, 1, 1}, {1, 1, 1, 1, math.Inf(1)}} {
		_, err := Generate(GeneratorConfig{Size: 10, Seed: 1, Levels: bad}, Train)
		assert.Error(t, err, "%v", bad)
	}
}
