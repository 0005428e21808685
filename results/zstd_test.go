package results

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pooledCodec(t *testing.T) pooledZstd {
	t.Helper()
	codec, err := compress.GetCodec(compress.Codecs.Zstd)
	require.NoError(t, err)
	z, ok := codec.(pooledZstd)
	require.True(t, ok, "the Zstd codec Parquet uses is %T, not the pooled one", codec)
	return z
}

// zstdInputs are pages of the sizes and kinds a writer compresses: empty,
// tiny, one block, several blocks (history across blocks), random and
// repetitive.
func zstdInputs() [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	var out [][]byte
	for _, n := range []int{0, 1, 100, 4 << 10, 128 << 10, 128<<10 + 1, 300 << 10, 1 << 20} {
		random := make([]byte, n)
		for i := range random {
			random[i] = byte(r.IntN(256))
		}
		repetitive := make([]byte, n)
		for i := range repetitive {
			repetitive[i] = byte(i/7%13) + byte(r.IntN(3))
		}
		out = append(out, random, repetitive)
	}
	return out
}

// TestPooledZstdMatchesArrow compresses pages with reused encoders, every
// size after others in shuffled orders, and compares each frame with the
// one Arrow's own codec (a new encoder per call) gives, at each of the
// four encoder levels.
func TestPooledZstdMatchesArrow(t *testing.T) {
	t.Parallel()
	z := pooledCodec(t)
	inputs := zstdInputs()
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		level, rounds, maxLen int
	}{
		{compress.DefaultCompressionLevel, 3, 1 << 30}, // what the writers use
		{1, 1, 300 << 10},  // SpeedFastest
		{7, 1, 300 << 10},  // SpeedBetterCompression
		{11, 1, 130 << 10}, // SpeedBestCompression
	} {
		for round := 0; round < c.rounds; round++ {
			for _, i := range r.Perm(len(inputs)) {
				src := inputs[i]
				if len(src) > c.maxLen {
					continue
				}
				want := z.Codec.EncodeLevel(nil, src, c.level)
				got := z.EncodeLevel(make([]byte, 0, len(src)), src, c.level)
				require.True(t, bytes.Equal(want, got), "level %d, %d bytes", c.level, len(src))
				assert.Equal(t, src, z.Decode(nil, got)[:len(src):len(src)], "round trip")
			}
		}
	}
}

// TestPooledZstdConcurrent compresses from several goroutines at once, as
// writers of different files do: every frame still matches Arrow's.
func TestPooledZstdConcurrent(t *testing.T) {
	t.Parallel()
	z := pooledCodec(t)
	inputs := zstdInputs()
	want := make([][]byte, len(inputs))
	for i, src := range inputs {
		want[i] = z.Codec.EncodeLevel(nil, src, compress.DefaultCompressionLevel)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(inputs))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range inputs {
				i := (k + g) % len(inputs)
				if !bytes.Equal(want[i], z.EncodeLevel(nil, inputs[i], compress.DefaultCompressionLevel)) {
					errs <- "a frame differs"
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestPooledZstdCorruptFrame: decoding is Arrow's, so a corrupt frame
// fails as it did before the codec was pooled (Arrow's codec has no error
// to return and panics; results.Scan's handling of that is its own).
func TestPooledZstdCorruptFrame(t *testing.T) {
	t.Parallel()
	z := pooledCodec(t)
	frame := z.EncodeLevel(nil, zstdInputs()[13], compress.DefaultCompressionLevel) // 300 KiB, repetitive
	corrupt := append([]byte(nil), frame...)
	for i := len(corrupt) / 2; i < len(corrupt)/2+8; i++ {
		corrupt[i] ^= 0x5a
	}
	decode := func(c compress.Codec) (msg any) {
		defer func() { msg = recover() }()
		c.Decode(nil, corrupt)
		return nil
	}
	arrow, pooled := decode(z.Codec), decode(z)
	require.NotNil(t, arrow, "Arrow's codec accepted a corrupt frame")
	assert.Equal(t, arrow, pooled)
}
