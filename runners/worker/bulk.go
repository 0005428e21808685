package worker

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// elem is the element type of a bulk array: token ids (u32), log-probs
// and hidden states (f32), traces (f64).
type elem interface{ uint32 | float32 | float64 }

func elemSize[T elem]() int {
	var z T
	switch any(z).(type) {
	case uint32, float32:
		return 4
	}
	return 8
}

// encoder writes one message's body. With binary set (FeatureBinary was
// negotiated), bulk arrays go to att, the attachment that follows the
// line, and the JSON holds {"bin":[offset,length]} in their place.
type encoder struct {
	binary bool
	att    []byte
}

// bulk is a numeric array of the protocol as it travels: inline JSON, or
// a reference to length elements at byte offset of the attachment.
type bulk[T elem] struct {
	v      []T
	ref    bool
	off, n int
}

// putBulk returns xs as the encoder sends it; nil for an empty list, which
// is left out as an omitempty slice is.
func putBulk[T elem](e *encoder, xs []T) *bulk[T] {
	if len(xs) == 0 {
		return nil
	}
	if !e.binary {
		return &bulk[T]{v: xs}
	}
	off := len(e.att)
	e.att = appendLE(e.att, xs)
	return &bulk[T]{ref: true, off: off, n: len(xs)}
}

// appendLE appends xs in little-endian order. Non-finite floats are
// written as they are; the JSON lane refuses them, and the receiver's
// checks decide what they mean.
func appendLE[T elem](dst []byte, xs []T) []byte {
	at := len(dst)
	dst = slices.Grow(dst, len(xs)*elemSize[T]())[:at+len(xs)*elemSize[T]()]
	b := dst[at:]
	if littleEndianHost {
		copy(b, asBytes(xs)) // a memmove: the loop below is most of a replay's encoding
		return dst
	}
	switch xs := any(xs).(type) {
	case []uint32:
		for i, x := range xs {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
	case []float32:
		for i, x := range xs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
	case []float64:
		for i, x := range xs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
	}
	return dst
}

// fromLE reads n elements from b, which holds exactly n·size bytes. On a
// little-endian machine, where b is aligned for T, the result is b itself
// seen as []T (capacity n): an attachment is read into memory of its own,
// never reused, so the arrays may keep it, and a replay's ids and a hidden
// batch's states are not copied once more.
func fromLE[T elem](b []byte, n int) []T {
	if littleEndianHost && n > 0 && uintptr(unsafe.Pointer(&b[0]))%unsafe.Alignof(*new(T)) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]T, n)
	if littleEndianHost {
		copy(asBytes(out), b)
		return out
	}
	switch o := any(out).(type) {
	case []uint32:
		for i := range o {
			o[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
	case []float32:
		for i := range o {
			o[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []float64:
		for i := range o {
			o[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return out
}

// littleEndianHost is whether the wire's byte order is the machine's, so
// that an array's memory is already its encoding.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// asBytes is the memory of xs as bytes (no copy).
func asBytes[T elem](xs []T) []byte {
	if len(xs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), len(xs)*elemSize[T]())
}

func (b *bulk[T]) MarshalJSON() ([]byte, error) {
	if b.ref {
		return appendRef(nil, b.off, b.n, 0), nil
	}
	return json.Marshal(b.v)
}

func appendRef(dst []byte, off, n, width int) []byte {
	dst = append(dst, `{"bin":[`...)
	dst = strconv.AppendInt(dst, int64(off), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ']')
	if width > 0 {
		dst = append(dst, `,"width":`...)
		dst = strconv.AppendInt(dst, int64(width), 10)
	}
	return append(dst, '}')
}

// ref is a reference as it is read.
type ref struct {
	Bin   *[2]int `json:"bin"`
	Width int     `json:"width,omitempty"`
}

func readRef(data []byte) (ref, error) {
	var r ref
	if err := json.Unmarshal(data, &r); err != nil {
		return ref{}, err
	}
	switch {
	case r.Bin == nil:
		return ref{}, errors.New(`an object in place of a numeric array must be {"bin":[offset,length]}`)
	case r.Bin[0] < 0 || r.Bin[1] < 0:
		return ref{}, fmt.Errorf("attachment reference [%d,%d]: want a non-negative offset and length", r.Bin[0], r.Bin[1])
	}
	return r, nil
}

func (b *bulk[T]) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		r, err := readRef(data)
		if err != nil {
			return err
		}
		b.ref, b.off, b.n = true, r.Bin[0], r.Bin[1]
		return nil
	}
	return json.Unmarshal(data, &b.v)
}

// get returns the array, read from att when it is a reference.
func (b *bulk[T]) get(att []byte) ([]T, error) {
	if b == nil {
		return nil, nil
	}
	if !b.ref {
		return b.v, nil
	}
	raw, err := slice(att, b.off, b.n, elemSize[T]())
	if err != nil {
		return nil, err
	}
	return fromLE[T](raw, b.n), nil
}

// slice is n elements of size bytes at byte offset off of att.
func slice(att []byte, off, n, size int) ([]byte, error) {
	if off > len(att) || n > (len(att)-off)/size {
		return nil, fmt.Errorf("attachment reference [%d,%d] of %d-byte elements is outside the %d-byte attachment", off, n, size, len(att))
	}
	return att[off : off+n*size], nil
}

// matrix is the hidden states as they travel: a JSON list of vectors, or
// one reference to all of them back to back with their common width.
type matrix struct {
	v          [][]float32
	ref        bool
	off, n, wd int
}

func putMatrix(e *encoder, rows [][]float32) *matrix {
	width := -1
	for _, r := range rows {
		if width >= 0 && len(r) != width {
			width = -1 // ragged: only JSON can say it (and relix's check refuses it)
			break
		}
		width = len(r)
	}
	if !e.binary || width <= 0 {
		return &matrix{v: nonNil(rows)}
	}
	off := len(e.att)
	e.att = slices.Grow(e.att, 4*len(rows)*width)
	for _, r := range rows {
		e.att = appendLE(e.att, r)
	}
	return &matrix{ref: true, off: off, n: len(rows) * width, wd: width}
}

func (m *matrix) MarshalJSON() ([]byte, error) {
	if m.ref {
		return appendRef(nil, m.off, m.n, m.wd), nil
	}
	return json.Marshal(m.v)
}

func (m *matrix) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		r, err := readRef(data)
		if err != nil {
			return err
		}
		if r.Width <= 0 || r.Bin[1]%r.Width != 0 {
			return fmt.Errorf("hidden states: %d numbers in rows of width %d; want a positive width that divides them", r.Bin[1], r.Width)
		}
		m.ref, m.off, m.n, m.wd = true, r.Bin[0], r.Bin[1], r.Width
		return nil
	}
	return json.Unmarshal(data, &m.v)
}

func (m *matrix) get(att []byte) ([][]float32, error) {
	if m == nil {
		return nil, nil
	}
	if !m.ref {
		return m.v, nil
	}
	raw, err := slice(att, m.off, m.n, 4)
	if err != nil {
		return nil, err
	}
	flat := fromLE[float32](raw, m.n)
	rows := make([][]float32, m.n/m.wd)
	for i := range rows {
		rows[i] = flat[i*m.wd : (i+1)*m.wd : (i+1)*m.wd]
	}
	return rows, nil
}

// isJSONNull reports whether a raw value is null.
func isJSONNull(raw []byte) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }
