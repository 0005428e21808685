package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/relix-lab/relix/results/dirlock"
)

// The files of a run's directory (runs/ARM/seed-N) that relix writes; the
// journal and checkpoint directories are relix's whole.
var (
	runFiles = []string{"state.json", StepsFile, "steps.ndjson", RolloutsFile, EvalFile, "worker.log", dirlock.File}
	runDirs  = []string{"journal", "ckpt"}
	runName  = regexp.MustCompile(`^seed-[0-9]+$`)
)

// topFiles are what relix writes at the top of a results directory.
var topFiles = []string{ManifestFile, RolloutsFile, StepsFile, EvalFile, SummaryFile, SweepFile, TablesFile, IndexFile}

// Clear removes from a results directory what relix writes there — the
// data and derived files, the plots it draws, the runs' journals,
// checkpoints, shards and states, and the directories named in also (a
// cluster's scratch) — and nothing else: a file a user put there stays,
// and so does every directory that still holds one.
func Clear(dir string, also ...string) error {
	var errs []error
	remove := func(path string) {
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range append(slices.Clone(topFiles), also...) {
		remove(filepath.Join(dir, name))
	}
	plots := filepath.Join(dir, PlotsDir)
	if info, err := os.Lstat(plots); err == nil && info.IsDir() {
		for _, name := range plotNames {
			for _, format := range []string{PNG, SVG} {
				remove(filepath.Join(plots, name+"."+format))
			}
		}
		removeIfEmpty(plots)
	}
	runs := filepath.Join(dir, "runs")
	if info, err := os.Lstat(runs); err == nil && info.IsDir() {
		remove(filepath.Join(runs, "spec.lock"))
		arms, _ := os.ReadDir(runs)
		for _, arm := range arms {
			if !arm.IsDir() {
				continue
			}
			seeds, _ := os.ReadDir(filepath.Join(runs, arm.Name()))
			for _, seed := range seeds {
				if !seed.IsDir() || !runName.MatchString(seed.Name()) {
					continue
				}
				run := filepath.Join(runs, arm.Name(), seed.Name())
				for _, name := range append(slices.Clone(runFiles), runDirs...) {
					remove(filepath.Join(run, name))
				}
				if _, err := RemoveTemp(run); err != nil {
					errs = append(errs, err)
				}
				removeIfEmpty(run)
			}
			removeIfEmpty(filepath.Join(runs, arm.Name()))
		}
		removeIfEmpty(runs)
	}
	if _, err := RemoveTemp(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeIfEmpty removes dir where nothing is left in it; a directory that
// holds a user's file is kept, which is not an error.
func removeIfEmpty(dir string) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		_ = os.Remove(dir)
	}
}

// Foreign lists what dir holds that relix did not put there, when dir is
// not a results directory at all (neither a manifest nor a run's spec
// lock): relix adopts an existing directory only when it holds nothing but
// its lock and a runs directory, so that a user's own index.html or tables.md is never
// overwritten by a first run pointed at the wrong --out.
func Foreign(dir string, marks ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, mark := range append([]string{ManifestFile}, marks...) {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(mark))); err == nil {
			return nil, nil
		}
	}
	var foreign []string
	for _, e := range entries {
		if e.Name() == dirlock.File || strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		if relixWrote(dir, e) {
			continue
		}
		if e.Name() == "runs" && e.IsDir() {
			// Where the runs are written, and where other tasks of the
			// same job may be making theirs right now; relix writes
			// only runs/ARM/seed-N inside it, and clears nothing else.
			continue
		}
		foreign = append(foreign, e.Name())
	}
	return foreign, nil
}

// relixWrote reports whether a derived file of a results directory whose
// data files are gone (a clean clone of a repository that tracks its
// tables and plots, not its Parquet files) is relix's own: tables.md and
// index.html by the line relix writes into them, plots/ when every file in
// it is a plot relix draws.
func relixWrote(dir string, e fs.DirEntry) bool {
	path := filepath.Join(dir, e.Name())
	switch {
	case e.Name() == TablesFile && e.Type().IsRegular():
		return fileHas(path, tablesMarker)
	case e.Name() == IndexFile && e.Type().IsRegular():
		return fileHas(path, indexMarker)
	case e.Name() == PlotsDir && e.IsDir():
		entries, err := os.ReadDir(path)
		if err != nil {
			return false
		}
		for _, p := range entries {
			name, format, _ := strings.Cut(p.Name(), ".")
			if !p.Type().IsRegular() || !slices.Contains(plotNames, name) || (format != PNG && format != SVG) {
				return false
			}
		}
		return true
	}
	return false
}

// The lines by which relix knows its own tables.md and index.html.
const (
	tablesMarker = "Generated by `relix report` from the Parquet files of this directory; do not edit."
	indexMarker  = `<meta name="generator" content="relix report">`
)

// fileHas reports whether the first 4 KiB of path hold marker.
func fileHas(path, marker string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte(marker))
}

// ForeignError is the error of a directory Foreign found files in.
func ForeignError(dir string, foreign []string) error {
	shown := foreign
	if len(shown) > 5 {
		shown = append(slices.Clone(shown[:5]), fmt.Sprintf("and %d more", len(foreign)-5))
	}
	return fmt.Errorf("%s is not empty and is not a relix results directory (it holds %s): choose another --out, or empty it; --force does not delete files relix did not write",
		dir, strings.Join(shown, ", "))
}
