package eval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSeriesMeanOverSeeds(t *testing.T) {
	// Seed means 0.2, 0.4, 0.6: M 0.4, sd 0.2, SE 0.2/√3, t(2) 97.5% 4.302653.
	e := SeriesMean([][]float64{{0.1, 0.3}, {0.4, 0.4}, {0.5, 0.7}}, 0.95)
	assert.Equal(t, SeriesOverSeeds, e.Method)
	assert.Equal(t, 3, e.Units)
	assert.InDelta(t, 0.4, e.Mean, 1e-12)
	se := 0.2 / math.Sqrt(3)
	assert.InDelta(t, se, e.SE, 1e-12)
	assert.InDelta(t, 0.4-4.302653*se, e.CILow, 1e-6)
	assert.InDelta(t, 0.4+4.302653*se, e.CIHigh, 1e-6)
}

// A strongly autocorrelated series (a slow random walk) gets a batch-means
// interval much wider than sd/√n, which treats its steps as independent.
func TestSeriesMeanBatchMeansOnOneSeed(t *testing.T) {
	xs := make([]float64, 300)
	v := 0.5
	for i := range xs {
		v += 0.02 * math.Sin(float64(i)*0.05)
		xs[i] = v
	}
	e := SeriesMean([][]float64{xs}, 0.95)
	assert.Equal(t, SeriesBatchMeans, e.Method)
	assert.Equal(t, 10, e.Units)
	assert.Greater(t, e.SE, 3*MeanSE(xs).SE)
	assert.InDelta(t, MeanSE(xs).Mean, e.Mean, 1e-12)

	// by hand: batches of 30, each batch's mean
	var b []float64
	for i := 0; i < 10; i++ {
		b = append(b, MeanSE(xs[30*i:30*i+30]).Mean)
	}
	assert.InDelta(t, MeanSE(b).SE, e.SE, 1e-12)

	short := SeriesMean([][]float64{{1, 2, 3}}, 0.95)
	assert.Equal(t, "", short.Method)
	assert.True(t, math.IsNaN(short.SE))
	assert.InDelta(t, 2, short.Mean, 1e-12)
}
