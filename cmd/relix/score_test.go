package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/results"
)

func TestScoreTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"score/one.golden.md", []string{"score", "testdata/score/market.jsonl"}},
		{"score/paired.golden.md", []string{"score", "--k", "1,4", "--paired", "testdata/score/uniform.jsonl", "testdata/score/market.jsonl"}},
		{"score/paired.golden.txt", []string{"score", "--format", "ascii", "--k", "1,4", "--paired", "testdata/score/uniform.jsonl", "testdata/score/market.jsonl"}},
		{"score/paired.golden.json", []string{"score", "--json", "--k", "1,2", "--draws", "2000", "--seed", "9", "--paired", "testdata/score/uniform.jsonl", "testdata/score/market.jsonl"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			code, out, stderr := cliRunWithStdin(t, "", tc.args...)
			require.Equal(t, exitOK, code, stderr)
			golden(t, tc.golden, out)
		})
	}
}

// TestScoreJSONAgreesWithTheLibrary checks the CLI's numbers against a
// direct computation with package eval.
func TestScoreJSONAgreesWithTheLibrary(t *testing.T) {
	t.Parallel()
	code, out, stderr := cliRunWithStdin(t, "", "score", "--json", "--k", "1,4", "--draws", "500", "--paired", "testdata/score/uniform.jsonl", "testdata/score/market.jsonl")
	require.Equal(t, exitOK, code, stderr)
	var got struct {
		Paired []struct {
			Metric string  `json:"metric"`
			Diff   float64 `json:"diff"`
			P      float64 `json:"p"`
		} `json:"paired"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	read := func(path string) eval.Scores {
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		samples, err := eval.ReadSamplesJSONL(f, path)
		require.NoError(t, err)
		s, err := eval.Score(samples, []int{1, 4})
		require.NoError(t, err)
		return s
	}
	want, err := eval.ComparePaired(read("testdata/score/market.jsonl"), read("testdata/score/uniform.jsonl"), 500, 1)
	require.NoError(t, err)
	require.Len(t, got.Paired, len(want))
	for i, c := range want {
		assert.Equal(t, c.Metric, got.Paired[i].Metric)
		assert.Equal(t, c.Paired.Diff, got.Paired[i].Diff)
		assert.Equal(t, c.Paired.P, got.Paired[i].P)
	}
}

// TestScoreReadsParquet scores one arm's rows of relix's eval table and
// expects the numbers it gives for the same samples in JSONL.
func TestScoreReadsParquet(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/score/market.jsonl")
	require.NoError(t, err)
	defer f.Close()
	samples, err := eval.ReadSamplesJSONL(f, "market.jsonl")
	require.NoError(t, err)
	rows := make([]results.Eval, len(samples))
	for i, s := range samples {
		rows[i] = results.Eval{Arm: "market", Seed: 1, Step: 300, Checkpoint: "c300", Problem: s.Problem,
			Sample: int32(s.Sample), Correct: s.Correct, Truncated: s.Truncated, Tokens: 100}
	}
	path := filepath.Join(t.TempDir(), "market.parquet")
	require.NoError(t, results.WriteFile(path, rows, results.Options{}))

	code, fromParquet, stderr := cliRunWithStdin(t, "", "score", "--json", "--k", "1,4", path)
	require.Equal(t, exitOK, code, stderr)
	code, fromJSONL, stderr := cliRunWithStdin(t, "", "score", "--json", "--k", "1,4", "testdata/score/market.jsonl")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, fromJSONL, strings.Replace(fromParquet, path, "testdata/score/market.jsonl", 1))
}

func TestScoreErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad line", []string{"score", "testdata/score/bad.jsonl"}, exitInvalid,
			"relix: testdata/score/bad.jsonl:2: field \"correct\": want true or false, got \"yes\"\n"},
		{"k above the samples", []string{"score", "--k", "8", "testdata/score/market.jsonl"}, exitInvalid,
			"relix: testdata/score/market.jsonl: problem \"p00\" has 4 samples, fewer than k = 8\n"},
		{"not paired", []string{"score", "--paired", "testdata/score/fewer.jsonl", "testdata/score/market.jsonl"}, exitInvalid,
			"relix: testdata/score/market.jsonl against testdata/score/fewer.jsonl: arms are not paired: problem \"p11\" is scored in the first arm only (12 problems against 11)\n"},
		{"missing file", []string{"score", "testdata/score/missing.jsonl"}, exitInvalid,
			"relix: open testdata/score/missing.jsonl: no such file or directory\n"},
		{"missing parquet file", []string{"score", "testdata/score/missing.parquet"}, exitInvalid,
			"relix: open testdata/score/missing.parquet: no such file or directory\n"},
		{"no file", []string{"score"}, exitUsage, "relix: score takes at least one FILE\n"},
		{"bad k", []string{"score", "--k", "1,x", "testdata/score/market.jsonl"}, exitUsage,
			"relix: --k \"1,x\": want positive integers separated by commas, like 1,4\n"},
		{"repeated k", []string{"score", "--k", "1,1", "testdata/score/market.jsonl"}, exitUsage, "relix: --k \"1,1\": 1 appears twice\n"},
		{"bad format", []string{"score", "--format", "html", "testdata/score/market.jsonl"}, exitUsage,
			"relix: --format \"html\": want markdown or ascii\n"},
		{"no draws", []string{"score", "--draws", "0", "testdata/score/market.jsonl"}, exitUsage, "relix: --draws 0: want 1 to 10000000\n"},
		{"too many draws", []string{"score", "--draws", "1000000000000", "testdata/score/market.jsonl"}, exitUsage, "relix: --draws 1000000000000: want 1 to 10000000\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := cliRunWithStdin(t, "", tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.stderr, stderr)
		})
	}
}

func TestScoreFromStdin(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/score/market.jsonl")
	require.NoError(t, err)
	code, out, stderr := cliRunWithStdin(t, string(in), "score", "-")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "| -    |       12 |      48 |")
}
