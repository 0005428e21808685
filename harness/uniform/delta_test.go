package uniform

import (
	"bytes"
	"testing"
)

// FuzzDecodeDelta feeds the uniform source's delta reader what a journal
// on disk might hold: it must never panic, and what it accepts encodes back
// to the very bytes read.
func FuzzDecodeDelta(f *testing.F) {
	f.Add(encodeDelta([]int{3, 0, 9}))
	f.Add(encodeDelta(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		used, err := decodeDelta(b, 10)
		if err != nil {
			return
		}
		if again := encodeDelta(used); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes, but encodes back to %x", b, again)
		}
	})
}
