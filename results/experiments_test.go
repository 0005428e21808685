package results

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renderedRuns renders the committed synthetic runs once for every test
// that only reads the result.
var renderedRuns = sync.OnceValues(func() ([]*Rendered, error) {
	var out []*Rendered
	for _, dir := range []string{pairedData, sweepData} {
		r, err := Load(dir)
		if err != nil {
			return nil, err
		}
		rd, err := r.Render(RenderOptions{})
		if err != nil {
			return nil, err
		}
		out = append(out, rd)
	}
	return out, nil
})

func TestRewriteSectionsGolden(t *testing.T) {
	t.Parallel()
	runs, err := renderedRuns()
	require.NoError(t, err)
	in, err := os.ReadFile("testdata/experiments/EXPERIMENTS.in.md")
	require.NoError(t, err)
	// The document sits in results/, like EXPERIMENTS.md at the repository
	// root beside results/<experiment>: plot links are relative to it.
	out, n, err := RewriteSections(in, ".", runs)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	golden(t, "testdata/experiments/EXPERIMENTS.golden.md", out)

	again, _, err := RewriteSections(out, ".", runs)
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again), "rewriting is idempotent")

	// Only the paired run given: the sweep's section keeps its old body.
	partial, n, err := RewriteSections(in, ".", runs[:1])
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Contains(t, string(partial), "<!-- relix:begin zone-sweep/sweep -->\n<!-- relix:end zone-sweep/sweep -->\n")
}

func TestRewriteSectionsErrors(t *testing.T) {
	t.Parallel()
	runs, err := renderedRuns()
	require.NoError(t, err)
	for _, tc := range []struct{ doc, err string }{
		{"a\n<!-- relix:begin paired/reference -->\n", "line 2: section paired/reference is never ended (want <!-- relix:end paired/reference -->)"},
		{"<!-- relix:end paired/reference -->\n", "line 1: section paired/reference ends but was never begun"},
		{"<!-- relix:begin paired/reference -->\n<!-- relix:begin paired/paired -->\n", "line 2: section paired/paired begins inside section paired/reference (line 1); close it first"},
		{"<!-- relix:begin paired/reference -->\n<!-- relix:end paired/paired -->\n", "line 2: section paired/paired ends, but the open section is paired/reference (line 1)"},
		{"<!-- relix:begin paired -->\n", "line 1: section name \"paired\": want <experiment>/<kind>"},
		{"<!-- relix:begin paired/bogus -->\n<!-- relix:end paired/bogus -->\n", "line 1: section paired/bogus: unknown section kind \"bogus\" (want one of reference, paired, waste, sweep, sweep-carried, sweep-detail, plots)"},
		{"<!-- relix:begin paired/sweep -->\n<!-- relix:end paired/sweep -->\n", "line 1: section paired/sweep: the run has no sweep table"},
		{"<!-- relix:begin zone-sweep/reference -->\n<!-- relix:end zone-sweep/reference -->\n", "line 1: section zone-sweep/reference: the run has no reference table"},
	} {
		_, _, err := RewriteSections([]byte(tc.doc), ".", runs)
		assert.EqualError(t, err, tc.err, tc.doc)
	}
	_, _, err = RewriteSections(nil, ".", []*Rendered{runs[0], runs[0]})
	assert.ErrorContains(t, err, "two results directories for experiment paired")
}

func TestReportCheck(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	resultstest.CopyDir(t, pairedData, filepath.Join(root, "results", "paired"))
	resultstest.CopyDir(t, sweepData, filepath.Join(root, "results", "zone-sweep"))
	doc := filepath.Join(root, "EXPERIMENTS.md")
	in, err := os.ReadFile("testdata/experiments/EXPERIMENTS.in.md")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(doc, in, 0o644))
	dirs := []string{filepath.Join(root, "results", "paired"), filepath.Join(root, "results", "zone-sweep")}

	drifts, err := Report(ReportOptions{Dirs: dirs, Experiments: doc, Check: true})
	require.NoError(t, err)
	assert.NotEmpty(t, drifts)
	unchanged, err := os.ReadFile(doc)
	require.NoError(t, err)
	assert.Equal(t, in, unchanged, "--check writes nothing")

	drifts, err = Report(ReportOptions{Dirs: dirs, Experiments: doc})
	require.NoError(t, err)
	assert.Empty(t, drifts)
	drifts, err = Report(ReportOptions{Dirs: dirs, Experiments: doc, Check: true})
	require.NoError(t, err)
	assert.Empty(t, drifts)

	// The same document as the golden, with links relative to its place.
	got, err := os.ReadFile(doc)
	require.NoError(t, err)
	assert.Contains(t, string(got), "![pass@k on the held-out set](results/paired/plots/pass_at_k.png)")
}

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", UnifiedDiff("a", "b", "x\n", "x\n"))
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	b := "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	assert.Equal(t, `--- a
+++ b
@@ -1,6 +1,6 @@
 1
 2
-3
+three
 4
 5
 6
@@ -10,3 +10,4 @@
 10
 11
 12
+13
`, UnifiedDiff("a", "b", a, b))
	assert.Equal(t, "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n",
		UnifiedDiff("a", "b", "x", "y"))
	assert.Equal(t, "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+y\n", UnifiedDiff("a", "b", "", "y\n"))
}
