package proof

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/relix-lab/relix/runners"
)

// holder keeps ids and answers hidden states of held sequences naming
// them, as a runner that keeps what it generated does.
type holder struct {
	ids   map[int][]uint32
	h     HiddenFunc
	calls atomic.Int64
}

func (k *holder) hold(ref int, ids []uint32) Sequence {
	k.ids[ref] = ids
	return HeldSequence(len(ids), runners.TokensDigest(ids), ref)
}

func (k *holder) hidden(ctx context.Context, ck string, s Sequence, pos []int) ([][]float32, error) {
	k.calls.Add(1)
	if !s.Held() {
		return k.h(ctx, ck, s.Tokens, pos)
	}
	return k.h(ctx, ck, k.ids[s.Ref.(int)], pos)
}

func TestTokensDigestIsSHA256OfLittleEndianIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 1023, 1024, 1025, 8192} {
		ids := tokens(r, n)
		var raw []byte
		for _, id := range ids {
			raw = binary.LittleEndian.AppendUint32(raw, id)
		}
		if got, want := runners.TokensDigest(ids), sha256.Sum256(raw); got != want {
			t.Fatalf("%d ids: digest %x, want %x", n, got, want)
		}
	}
}

func TestHeldSequenceChallengesAndChecksAsItsIDs(t *testing.T) {
	// A held sequence draws the positions its ids draw and gets every
	// verdict they get: honest, stale and edited alike.
	ctx := context.Background()
	inner := model(64)
	r := rand.New(rand.NewPCG(21, 22))
	for trial := range 30 {
		w := randomness(trial)
		n := 1 + r.IntN(8192)
		if trial < 3 {
			n = 1 + trial*15 // at most Challenges: every position
		}
		tok := tokens(r, n)
		edited := slices.Clone(tok)
		edited[r.IntN(n)] ^= 1
		k := &holder{ids: map[int][]uint32{}, h: inner}
		held := k.hold(1, tok)
		if held.Len() != n || held.Tokens != nil {
			t.Fatalf("trial %d: a held sequence of %d ids has length %d and ids %v", trial, n, held.Len(), held.Tokens != nil)
		}
		c := NewSequenceChallenge(held, w)
		if want := ChallengePositions(tok, w, Challenges); !slices.Equal(c.Positions(), want) {
			t.Fatalf("trial %d: held positions %v, want %v", trial, c.Positions(), want)
		}
		for _, tc := range []struct {
			name      string
			prover    string
			submitted Sequence
			ids       []uint32 // what submitted names
		}{
			{"honest", "published", held, tok},
			{"stale", "older", held, tok},
			{"edited", "published", k.hold(2, edited), edited},
			{"edited, as ids", "published", TokenSequence(edited), edited},
		} {
			m := NewSequenceMemo(k.hidden)
			got, err := CheckSequence(ctx, m.HiddenSequence, "published", NewSequenceChallenge(tc.submitted, w),
				BindSequenceProver(m.HiddenSequence, tc.prover, held, w), 8)
			want, _ := Verify(ctx, inner, "published", tc.ids, NewProver(inner, tc.prover, tok, w), w, 8)
			if err != nil || got != want {
				t.Fatalf("trial %d, %s: %+v (%v), want %+v", trial, tc.name, got, err, want)
			}
		}
	}
}

func TestMemoSharesHeldSequencesByDigest(t *testing.T) {
	ctx := context.Background()
	tok := tokens(rand.New(rand.NewPCG(5, 6)), 900)
	k := &holder{ids: map[int][]uint32{}, h: model(64)}
	m := NewSequenceMemo(k.hidden)
	pos := ChallengePositions(tok, randomness(2), Challenges)
	for i, c := range []struct {
		name  string
		seq   Sequence
		calls int64
	}{
		{"held", k.hold(1, tok), 1},
		{"the same ids under another reference", k.hold(2, tok), 1},
		{"the same ids, not held", TokenSequence(tok), 2},
		{"other ids", k.hold(3, tok[1:]), 3},
	} {
		if _, err := m.HiddenSequence(ctx, "published", c.seq, pos); err != nil {
			t.Fatal(err)
		}
		if got := k.calls.Load(); got != c.calls {
			t.Fatalf("%d (%s): %d computations, want %d", i, c.name, got, c.calls)
		}
	}
}

func TestHiddenFuncRefusesHeldSequences(t *testing.T) {
	held := HeldSequence(3, [32]byte{1}, "ref")
	if _, err := model(64).OfSequences()(context.Background(), "published", held, []int{0}); !errors.Is(err, ErrHeld) {
		t.Fatalf("error %v, want ErrHeld", err)
	}
}
