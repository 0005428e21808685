package harness

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
)

// TestEvalKeepsTextOnlyWhenAsked: with eval.keep_text every held-out sample
// has its completion's text (the sim's holds the boxed answer the grader
// read), without it the column is null; the text changes no other value.
func TestEvalKeepsTextOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	_, path := tiny(t)
	evals := map[bool][]results.Eval{}
	for _, keep := range []bool{false, true} {
		var sets []string
		if keep {
			sets = []string{"eval.keep_text=true"}
		}
		s, err := spec.Load(path, append(sets, "seeds=[5]")...)
		require.NoError(t, err)
		out := filepath.Join(t.TempDir(), "out")
		_, err = runTiny(t, s, path, out, 2, nil)
		require.NoError(t, err)
		evals[keep], err = results.Read[results.Eval](filepath.Join(out, results.EvalFile))
		require.NoError(t, err)
	}
	require.NotEmpty(t, evals[false])
	require.Len(t, evals[true], len(evals[false]))
	for i, kept := range evals[true] {
		without := evals[false][i]
		assert.Empty(t, without.Text, "no text unless asked")
		require.NotEmpty(t, kept.Text, "row %d keeps its text", i)
		if kept.Answer != "" {
			assert.True(t, strings.Contains(kept.Text, `\boxed{`+kept.Answer+`}`), "the text holds the answer the grader extracted: %q, %q", kept.Text, kept.Answer)
		}
		kept.Text = ""
		assert.Equal(t, without, kept, "row %d", i)
	}
}
