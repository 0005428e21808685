package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// A problem file's size is known only once it is read: a pool the run would
// exhaust is refused then, before any step, not at the step it runs out.
func TestRunRefusesAPoolItWouldExhaust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var lines []string
	for i := range 30 {
		lines = append(lines, `{"problem": "What is `+strings.Repeat("1+", i)+`1?", "answer": "`+string(rune('0'+i%10))+`"}`)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "train.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	path := filepath.Join(dir, "pool.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`name: pool
dataset:
  train: {jsonl: {path: train.jsonl}}
  heldout: {generated: {size: 20, seed: 2}}
train: {steps: 5, groups_per_step: 8, cooldown: forever}
arms: [{name: uniform, source: uniform}]
eval: {samples: 2, k: [1]}
`), 0o644))
	s, err := spec.Load(path)
	require.NoError(t, err, "the spec cannot know the file's size")
	out := filepath.Join(dir, "out")
	_, err = Run(context.Background(), s, Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock})
	var pe *ProblemSetError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.EqualError(t, err, "dataset.train: 30 training problems cannot supply 8 fresh prompts a step for 5 steps: each prompt is trained on at most once (cooldown forever), so the pool needs at least 40; use a larger training set, fewer steps or a shorter train.cooldown")
	entries, _ := filepath.Glob(filepath.Join(out, "runs", "*", "*", "*"))
	assert.Empty(t, entries, "no work was done")

	// A finite cooldown needs only the prompts that can cool down at once.
	s.Train.Cooldown = 2
	assert.NoError(t, CheckPool(s, mustLoad(t, s, dir)))
	s.Train.Cooldown = 3
	assert.ErrorContains(t, CheckPool(s, mustLoad(t, s, dir)), "up to 24 prompts cool down at once (cooldown 3), so the pool needs at least 32")
}

func mustLoad(t *testing.T, s *spec.Spec, dir string) *dataset.Set {
	t.Helper()
	sets, err := LoadProblemSets(s, dir)
	require.NoError(t, err)
	return sets.Train
}
