package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A worker serving the sim is the sim: the same hash, so its results files
// (which carry the hash) can be byte-identical to the in-process sim's.
func TestWorkerServingTheSimHashesAsTheSim(t *testing.T) {
	t.Parallel()
	sim, err := load(t, minimal)
	require.NoError(t, err)
	for _, command := range []string{
		"relix worker --runner sim",
		"/tmp/build/relix worker --runner=sim",
	} {
		w, err := load(t, minimal, "runner.kind=worker", "runner.command="+command,
			"runner.env={RELIX_X: 1}", "runner.timeouts.step=1h", "runner.max_restarts=7", "runner.max_message_mib=16")
		require.NoError(t, err)
		assert.True(t, w.Runner.ServesSim(), command)
		assert.Equal(t, sim.Hash(), w.Hash(), command)
	}
	// Its policy is still part of the hash.
	w, err := load(t, minimal, "runner.kind=worker", "runner.command=relix worker --runner sim", "runner.sim.stop=0.5")
	require.NoError(t, err)
	assert.NotEqual(t, sim.Hash(), w.Hash())
}

func TestOtherWorkersHashTheirCommandNotTheirTransport(t *testing.T) {
	t.Parallel()
	base, err := load(t, minimal, "runner.kind=worker", "runner.command=python3 worker.py")
	require.NoError(t, err)
	assert.False(t, base.Runner.ServesSim())
	for _, set := range []string{"runner.timeouts.generate=1h", "runner.max_restarts=9", "runner.max_message_mib=8", "runner.sim.stop=0.5"} {
		s, err := load(t, minimal, "runner.kind=worker", "runner.command=python3 worker.py", set)
		require.NoError(t, err)
		assert.Equal(t, base.Hash(), s.Hash(), "%s must not change the hash", set)
	}
	for _, set := range []string{"runner.command=python3 worker.py --tiny", "runner.model=m", "runner.dtype=float32",
		"runner.device=cpu", "runner.env={A: b}", "runner.command=relix worker --runner sim --verbose",
		"runner.command=relix-dev worker --runner sim"} {
		s, err := load(t, minimal, "runner.kind=worker", "runner.command=python3 worker.py", set)
		require.NoError(t, err)
		assert.False(t, s.Runner.ServesSim(), set)
		assert.NotEqual(t, base.Hash(), s.Hash(), "%s must change the hash", set)
	}
}

// The top-level seed is only the default of seeds: it changes the hash
// exactly when it changes a seed some draw reads.
func TestSeedEntersTheHashOnlyThroughSeeds(t *testing.T) {
	t.Parallel()
	hash := func(sets ...string) string {
		s, err := load(t, minimal, sets...)
		require.NoError(t, err)
		return s.Hash()
	}
	assert.NotEqual(t, hash("seed=1"), hash("seed=99"), "seed roots the runs when seeds is not set")
	assert.Equal(t, hash("seed=1"), hash("seeds=[1]"), "seeds: [seed] is the default")
	assert.Equal(t, hash("seeds=[1, 2]"), hash("seeds=[1, 2]", "seed=99"), "a seed no draw reads")
	assert.NotEqual(t, hash("seeds=[1, 2]"), hash("seeds=[2, 1]"), "the first seed roots the sweep")
}
