package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A source's state changes every step, and a resumed run must rebuild it
// exactly. Serializing the whole state after every step costs more than the
// step itself once a market's estimators hold thousands of memories (decay
// changes every one of them each window), so a source instead hands the
// harness each step's delta: what that step's Next did to its state, which
// Apply redoes. A run's journal keeps every completed step's delta; applied
// in order to a new source they rebuild the state after any step, by the
// very code that built it the first time.
//
// A delta is compact and strictly read: the source's kind (a length-prefixed
// string), the version of its encoding, then its fields as unsigned varints
// and little-endian float64 bits. Every value has exactly one encoding, so a
// delta that decodes re-encodes to the same bytes; a non-minimal varint, an
// index out of range, a count the remaining bytes cannot hold or a trailing
// byte is an error, never a different state. Integrity against a corrupted
// disk is the journal's checksum; these checks keep a delta of another
// source, build or pool from being applied quietly.

// DeltaEncoder builds a delta.
type DeltaEncoder struct{ buf []byte }

// NewDelta starts the delta of a source of kind with its encoding's version.
func NewDelta(kind string, version int) *DeltaEncoder {
	e := &DeltaEncoder{}
	e.Uint(len(kind))
	e.buf = append(e.buf, kind...)
	e.Uint(version)
	return e
}

// Uint appends v ≥ 0: a count, an index or a step.
func (e *DeltaEncoder) Uint(v int) { e.buf = binary.AppendUvarint(e.buf, uint64(v)) }

// Float appends f's bits, so that it decodes to the very same float64.
func (e *DeltaEncoder) Float(f float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// String appends s, length first.
func (e *DeltaEncoder) String(s string) {
	e.Uint(len(s))
	e.buf = append(e.buf, s...)
}

// Bytes is the delta.
func (e *DeltaEncoder) Bytes() []byte { return e.buf }

// DeltaDecoder reads a delta. The first error sticks: later reads return
// zero values, and End reports it.
type DeltaDecoder struct {
	buf []byte
	err error
}

// ReadDelta starts reading b as a delta of a source of kind at version.
func ReadDelta(b []byte, kind string, version int) *DeltaDecoder {
	d := &DeltaDecoder{buf: b}
	n := d.Count(1)
	got := d.take(n)
	if d.err != nil {
		return d
	}
	if string(got) != kind {
		d.err = fmt.Errorf("source delta: a delta of a %q source; want %s", got, kind)
		return d
	}
	if v := d.Uint(math.MaxInt32); d.err == nil && v != version {
		d.err = fmt.Errorf("source delta: version %d of the %s encoding; this build reads version %d", v, kind, version)
	}
	return d
}

var errShortDelta = errors.New("source delta: truncated")

func (d *DeltaDecoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf) {
		d.err = errShortDelta
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

// Uint reads a value below limit.
func (d *DeltaDecoder) Uint(limit int) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	switch {
	case n == 0:
		d.err = errShortDelta
	case n < 0:
		d.err = errors.New("source delta: a varint overflows 64 bits")
	case n != len(binary.AppendUvarint(nil, v)):
		d.err = errors.New("source delta: a varint is not minimally encoded")
	case v >= uint64(limit):
		d.err = fmt.Errorf("source delta: value %d out of range (want < %d)", v, limit)
	}
	if d.err != nil {
		return 0
	}
	d.buf = d.buf[n:]
	return int(v)
}

// Count reads how many elements follow, each at least size bytes long, so
// that no count can make a reader allocate more than the delta could hold.
func (d *DeltaDecoder) Count(size int) int {
	if d.err != nil {
		return 0
	}
	n := d.Uint(math.MaxInt32)
	if d.err == nil && n > len(d.buf)/size {
		d.err = errShortDelta
		return 0
	}
	return n
}

// String reads a string.
func (d *DeltaDecoder) String() string {
	return string(d.take(d.Count(1)))
}

// Float reads a float64's bits.
func (d *DeltaDecoder) Float() float64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// Fail records err (a value the source finds inconsistent) unless an error
// came first.
func (d *DeltaDecoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// End is the first error, or one if bytes are left over.
func (d *DeltaDecoder) End() error {
	if d.err == nil && len(d.buf) > 0 {
		d.err = fmt.Errorf("source delta: %d bytes after the end", len(d.buf))
	}
	return d.err
}
