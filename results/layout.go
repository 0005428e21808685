package results

import (
	"path"
	"path/filepath"

	"github.com/relix-lab/relix/results/dirlock"
)

// DefaultRoot is where runs write unless told otherwise: results/<experiment>.
const DefaultRoot = "results"

// The files of a results directory. Data files are written by a run; derived
// files are rebuilt from the data files by Render (relix report).
const (
	ManifestFile = "manifest.json"    // the run's record (data)
	RolloutsFile = "rollouts.parquet" // every completion generated for training (data)
	StepsFile    = "steps.parquet"    // one row per arm, seed and training step (data)
	EvalFile     = "eval.parquet"     // every held-out sample of every evaluated checkpoint (data)
	ProblemsFile = "problems.parquet" // every problem of the two pools, with its features (data)
	SummaryFile  = "summary.parquet"  // every statistic a table shows (data)
	SweepFile    = "sweep.parquet"    // the in-zone sweep, when one ran (data)
	PlotsDir     = "plots"            // plots/<name>.png and plots/<name>.svg (derived)
	TablesFile   = "tables.md"        // the Markdown tables (derived)
	IndexFile    = "index.html"       // one self-contained page (derived)
)

// tempPrefix starts the name of every file being written; it matches the
// repository's .gitignore, and a file with this prefix is never complete.
const tempPrefix = ".relix-tmp-"

// Dir is the results directory of an experiment under root (DefaultRoot
// when root is empty).
func Dir(root, experiment string) string {
	if root == "" {
		root = DefaultRoot
	}
	return filepath.Join(root, experiment)
}

// Layout names the files of one results directory.
type Layout struct{ Dir string }

func (l Layout) file(name string) string { return filepath.Join(l.Dir, name) }

// Manifest is the path of manifest.json.
func (l Layout) Manifest() string { return l.file(ManifestFile) }

// Rollouts is the path of rollouts.parquet.
func (l Layout) Rollouts() string { return l.file(RolloutsFile) }

// Steps is the path of steps.parquet.
func (l Layout) Steps() string { return l.file(StepsFile) }

// Eval is the path of eval.parquet.
func (l Layout) Eval() string { return l.file(EvalFile) }

// Problems is the path of problems.parquet.
func (l Layout) Problems() string { return l.file(ProblemsFile) }

// Summary is the path of summary.parquet.
func (l Layout) Summary() string { return l.file(SummaryFile) }

// Sweep is the path of sweep.parquet.
func (l Layout) Sweep() string { return l.file(SweepFile) }

// Tables is the path of tables.md.
func (l Layout) Tables() string { return l.file(TablesFile) }

// Index is the path of index.html.
func (l Layout) Index() string { return l.file(IndexFile) }

// Plot is the path of a plot file, name without extension, format "png" or "svg".
func (l Layout) Plot(name, format string) string {
	return filepath.Join(l.Dir, PlotsDir, name+"."+format)
}

// notListed reports whether a path relative to a results directory (slash
// separated) is left out of the manifest's file list: the manifest itself
// the outputs that Render rebuilds, and the locks of the directory and its
// runs, which say who held them last.
func notListed(rel string) bool {
	switch rel {
	case TablesFile, IndexFile, ManifestFile:
		return true
	}
	if path.Base(rel) == dirlock.File {
		return true
	}
	return len(rel) > len(PlotsDir) && rel[:len(PlotsDir)+1] == PlotsDir+"/"
}
