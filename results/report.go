package results

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/relix-lab/relix/results/dirlock"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// plotNames are the stems of every plot Render can produce, in page order.
var plotNames = []string{"pass_at_k", "paired_differences", "pass1_steps", "truncation_steps", "in_zone_steps", "waste_steps", "sweep_waste", "sweep_waste_carried", "sweep_multiplier", "sweep_multiplier_carried"}

// RenderOptions configure Render.
type RenderOptions struct {
	// Formats are the plot formats written under plots/ ("png", "svg"; both
	// when empty). index.html embeds the PNG whatever is written.
	Formats []string
}

// Output is one derived file: its path relative to the results directory
// (slash-separated) and its content.
type Output struct {
	Path string
	Data []byte
}

// Rendered is everything derived from a run's data files, in memory.
type Rendered struct {
	Run     *Run
	Tables  []Table
	Figures []Figure
	Files   []Output // plots, tables.md, index.html
}

func checkFormats(formats []string) error {
	for _, f := range formats {
		if f != PNG && f != SVG {
			return fmt.Errorf("unknown plot format %q (want png or svg)", f)
		}
	}
	return nil
}

// Render builds the tables, plots, tables.md and index.html of a run.
// The same data gives the same bytes.
func (r *Run) Render(opts RenderOptions) (*Rendered, error) {
	formats := opts.Formats
	if len(formats) == 0 {
		formats = []string{PNG, SVG}
	}
	if err := checkFormats(formats); err != nil {
		return nil, err
	}
	rd := &Rendered{Run: r, Tables: r.Tables()}
	var err error
	if rd.Figures, err = r.figures(); err != nil {
		return nil, err
	}
	for _, f := range rd.Figures {
		if slices.Contains(formats, PNG) {
			rd.Files = append(rd.Files, Output{PlotsDir + "/" + f.Name + ".png", f.PNG})
		}
	}
	for _, f := range rd.Figures {
		if slices.Contains(formats, SVG) {
			rd.Files = append(rd.Files, Output{PlotsDir + "/" + f.Name + ".svg", f.SVG})
		}
	}
	md, err := tablesMarkdown(r.Name, rd.Tables)
	if err != nil {
		return nil, err
	}
	rd.Files = append(rd.Files, Output{TablesFile, []byte(md)})
	page, err := indexHTML(r, rd.Tables, rd.Figures, formats)
	if err != nil {
		return nil, err
	}
	rd.Files = append(rd.Files, Output{IndexFile, page})
	return rd, nil
}

// stalePlots are plot files under plots/ with one of Render's names that
// this render did not produce (a plot whose data is gone, or a format no
// longer asked for).
func (rd *Rendered) stalePlots() []string {
	var out []string
	for _, name := range plotNames {
		for _, format := range []string{PNG, SVG} {
			rel := PlotsDir + "/" + name + "." + format
			if slices.ContainsFunc(rd.Files, func(o Output) bool { return o.Path == rel }) {
				continue
			}
			if _, err := os.Stat(filepath.Join(rd.Run.Dir, filepath.FromSlash(rel))); err == nil {
				out = append(out, rel)
			}
		}
	}
	return out
}

// Write writes every derived file into the run's directory, each
// atomically, skipping files whose content is already current, and
// removes stale plots. It returns the paths it changed.
func (rd *Rendered) Write() ([]string, error) {
	var changed []string
	for _, o := range rd.Files {
		path := filepath.Join(rd.Run.Dir, filepath.FromSlash(o.Path))
		old, err := readDerived(rd.Run.Dir, o.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
		if err == nil && bytes.Equal(old, o.Data) {
			continue
		}
		if err := WriteFileAtomic(path, o.Data); err != nil {
			return changed, err
		}
		changed = append(changed, path)
	}
	for _, rel := range rd.stalePlots() {
		path := filepath.Join(rd.Run.Dir, filepath.FromSlash(rel))
		if err := os.Remove(path); err != nil {
			return changed, err
		}
		changed = append(changed, path)
	}
	return changed, nil
}

// readDerived reads a derived file (rel, slash-separated, under dir) that
// relix is about to compare or replace. A results directory may come from
// someone else, so a directory on the way that is a symlink (plots/ linked
// elsewhere would have relix overwrite the link's target) and a file that
// is not a regular file (a FIFO would block the read forever) are errors.
func readDerived(dir, rel string) ([]byte, error) {
	parts := strings.Split(rel, "/")
	at := dir
	for i, part := range parts {
		at = filepath.Join(at, part)
		info, err := os.Lstat(at)
		if err != nil {
			return nil, err
		}
		switch last := i == len(parts)-1; {
		case !last && !info.IsDir():
			return nil, fmt.Errorf("%s is not a directory (%s): relix writes its plots only inside the results directory; remove it", at, info.Mode().Type())
		case last && !info.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file (%s): remove it and run again", at, info.Mode().Type())
		}
	}
	return os.ReadFile(at)
}

// Drift is a file whose content differs from what relix report would write.
type Drift struct {
	Path string // as given (results directory joined with the file)
	Diff string // unified diff for Markdown files; empty for others
	Note string // missing, out of date, stale
}

// Check compares the derived files on disk with the render, writing nothing.
func (rd *Rendered) Check() ([]Drift, error) {
	var drifts []Drift
	for _, o := range rd.Files {
		path := filepath.Join(rd.Run.Dir, filepath.FromSlash(o.Path))
		old, err := readDerived(rd.Run.Dir, o.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			drifts = append(drifts, Drift{Path: path, Note: "missing"})
		case err != nil:
			return nil, err
		case !bytes.Equal(old, o.Data):
			d := Drift{Path: path, Note: "out of date"}
			if strings.HasSuffix(o.Path, ".md") {
				d.Diff = UnifiedDiff(path, path+" (regenerated)", string(old), string(o.Data))
			}
			drifts = append(drifts, d)
		}
	}
	for _, rel := range rd.stalePlots() {
		drifts = append(drifts, Drift{Path: filepath.Join(rd.Run.Dir, filepath.FromSlash(rel)), Note: "stale (no longer produced)"})
	}
	return drifts, nil
}

// Build loads a results directory, renders it and writes the derived files:
// what a run calls once its data files are committed.
func Build(dir string, opts RenderOptions) (*Rendered, error) {
	r, err := Load(dir)
	if err != nil {
		return nil, err
	}
	rd, err := r.Render(opts)
	if err != nil {
		return nil, err
	}
	if _, err := rd.Write(); err != nil {
		return nil, err
	}
	return rd, nil
}

// PrintTables writes every table to w for a terminal, each under its title.
func (rd *Rendered) PrintTables(w io.Writer) error {
	for _, t := range rd.Tables {
		fmt.Fprintf(w, "\n%s\n", t.Title)
		if err := t.Terminal(w); err != nil {
			return err
		}
	}
	return nil
}

// ReportOptions configure Report, the library side of `relix report`.
type ReportOptions struct {
	Dirs        []string // results directories
	Experiments string   // EXPERIMENTS.md to update (or check); "" for none
	Check       bool     // write nothing; report what is out of date
	Formats     []string // plot formats (RenderOptions.Formats)
	Out         io.Writer
	Command     string // names this process to another relix while it holds a directory
}

// lockForReport holds dir while Report reads it (shared: no run may write
// it meanwhile) or rewrites its derived files (exclusive). A check writes
// nothing, not even a lock file: it locks only a directory a relix has
// locked before, and where that lock cannot be opened for writing (a
// read-only copy of the results) it goes on without it.
func lockForReport(dir string, check bool, command string) (*dirlock.Lock, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, nil // Load says what is wrong
	}
	if !check {
		return dirlock.Acquire(dir, dirlock.Exclusive, command)
	}
	lock, err := dirlock.AcquireIfLocked(dir, dirlock.Shared, command)
	if err != nil && !errors.Is(err, dirlock.ErrInUse) {
		return nil, nil
	}
	return lock, err
}

// Report rebuilds the derived files of every results directory from its
// data files and rewrites the marked sections of the experiments file. With
// Check it writes nothing and returns the files that are out of date, with
// the diffs printed to Out.
func Report(opts ReportOptions) ([]Drift, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if len(opts.Dirs) == 0 {
		return nil, errors.New("no results directory given")
	}
	var rendered []*Rendered
	var drifts []Drift
	command := opts.Command
	if command == "" {
		command = "relix report"
	}
	for _, dir := range opts.Dirs {
		if err := checkFormats(opts.Formats); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err) // before the lock: a bad flag writes nothing
		}
		lock, err := lockForReport(dir, opts.Check, command)
		if err != nil {
			return nil, err
		}
		defer lock.Release()
		r, err := Load(dir)
		if err != nil {
			return nil, err
		}
		rd, err := r.Render(RenderOptions{Formats: opts.Formats})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		rendered = append(rendered, rd)
		if opts.Check {
			d, err := rd.Check()
			if err != nil {
				return nil, err
			}
			drifts = append(drifts, d...)
			continue
		}
		changed, err := rd.Write()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "%s (%s)\n", r.Name, dir)
		if err := rd.PrintTables(out); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "\n%d files rebuilt, %d changed: %s, %s, %s/\n\n", len(rd.Files), len(changed),
			Layout{dir}.Tables(), Layout{dir}.Index(), filepath.Join(dir, PlotsDir))
	}
	if opts.Experiments != "" {
		d, err := updateExperiments(opts.Experiments, rendered, opts.Check, out)
		if err != nil {
			return nil, err
		}
		drifts = append(drifts, d...)
	}
	if opts.Check {
		for _, d := range drifts {
			fmt.Fprintf(out, "%s: %s\n", d.Path, d.Note)
			if d.Diff != "" {
				fmt.Fprint(out, d.Diff)
			}
		}
		if len(drifts) == 0 {
			n := 0
			for _, rd := range rendered {
				n += len(rd.Files)
			}
			if opts.Experiments != "" {
				n++
			}
			fmt.Fprintf(out, "%d files up to date\n", n)
		}
	}
	return drifts, nil
}

func updateExperiments(path string, runs []*Rendered, check bool, out io.Writer) ([]Drift, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	updated, n, err := RewriteSections(old, filepath.Dir(path), runs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(old, updated) {
		if !check {
			fmt.Fprintf(out, "%s: %d sections up to date\n", path, n)
		}
		return nil, nil
	}
	if check {
		return []Drift{{Path: path, Note: "out of date", Diff: UnifiedDiff(path, path+" (regenerated)", string(old), string(updated))}}, nil
	}
	if err := WriteFileAtomic(path, updated); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%s: %d sections rewritten\n", path, n)
	return nil, nil
}
