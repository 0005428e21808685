package results

import (
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname: Arrow v15 has no way to register a codec

	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// Arrow v15's Zstd codec builds a new zstd.Encoder for every page it
// compresses (zstdCodec.EncodeLevel): GOMAXPROCS encoder states of about
// 1 MiB of match tables each, and for a page over one 128 KiB block a
// 16 MiB history buffer, all zeroed, used once and left to the collector.
// Writing 200,000 rollout rows allocated 800 MB that way, and the zeroing
// and the collection it drives were half of the writer's time. Newer
// arrow-go pools its encoders and lets a program register a codec
// (compress.RegisterCodec); v15 has neither, so pooledZstd replaces the
// entry of Arrow's codec table through go:linkname.
//
// The bytes do not change: a reused encoder starts every EncodeAll from a
// fresh frame (no history, no previous Huffman table, the initial repeat
// offsets), with exactly the options Arrow gives a new one;
// testdata/parquet.sha256 pins that.

//go:linkname arrowCodecs github.com/apache/arrow/go/v15/parquet/compress.codecs
var arrowCodecs map[compress.Compression]compress.Codec

// The table is read without a lock by every Parquet reader and writer in
// the process, so it is written once, here: package initialisation runs
// before any goroutine of the program can read it, and after Arrow's own
// init has filled it (this package imports compress).
func init() {
	if arrow, err := compress.GetCodec(compress.Codecs.Zstd); err == nil {
		arrowCodecs[compress.Codecs.Zstd] = pooledZstd{Codec: arrow}
	}
}

// pooledZstd is Arrow's Zstd codec with pooled encoders for EncodeLevel,
// the one call Parquet's page writer makes. Everything else is Arrow's:
// Decode already shares one decoder, and keeps Arrow's behaviour on a
// corrupt frame (a panic: the Codec interface has no error to return, and
// answering with a short buffer would pass unnoticed on a v2 data page).
type pooledZstd struct {
	compress.Codec
}

// zstdEncoders holds idle encoders, one pool per zstd level.
var zstdEncoders [zstd.SpeedBestCompression + 1]encoderPool

// encoderPool keeps one idle encoder for good and any more in a sync.Pool.
// A sync.Pool alone let the one writer's encoder be lost about once a file
// (an item Put on one P is invisible to a Get on another, and two
// collections drop it): a new 17 MiB encoder each time. The spare bounds
// what stays allocated to one encoder per level used; encoders of
// concurrent writers go to the sync.Pool, which the collector may empty.
type encoderPool struct {
	spare atomic.Pointer[zstd.Encoder]
	more  sync.Pool
}

func (p *encoderPool) get() *zstd.Encoder {
	if enc := p.spare.Swap(nil); enc != nil {
		return enc
	}
	enc, _ := p.more.Get().(*zstd.Encoder)
	return enc
}

func (p *encoderPool) put(enc *zstd.Encoder) {
	if !p.spare.CompareAndSwap(nil, enc) {
		p.more.Put(enc)
	}
}

// zstdLevel maps a Parquet compression level to an encoder level exactly
// as Arrow's codec does.
func zstdLevel(level int) zstd.EncoderLevel {
	if level == compress.DefaultCompressionLevel {
		return zstd.SpeedDefault
	}
	return zstd.EncoderLevelFromZstd(level)
}

func (z pooledZstd) EncodeLevel(dst, src []byte, level int) []byte {
	lvl := zstdLevel(level)
	pool := &zstdEncoders[lvl]
	enc := pool.get()
	if enc == nil {
		var err error
		// Arrow's options, plus a concurrency of one: EncodeAll runs on
		// one encoder state, and the default (GOMAXPROCS) would allocate
		// a state per core in every pooled encoder.
		enc, err = zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(lvl),
			zstd.WithEncoderConcurrency(1))
		if err != nil {
			return z.Codec.EncodeLevel(dst, src, level)
		}
	}
	out := enc.EncodeAll(src, dst[:0])
	pool.put(enc)
	return out
}
