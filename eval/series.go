package eval

import "math"

// SeriesEstimate is the mean of a per-step series and its interval.
type SeriesEstimate struct {
	Mean, SE      float64
	CILow, CIHigh float64
	Method        string // SeriesOverSeeds or SeriesBatchMeans; "" where no interval can be had
	Units         int    // seeds, or batches of steps, behind SE
	Steps         int    // values in all
}

// The methods of SeriesMean.
const (
	SeriesOverSeeds  = "t over seeds' means"
	SeriesBatchMeans = "batch means over steps"
	seriesBatches    = 10
)

// SeriesMean estimates the mean of a per-step series (waste, in-zone
// fraction, ...) run once per seed, perSeed[s] the steps of seed s in
// order. Successive steps of one run are correlated — the pool, the
// policy and the estimators carry over — so the values of a run are not
// independent draws, and the standard error of their mean over steps
// (sd/√steps) is too small by about the square root of the series'
// autocorrelation time. Two intervals that do not assume independence:
//
//   - with two or more seeds, the runs are independent: each seed's mean
//     m_s, their mean M, SE = sd(m_s)/√S and Student's t with S − 1 degrees
//     of freedom (the seeds' means of the steps);
//   - with one seed, batch means: the series cut into B = 10 consecutive
//     batches of equal length (the last steps that do not fill a batch
//     left out of the SE, not the mean), SE = sd(batch means)/√B and t with
//     B − 1 degrees of freedom. Batches much longer than the correlation
//     time are nearly independent; a series with a trend makes the batches
//     differ more, so the interval errs wide. Under 2·B steps there is no
//     interval (SE NaN).
//
// The mean is over every value either way: seeds of equal length weigh
// the same.
func SeriesMean(perSeed [][]float64, confidence float64) SeriesEstimate {
	if confidence == 0 {
		confidence = 0.95
	}
	var all []float64
	var means []float64
	for _, xs := range perSeed {
		if len(xs) == 0 {
			continue
		}
		all = append(all, xs...)
		means = append(means, MeanSE(xs).Mean)
	}
	e := SeriesEstimate{Mean: math.NaN(), SE: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN(), Steps: len(all)}
	if len(all) == 0 {
		return e
	}
	e.Mean = MeanSE(all).Mean
	units := means
	e.Method = SeriesOverSeeds
	if len(means) < 2 {
		xs := all
		size := len(xs) / seriesBatches
		if size < 2 {
			e.Method = ""
			return e
		}
		units = make([]float64, seriesBatches)
		for b := range units {
			units[b] = MeanSE(xs[b*size : (b+1)*size]).Mean
		}
		e.Method = SeriesBatchMeans
	}
	u := MeanSE(units)
	e.Units, e.SE = len(units), u.SE
	e.CILow, e.CIHigh, _, _ = studentT(e.Mean, e.SE, float64(len(units)-1), confidence)
	return e
}
