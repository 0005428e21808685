package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The eval tests run in-process one at a time: urfave/cli's shared flag
// values (cli.HelpFlag) are written by every app run, so concurrent runs race.

// TestEvalPrintsTheBaseRow pins `relix eval experiments/paired.yaml`: the
// calibrated base policy at the reference base row, the same bytes on every
// run.
func TestEvalPrintsTheBaseRow(t *testing.T) {
	code, out, stderr := cliRun(t, "eval", "../../experiments/paired.yaml")
	require.Equal(t, exitOK, code, stderr)
	golden(t, "eval/paired.golden.md", out)
}

func TestEvalJSON(t *testing.T) {
	code, out, stderr := cliRun(t, "eval", "--json", "--set", "eval.problems=40", "../../experiments/paired.yaml")
	require.Equal(t, exitOK, code, stderr)
	var got struct {
		Experiment string `json:"experiment"`
		Problems   int    `json:"problems"`
		Samples    int    `json:"samples"`
		Metrics    []struct {
			Name string   `json:"name"`
			SE   *float64 `json:"se"`
		} `json:"metrics"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, "paired", got.Experiment)
	assert.Equal(t, 40, got.Problems)
	assert.Equal(t, 320, got.Samples)
	names := make([]string, len(got.Metrics))
	for i, m := range got.Metrics {
		names[i] = m.Name
	}
	assert.Equal(t, []string{"pass@1", "pass@2", "pass@4", "pass@8", "truncation"}, names)
	assert.NotNil(t, got.Metrics[0].SE)
}

func TestEvalErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no spec", []string{"eval"}, exitUsage, "want exactly one SPEC"},
		{"arm and checkpoint", []string{"eval", "--arm", "market", "--checkpoint", "x", "../../experiments/paired.yaml"}, exitUsage, "not both"},
		{"invalid spec", []string{"eval", "../../experiment/spec/testdata/unknown-key.bad.yml"}, exitInvalid, "unknown-key.bad.yml"},
		{"no results", []string{"eval", "--arm", "market", "--out", "testdata/eval/no-such-results", "../../experiments/paired.yaml"}, exitInvalid, "run the experiment first"},
		{"no arm", []string{"eval", "--arm", "nope", "../../experiments/paired.yaml"}, exitInvalid, `no arm named "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cliRun(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.msg)
		})
	}
}
