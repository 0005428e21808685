package results

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPairedTablePerSeed(t *testing.T) {
	t.Parallel()
	row := func(seed *uint64, metric string, v float64) Summary {
		return Summary{Arm: "market", Compare: "uniform", Seed: seed, Metric: metric, Value: v, StdErr: 0.01,
			CILow: v - 0.02, CIHigh: v + 0.02, Method: "paired t", P: 0.01,
			BootLow: math.NaN(), BootHigh: math.NaN(), ShareGreater: math.NaN(), N: 500}
	}
	s1, s2 := uint64(1), uint64(2)
	for _, tc := range []struct {
		name    string
		rows    []Summary
		perSeed []string // the per-seed column, nil: no such column
	}{
		{"one seed", []Summary{row(nil, "pass@1", 0.04)}, nil},
		{"two seeds", []Summary{
			row(&s1, "pass@1", 0.03), row(&s1, "truncation", -0.07),
			row(&s2, "pass@1", 0.05), row(&s2, "truncation", -0.09),
			row(nil, "pass@1", 0.04), row(nil, "truncation", -0.08),
		}, []string{"+0.030, +0.050", "-7.0, -9.0 pp"}},
	} {
		r := &Run{Summary: tc.rows}
		r.index()
		tab := r.pairedTable()
		last := tab.Header[len(tab.Header)-1]
		if tc.perSeed == nil {
			if last != "n" || len(tab.Rows) != 1 || strings.Contains(tab.Note, "seeds ×") {
				t.Errorf("%s: header %v, %d rows", tc.name, tab.Header, len(tab.Rows))
			}
			continue
		}
		var got []string
		for _, r := range tab.Rows {
			got = append(got, r[len(r)-1])
		}
		if last != "per seed" || !slices.Equal(got, tc.perSeed) {
			t.Errorf("%s: header %v, per-seed cells %q, want %q", tc.name, tab.Header, got, tc.perSeed)
		}
	}
}
