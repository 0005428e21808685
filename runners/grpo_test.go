package runners

import (
	"context"
	"math"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdvantages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rewards []float64
		mode    string
		want    []float64
		ok      bool
	}{
		// Two of four correct: mean 0.5, population std 0.5.
		{"std", []float64{1, 0, 1, 0}, "std", []float64{1, -1, 1, -1}, true},
		{"mean", []float64{1, 0, 1, 0}, "mean", []float64{0.5, -0.5, 0.5, -0.5}, true},
		// One of four: mean 0.25, std √(3)/4.
		{"skewed", []float64{1, 0, 0, 0}, "std", []float64{0.75 / (math.Sqrt(3) / 4), -0.25 / (math.Sqrt(3) / 4), -0.25 / (math.Sqrt(3) / 4), -0.25 / (math.Sqrt(3) / 4)}, true},
		{"all correct", []float64{1, 1, 1, 1}, "std", nil, false},
		{"all wrong", []float64{0, 0, 0}, "mean", nil, false},
		{"empty", nil, "std", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Advantages(tt.rewards, tt.mode, 1e-8)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.ok, HasSignal(tt.rewards, 1e-8), "HasSignal is the rule Advantages applies")
			require.Len(t, got, len(tt.want))
			var sum float64
			for i := range got {
				assert.InDelta(t, tt.want[i], got[i], 1e-12)
				sum += got[i]
			}
			assert.InDelta(t, 0, sum, 1e-12, "advantages are group-relative: they sum to zero")
		})
	}
}

// TestHasSignalAtEpsilon: std_epsilon skips a varied group whose std is
// below it; 0 still skips a group without variance.
func TestHasSignalAtEpsilon(t *testing.T) {
	t.Parallel()
	oneOfFour := []float64{1, 0, 0, 0} // std √3/4 ≈ 0.433
	for _, c := range []struct {
		rewards []float64
		eps     float64
		want    bool
	}{
		{oneOfFour, 0.43, true},
		{oneOfFour, 0.44, false},
		{oneOfFour, 0, true},
		{[]float64{1, 1}, 0, false},
	} {
		assert.Equal(t, c.want, HasSignal(c.rewards, c.eps), "%v at %g", c.rewards, c.eps)
		_, ok := Advantages(c.rewards, "std", c.eps)
		assert.Equal(t, c.want, ok, "%v at %g", c.rewards, c.eps)
	}
}

func TestScheduledLR(t *testing.T) {
	t.Parallel()
	g := spec.GRPO{LR: 1, Warmup: 10, Schedule: "cosine"}
	assert.InDelta(t, 0.1, ScheduledLR(g, 0, 100), 1e-12, "step 0 trains at lr/warmup")
	assert.InDelta(t, 1, ScheduledLR(g, 9, 100), 1e-12, "warm-up ends at the peak")
	assert.InDelta(t, 1, ScheduledLR(g, 10, 100), 1e-12)
	assert.InDelta(t, 0.5, ScheduledLR(g, 55, 100), 1e-12, "cosine is at half its peak half-way")
	prev := math.Inf(1)
	for s := 10; s < 100; s++ {
		lr := ScheduledLR(g, s, 100)
		assert.LessOrEqual(t, lr, prev, "cosine decays monotonically")
		prev = lr
	}
	g.Schedule = "linear"
	assert.InDelta(t, 0.5, ScheduledLR(g, 55, 100), 1e-12)
	g.Schedule = "constant"
	assert.InDelta(t, 1, ScheduledLR(g, 99, 100), 1e-12)
}

func TestBackendsNameWhatIsAvailable(t *testing.T) {
	t.Parallel()
	made := ""
	b := Backends{"b": func(_ context.Context, cfg spec.Runner, _ Options) (Runner, error) {
		made = cfg.Kind
		return nil, nil
	}, "a": nil}
	assert.Equal(t, []string{"a", "b"}, b.Kinds())
	_, err := b.New(context.Background(), spec.Runner{Kind: "no-such-kind"}, Options{})
	assert.ErrorContains(t, err, `runner kind "no-such-kind" is not available (this program serves: [a b])`)
	_, err = b.New(context.Background(), spec.Runner{Kind: "b"}, Options{})
	assert.NoError(t, err)
	assert.Equal(t, "b", made)
}
