package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateExperiments(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../experiments/*.yaml")
	require.NoError(t, err)
	code, out, errOut := cliRun(t, append([]string{"validate"}, files...)...)
	require.Equal(t, exitOK, code, errOut)
	for _, f := range files {
		assert.Contains(t, out, f+": ok (")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	code, out, errOut := cliRun(t, "validate", "../../experiment/spec/testdata/out-of-range.bad.yml", "../../experiments/smoke.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "smoke.yaml: ok", "a good spec is still reported")
	assert.Contains(t, errOut, "out-of-range.bad.yml:4:15: train.group_size: out of range (got 1; want ≥ 2)")
	assert.Contains(t, errOut, "relix: 1 invalid spec")
}

func TestValidateSetAndPrint(t *testing.T) {
	t.Parallel()
	code, out, errOut := cliRun(t, "validate", "--print", "--set", "train.steps=7", "--set", "eval.k=[1,2]", "../../experiments/smoke.yaml")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "steps: 7\n")
	assert.Contains(t, out, "k: [1, 2]\n")

	code, _, errOut = cliRun(t, "validate", "--set", "train.stpes=7", "../../experiments/smoke.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, `--set train.stpes=7: train.stpes: unknown field "stpes" (did you mean "steps"?)`)
}

// TestValidateNotesASmallPool: a generated pool too small for the run is
// noted, not refused (a sweep can use it), with the figure relix run gives.
func TestValidateNotesASmallPool(t *testing.T) {
	t.Parallel()
	code, out, errOut := cliRun(t, "validate", "--set", "train.steps=1000", "../../experiments/paired.yaml")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "paired.yaml: note: relix run refuses it before any work (relix sweep does not): 4000 training problems cannot supply 8 fresh prompts a step for 1000 steps")
	assert.Contains(t, out, "the pool needs at least 8000")
	_, out, _ = cliRun(t, "validate", "../../experiments/paired.yaml")
	assert.NotContains(t, out, "note:")
}

func TestSchemaIsJSON(t *testing.T) {
	t.Parallel()
	code, out, _ := cliRun(t, "schema")
	require.Equal(t, exitOK, code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "relix experiment spec", doc["title"])
}
