// Command ablation tabulates the runs of experiments/ablation/: one
// results directory per variant, each a one-seed run of paired.yaml with one
// mechanism off. It reads only the Parquet tables (summary and steps) and
// rewrites the generated part of the Markdown file given with -o, between
// its ablation markers, so the prose around the table is kept.
//
//	go run ./scripts/ablation -o results/ablation/ablation.md results/ablation/all-on results/ablation/no-reach ...
//
// The first directory is the reference the others are compared with.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/relix-lab/relix/results"
)

const (
	beginMarker = "<!-- ablation:begin -->"
	endMarker   = "<!-- ablation:end -->"
)

// probeSteps are the steps at which the pool's in-zone fraction is shown:
// the base checkpoint, mid-run and the end.
var probeSteps = []int32{0, 150, 300}

// variant is what the table shows of one run.
type variant struct {
	name                  string
	basePass1, basePass4  float64
	baseTrunc             float64
	pass1, pass4          map[string]float64 // trained arm → at the final step
	diff, diffLow, diffHi float64            // market − uniform pass@1, paired over problems
	inZone                map[string][]float64
	waste                 map[string]float64
	finalStep             int32
}

var trained = []string{"uniform", "filter", "market"}

func main() {
	out := flag.String("o", "", "Markdown file whose ablation section is rewritten (default: print the section)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ablation [-o FILE] RESULTS_DIR...")
		os.Exit(2)
	}
	var vs []*variant
	for _, dir := range flag.Args() {
		v, err := read(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ablation: %s: %v\n", dir, err)
			os.Exit(1)
		}
		vs = append(vs, v)
	}
	section := render(vs)
	if *out == "" {
		os.Stdout.WriteString(section)
		return
	}
	old, err := os.ReadFile(*out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "ablation: %v\n", err)
		os.Exit(1)
	}
	doc, err := splice(old, section)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ablation: %s: %v\n", *out, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "ablation: %v\n", err)
		os.Exit(1)
	}
}

// splice replaces what lies between the markers of doc with section; a
// document without markers (a new file) gets them appended.
func splice(doc []byte, section string) ([]byte, error) {
	block := beginMarker + "\n" + section + endMarker
	b, rest, found := bytes.Cut(doc, []byte(beginMarker))
	if !found {
		if len(doc) > 0 && !bytes.HasSuffix(doc, []byte("\n")) {
			doc = append(doc, '\n')
		}
		return append(doc, block+"\n"...), nil
	}
	_, after, found := bytes.Cut(rest, []byte(endMarker))
	if !found {
		return nil, fmt.Errorf("%s without %s", beginMarker, endMarker)
	}
	return append(append(b, block...), after...), nil
}

func read(dir string) (*variant, error) {
	summary, err := results.Read[results.Summary](filepath.Join(dir, results.SummaryFile))
	if err != nil {
		return nil, err
	}
	steps, err := results.Read[results.Step](filepath.Join(dir, results.StepsFile))
	if err != nil {
		return nil, err
	}
	v := &variant{
		name:   filepath.Base(dir),
		pass1:  map[string]float64{},
		pass4:  map[string]float64{},
		inZone: map[string][]float64{},
		waste:  map[string]float64{},
	}
	// Only whole-run rows: aggregated over seeds (one seed here, so they
	// are that seed's) and at the final checkpoint or over the whole run.
	find := func(arm, compare, metric string) (results.Summary, error) {
		for _, s := range summary {
			if s.Arm == arm && s.Compare == compare && s.Metric == metric && s.Seed == nil && s.Step == nil {
				return s, nil
			}
		}
		if compare != "" {
			arm += " − " + compare
		}
		return results.Summary{}, fmt.Errorf("no %s row for %s", metric, arm)
	}
	value := func(arm, metric string, dst *float64) {
		if err != nil {
			return
		}
		var s results.Summary
		s, err = find(arm, "", metric)
		*dst = s.Value
	}
	value("base", "pass@1", &v.basePass1)
	value("base", "pass@4", &v.basePass4)
	value("base", "truncation", &v.baseTrunc)
	for _, arm := range trained {
		var p1, p4 float64
		value(arm, "pass@1", &p1)
		value(arm, "pass@4", &p4)
		v.pass1[arm], v.pass4[arm] = p1, p4
	}
	for _, arm := range []string{"filter", "market"} {
		var w float64
		value(arm, "waste", &w)
		v.waste[arm] = w
	}
	if err != nil {
		return nil, err
	}
	d, err := find("market", "uniform", "pass@1")
	if err != nil {
		return nil, err
	}
	v.diff, v.diffLow, v.diffHi = d.Value, d.CILow, d.CIHigh

	// A step row's in-zone fraction is the pool's at the checkpoint that
	// generated the step's rollouts, so the value at checkpoint s is read
	// from step s+1; the last checkpoint generated nothing, so the final
	// step's row stands for it.
	byStep := map[string]map[int32]float64{}
	for _, s := range steps {
		if byStep[s.Arm] == nil {
			byStep[s.Arm] = map[int32]float64{}
		}
		byStep[s.Arm][s.Step] = s.InZoneFraction
		v.finalStep = max(v.finalStep, s.Step)
	}
	for _, arm := range trained {
		for _, at := range probeSteps {
			row := min(at+1, v.finalStep)
			z, ok := byStep[arm][row]
			if !ok {
				z = math.NaN()
			}
			v.inZone[arm] = append(v.inZone[arm], z)
		}
	}
	return v, nil
}

func render(vs []*variant) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ref := vs[0]
	p("\n_Generated by `make ablation` from each run's summary.parquet and steps.parquet; seed 1 only, %d steps, 500 held-out problems × 8 samples. pass@k of a trained arm is its final checkpoint's (step %d). In-zone @s is the training pool's in-zone fraction under the training reward at checkpoint s, read from the row of step s+1, whose rollouts it generated (@%d: the last row, step %d)._\n\n",
		ref.finalStep, ref.finalStep, ref.finalStep, ref.finalStep)

	p("**Held-out pass@k** (base: the untrained checkpoint)\n\n")
	p("| variant | base pass@1 | base pass@4 | base trunc. | uniform pass@1 | uniform pass@4 | filter pass@1 | filter pass@4 | market pass@1 | market pass@4 |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, v := range vs {
		p("| %s | %.3f | %.3f | %.1f%% |", v.name, v.basePass1, v.basePass4, 100*v.baseTrunc)
		for _, arm := range trained {
			p(" %.3f | %.3f |", v.pass1[arm], v.pass4[arm])
		}
		p("\n")
	}

	p("\n**Market − uniform, pass@1** (paired over the held-out problems, seed 1 only: the interval has no training-seed variance in it)\n\n")
	p("| variant | market − uniform | 95%% interval |\n|---|---:|---|\n")
	for _, v := range vs {
		p("| %s | %+.3f | [%+.3f, %+.3f] |\n", v.name, v.diff, v.diffLow, v.diffHi)
	}

	p("\n**Training pool in-zone fraction, and waste** (waste: mean over steps)\n\n")
	p("| variant |")
	for _, arm := range trained {
		for _, at := range probeSteps {
			p(" %s @%d |", arm, at)
		}
	}
	p(" filter waste | market waste |\n|---|")
	p("%s", strings.Repeat("---:|", len(trained)*len(probeSteps)+2))
	p("\n")
	for _, v := range vs {
		p("| %s |", v.name)
		for _, arm := range trained {
			for _, z := range v.inZone[arm] {
				p(" %.1f%% |", 100*z)
			}
		}
		p(" %.1f%% | %.1f%% |\n", 100*v.waste["filter"], 100*v.waste["market"])
	}

	if len(vs) > 1 {
		p("\n**Change from %s** (every column in percentage points: pass@k × 100, truncation, in-zone and waste)\n\n", ref.name)
		p("| variant | base pass@1 | base trunc. | uniform pass@1 | filter pass@1 | market pass@1 | market − uniform | uniform in-zone @%d | market in-zone @%d | market waste |\n", probeSteps[2], probeSteps[2])
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		last := len(probeSteps) - 1
		for _, v := range vs[1:] {
			pp := func(a, b float64) string { return fmt.Sprintf("%+.1f", 100*(a-b)) }
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", v.name,
				pp(v.basePass1, ref.basePass1), pp(v.baseTrunc, ref.baseTrunc),
				pp(v.pass1["uniform"], ref.pass1["uniform"]), pp(v.pass1["filter"], ref.pass1["filter"]),
				pp(v.pass1["market"], ref.pass1["market"]), pp(v.diff, ref.diff),
				pp(v.inZone["uniform"][last], ref.inZone["uniform"][last]),
				pp(v.inZone["market"][last], ref.inZone["market"][last]),
				pp(v.waste["market"], ref.waste["market"]))
		}
	}
	p("\n")
	return b.String()
}
