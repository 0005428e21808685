package results

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenSums pins the SHA-256 of the Parquet files the writers produce, so
// that a change to how they are written (codec pooling, the column buffers,
// the dictionary path, ...) cannot change a byte unnoticed. The sums were
// generated with the pqarrow-based writer as it was before those
// optimisations; regenerate them (-update) only for a deliberate change of
// the file format, and bump SchemaVersion then — or for a new zstd encoder,
// whose compressed bytes differ while every value and the format stay
// (klauspost/compress 1.17 began Huffman-coding short literals; the sums
// were regenerated when relix moved from 1.16.7 to 1.20.2 for its decoder's
// fix of a panic on crafted frames), and say so in the commit.
const goldenSums = "testdata/parquet.sha256"

// highCardinalityRollouts has a distinct prompt on every row, so that in
// the first row group the prompt dictionary outgrows the dictionary page
// limit and the column writer falls back to plain encoding mid-chunk (the
// second, smaller row group keeps its dictionary); every fifth group comes
// from the uniform source (null miner, reason and arrival).
func highCardinalityRollouts(n int) []Rollout {
	rows := benchRollouts(n)
	for i := range rows {
		r := &rows[i]
		r.Prompt = fmt.Sprintf("train-%07d", i)
		if (i/8)%5 == 0 {
			r.Miner, r.Reason, r.Arrival = "", "", math.NaN()
		}
	}
	return rows
}

type goldenCase struct {
	name string
	// variants is how many different files the case can give. Arrow v15
	// writes a column chunk's page-encoding statistics in the order of a Go
	// map (metadata.ColumnChunkMetaDataBuilder.Finish), so a chunk with
	// data pages of two encodings, a dictionary that fell back to plain,
	// comes out in either order: 2^k files for k such chunks, all of which
	// the writer produced before and all of which are recorded.
	variants int
	write    func(path string) error
}

func goldenFile[R Row](name string, rows []R, perRG int) goldenCase {
	return goldenCase{name: name, variants: 1, write: func(path string) error {
		return WriteFile(path, rows, Options{SpecHash: syntheticSpecHash, RowGroupRows: perRG})
	}}
}

func (c goldenCase) sum(path string) (string, error) {
	if err := c.write(path); err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func goldenCases() []goldenCase {
	bench := benchRollouts(200_000)
	highcard := goldenFile("highcard-rollouts", highCardinalityRollouts(100_000), 0)
	highcard.variants = 2 // one prompt chunk falls back
	return []goldenCase{
		goldenFile("bench-rollouts", bench, 0), // BenchmarkWriteRollouts's file
		goldenFile("bench-rollouts-rg10000", bench, 10_000),
		goldenFile("bench-rollouts-one-rg", bench, 1<<20),
		highcard,
		goldenFile("rollouts-rg50", syntheticRollouts(), 50),
		goldenFile("rollouts", syntheticRollouts(), 0),
		goldenFile("steps-rg50", syntheticSteps(), 50),
		goldenFile("steps", syntheticSteps(), 0),
		goldenFile("eval-rg50", syntheticEval(), 50),
		goldenFile("eval", syntheticEval(), 0),
		goldenFile("summary-rg50", syntheticSummary(), 50),
		goldenFile("summary", syntheticSummary(), 0),
		goldenFile("sweep-rg50", syntheticSweep(), 50),
		goldenFile("sweep", syntheticSweep(), 0),
		goldenFile("problems-rg10", syntheticProblems(), 10),
		goldenFile("problems", syntheticProblems(), 0),
		goldenFile("summary-rg1", syntheticSummary()[:7], 1),
		goldenFile("empty-summary", []Summary{}, 0),
	}
}

// readSums reads the recorded sums: name → the set of its variants' sums.
func readSums(t *testing.T) map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(goldenSums)
	require.NoError(t, err, "missing %s (go test ./results -run GoldenBytes -update)", goldenSums)
	sums := map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		require.True(t, ok, "malformed line %q in %s", line, goldenSums)
		if sums[name] == nil {
			sums[name] = map[string]bool{}
		}
		sums[name][sum] = true
	}
	return sums
}

// recordSums writes every variant of every case: a case with variants is
// written until each has been seen.
func recordSums(t *testing.T, dir string) {
	var lines []string
	for _, c := range goldenCases() {
		seen := map[string]bool{}
		for try := 0; len(seen) < c.variants; try++ {
			require.Less(t, try, 50*c.variants, "%s: %d of %d variants seen", c.name, len(seen), c.variants)
			sum, err := c.sum(filepath.Join(dir, c.name+".parquet"))
			require.NoError(t, err, c.name)
			seen[sum] = true
		}
		for sum := range seen {
			lines = append(lines, sum+"  "+c.name)
		}
	}
	sort.Slice(lines, func(i, j int) bool { // by name, then sum
		if a, b := lines[i][66:], lines[j][66:]; a != b {
			return a < b
		}
		return lines[i] < lines[j]
	})
	require.NoError(t, os.WriteFile(goldenSums, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// TestGoldenBytes writes every golden case and compares the SHA-256 of each
// file with the committed one.
func TestGoldenBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if *update {
		recordSums(t, dir)
		return
	}
	want := readSums(t)
	cases := goldenCases()
	assert.Equal(t, len(want), len(cases), "cases in %s", goldenSums)
	for _, c := range cases {
		sum, err := c.sum(filepath.Join(dir, c.name+".parquet"))
		require.NoError(t, err, c.name)
		assert.Len(t, want[c.name], c.variants, "variants of %s in %s", c.name, goldenSums)
		assert.True(t, want[c.name][sum], "%s.parquet differs from the golden bytes (sha256 %s)", c.name, sum)
	}
}

// TestLargeRoundTrip reads back the benchmark's rows and the high-cardinality
// rows (dictionary fallback, nulls) through several row-group sizes.
func TestLargeRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		rows  []Rollout
		perRG int
	}{
		{"bench", benchRollouts(200_000), 0},
		{"bench-rg10000", benchRollouts(200_000), 10_000},
		{"highcard", highCardinalityRollouts(100_000), 30_000},
	} {
		path := filepath.Join(dir, c.name+".parquet")
		require.NoError(t, WriteFile(path, c.rows, Options{SpecHash: "h", RowGroupRows: c.perRG}))
		i := 0
		_, err := Scan(path, ReadOptions{BatchRows: 4096}, func(r Rollout) error {
			want := c.rows[i]
			if math.IsNaN(want.Arrival) && math.IsNaN(r.Arrival) {
				want.Arrival, r.Arrival = 0, 0
			}
			if want != r {
				return fmt.Errorf("row %d: got %+v, want %+v", i, r, want)
			}
			i++
			return nil
		})
		require.NoError(t, err, c.name)
		assert.Equal(t, len(c.rows), i, c.name)
	}
}
