package results

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(f), 0o644))
	}
}

func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	}))
	sort.Strings(out)
	return out
}

// TestClearLeavesTheUsersFiles: --force deletes what relix wrote and
// nothing a user put beside it.
func TestClearLeavesTheUsersFiles(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir,
		ManifestFile, RolloutsFile, StepsFile, EvalFile, SummaryFile, TablesFile, IndexFile,
		"plots/pass_at_k.png", "plots/pass_at_k.svg", "plots/waste_steps.png",
		"runs/spec.lock",
		"runs/market/seed-1/state.json", "runs/market/seed-1/steps.parquet", "runs/market/seed-1/worker.log",
		"runs/market/seed-1/journal/000001.rec", "runs/market/seed-1/ckpt/000001/current/model.safetensors",
		"runs/market/seed-1/.relix-tmp-steps.parquet-123",
		"runs/base/seed-2/eval.parquet",
		"slurm/job.sh",
		// the user's
		"notes.md", "plots/my-figure.png", "runs/market/seed-1/analysis.ipynb", "runs/README", "runs/market/extra/x.txt",
	)
	require.NoError(t, Clear(dir, []string{"state.json", "steps.parquet", "worker.log", "journal", "ckpt", "eval.parquet", ".relix.lock"}, "slurm", "runs/spec.lock"))
	assert.Equal(t, []string{
		"notes.md", "plots/", "plots/my-figure.png",
		"runs/", "runs/README", "runs/market/", "runs/market/extra/", "runs/market/extra/x.txt",
		"runs/market/seed-1/", "runs/market/seed-1/analysis.ipynb",
	}, tree(t, dir))
}

func TestClearOfAPlotsLinkLeavesItsTarget(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	writeTree(t, elsewhere, "pass_at_k.png")
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, PlotsDir)))
	require.NoError(t, Clear(dir, nil))
	assert.Equal(t, []string{"pass_at_k.png"}, tree(t, elsewhere))
}

func TestForeign(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"empty", nil, nil},
		{"only relix's lock and runs", []string{".relix.lock", "runs/market/seed-1/.relix.lock", ".relix-tmp-x-1"}, nil},
		{"a user's page", []string{"index.html", "tables.md", ".relix.lock"}, []string{"index.html", "tables.md"}},
		{"a results directory", []string{ManifestFile, "index.html", "notes.md"}, nil},
		{"a run's spec lock", []string{"runs/spec.lock", "notes.md"}, nil},
		{"a user's plots", []string{"plots/pass_at_k.png", "plots/figure.png"}, []string{"plots"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files...)
			got, err := Foreign(dir, "runs/spec.lock")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	got, err := Foreign(filepath.Join(t.TempDir(), "missing"))
	require.NoError(t, err)
	assert.Empty(t, got)
}

// A clean clone of a repository that tracks a results directory's tables
// and plots, not its data, holds only what relix wrote: it is adopted.
func TestForeignKnowsRelixsOwnPages(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, "plots/pass_at_k.png", "plots/waste_steps.svg")
	require.NoError(t, os.WriteFile(filepath.Join(dir, TablesFile), []byte("# paired\n\n"+tablesMarker+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFile), []byte("<!DOCTYPE html>\n<head>\n"+indexMarker+"\n"), 0o644))
	got, err := Foreign(dir)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestDerivedFilesStayInside(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, PlotsDir)))
	_, err := readDerived(dir, "plots/pass_at_k.png")
	assert.ErrorContains(t, err, "not a directory")
	require.NoError(t, os.Remove(filepath.Join(dir, PlotsDir)))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, TablesFile)))
	_, err = readDerived(dir, TablesFile)
	assert.ErrorContains(t, err, "not a regular file")
}
