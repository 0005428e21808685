package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A table drawn while some runs are unfinished must say which rows it
// lacks, rather than look complete.
func TestRenderListsTheMissingVariants(t *testing.T) {
	t.Parallel()
	v := &variant{
		name: defaultRun, seeds: 2, finalStep: 300,
		pass1:  map[string]float64{},
		gain4:  map[string]interval{},
		inZone: map[string][]float64{"uniform": {0.1, 0.1, 0.1}, "market": {0.1, 0.1, 0.1}},
		waste:  map[string]float64{},
	}
	got := render(map[string]*variant{defaultRun: v})
	_, missing, _ := strings.Cut(got, "**Missing**")
	if !strings.Contains(missing, "`noise-16`") || !strings.Contains(missing, "`miners-16`") {
		t.Errorf("missing variants not listed:\n%s", got)
	}
	if strings.Contains(missing, "`"+defaultRun+"`") {
		t.Errorf("the finished default run is listed as missing:\n%s", got)
	}
	if n := strings.Count(got, "| **32** |"); n != 4 {
		t.Errorf("the default row of the noise band appears %d times, want once per table (4)", n)
	}
}

// Every variant of experiments/robustness/ is in exactly one band, and each
// band holds the default run once.
func TestBandsCoverEachVariantOnce(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for _, b := range bands {
		d := 0
		for _, v := range b.variants {
			seen[v]++
			if v == defaultRun {
				d++
			}
		}
		if d != 1 {
			t.Errorf("%s: the default run %d times", b.constant, d)
		}
	}
	for v, n := range seen {
		if v != defaultRun && n != 1 {
			t.Errorf("%s in %d bands", v, n)
		}
	}
	files, err := filepath.Glob("../../experiments/robustness/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no variants found: %v", err)
	}
	if len(seen) != len(files) {
		t.Errorf("%d variants in the bands, want %d (experiments/robustness/*.yaml)", len(seen), len(files))
	}
}
