package results

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMovingAverage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		y    []float64
		h    int
		want []float64
	}{
		{"no smoothing", []float64{1, 5, 2}, 0, []float64{1, 5, 2}},
		{"centred, cut short at the ends", []float64{0, 3, 6, 9, 12}, 1, []float64{1.5, 3, 6, 9, 10.5}},
		{"a step of 12.5% spread over the window", []float64{0, 0, 0, 12.5, 12.5, 12.5}, 2, []float64{0, 12.5 / 4, 25.0 / 5, 37.5 / 5, 37.5 / 4, 12.5}},
		{"window wider than the series", []float64{2, 4}, 7, []float64{3, 3}},
		{"empty", nil, 3, []float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDeltaSlice(t, tc.want, movingAverage(tc.y, tc.h), 1e-12)
		})
	}
}

func TestSmoothHalfWidth(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]int{300: 7, 64: 7, 56: 7, 30: 3, 7: 0, 0: 0} {
		assert.Equal(t, want, smoothHalfWidth(n), "%d steps", n)
	}
	assert.Contains(t, smoothingNote(7), "over 15 steps (7 either side")
	assert.Contains(t, smoothingNote(0), "too few steps")
}

func TestSmoothPerSeed(t *testing.T) {
	t.Parallel()
	perSeed := map[uint64]map[int32]float64{
		1: {3: 6, 1: 0, 2: 3},
		2: {1: 10, 2: 10},
	}
	got := smoothPerSeed(perSeed, 1)
	assert.Equal(t, map[uint64]map[int32]float64{
		1: {1: 1.5, 2: 3, 3: 4.5},
		2: {1: 10, 2: 10},
	}, got, "each seed smoothed in step order, whatever the map order")
	assert.Equal(t, 3, longestSeries(perSeed))
}
