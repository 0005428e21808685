package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/spec"
)

func TestEstimateMemory(t *testing.T) {
	s, err := spec.Load("../experiments/paired.yaml")
	require.NoError(t, err)
	e := EstimateMemory(s, 2, 16)
	assert.Equal(t, 15, e.Runs)
	assert.Equal(t, 2, e.AtOnce)
	assert.Equal(t, int64(500*8), e.EvalSamples)
	assert.Equal(t, int64(runBytes+4000*evalSampleBytes+300*8*8*trainedSampleByte), e.PerRun)
	assert.Equal(t, int64(processBytes)+2*e.PerRun, e.Peak)
	assert.Contains(t, e.String(), "2 of 15 runs at once")

	assert.Equal(t, 15, EstimateMemory(s, 0, 64).AtOnce, "no more at once than there are runs")

	big, err := spec.Load("../experiments/paired.yaml", "eval.samples=4096", "eval.k=[1]")
	require.NoError(t, err)
	assert.Contains(t, EstimateMemory(big, 1, 1).String(), "about 1694 MiB at peak: 1 of 15 runs at once")
}
