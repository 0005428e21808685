package market

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relix-lab/relix/harness/source/sourcetest"
	"github.com/relix-lab/relix/runners"
)

// heldFake is the fake runner keeping the ids of the completions a proof
// replays, as a worker with digests does; gone says which of its
// HiddenHeld calls (numbered from 1) find the ids let go.
type heldFake struct {
	*sourcetest.Fake
	gone func(call int64) bool

	mu         sync.Mutex
	ids        map[int][]uint32
	calls      atomic.Int64
	generated  atomic.Int64 // completions replayed held
	answeredBy atomic.Int64 // HiddenHeld calls answered
}

func newHeldFake(f *sourcetest.Fake, gone func(int64) bool) *heldFake {
	return &heldFake{Fake: f, gone: gone, ids: map[int][]uint32{}}
}

func (h *heldFake) GenerateHeld(ctx context.Context, ck string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, [][]runners.HeldTokens, error) {
	comps, err := h.Generate(ctx, ck, prompts, n, s)
	if err != nil {
		return nil, nil, err
	}
	held := make([][]runners.HeldTokens, len(comps))
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, cs := range comps {
		held[i] = make([]runners.HeldTokens, len(cs))
		for j := range cs {
			ref := len(h.ids) + 1
			h.ids[ref] = cs[j].Tokens
			held[i][j] = runners.HeldTokens{Len: len(cs[j].Tokens), SHA256: runners.TokensDigest(cs[j].Tokens), Ref: ref}
			cs[j].Tokens = nil
			h.generated.Add(1)
		}
	}
	return comps, held, nil
}

func (h *heldFake) HiddenHeld(ctx context.Context, ck string, t runners.HeldTokens, positions []int) ([][]float32, error) {
	if h.gone(h.calls.Add(1)) {
		return nil, runners.ErrTokensGone
	}
	h.mu.Lock()
	ids := h.ids[t.Ref.(int)]
	h.mu.Unlock()
	h.answeredBy.Add(1)
	return h.Hidden(ctx, ck, ids, positions)
}

// fates runs windows of a race with every kind of miner and returns each
// attempt's fate, window by window.
func fates(t *testing.T, r runners.Runner) []string {
	t.Helper()
	tr := sourcetest.Train()
	tr.Reward.Truncated = "grade"
	arm := sourcetest.MarketArm("market", sourcetest.Miners(6, Honest, "history"), sourcetest.Miners(2, Stale, "random"),
		sourcetest.Miners(2, Forger, "history"), sourcetest.Miners(2, Copycat, "random"), sourcetest.Miners(2, Padder, "history"))
	m := newMarket(t, arm, tr, 5, r)
	var out []string
	for step := range 8 {
		published := "ck-3"
		if step < 2 {
			published = "ck-0"
		}
		w, _, err := m.window(context.Background(), step, published)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range w.attempts {
			out = append(out, fmt.Sprintf("%d %s %s", step, a, a.fate))
		}
	}
	return out
}

// Ids held by the runner change no fate: not when every state is
// answered, and not when the runner lets ids go in the middle of proofs
// (which then find their verdicts from the ids).
func TestHeldIDsChangeNoFate(t *testing.T) {
	p := sourcetest.Pool(t)
	want := fates(t, sourcetest.NewFake(p))
	for _, tc := range []struct {
		name string
		gone func(int64) bool
	}{
		{"kept", func(int64) bool { return false }},
		{"every third let go", func(n int64) bool { return n%3 == 0 }},
		{"all let go", func(int64) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHeldFake(sourcetest.NewFake(p), tc.gone)
			if got := fates(t, h); !slices.Equal(got, want) {
				t.Fatalf("fates differ from the runner without held ids:\n%v\nwant\n%v", got, want)
			}
			if h.generated.Load() == 0 {
				t.Fatal("no replay was held")
			}
			if answered := h.answeredBy.Load(); (answered == 0) != (tc.name == "all let go") {
				t.Fatalf("%d held states answered", answered)
			}
		})
	}
}
