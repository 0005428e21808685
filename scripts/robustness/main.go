// Command robustness tabulates the runs of experiments/robustness/: one
// results directory per variant, each paired.yaml with one constant that
// nothing calibrates moved one step below or above its value, run over two
// or more seeds. It reads only the Parquet tables (summary and steps) and
// rewrites the generated part of the Markdown file given with -o, between
// its robustness markers, so the prose around the tables is kept.
//
//	go run ./scripts/robustness -o results/robustness/robustness.md results/robustness/default results/robustness/noise-16 ...
//
// A directory is known by its base name (the variant's file name in
// experiments/robustness/); default is paired.yaml itself and stands as the
// middle row of every constant's band. Variants of the band that were not
// given (not run, or not finished) are listed as missing.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/relix-lab/relix/scripts/internal/runtable"
)

const (
	beginMarker = "<!-- robustness:begin -->"
	endMarker   = "<!-- robustness:end -->"
	defaultRun  = "default"
)

// probeSteps are the checkpoints at which the pool's in-zone fraction is
// shown: the base checkpoint, mid-run and the end.
var probeSteps = []int32{0, 150, 300}

// band is one constant and the variants that move it: below, the default
// (paired.yaml's value, the default run) and above.
type band struct {
	constant string
	values   [3]string // as written in the spec
	variants [3]string // directory names; [1] is always the default run
}

var bands = []band{
	{"runner.sim.noise_choices", [3]string{"16", "32", "64"}, [3]string{"noise-16", defaultRun, "noise-64"}},
	{"runner.sim.lr_scale", [3]string{"1000", "2000", "4000"}, [3]string{"lr-1000", defaultRun, "lr-4000"}},
	{"market miners", [3]string{"4 + 4", "8 + 8", "16 + 16"}, [3]string{"miners-4", defaultRun, "miners-16"}},
	{"dataset.train.generated.size", [3]string{"2400", "4000", "8000"}, [3]string{"pool-2400", defaultRun, "pool-8000"}},
	{"train.cooldown", [3]string{"50", "150", "forever"}, [3]string{"cooldown-50", "cooldown-150", defaultRun}},
	{"runner.sim.skills", [3]string{"4", "8", "16"}, [3]string{"skills-4", defaultRun, "skills-16"}},
	{"runner.sim.reach.step_sd", [3]string{"0.25", "0.5", "1"}, [3]string{"step-sd-0.25", defaultRun, "step-sd-1"}},
	{"runner.sim.termination.loop_wrong", [3]string{"1", "2", "3"}, [3]string{"loop-wrong-1", defaultRun, "loop-wrong-3"}},
	{"runner.sim.termination.loop_difficulty", [3]string{"0.15", "0.3", "0.6"}, [3]string{"loop-difficulty-0.15", defaultRun, "loop-difficulty-0.6"}},
	{"runner.sim.termination.stop_wrong", [3]string{"0.5", "1", "2"}, [3]string{"stop-wrong-0.5", defaultRun, "stop-wrong-2"}},
	{"per-step cap, rounds of N (filter / market)", [3]string{"10 / 10", "10 / 1000", "1000 / 1000"}, [3]string{defaultRun, "budget-market-1000", "budget-1000"}},
	{"arms[auction].market.auction.deadline", [3]string{"75", "150", "300"}, [3]string{"auction-deadline-75", defaultRun, "auction-deadline-300"}},
	{"arms[auction].market.auction.carry (deadline)", [3]string{"false (150)", "true (150)", "true (300)"}, [3]string{defaultRun, "auction-carry", "auction-carry-300"}},
}

// interval is an estimate and its 95% interval.
type interval struct{ value, low, high float64 }

func (i interval) String() string {
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f]", i.value, i.low, i.high)
}

// variant is what the tables show of one run.
type variant struct {
	name      string
	seeds     int
	finalStep int32
	basePass1 float64
	pass1     map[string]float64  // arm → pass@1 at the final checkpoint
	diff      interval            // market − uniform pass@1
	diffSeeds []float64           // the same, each seed's
	vsFilter  interval            // market − filter pass@1
	auction   interval            // auction − market pass@1
	generated map[string]float64  // arm → groups generated a step
	trained   map[string]float64  // arm → groups trained on (useful) a step
	gain4     map[string]interval // trained arm − base, pass@4
	inZone    map[string][]float64
	waste     map[string]float64
}

var zoneArms = []string{"uniform", "market"}

func main() {
	out := flag.String("o", "", "Markdown file whose robustness section is rewritten (default: print the section)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: robustness [-o FILE] RESULTS_DIR...")
		os.Exit(2)
	}
	vs := map[string]*variant{}
	for _, dir := range flag.Args() {
		v, err := read(dir)
		if err != nil {
			// An unfinished run has no summary yet: it is reported as missing
			// rather than stopping the table of the finished ones.
			fmt.Fprintf(os.Stderr, "robustness: %s: %v (listed as missing)\n", dir, err)
			continue
		}
		vs[v.name] = v
	}
	if len(vs) == 0 {
		// Rewriting the committed table from no runs would erase it.
		fmt.Fprintln(os.Stderr, "robustness: no finished run among the directories given; nothing written")
		os.Exit(1)
	}
	if err := runtable.Emit(*out, beginMarker, endMarker, render(vs)); err != nil {
		fmt.Fprintf(os.Stderr, "robustness: %v\n", err)
		os.Exit(1)
	}
}

func read(dir string) (*variant, error) {
	r, err := runtable.Read(dir)
	if err != nil {
		return nil, err
	}
	v := &variant{
		name:      r.Name,
		seeds:     r.Seeds,
		finalStep: r.FinalStep,
		pass1:     map[string]float64{},
		gain4:     map[string]interval{},
		inZone:    map[string][]float64{},
		waste:     map[string]float64{},
		generated: map[string]float64{},
		trained:   map[string]float64{},
	}
	value := r.Values(&err)
	v.basePass1 = value("base", "pass@1")
	for _, arm := range []string{"uniform", "filter", "market", "auction"} {
		v.pass1[arm] = value(arm, "pass@1")
	}
	for _, arm := range []string{"filter", "market", "auction"} {
		v.waste[arm] = value(arm, "waste")
		v.generated[arm], v.trained[arm] = r.Groups(arm)
	}
	if err != nil {
		return nil, err
	}
	paired := func(arm, compare, metric string) (interval, error) {
		s, err := r.Row(arm, compare, metric)
		return interval{s.Value, s.CILow, s.CIHigh}, err
	}
	if v.diff, err = paired("market", "uniform", "pass@1"); err != nil {
		return nil, err
	}
	for _, d := range r.PerSeed("market", "uniform", "pass@1") {
		v.diffSeeds = append(v.diffSeeds, d.Value)
	}
	if v.vsFilter, err = paired("market", "filter", "pass@1"); err != nil {
		return nil, err
	}
	if v.auction, err = paired("auction", "market", "pass@1"); err != nil {
		return nil, err
	}
	for _, arm := range zoneArms {
		if v.gain4[arm], err = paired(arm, "base", "pass@4"); err != nil {
			return nil, err
		}
		v.inZone[arm] = r.InZone(arm, probeSteps)
	}
	return v, nil
}

func render(vs map[string]*variant) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	seeds, steps := map[int]bool{}, map[int32]bool{}
	for _, v := range vs {
		seeds[v.seeds], steps[v.finalStep] = true, true
	}
	p("\n_Generated by `make robustness` from each run's summary.parquet and steps.parquet; %s seed(s) per run, %s steps, 500 held-out problems × 8 samples. Each band is one constant below, at and above paired.yaml's value (train.cooldown: two below, forever being the largest; the per-step cap: the default, then the market's raised, then both; **bold**: the default, the same `default` run in every band), everything else at paired.yaml's values. Intervals are 95%%, paired over seeds × problems (with S seeds the t quantile has about S − 1 degrees of freedom when the seeds dominate, hence their width); per seed: seed 1 / seed 2 / … pass@k is at the final checkpoint. In-zone @s is the training pool's in-zone fraction at checkpoint s (mean over seeds, read from the row of step s+1, whose rollouts it generated; @300: the last row)._\n\n",
		keys(seeds), keys(steps))

	rows := func(cells func(v *variant) string) {
		for _, bd := range bands {
			for i, name := range bd.variants {
				v, ok := vs[name]
				if !ok {
					continue
				}
				val := bd.values[i]
				if name == defaultRun {
					val = "**" + val + "**"
				}
				p("| %s | %s |%s\n", bd.constant, val, cells(v))
			}
		}
	}

	p("**Headline quantities**\n\n")
	p("| constant | value | market − uniform pass@1 | per seed | market − filter pass@1 | auction − market pass@1 | uniform pass@4 − base | market pass@4 − base | filter waste | market waste | auction waste |\n")
	p("|---|---|---|---|---|---|---|---|---:|---:|---:|\n")
	rows(func(v *variant) string {
		seeds := make([]string, len(v.diffSeeds))
		for i, d := range v.diffSeeds {
			seeds[i] = fmt.Sprintf("%+.3f", d)
		}
		return fmt.Sprintf(" %s | %s | %s | %s | %s | %s | %.1f%% | %.1f%% | %.1f%% |", v.diff, strings.Join(seeds, " / "), v.vsFilter, v.auction, v.gain4["uniform"], v.gain4["market"], 100*v.waste["filter"], 100*v.waste["market"], 100*v.waste["auction"])
	})

	p("\n**Groups a step: generated, and trained on (of N = 8)**, means over steps and seeds\n\n| constant | value | filter generated | filter trained | market generated | market trained | auction generated | auction trained |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	rows(func(v *variant) string {
		return fmt.Sprintf(" %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |", v.generated["filter"], v.trained["filter"], v.generated["market"], v.trained["market"], v.generated["auction"], v.trained["auction"])
	})

	p("\n**Training pool in-zone fraction**\n\n| constant | value |")
	for _, arm := range zoneArms {
		for _, at := range probeSteps {
			p(" %s @%d |", arm, at)
		}
	}
	p("\n|---|---|%s\n", strings.Repeat("---:|", len(zoneArms)*len(probeSteps)))
	rows(func(v *variant) string {
		var c strings.Builder
		for _, arm := range zoneArms {
			for _, z := range v.inZone[arm] {
				fmt.Fprintf(&c, " %s |", pct(z))
			}
		}
		return c.String()
	})

	p("\n**Held-out pass@1, for scale**\n\n| constant | value | base | uniform | filter | market | auction |\n|---|---|---:|---:|---:|---:|---:|\n")
	rows(func(v *variant) string {
		return fmt.Sprintf(" %.3f | %.3f | %.3f | %.3f | %.3f |", v.basePass1, v.pass1["uniform"], v.pass1["filter"], v.pass1["market"], v.pass1["auction"])
	})

	var missing []string
	seen := map[string]bool{}
	for _, bd := range bands {
		for _, name := range bd.variants {
			if _, ok := vs[name]; !ok && !seen[name] {
				missing = append(missing, "`"+name+"`")
				seen[name] = true
			}
		}
	}
	if len(missing) > 0 {
		p("\n**Missing** (not run or not finished; not in the tables): %s.\n", strings.Join(missing, ", "))
	}
	p("\n")
	return b.String()
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

// keys lists a set's members for the caption: one value when every run
// agrees, all of them when some differ (which the caption must not hide).
func keys[K int | int32](set map[K]bool) string {
	var ks []string
	for k := range set {
		ks = append(ks, fmt.Sprint(k))
	}
	if len(ks) == 0 {
		return "no"
	}
	slices.Sort(ks)
	return strings.Join(ks, " / ")
}
