package harness

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/results"
)

func columnDoc(t *testing.T, table, column string) string {
	t.Helper()
	for _, ti := range results.Schemas() {
		for _, c := range ti.Columns {
			if ti.Name == table && c.Name == column {
				return c.Doc
			}
		}
	}
	t.Fatalf("no column %s.%s", table, column)
	return ""
}

// TestDocumentedEnumerations: every value the code can write in an
// enumerated column is in that column's documentation, and every value the
// documentation names is one the code has; a run's files hold only those.
func TestDocumentedEnumerations(t *testing.T) {
	reasonDoc := columnDoc(t, "rollouts", "reason")
	reasons := []string{source.ReasonDiscarded, source.ReasonMissed, source.ReasonInFlight, source.ReasonLate,
		source.ReasonDuplicate, source.ReasonOutranked, source.ReasonCarried}
	for _, r := range reasons {
		assert.Contains(t, reasonDoc, r+" (", "rollouts.reason documents %q with what it means", r)
	}
	for _, check := range source.Checks() {
		assert.Contains(t, reasonDoc, check, "rollouts.reason documents rejected:%s", check)
	}
	assert.Contains(t, reasonDoc, source.RejectedPrefix+"<check>")

	methodDoc := columnDoc(t, "summary", "method")
	for _, m := range Methods() {
		assert.Contains(t, methodDoc, m)
	}
	// and nothing else: the documented list is exactly the constants
	listed := strings.TrimPrefix(methodDoc, "how the interval was computed: ")
	listed = regexp.MustCompile(` \([^)]*\)`).ReplaceAllString(listed, "")
	listed = strings.ReplaceAll(listed, ", or ", ", ")
	assert.ElementsMatch(t, Methods(), strings.Split(listed, ", "))

	poolDoc := columnDoc(t, "problems", "pool")
	for _, p := range results.Pools() {
		assert.Contains(t, poolDoc, p+" (", "problems.pool documents %q with what it means", p)
	}
	assert.Equal(t, []string{string(dataset.Train), string(dataset.HeldOut)}, results.Pools(),
		"the pools are named as the dataset's splits and the manifest's datasets")
	kindDoc := columnDoc(t, "problems", "answer_kind")
	var kinds []string
	for k := dataset.AnswerKind(0); !strings.HasPrefix(k.String(), "AnswerKind("); k++ {
		kinds = append(kinds, k.String())
	}
	listed = strings.TrimPrefix(kindDoc, "the form of the reference answer: ")
	assert.ElementsMatch(t, kinds, strings.Split(strings.ReplaceAll(listed, " or ", ", "), ", "),
		"problems.answer_kind lists exactly the answer kinds")

	// What a run writes: the reference run has every source kind and a
	// forger, so rejections, misses and races all occur.
	referenceRun(t)
	s, path := tiny(t)
	out := filepath.Join(t.TempDir(), "out")
	_, err := runTiny(t, s, path, out, 2, nil)
	require.NoError(t, err)
	rollouts, err := results.Read[results.Rollout](filepath.Join(out, results.RolloutsFile))
	require.NoError(t, err)
	for _, r := range rollouts {
		if r.Reason == "" {
			continue
		}
		if check, ok := strings.CutPrefix(r.Reason, source.RejectedPrefix); ok {
			assert.Contains(t, source.Checks(), check)
			continue
		}
		assert.Contains(t, reasons, r.Reason)
	}
	problems, err := results.Read[results.Problem](filepath.Join(out, results.ProblemsFile))
	require.NoError(t, err)
	for _, p := range problems {
		assert.Contains(t, results.Pools(), p.Pool)
		assert.Contains(t, kinds, p.AnswerKind)
	}
	summary, err := results.Read[results.Summary](filepath.Join(out, results.SummaryFile))
	require.NoError(t, err)
	for _, r := range summary {
		if r.Method != "" {
			assert.True(t, slices.Contains(Methods(), r.Method), "summary.method %q is not documented", r.Method)
		}
	}
}
