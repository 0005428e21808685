package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReport(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	paired := filepath.Join(root, "results", "paired")
	sweep := filepath.Join(root, "results", "zone-sweep")
	resultstest.CopyDir(t, "../../results/testdata/paired", paired)
	resultstest.CopyDir(t, "../../results/testdata/zone-sweep", sweep)
	doc := filepath.Join(root, "EXPERIMENTS.md")
	prose := "# Experiments\n\nProse.\n\n<!-- relix:begin paired/reference -->\n<!-- relix:end paired/reference -->\n\n" +
		"<!-- relix:begin zone-sweep/sweep -->\n<!-- relix:end zone-sweep/sweep -->\n\nMore prose.\n"
	require.NoError(t, os.WriteFile(doc, []byte(prose), 0o644))

	code, out, errOut := cliRun(t, "report", "--check", "--experiments", doc, paired, sweep)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, filepath.Join(paired, "tables.md")+": missing")
	assert.Contains(t, out, doc+": out of date\n--- "+doc+"\n+++ "+doc+" (regenerated)\n")
	assert.Contains(t, errOut, "files out of date; run relix report without --check to regenerate")
	data, err := os.ReadFile(doc)
	require.NoError(t, err)
	assert.Equal(t, prose, string(data), "--check writes nothing")

	code, out, errOut = cliRun(t, "report", "--experiments", doc, paired, sweep)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "Held-out results per arm\n┌")
	assert.Contains(t, out, doc+": 2 sections rewritten")
	for _, f := range []string{"tables.md", "index.html", "plots/pass_at_k.png", "plots/pass_at_k.svg", "plots/paired_differences.svg"} {
		assert.FileExists(t, filepath.Join(paired, f))
	}
	assert.FileExists(t, filepath.Join(sweep, "plots", "sweep_waste.svg"))
	data, err = os.ReadFile(doc)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "# Experiments\n\nProse.\n\n<!-- relix:begin paired/reference -->\n\n_Final"))
	assert.True(t, strings.HasSuffix(string(data), "<!-- relix:end zone-sweep/sweep -->\n\nMore prose.\n"))

	code, out, errOut = cliRun(t, "report", "--check", "--experiments", doc, paired, sweep)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Equal(t, "25 files up to date\n", out)
}

func TestReportErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no directory", []string{"report"}, exitUsage, "relix: report: want at least one RESULTS_DIR\n"},
		{"empty directory", []string{"report", dir}, exitInvalid, "relix: " + dir + ": no results (want at least one of summary.parquet, steps.parquet, sweep.parquet)\n"},
		{"bad format", []string{"report", "--plots", "pdf", "../../results/testdata/paired"}, exitInvalid, "relix: ../../results/testdata/paired: unknown plot format \"pdf\" (want png or svg)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cliRun(t, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.msg, errOut)
		})
	}
}
