package proof

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
)

func TestMemo(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int64
	inner := model(64)
	failing := errors.New("no such checkpoint")
	h := func(ctx context.Context, ck string, tok []uint32, pos []int) ([][]float32, error) {
		calls.Add(1)
		if ck == "missing" {
			return nil, failing
		}
		return inner(ctx, ck, tok, pos)
	}
	m := NewMemo(h).Hidden
	tok := tokens(rand.New(rand.NewPCG(9, 9)), 500)
	pos := ChallengePositions(tok, randomness(1), Challenges)
	ask := func(ck string, tok []uint32, pos []int, wantCalls int64) {
		t.Helper()
		got, err := m(ctx, ck, tok, pos)
		want, _ := inner(ctx, ck, tok, pos)
		if err != nil || !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s: states differ from the function's (%v)", ck, err)
		}
		if n := calls.Load(); n != wantCalls {
			t.Fatalf("%s: %d calls of the function, want %d", ck, n, wantCalls)
		}
	}
	ask("published", tok, pos, 1)
	ask("published", slices.Clone(tok), slices.Clone(pos), 1) // the same request: remembered
	ask("older", tok, pos, 2)                                 // another checkpoint
	edited := slices.Clone(tok)
	edited[len(tok)-1]++
	ask("published", edited, pos, 3)               // another token
	ask("published", tok, pos[:3], 4)              // other positions
	ask("published", tok[:len(tok)-1], pos[:3], 5) // a shorter sequence
	// Errors are returned, not remembered.
	for want := int64(6); want <= 7; want++ {
		if _, err := m(ctx, "missing", tok, pos); !errors.Is(err, failing) {
			t.Fatalf("error %v, want %v", err, failing)
		}
		if n := calls.Load(); n != want {
			t.Fatalf("%d calls after a failure, want %d", n, want)
		}
	}
}

func TestVerifyThroughMemo(t *testing.T) {
	// Sharing one memo between the prover and the validator computes an
	// honest completion's states once and changes no verdict: a stale
	// prover or an edited completion is still rejected.
	ctx := context.Background()
	var calls atomic.Int64
	inner := model(64)
	h := func(ctx context.Context, ck string, tok []uint32, pos []int) ([][]float32, error) {
		calls.Add(1)
		return inner(ctx, ck, tok, pos)
	}
	r := rand.New(rand.NewPCG(13, 14))
	for trial := range 20 {
		w := randomness(trial)
		n := 1 + r.IntN(8192)
		tok := tokens(r, n)
		edited := slices.Clone(tok)
		edited[r.IntN(max(1, 3*n/4))]++
		for _, c := range []struct {
			name      string
			prover    string
			submitted []uint32
			ok        bool
			calls     int64
		}{
			{"honest", "published", tok, true, 1},
			{"stale", "older", tok, false, 2},
			{"edited", "published", edited, false, 2},
		} {
			m := NewMemo(h).Hidden
			calls.Store(0)
			res, err := Verify(ctx, m, "published", c.submitted, NewProver(m, c.prover, tok, w), w, 8)
			want, _ := Verify(ctx, inner, "published", c.submitted, NewProver(inner, c.prover, tok, w), w, 8)
			if err != nil || res != want || res.OK != c.ok {
				t.Fatalf("trial %d, %s: %+v (%v), want %+v", trial, c.name, res, err, want)
			}
			if got := calls.Load(); got != c.calls {
				t.Fatalf("trial %d, %s: %d hidden computations, want %d", trial, c.name, got, c.calls)
			}
		}
	}
}
