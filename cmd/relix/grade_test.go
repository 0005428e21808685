package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGradeWritesOneVerdictPerLine(t *testing.T) {
	t.Parallel()
	code, out, stderr := cliRunWithStdin(t, "", "grade", "testdata/grade/completions.jsonl")
	require.Equal(t, exitOK, code, stderr)
	golden(t, "grade/completions.golden.jsonl", out)
}

func TestGradeSummary(t *testing.T) {
	t.Parallel()
	input, err := os.ReadFile("testdata/grade/completions.jsonl")
	require.NoError(t, err)
	code, out, stderr := cliRunWithStdin(t, string(input), "grade", "--summary", "-")
	require.Equal(t, exitOK, code, stderr)
	golden(t, "grade/summary.golden", out)

	code, out, _ = cliRunWithStdin(t, "", "grade", "--summary", "-")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, "graded 0 completions\n", out)
}

func TestGradeFallbackLastNumber(t *testing.T) {
	t.Parallel()
	in := `{"completion": "The final answer is 17.", "answer": "17"}` + "\n"
	code, out, _ := cliRunWithStdin(t, in, "grade", "--fallback-last-number", "-")
	require.Equal(t, exitOK, code)
	assert.Equal(t, `{"correct":true,"extracted":"17","reason":""}`+"\n", out)
}

func TestGradeOutputFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "graded.jsonl")
	code, out, stderr := cliRunWithStdin(t, "", "grade", "--summary", "-o", path, "testdata/grade/completions.jsonl")
	require.Equal(t, exitOK, code, stderr)
	summary, err := os.ReadFile("testdata/grade/summary.golden")
	require.NoError(t, err)
	assert.Equal(t, string(summary), out)
	written, err := os.ReadFile(path)
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/grade/completions.golden.jsonl")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(written))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

func TestGradeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad line", []string{"grade", "testdata/grade/bad.jsonl"}, exitInvalid, "relix: testdata/grade/bad.jsonl:3: missing field \"answer\"\n"},
		{"missing file", []string{"grade", "testdata/grade/missing.jsonl"}, exitInvalid, "relix: open testdata/grade/missing.jsonl: no such file or directory\n"},
		{"no file", []string{"grade"}, exitUsage, "relix: grade takes one FILE (- for standard input), got 0 arguments\n"},
		{"two files", []string{"grade", "a", "b"}, exitUsage, "relix: grade takes one FILE (- for standard input), got 2 arguments\n"},
		{"output into a missing directory", []string{"grade", "-o", "testdata/no/such/dir/x.jsonl", "testdata/grade/completions.jsonl"}, exitRuntime, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := cliRunWithStdin(t, "", tc.args...)
			assert.Equal(t, tc.code, code)
			if tc.stderr != "" {
				assert.Equal(t, tc.stderr, stderr)
			}
		})
	}
}

func TestGradeRelTolerance(t *testing.T) {
	t.Parallel()
	in := `{"completion": "So $\\boxed{0.333}$.", "answer": "\\frac13"}` + "\n"
	code, out, _ := cliRunWithStdin(t, in, "grade", "-")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"correct":false`, "rationals compare exactly by default")
	code, out, _ = cliRunWithStdin(t, in, "grade", "--rel-tol", "1e-3", "-")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, `"correct":true`)
	code, _, _ = cliRunWithStdin(t, in, "grade", "--rel-tol", "-1", "-")
	assert.Equal(t, exitUsage, code)
}

// TestGradeFeedsScore grades a CSV of two samples per problem and scores
// the graded lines as they stand: no finish reasons, no truncation.
func TestGradeFeedsScore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "answers.csv")
	require.NoError(t, os.WriteFile(in, []byte("id,completion,answer\n"+
		"1,\\boxed{2},2\n1,\\boxed{3},2\n2,\\boxed{x+1},1+x\n2,\\boxed{x},1+x\n"), 0o644))
	graded := filepath.Join(dir, "graded.jsonl")
	code, _, errOut := cliRun(t, "grade", "-o", graded, in)
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := cliRun(t, "score", "--k", "1", graded)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "0.500 ± 0.000")
	assert.NotContains(t, out, "truncation")
}

// TestGradeOutputToADevice writes -o /dev/null through, never renaming a
// temporary file over the device.
func TestGradeOutputToADevice(t *testing.T) {
	t.Parallel()
	info, err := os.Stat(os.DevNull)
	if err != nil || info.Mode().IsRegular() {
		t.Skip("no device at", os.DevNull)
	}
	code, _, errOut := cliRunWithStdin(t, `{"completion": "\\boxed{1}", "answer": "1"}`+"\n", "grade", "-o", os.DevNull, "-")
	require.Equal(t, exitOK, code, errOut)
	after, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	assert.Equal(t, info.Mode(), after.Mode(), "the device is still a device")
}
