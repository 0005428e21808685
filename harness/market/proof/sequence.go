package proof

import (
	"context"
	"errors"

	"github.com/relix-lab/relix/runners"
)

// Sequence is a completion's token ids as a proof reads them. Only their
// count and their SHA-256 (4 little-endian bytes an id) enter a
// verification; the ids themselves go only to whatever computes hidden
// states. So a runner that keeps the ids it generated can hand over a held
// sequence instead: the count, the SHA-256 it computed, and its own
// reference to the ids, which a SequenceHiddenFunc takes in their place.
// A held sequence is exactly as binding as its ids: the positions drawn
// from it are those drawn from the ids it names, and the states are
// computed of those ids. What a held sequence trusts is the runner that
// holds it, which the validator already trusts to compute hidden states.
type Sequence struct {
	// Tokens are the ids; nil in a held sequence.
	Tokens []uint32
	// Ref is the holder's reference to the ids of a held sequence.
	Ref any

	n      int
	digest [32]byte
	held   bool
}

// TokenSequence is the sequence of ids.
func TokenSequence(ids []uint32) Sequence { return Sequence{Tokens: ids, n: len(ids)} }

// HeldSequence is a sequence of n ids that the holder names by ref, with
// digest their SHA-256 (4 little-endian bytes an id).
func HeldSequence(n int, digest [32]byte, ref any) Sequence {
	return Sequence{Ref: ref, n: n, digest: digest, held: true}
}

// Len is the number of ids.
func (s Sequence) Len() int { return s.n }

// Held reports whether the ids are held by whoever made the sequence.
func (s Sequence) Held() bool { return s.held }

// Digest is the SHA-256 of the ids, 4 little-endian bytes each: given
// with a held sequence, computed from the ids otherwise.
func (s Sequence) Digest() [32]byte {
	if s.held {
		return s.digest
	}
	return runners.TokensDigest(s.Tokens) // what a runner holding ids computes too
}

// same reports whether a and b are the same ids, as far as can be told
// cheaply: held sequences by count and digest, id sequences by value (at
// once when both are the same slice). A held sequence and an id sequence
// count as different, which costs a memo a computation but no answer.
func same(a, b Sequence) bool {
	switch {
	case a.held && b.held:
		return a.n == b.n && a.digest == b.digest
	case !a.held && !b.held:
		return sameTokens(a.Tokens, b.Tokens)
	}
	return false
}

// SequenceHiddenFunc is HiddenFunc of a sequence, held or not.
type SequenceHiddenFunc func(ctx context.Context, checkpoint string, s Sequence, positions []int) ([][]float32, error)

// ErrHeld is what a HiddenFunc, as a SequenceHiddenFunc, answers for a
// held sequence: it needs the ids.
var ErrHeld = errors.New("proof: a held sequence, but the hidden states are computed from ids")

// OfSequences is h as a SequenceHiddenFunc, for sequences of ids.
func (h HiddenFunc) OfSequences() SequenceHiddenFunc {
	return func(ctx context.Context, checkpoint string, s Sequence, positions []int) ([][]float32, error) {
		if s.held {
			return nil, ErrHeld
		}
		return h(ctx, checkpoint, s.Tokens, positions)
	}
}
