package results

import (
	"maps"
	"slices"
	"strconv"
)

// smoothHalf is the half-width of the centred moving average drawn over
// per-step series that are sampled anew at every step (waste, training
// truncation): each step is drawn as the mean of itself and the 7 steps
// either side, 15 in all. With N = 8 groups a step's waste moves in steps
// of 12.5%, and over 15 steps the binomial noise of the mean shrinks about
// fourfold while a trend over tens of steps, the thing to read, survives.
const smoothHalf = 7

// smoothHalfWidth is the half-width used for a run of n steps: smoothHalf,
// or n/8 for runs shorter than 64 steps, so that a window never spans more
// than about a quarter of the run.
func smoothHalfWidth(n int) int { return min(smoothHalf, n/8) }

// movingAverage is the centred moving average of y with half-width h:
// point i is the mean of y[i−h] … y[i+h], of those that exist. Within h of
// either end the window is cut short on the outer side: a mean of at least
// h+1 points, where a window kept symmetric would leave the first and last
// points unsmoothed, at the cost of lagging a trend there by up to h/2
// steps.
func movingAverage(y []float64, h int) []float64 {
	out := make([]float64, len(y))
	for i := range y {
		lo, hi := max(0, i-h), min(len(y)-1, i+h)
		var s float64
		for j := lo; j <= hi; j++ {
			s += y[j]
		}
		out[i] = s / float64(hi-lo+1)
	}
	return out
}

// smoothPerSeed applies movingAverage to each seed's series in step order.
func smoothPerSeed(perSeed map[uint64]map[int32]float64, h int) map[uint64]map[int32]float64 {
	out := make(map[uint64]map[int32]float64, len(perSeed))
	for seed, bySteps := range perSeed {
		steps := slices.Sorted(maps.Keys(bySteps))
		ys := make([]float64, len(steps))
		for i, st := range steps {
			ys[i] = bySteps[st]
		}
		smoothed := make(map[int32]float64, len(steps))
		for i, v := range movingAverage(ys, h) {
			smoothed[steps[i]] = v
		}
		out[seed] = smoothed
	}
	return out
}

// longestSeries is the most steps any seed of perSeed has.
func longestSeries(perSeed map[uint64]map[int32]float64) int {
	n := 0
	for _, bySteps := range perSeed {
		n = max(n, len(bySteps))
	}
	return n
}

// smoothingNote says in a caption how the lines were smoothed.
func smoothingNote(h int) string {
	if h == 0 {
		return "lines: the values of each step (too few steps to smooth)"
	}
	return "lines: centred moving average over " + strconv.Itoa(2*h+1) + " steps (" + strconv.Itoa(h) +
		" either side, cut short at the run's ends); faint: each step's own value"
}
