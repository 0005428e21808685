package market

import (
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/stretchr/testify/assert"
)

func TestGenerationTimeAndTokensInFlight(t *testing.T) {
	t.Parallel()
	a := &attempt{comps: []runners.Completion{{NumTokens: 100}, {NumTokens: 400}, {NumTokens: 250}}, tokens: 750}
	for _, tc := range []struct {
		timing  string
		elapsed float64
		time    float64
		by      int64
	}{
		// Serial: 750 tokens at 50/s; after 4 s, 200 of them.
		{"", 4, 15, 200},
		{spec.TimingSerial, 4, 15, 200},
		{spec.TimingSerial, 20, 15, 750},
		// Batch: the longest, 400 tokens at 50/s per sequence; after 4 s
		// each completion has 200 tokens or all of its own.
		{spec.TimingBatch, 4, 8, 100 + 200 + 200},
		{spec.TimingBatch, 6, 8, 100 + 300 + 250},
		{spec.TimingBatch, 9, 8, 750},
	} {
		assert.Equal(t, tc.time, a.generationTime(tc.timing, 50), "%q time", tc.timing)
		assert.Equal(t, tc.by, a.tokensBy(tc.elapsed, tc.timing, 50), "%q tokens after %gs", tc.timing, tc.elapsed)
	}
}

// Only estimators that neither learn within a window nor draw from the
// miner's stream may have their scores cached for the window: caching a
// blurred oracle would change its draws.
func TestScoreFixed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		est   estimator
		fixed bool
	}{
		{randomEstimator{}, false},
		{oracleEstimator{noise: 0}, true},
		{oracleEstimator{noise: 0.5}, false},
		{&history{}, true},
		{&learned{}, true},
	} {
		assert.Equal(t, tc.fixed, scoreFixed(tc.est), "%T %+v", tc.est, tc.est)
	}
}
