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

// TestEstimateCountsKeptText: eval.keep_text adds the text's copies to every
// sample of an evaluation, the sim's sketch or a model's text at its token
// cap.
func TestEstimateCountsKeptText(t *testing.T) {
	for _, c := range []struct {
		name     string
		sets     []string
		kept     int64
		contains string
	}{
		{"off", nil, 0, "an evaluation holds 4000 samples)"},
		{"sim", []string{"eval.keep_text=true"}, keptTextCopies * simTextBytes, "an evaluation holds 4000 samples, each with its kept text: about 1700 bytes a sample"},
		{"worker", []string{"eval.keep_text=true", "runner.kind=worker", "runner.command=python worker.py", "eval.sampling.max_tokens=1024"},
			keptTextCopies * textBytesPerToken * 1024, "each with its kept text: about 25 KiB a sample"},
	} {
		s, err := spec.Load("../experiments/paired.yaml", c.sets...)
		require.NoError(t, err, c.name)
		e := EstimateMemory(s, 2, 16)
		assert.Equal(t, c.kept, e.KeptText, c.name)
		assert.Equal(t, int64(runBytes+4000*(evalSampleBytes+c.kept)+300*8*8*trainedSampleByte), e.PerRun, c.name)
		assert.Contains(t, e.String(), c.contains, c.name)
	}
}
