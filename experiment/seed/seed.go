// Package seed derives every random stream in relix from the experiment seed
// and a path of labels — (seed, arm, step, purpose) — by hashing, never from
// the order in which work happens, so results do not depend on parallelism
// or scheduling.
package seed

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// Derive returns the seed of the stream named by labels under root. Labels
// are strings or integers; Derive(s, "market", 12, "generate") and
// Derive(s, "market", 12, "probe") are independent streams.
func Derive(root uint64, labels ...any) uint64 {
	// The hashed message is built in a buffer on the stack and hashed in one
	// call: a hash.Hash through an interface escaped to the heap, and
	// Derive runs for every group a miner generates.
	var stack [160]byte
	msg := binary.LittleEndian.AppendUint64(stack[:0], root)
	for _, l := range labels {
		// A type tag and a length prefix keep ("ab", "c") apart from ("a", "bc")
		// and the string "1" apart from the integer 1.
		switch v := l.(type) {
		case string:
			msg = binary.LittleEndian.AppendUint64(append(msg, 's'), uint64(len(v)))
			msg = append(msg, v...)
		case int:
			msg = binary.LittleEndian.AppendUint64(append(msg, 'i'), uint64(v))
		case int64:
			msg = binary.LittleEndian.AppendUint64(append(msg, 'i'), uint64(v))
		case uint64:
			msg = binary.LittleEndian.AppendUint64(append(msg, 'u'), v)
		case uint32:
			msg = binary.LittleEndian.AppendUint64(append(msg, 'u'), uint64(v))
		default:
			panic(fmt.Sprintf("seed: label of unsupported type %T", l))
		}
	}
	sum := sha256.Sum256(msg)
	return binary.LittleEndian.Uint64(sum[:])
}

// Stream returns a generator for the stream named by labels under root.
func Stream(root uint64, labels ...any) *rand.Rand {
	s := Derive(root, labels...)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// Mix is SplitMix64's output function, a bijective 64-bit mixer: the cheap
// hash behind the sim's token ids and hidden states, the fake runners' and
// the market's tie-breaks, where a SHA-256 per value would cost too much.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
