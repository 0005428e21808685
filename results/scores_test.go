package results

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/eval"
)

// TestScoreTablesShowNumbersAsTheRunTablesDo pins the one rule of what is a
// percent: relix score's cells are those of a run's reference and paired
// tables for the same metric and numbers.
func TestScoreTablesShowNumbersAsTheRunTablesDo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, correct, truncated func(problem, sample int) bool) string {
		var b strings.Builder
		for p := range 6 {
			for s := range 4 {
				fmt.Fprintf(&b, `{"problem": "p%d", "sample": %d, "correct": %t, "truncated": %t}`+"\n", p, s, correct(p, s), truncated(p, s))
			}
		}
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		return path
	}
	a := write("a.jsonl", func(p, s int) bool { return (p+s)%2 == 0 }, func(p, s int) bool { return s == 3 })
	b := write("b.jsonl", func(p, s int) bool { return p%3 == 0 && s < 2 }, func(p, s int) bool { return s >= 2 && p != 1 })
	r, err := ScoreFiles(ScoreOptions{Files: []string{a}, Paired: b, Ks: []int{1}, Draws: 200, Seed: 3})
	require.NoError(t, err)
	require.Len(t, r.Files, 2)
	require.Len(t, r.Paired, 1)

	files := scoresTable("file", r.Files)
	assert.Equal(t, []string{"file", "problems", "samples", "pass@1", "truncation"}, files.Header)
	trunc := r.Files[0].Scores.Truncation
	assert.Equal(t, "25.0% ± 0.0%", files.Rows[0][4])
	assert.Equal(t, valueSE("truncation", trunc.Mean, trunc.SE), files.Rows[0][4])

	paired := r.pairedScoresTable()
	var row []string
	for _, rw := range paired.Rows {
		if rw[1] == "truncation" {
			row = rw
		}
	}
	require.NotNil(t, row)
	c := r.Paired[0].Comparisons[len(r.Paired[0].Comparisons)-1]
	require.Equal(t, "truncation", c.Metric)
	assert.Equal(t, diff("truncation", c.Paired.Diff), row[2])
	assert.True(t, strings.HasSuffix(row[2], " pp"), row[2])
	assert.Equal(t, ci("truncation", c.Paired.CILow, c.Paired.CIHigh, true), row[4])
	assert.True(t, strings.HasSuffix(row[4], "] pp"), row[4])
	assert.Equal(t, ci("truncation", c.Bootstrap.Low, c.Bootstrap.High, true), row[8])
}

func TestScoreFilesMarksBadInput(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"testdata/no-such-file.jsonl", "testdata/no-such-file.parquet"} {
		_, err := ScoreFiles(ScoreOptions{Files: []string{path}, Ks: []int{1}, Draws: 1})
		assert.True(t, errors.As(err, new(*InputError)), "%s: %v", path, err)
	}
	_, err := ScoreFiles(ScoreOptions{Files: []string{"-"}, Ks: []int{1}, Draws: 1, Stdin: strings.NewReader(`{"problem": 1}` + "\n")})
	assert.True(t, errors.As(err, new(*InputError)), "%v", err)
}

func TestGradeSummaryShowsAccuracyAsAProbability(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteGradeSummary(&buf, eval.GradeSummary{Graded: 12, Correct: 8, Reasons: map[string]int{"not equivalent": 2, "no boxed answer": 2}}))
	assert.Equal(t, "graded 12 completions: 8 correct, accuracy 0.667 (Wilson 95% interval 0.391 to 0.862)\n"+
		"wrong: 2 no boxed answer, 2 not equivalent\n", buf.String())
}
