package results

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
)

// The JSON that relix score --json and relix eval --json print. The two
// write numbers differently — score with strconv's shortest 'g' form and
// null for NaN and infinities, eval with encoding/json's and a null SE
// only — and each keeps the bytes it has always printed.

// jsonNumber is a float64 that encodes NaN and infinities (an undefined SE,
// a degenerate t) as null.
type jsonNumber float64

func (x jsonNumber) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

type scoreJSON struct {
	Files  []scoreFileJSON `json:"files"`
	Paired []scorePairJSON `json:"paired,omitempty"`
}

type scoreFileJSON struct {
	File     string            `json:"file"`
	Problems int               `json:"problems"`
	Samples  int               `json:"samples"`
	Metrics  []scoreMetricJSON `json:"metrics"`
}

type scoreMetricJSON struct {
	Name string     `json:"name"`
	K    int        `json:"k,omitempty"`
	Mean jsonNumber `json:"mean"`
	SE   jsonNumber `json:"se"`
}

type scorePairJSON struct {
	A         string             `json:"a"`
	B         string             `json:"b"`
	Metric    string             `json:"metric"`
	N         int                `json:"n"`
	MeanA     jsonNumber         `json:"mean_a"`
	MeanB     jsonNumber         `json:"mean_b"`
	Diff      jsonNumber         `json:"diff"`
	SE        jsonNumber         `json:"se"`
	CILow     jsonNumber         `json:"ci_low"`
	CIHigh    jsonNumber         `json:"ci_high"`
	T         jsonNumber         `json:"t"`
	DF        int                `json:"df"`
	P         jsonNumber         `json:"p"`
	Bootstrap scoreBootstrapJSON `json:"bootstrap"`
}

type scoreBootstrapJSON struct {
	Draws      int        `json:"draws"`
	Seed       uint64     `json:"seed"`
	CILow      jsonNumber `json:"ci_low"`
	CIHigh     jsonNumber `json:"ci_high"`
	ShareAWins jsonNumber `json:"share_a_wins"`
}

// WriteJSON prints the report as one indented JSON object.
func (r *ScoreReport) WriteJSON(w io.Writer) error {
	out := scoreJSON{Files: []scoreFileJSON{}}
	for _, f := range r.Files {
		fj := scoreFileJSON{File: f.Path, Problems: len(f.Scores.Problems), Samples: f.Scores.Samples}
		for _, m := range f.Scores.Metrics() {
			fj.Metrics = append(fj.Metrics, scoreMetricJSON{Name: m.Name, K: m.K, Mean: jsonNumber(m.Mean), SE: jsonNumber(m.SE)})
		}
		out.Files = append(out.Files, fj)
	}
	for _, pr := range r.Paired {
		for _, c := range pr.Comparisons {
			out.Paired = append(out.Paired, scorePairJSON{
				A: pr.A, B: pr.B, Metric: c.Metric, N: c.Paired.N,
				MeanA: jsonNumber(c.Paired.MeanA), MeanB: jsonNumber(c.Paired.MeanB),
				Diff: jsonNumber(c.Paired.Diff), SE: jsonNumber(c.Paired.SE),
				CILow: jsonNumber(c.Paired.CILow), CIHigh: jsonNumber(c.Paired.CIHigh),
				T: jsonNumber(c.Paired.T), DF: c.Paired.DF, P: jsonNumber(c.Paired.P),
				Bootstrap: scoreBootstrapJSON{
					Draws: c.Bootstrap.Draws, Seed: c.Bootstrap.Seed,
					CILow: jsonNumber(c.Bootstrap.Low), CIHigh: jsonNumber(c.Bootstrap.High),
					ShareAWins: jsonNumber(c.Bootstrap.ShareAWins),
				},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

type evalJSON struct {
	Experiment string           `json:"experiment"`
	Arm        string           `json:"arm,omitempty"`
	Seed       uint64           `json:"seed"`
	Checkpoint string           `json:"checkpoint"`
	Problems   int              `json:"problems"`
	Samples    int              `json:"samples"`
	Metrics    []evalMetricJSON `json:"metrics"`
	// TrainInZone is the training pool's exact in-zone fraction, absent
	// where the runner cannot report it.
	TrainInZone *float64 `json:"train_in_zone,omitempty"`
}

type evalMetricJSON struct {
	Name string   `json:"name"`
	K    int      `json:"k,omitempty"`
	Mean float64  `json:"mean"`
	SE   *float64 `json:"se"` // null with a single problem
}

// WriteJSON prints the report as one indented JSON object.
func (r EvalReport) WriteJSON(w io.Writer) error {
	out := evalJSON{
		Experiment: r.Experiment, Arm: r.Arm, Seed: r.Seed, Checkpoint: r.Checkpoint,
		Problems: len(r.Scores.Problems), Samples: r.Scores.Samples,
	}
	for _, m := range r.Scores.Metrics() {
		mj := evalMetricJSON{Name: m.Name, K: m.K, Mean: m.Mean}
		if !math.IsNaN(m.SE) {
			mj.SE = &m.SE
		}
		out.Metrics = append(out.Metrics, mj)
	}
	if r.TrainPool != nil {
		out.TrainInZone = &r.TrainPool.InZone
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
