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
// that a change to how they are written (codec pooling, builder reuse, ...)
// cannot change a byte unnoticed. The sums were generated with the writer
// as it was before those optimisations; regenerate them (-update) only for
// a deliberate change of the file format, and bump SchemaVersion then.
const goldenSums = "testdata/parquet.sha256"

// highCardinalityRollouts has a distinct prompt and checkpoint on every row,
// so that the dictionary of those columns outgrows the dictionary page limit
// and the column writer falls back to plain encoding mid-chunk; every fifth
// group comes from the uniform source (null miner, reason and arrival).
func highCardinalityRollouts(n int) []Rollout {
	rows := benchRollouts(n)
	for i := range rows {
		r := &rows[i]
		r.Prompt = fmt.Sprintf("train-%07d", i)
		r.Checkpoint = fmt.Sprintf("ckpt-%07d", i*7)
		if (i/8)%5 == 0 {
			r.Miner, r.Reason, r.Arrival = "", "", math.NaN()
		}
	}
	return rows
}

type goldenCase struct {
	name  string
	write func(path string) error
}

func goldenFile[R Row](name string, rows []R, perRG int) goldenCase {
	return goldenCase{name: name, write: func(path string) error {
		return WriteFile(path, rows, Options{SpecHash: syntheticSpecHash, RowGroupRows: perRG})
	}}
}

func goldenCases() []goldenCase {
	bench := benchRollouts(200_000)
	return []goldenCase{
		goldenFile("bench-rollouts", bench, 0), // BenchmarkWriteRollouts's file
		goldenFile("bench-rollouts-rg10000", bench, 10_000),
		goldenFile("bench-rollouts-one-rg", bench, 1<<20),
		goldenFile("highcard-rollouts", highCardinalityRollouts(100_000), 0),
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
		goldenFile("summary-rg1", syntheticSummary()[:7], 1),
		goldenFile("empty-summary", []Summary{}, 0),
	}
}

func readSums(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(goldenSums)
	require.NoError(t, err, "missing %s (go test ./results -run GoldenBytes -update)", goldenSums)
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		require.True(t, ok, "malformed line %q in %s", line, goldenSums)
		sums[name] = sum
	}
	return sums
}

// TestGoldenBytes writes every golden case and compares the SHA-256 of each
// file with the committed one.
func TestGoldenBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got := map[string]string{}
	for _, c := range goldenCases() {
		path := filepath.Join(dir, c.name+".parquet")
		require.NoError(t, c.write(path), c.name)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		got[c.name] = hex.EncodeToString(sum[:])
	}
	if *update {
		names := make([]string, 0, len(got))
		for name := range got {
			names = append(names, name)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, name := range names {
			fmt.Fprintf(&b, "%s  %s\n", got[name], name)
		}
		require.NoError(t, os.WriteFile(goldenSums, []byte(b.String()), 0o644))
		return
	}
	want := readSums(t)
	assert.Equal(t, len(want), len(got), "cases in %s", goldenSums)
	for name, sum := range got {
		assert.Equal(t, want[name], sum, "%s.parquet differs from the golden bytes", name)
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
