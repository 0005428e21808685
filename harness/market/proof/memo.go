package proof

import (
	"context"
	"slices"
	"sync"
)

// Memo answers as a HiddenFunc does and computes each distinct request
// once: a call with the checkpoint, tokens (compared by value) and positions
// of an earlier successful call, or of states given to Keep, returns those
// states. By the Runner contract the same checkpoint and tokens give the
// same vectors, so this changes no answer. It lets a miner's commitment and
// the validator's check share the hidden states when they are the same
// computation — an honest miner opens the published checkpoint's states of
// the tokens it submitted, exactly what the validator recomputes — while a
// stale miner's checkpoint or a forger's edited tokens miss and are computed
// on their own.
//
// It keeps the callers' slices rather than copies (copying every
// completion's tokens cost 6% of the proofs in the zone sweep): callers
// must not modify the tokens they pass, nor the states returned, while the
// memo is in use (Verify and Prover do neither). It is safe for concurrent
// use; errors are not kept.
type Memo struct {
	h     SequenceHiddenFunc
	mu    sync.Mutex
	calls []memoCall
}

// NewMemo is a memo of h.
func NewMemo(h HiddenFunc) *Memo { return NewSequenceMemo(h.OfSequences()) }

// NewSequenceMemo is a memo of h, which takes sequences held or not. Held
// sequences are the same request when their count and digest are (the
// same ids, so the same states), whatever reference names them.
func NewSequenceMemo(h SequenceHiddenFunc) *Memo { return &Memo{h: h} }

// Keep records states as h's answer to (checkpoint, tokens, positions),
// computed by the caller some other way (several requests at once).
func (m *Memo) Keep(checkpoint string, tokens []uint32, positions []int, states [][]float32) {
	m.keep(checkpoint, TokenSequence(tokens), positions, states)
}

func (m *Memo) keep(checkpoint string, s Sequence, positions []int, states [][]float32) {
	m.mu.Lock()
	m.calls = append(m.calls, memoCall{checkpoint, s, positions, states})
	m.mu.Unlock()
}

type memoCall struct {
	checkpoint string
	seq        Sequence
	positions  []int
	states     [][]float32
}

// Hidden is the memo as a HiddenFunc.
func (m *Memo) Hidden(ctx context.Context, checkpoint string, tokens []uint32, positions []int) ([][]float32, error) {
	return m.HiddenSequence(ctx, checkpoint, TokenSequence(tokens), positions)
}

// HiddenSequence is the memo as a SequenceHiddenFunc.
func (m *Memo) HiddenSequence(ctx context.Context, checkpoint string, seq Sequence, positions []int) ([][]float32, error) {
	if s, ok := m.lookup(checkpoint, seq, positions); ok {
		return s, nil
	}
	states, err := m.h(ctx, checkpoint, seq, positions)
	if err != nil {
		return nil, err
	}
	m.keep(checkpoint, seq, positions, states)
	return states, nil
}

func (m *Memo) lookup(checkpoint string, seq Sequence, positions []int) ([][]float32, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.calls {
		c := &m.calls[i]
		// Cheapest first: the positions differ between completions.
		if c.checkpoint == checkpoint && slices.Equal(c.positions, positions) && same(c.seq, seq) {
			return c.states, true
		}
	}
	return nil, false
}

// sameTokens is slices.Equal, answered at once when both are the same
// slice: a prover bound without a copy (BindProver) asks for the very
// slice the validator verifies, and comparing it with itself id by id was
// most of the memo's cost.
func sameTokens(a, b []uint32) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}
