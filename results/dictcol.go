package results

import (
	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
)

// dictBuf is a dictionary-encoded string column of the row group being
// buffered: each row's index into the distinct values, numbered in order of
// first appearance. That is the numbering Parquet's dictionary encoder
// gives them, so the indices can be handed over as they are
// (PutDictionary, then WriteDictIndices, as pqarrow writes an Arrow
// dictionary array) instead of Parquet hashing every value again: its
// per-value path boxes each value in an interface (an allocation a value)
// and was a third of the writer's time. Rows repeat their neighbour's value
// more often than not (a group's miner and prompt, a step's checkpoint), so
// the last value is checked before the map.
type dictBuf struct {
	idx   []int32 // one per row (0 for a null)
	uniq  []parquet.ByteArray
	index map[string]int32
	// size is Parquet's DictEncodedSize: Σ (len + 4) over the distinct
	// values, which decides when its encoder falls back to plain.
	size    int
	last    string
	lastIdx int32
	hasLast bool
	offsets []int32 // scratch for the dictionary's Arrow array
	data    []byte
}

func newDictBuf() *dictBuf { return &dictBuf{index: map[string]int32{}} }

func (d *dictBuf) add(v string) {
	if d.hasLast && v == d.last {
		d.idx = append(d.idx, d.lastIdx)
		return
	}
	i, ok := d.index[v]
	if !ok {
		i = int32(len(d.uniq))
		d.index[v] = i
		d.uniq = append(d.uniq, stringBytes(v))
		d.size += len(v) + arrow.Uint32SizeBytes
	}
	d.last, d.lastIdx, d.hasLast = v, i, true
	d.idx = append(d.idx, i)
}

func (d *dictBuf) reset() {
	clear(d.index) // keeps the map's buckets for the next row group
	clear(d.uniq)
	d.idx, d.uniq, d.size = d.idx[:0], d.uniq[:0], 0
	d.last, d.lastIdx, d.hasLast = "", 0, false
}

// dictEncoder is what the dictionary writer needs of Parquet's encoder
// (its type is internal to Arrow).
type dictEncoder interface {
	Encoding() parquet.Encoding
	NumEntries() int
	PutDictionary(arrow.Array) error
}

// writeIndices writes the column through the dictionary path when that
// gives the bytes Parquet's per-value path gives, and reports whether it
// did. Both paths agree as long as the per-value path would neither fall
// back to plain encoding (its dictionary stays under the limit) nor start
// a second data page inside the chunk (the dictionary path updates the
// page statistics once, for the whole chunk).
func (d *dictBuf) writeIndices(cw *file.ByteArrayColumnChunkWriter, b *colBuf) (bool, error) {
	props := cw.Properties()
	enc, ok := cw.CurrentEncoder().(dictEncoder)
	if !ok || enc.Encoding() != parquet.Encodings.PlainDict || enc.NumEntries() != 0 ||
		int64(d.size) >= props.DictionaryPageSizeLimit() ||
		dictPageEstimate(len(d.uniq), len(d.idx)-b.nulls) >= props.DataPageSize() {
		return false, nil
	}
	stats, ok := cw.PageStatistics().(*metadata.ByteArrayStatistics)
	if !ok && cw.PageStatistics() != nil {
		return false, nil
	}
	dict := d.dictionary()
	defer dict.Release()
	if err := enc.PutDictionary(dict); err != nil {
		return true, err
	}
	if stats != nil {
		// What the per-value path's Update calls add up to: the same
		// null count, value count, minimum and maximum (over the distinct
		// values, the same set).
		stats.Update(d.uniq, int64(b.nulls))
		stats.IncNumValues(int64(len(d.idx) - b.nulls - len(d.uniq)))
	}
	var validity *memory.Buffer
	if b.nulls > 0 {
		validity = memory.NewBufferBytes(b.validBits())
	}
	data := array.NewData(arrow.PrimitiveTypes.Int32, len(d.idx),
		[]*memory.Buffer{validity, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.idx))}, nil, b.nulls, 0)
	defer data.Release()
	indices := array.NewInt32Data(data)
	defer indices.Release()
	return true, cw.WriteDictIndices(indices, b.def, nil)
}

// dictionary is the distinct values as an Arrow string array over the
// dictBuf's scratch buffers. Its data buffer ends exactly at the last
// value: PutDictionary reads the last value to the buffer's end.
func (d *dictBuf) dictionary() *array.String {
	d.offsets = append(d.offsets[:0], 0)
	d.data = d.data[:0]
	for _, v := range d.uniq {
		d.data = append(d.data, v...)
		d.offsets = append(d.offsets, int32(len(d.data)))
	}
	data := array.NewData(arrow.BinaryTypes.String, len(d.uniq),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(d.offsets)),
			memory.NewBufferBytes(d.data)}, nil, 0, 0)
	defer data.Release()
	return array.NewStringData(data)
}

// dictPageEstimate is Parquet's dictionary encoder's estimate of its data
// page (dictEncoder.EstimatedDataEncodedSize: RLE of n indices at the
// bit width of the dictionary) once the whole chunk is in it; a page is
// flushed when the estimate reaches the data page size. It only grows as
// values are added, so below the page size at the end means below it all
// along, in both paths.
func dictPageEstimate(entries, n int) int64 {
	width := 0
	switch {
	case entries == 1:
		width = 1
	case entries > 1:
		for e := entries - 1; e > 0; e >>= 1 {
			width++
		}
	}
	runs := (n + 7) / 8
	maxRLE := max(runs+runs*width, runs*(1+(width+7)/8))
	minRLE := max(1+(512*width+7)/8, 5+(width+7)/8) // MaxValuesPerLiteralRun = 512
	return int64(1 + maxRLE + minRLE)
}
