package results

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
)

// colBuf holds one column of the row group a Writer is buffering, already
// in the physical type Parquet stores, and hands it to Parquet's column
// writer exactly as pqarrow's writer hands over an Arrow column (WriteBatch
// without definition levels for a required column, with them for a
// nullable one, WriteBatchSpaced when the row group has nulls). Going
// through Arrow builders and pqarrow instead cost a copy of every value
// into Arrow buffers grown by doubling, a second copy of every string as a
// parquet.ByteArray slice, and a fresh set of buffers per row group; the
// bytes written are the same (testdata/parquet.sha256).
//
// The slices are truncated, not freed, after each row group, so a writer
// allocates them once and its memory stays bounded by one row group.
type colBuf struct {
	i32   []int32
	i64   []int64 // Parquet INT64: int64 columns, and uint64 as its bits
	f64   []float64
	bools []bool
	// bytes alias the rows' strings (no copy): a string is immutable, and
	// the reference keeps it alive until the row group is written.
	bytes []parquet.ByteArray
	// def is nil for a required column (Parquet then writes no levels);
	// for a nullable one, 1 for a value and 0 for a null.
	def   []int16
	nulls int
	valid []byte   // validity bitmap of def, built when there are nulls
	dict  *dictBuf // dictionary-encoded string columns, in place of bytes
}

// str appends a string column's value; a null (null set) takes a slot.
func (b *colBuf) str(v string, null bool) {
	switch {
	case b.dict == nil:
		b.bytes = append(b.bytes, stringBytes(v))
	case null:
		b.dict.idx = append(b.dict.idx, 0)
	default:
		b.dict.add(v)
	}
}

// emptyBytes is the value of an empty string: non-nil, as an Arrow string
// array's empty slice of its data buffer is.
var emptyBytes = []byte{}

func stringBytes(s string) parquet.ByteArray {
	if len(s) == 0 {
		return emptyBytes
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// reserve makes room for n values of an Arrow type (what schema.go
// declares) in all.
func (b *colBuf) reserve(n int, typ arrow.DataType, nullable bool) {
	switch typ.ID() {
	case arrow.INT32:
		b.i32 = slices.Grow(b.i32, n-len(b.i32))
	case arrow.INT64, arrow.UINT64:
		b.i64 = slices.Grow(b.i64, n-len(b.i64))
	case arrow.FLOAT64:
		b.f64 = slices.Grow(b.f64, n-len(b.f64))
	case arrow.BOOL:
		b.bools = slices.Grow(b.bools, n-len(b.bools))
	case arrow.STRING:
		if b.dict != nil {
			b.dict.idx = slices.Grow(b.dict.idx, n-len(b.dict.idx))
		} else {
			b.bytes = slices.Grow(b.bytes, n-len(b.bytes))
		}
	}
	if nullable {
		b.def = slices.Grow(b.def, n-len(b.def))
	}
}

// defined records the definition level of a nullable column's row; a null
// still takes a slot in the values (written spaced).
func (b *colBuf) defined(present bool) {
	if present {
		b.def = append(b.def, 1)
		return
	}
	b.def = append(b.def, 0)
	b.nulls++
}

func (b *colBuf) reset() {
	clear(b.bytes) // drop the references to the rows' strings
	b.i32, b.i64, b.f64, b.bools, b.bytes = b.i32[:0], b.i64[:0], b.f64[:0], b.bools[:0], b.bytes[:0]
	if b.def != nil {
		b.def = b.def[:0]
	}
	b.nulls = 0
	if b.dict != nil {
		b.dict.reset()
	}
}

// validBits builds the validity bitmap of def, padded to 64 bytes as
// Arrow pads its buffers (the bit-run readers load whole words).
func (b *colBuf) validBits() []byte {
	n := (int(bitutil.BytesForBits(int64(len(b.def)))) + 63) &^ 63
	if cap(b.valid) < n {
		b.valid = make([]byte, n)
	}
	b.valid = b.valid[:n]
	clear(b.valid)
	for i, d := range b.def {
		if d != 0 {
			bitutil.SetBit(b.valid, i)
		}
	}
	return b.valid
}

// spellOut turns a dictionary column's indices back into values, for
// Parquet's per-value path.
func (b *colBuf) spellOut() {
	b.bytes = b.bytes[:0]
	for i, k := range b.dict.idx {
		if b.def != nil && b.def[i] == 0 {
			b.bytes = append(b.bytes, emptyBytes)
			continue
		}
		b.bytes = append(b.bytes, b.dict.uniq[k])
	}
}

// writeTo writes the buffered column as the column chunk of cw. Parquet's
// spaced writes report failures by panicking; the caller recovers.
func (b *colBuf) writeTo(cw file.ColumnChunkWriter) error {
	var valid []byte
	if b.nulls > 0 {
		valid = b.validBits()
	}
	switch w := cw.(type) {
	case *file.Int32ColumnChunkWriter:
		return writeBatch(w, b.i32, b.def, valid)
	case *file.Int64ColumnChunkWriter:
		return writeBatch(w, b.i64, b.def, valid)
	case *file.Float64ColumnChunkWriter:
		return writeBatch(w, b.f64, b.def, valid)
	case *file.BooleanColumnChunkWriter:
		return writeBatch(w, b.bools, b.def, valid)
	case *file.ByteArrayColumnChunkWriter:
		if b.dict != nil {
			if done, err := b.dict.writeIndices(w, b); done {
				return err
			}
			b.spellOut()
		}
		return writeBatch(w, b.bytes, b.def, valid)
	}
	return fmt.Errorf("column %s: no writer for Parquet type %s", cw.Descr().Name(), cw.Type())
}

// batchWriter is Parquet's typed column chunk writer.
type batchWriter[T any] interface {
	WriteBatch(values []T, defLevels, repLevels []int16) (int64, error)
	WriteBatchSpaced(values []T, defLevels, repLevels []int16, validBits []byte, validBitsOffset int64)
}

// writeBatch makes the call pqarrow makes for a flat column: WriteBatch
// when the chunk has no nulls, WriteBatchSpaced with the validity bitmap
// when it has.
func writeBatch[T any](w batchWriter[T], values []T, def []int16, valid []byte) error {
	if valid == nil {
		_, err := w.WriteBatch(values, def, nil)
		return err
	}
	w.WriteBatchSpaced(values, def, nil, valid, 0)
	return nil
}
