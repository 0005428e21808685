package runners

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracle answers by prompt id; batched counts its batched calls.
type oracle struct{ calls int }

func (o *oracle) SuccessProbability(_ context.Context, _ string, p Prompt, _ Sampling, _ string) (float64, error) {
	o.calls++
	if p.ID == "bad" {
		return 0, errors.New("no such prompt")
	}
	return float64(len(p.ID)) / 10, nil
}

type batched struct {
	oracle
	batches int
	short   bool
}

func (b *batched) SuccessProbabilities(ctx context.Context, ck string, ps []Prompt, s Sampling, tr string) ([]float64, error) {
	b.batches++
	out := make([]float64, 0, len(ps))
	for _, p := range ps {
		q, err := b.SuccessProbability(ctx, ck, p, s, tr)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	if b.short {
		out = out[1:]
	}
	return out, nil
}

func TestSuccessProbabilities(t *testing.T) {
	ctx := context.Background()
	ps := []Prompt{{ID: "a"}, {ID: "bbb"}, {ID: "cc"}}
	one := &oracle{}
	qs, err := SuccessProbabilities(ctx, one, "c", ps, Sampling{}, "zero")
	require.NoError(t, err)
	assert.Equal(t, []float64{0.1, 0.3, 0.2}, qs)
	assert.Equal(t, 3, one.calls, "one call per prompt without the batched method")

	b := &batched{}
	again, err := SuccessProbabilities(ctx, b, "c", ps, Sampling{}, "zero")
	require.NoError(t, err)
	assert.Equal(t, qs, again, "the same numbers either way")
	assert.Equal(t, 1, b.batches)

	_, err = SuccessProbabilities(ctx, one, "c", []Prompt{{ID: "bad"}}, Sampling{}, "zero")
	assert.ErrorContains(t, err, "no such prompt")
	_, err = SuccessProbabilities(ctx, &batched{short: true}, "c", ps, Sampling{}, "zero")
	assert.ErrorContains(t, err, "2 success probabilities for 3 prompts")
}
