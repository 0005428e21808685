package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relix-lab/relix/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweepWritesItsResults runs a small sweep of the committed spec and
// checks what it leaves: the sweep table, a manifest that lists it, and the
// rendered plots and tables.
func TestSweepWritesItsResults(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "zone-sweep")
	code, stdout, stderr := cliRun(t, "sweep", "-q", "--out", out,
		"--set", "dataset.train.generated.size=300", "--set", "sweep.grid=[0.05, 0.1]",
		"--set", "sweep.selectors=[{name: filter, kind: filter}, {name: oracle, kind: market, estimator: {kind: oracle}}]",
		"--set", "sweep.seeds=[1, 2]", "--set", "sweep.windows=2", "--set", "sweep.warmup=0",
		"../../experiments/zone-sweep.yaml")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "8 runs in")
	assert.Contains(t, stdout, "2 levels × 2 selectors × 2 seeds; wrote "+out)

	rows, err := results.Read[results.SweepPoint](filepath.Join(out, results.SweepFile))
	require.NoError(t, err)
	assert.Len(t, rows, 2*2*(2+1))
	m, err := results.ReadManifest(out)
	require.NoError(t, err)
	require.NoError(t, m.Verify(out))
	assert.Equal(t, "zone-sweep", m.Experiment)
	assert.Equal(t, []string{"filter", "oracle"}, m.Arms)
	assert.Equal(t, []uint64{1, 2}, m.Seeds)
	for _, name := range []string{"tables.md", "index.html", "plots/sweep_waste.png", "plots/sweep_multiplier_carried.svg"} {
		_, err := os.Stat(filepath.Join(out, name))
		assert.NoError(t, err, name)
	}
}

func TestSweepUsage(t *testing.T) {
	t.Parallel()
	code, _, stderr := cliRun(t, "sweep")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "sweep: want exactly one SPEC")

	code, _, stderr = cliRun(t, "sweep", "--set", "sweep.grid=[0.2, 0.1]", "../../experiments/zone-sweep.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, stderr, "sweep.grid[1]")
}
