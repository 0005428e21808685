package spec

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAblationVariants pins experiments/ablation/: each variant is
// paired.yaml with exactly one mechanism off and nothing else changed, so a
// difference in its results is that mechanism's. Whatever paired.yaml
// becomes, a variant that drifts from it (serial-timing repeats the arms,
// because an include replaces a list whole) fails here.
func TestAblationVariants(t *testing.T) {
	t.Parallel()
	off := map[string]func(s *Spec){
		"all-on":         func(*Spec) {},
		"no-reach":       func(s *Spec) { s.Runner.Sim.Reach = nil },
		"no-termination": func(s *Spec) { s.Runner.Sim.Termination = nil },
		"no-sharpen":     func(s *Spec) { s.Runner.Sim.Sharpen = false },
		"one-pool": func(s *Spec) {
			s.Runner.Sim.LevelDifficulty = 0
			s.Dataset.Heldout.Generated.Levels = nil
		},
		"zero-reward": func(s *Spec) { s.Train.Reward.Truncated = "zero" },
		"serial-timing": func(s *Spec) {
			for i := range s.Arms {
				if s.Arms[i].Market != nil {
					s.Arms[i].Market.Timing = TimingSerial
				}
			}
		},
	}
	checkVariants(t, "ablation", off)
}

// checkVariants holds every experiments/DIR/*.yaml to paired.yaml with the
// one change changes names for it: its own name (DIR-variant), output
// directory (results/DIR/variant) and description aside, nothing else may
// differ. The description must be its own, since its results page opens
// with it as the question the run answers.
func checkVariants(t *testing.T, dir string, changes map[string]func(*Spec)) {
	t.Helper()
	files, err := filepath.Glob("../../experiments/" + dir + "/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(changes), "every variant has its expected change here")
	for _, path := range files {
		name := filepath.Base(path)
		name = name[:len(name)-len(filepath.Ext(name))]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			apply, ok := changes[name]
			require.True(t, ok, "no expected change for %s", path)
			want, err := Load("../../experiments/paired.yaml")
			require.NoError(t, err)
			apply(want)
			want.Name, want.Output.Dir = dir+"-"+name, "results/"+dir+"/"+name
			got, err := Load(path)
			require.NoError(t, err)
			assert.NotEmpty(t, got.Description)
			assert.NotEqual(t, want.Description, got.Description, "the variant asks its own question")
			want.Description = got.Description
			assert.Equal(t, want, got)
			assert.Equal(t, want.Hash(), got.Hash())
		})
	}
}

// TestNullRemovesAnIncludedBlock is what the ablation's variants rely on: a
// null in the file on top drops a block or a list an included file set, so
// it takes its default (absent) instead of merging into it.
func TestNullRemovesAnIncludedBlock(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"base.yaml": minimal + "runner:\n  sim: {reach: {step_sd: 0.5}}\n" +
			"dataset:\n  heldout: {generated: {size: 50, levels: [0, 0, 0, 1, 0]}}\n",
		"top.yaml": "include: base.yaml\nrunner: {sim: {reach: null}}\ndataset: {heldout: {generated: {levels: ~}}}\n",
	}
	base, err := Loader{ReadFile: memFS(files)}.Load("base.yaml")
	require.NoError(t, err)
	require.NotNil(t, base.Runner.Sim.Reach)
	require.NotNil(t, base.Dataset.Heldout.Generated.Levels)

	s, err := Loader{ReadFile: memFS(files)}.Load("top.yaml")
	require.NoError(t, err)
	assert.Nil(t, s.Runner.Sim.Reach)
	assert.Nil(t, s.Dataset.Heldout.Generated.Levels)
	assert.Equal(t, 50, s.Dataset.Heldout.Generated.Size, "the rest of the block is still merged")
}
