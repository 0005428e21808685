package runners

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// HeldTokens names a completion's token ids that stay with the runner that
// generated them, so that they need not cross to the harness at all: a
// proof reads only their count and digest, and the runner computes hidden
// states of them by Ref. A runner that offers this says so with its own
// methods (runners/worker's GenerateHeld and HiddenHeld); the contract's
// Generate and Hidden always carry ids.
type HeldTokens struct {
	Len    int      // how many ids
	SHA256 [32]byte // SHA-256 of the ids, 4 little-endian bytes each
	Ref    any      // the runner's own reference to the ids
}

// ErrTokensGone is a runner's answer to hidden states of held ids it let
// go (or lost with a restarted process): ask again with the ids.
var ErrTokensGone = errors.New("the runner no longer holds these token ids")

// TokensDigest is HeldTokens.SHA256 of ids: SHA-256 of the ids, 4
// little-endian bytes each.
func TokensDigest(ids []uint32) [32]byte {
	h := sha256.New()
	var buf [4096]byte // written in chunks: one Write per id costs more than the hashing
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), len(buf)/4)]
		for i, t := range chunk {
			binary.LittleEndian.PutUint32(buf[4*i:], t)
		}
		h.Write(buf[:4*len(chunk)])
		ids = ids[len(chunk):]
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
