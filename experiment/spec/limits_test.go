package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkLimits: each field is in its own range, their product is not,
// and the error names the field to change and the figures.
func TestWorkLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		sets []string
		want string
	}{
		{"an evaluation's samples", "../../experiments/smoke.yaml",
			[]string{"dataset.heldout.generated.size=100000", "eval.samples=4096", "eval.k=[1]"},
			"eval.samples: 4096 samples × 100000 held-out problems is 409600000 samples an evaluation, more than the 16777216"},
		{"eval.problems caps the evaluation", "../../experiments/smoke.yaml",
			[]string{"dataset.heldout.generated.size=100000", "eval.samples=4096", "eval.k=[1]", "eval.problems=1000"}, ""},
		{"bootstrap resamplings", "../../experiments/smoke.yaml",
			[]string{"dataset.heldout.generated.size=100000", "eval.bootstrap=10000000"},
			"eval.bootstrap: 10000000 draws × 100000 held-out problems"},
		{"a run's completions", "../../experiments/smoke.yaml",
			[]string{"train.steps=1000000", "train.groups_per_step=4096", "train.group_size=1024", "dataset.train.generated.size=100000", "train.cooldown=0"},
			"train.steps: 1000000 steps × 4096 groups × 1024 completions"},
		{"a sweep's windows", "../../experiments/zone-sweep.yaml",
			[]string{"sweep.windows=1000000000000"},
			"sweep.windows: 1000000000000 windows × 15 grid points × 9 selectors × 3 seeds"},
		{"the committed sweep", "../../experiments/zone-sweep.yaml", nil, ""},
		{"the main job", "../../experiments/paired.yaml", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.spec, tc.sets...)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestHeldoutLimitOfALoadedSet(t *testing.T) {
	s, err := Load("../../experiments/paired.yaml", "eval.samples=4096", "eval.k=[1]")
	require.NoError(t, err)
	_, why := s.HeldoutLimit(4096)
	assert.Empty(t, why)
	field, why := s.HeldoutLimit(4097)
	assert.Equal(t, "eval.samples", field)
	assert.Contains(t, why, "4096 samples × 4097 held-out problems")
}

// A binary file named as a spec is reported at its first byte that is not
// text, with a line and a column.
func TestNotTextHasALine(t *testing.T) {
	for _, tc := range []struct {
		data string
		want string
	}{
		{"name: x\nseed: 1\n\xff\xfe: 3\n", "spec.yaml:3:1: not UTF-8 text (byte 0xff)"},
		{"name: x\n  a\x00b: 1\n", "spec.yaml:2:4: control character U+0000"},
		{"\x9d\x01", "spec.yaml:1:1: not UTF-8 text (byte 0x9d)"},
	} {
		e, bad := notText("spec.yaml", []byte(tc.data))
		require.True(t, bad, "%q", tc.data)
		assert.Contains(t, e.Error(), tc.want)
	}
	_, bad := notText("spec.yaml", []byte("\ufeffname: x # ünïcode\r\n\tseed: 1\n"))
	assert.False(t, bad)
}
