package results

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// The one rule for how a number is shown, in the result tables and in what
// relix score, eval and grade print: pass@k and accuracies as probabilities
// with three decimals; shares, rates and fractions in percent with one
// decimal — "73.2% ± 1.2%" for a value and its standard error, and
// percentage points for differences, "-10.7 pp" and "[-14.8, -6.6] pp".

// How a metric's values are shown.
type format int

const (
	asProbability format = iota // 0.470
	asPercent                   // 73.2%, differences in percentage points
	asCount                     // 1234
	asNumber                    // 4 significant digits
	asSeconds                   // 756.2: virtual seconds to a tenth
)

var percentMetrics = []string{"truncation", "waste", "zero_std_share", "late_share", "duplicate_share", "in_flight_share", "outranked_share", "batch_filled",
	"invalid_share", "in_zone_fraction", "hit_rate", "clip_fraction"}

func formatOf(metric string) format {
	switch {
	case kOf(metric) > 0 || metric == "accuracy" || metric == "trained_reward":
		return asProbability
	case slices.Contains(percentMetrics, metric) || strings.HasSuffix(metric, "_share") || strings.HasSuffix(metric, "_fraction"):
		return asPercent
	case strings.HasSuffix(metric, "_groups") || strings.HasSuffix(metric, "_rollouts") || metric == "tokens":
		return asCount
	case strings.HasSuffix(metric, "_seconds"):
		return asSeconds
	}
	return asNumber
}

const dash = "—"

// num formats one value of a metric; signed adds a + to positive values
// (differences).
func num(metric string, v float64, signed bool) string {
	if math.IsNaN(v) {
		return dash
	}
	var s string
	switch formatOf(metric) {
	case asProbability:
		s = strconv.FormatFloat(v, 'f', 3, 64)
	case asPercent:
		s = strconv.FormatFloat(100*v, 'f', 1, 64)
	case asCount:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case asSeconds:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 4, 64)
	}
	if s == "-0.000" || s == "-0.0" || s == "-0" {
		s = s[1:]
	}
	if signed && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// unit is what follows a number of metric: % for values, pp for differences.
func unit(metric string, difference bool) string {
	if formatOf(metric) != asPercent {
		return ""
	}
	if difference {
		return " pp"
	}
	return "%"
}

// unitIf is unit for a difference, or nothing when v is missing (and
// shows as a dash).
func unitIf(v float64, metric string) string {
	if math.IsNaN(v) {
		return ""
	}
	return unit(metric, true)
}

// valueSE formats "value ± SE": a dash when the value is missing, the
// value alone when its SE is.
func valueSE(metric string, v, se float64) string {
	if math.IsNaN(v) {
		return dash
	}
	u := unit(metric, false)
	out := num(metric, v, false) + u
	if !math.IsNaN(se) {
		out += " ± " + num(metric, se, false) + u
	}
	return out
}

// diff formats a difference of metric with its sign and unit.
func diff(metric string, d float64) string { return num(metric, d, true) + unit(metric, true) }

// diffSE formats the standard error of a difference of metric.
func diffSE(metric string, se float64) string { return num(metric, se, false) + unitIf(se, metric) }

func ci(metric string, lo, hi float64, difference bool) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return dash
	}
	return "[" + num(metric, lo, difference) + ", " + num(metric, hi, difference) + "]" + unit(metric, difference)
}

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return dash
	case p < 0.0001:
		return "< 0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

// Percent writes a proportion in percent with one decimal (0.732 →
// "73.2%"), a dash when it is missing.
func Percent(v float64) string {
	if math.IsNaN(v) {
		return dash
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

func times(v float64) string {
	if math.IsNaN(v) {
		return dash
	}
	return "×" + strconv.FormatFloat(v, 'f', 2, 64)
}
