package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/relix-lab/relix/results"
)

// A journal entry's rollouts are most of its bytes and, in a market window
// that starts thousands of groups, most of a run's encoding time: gob spent
// about 1.6 µs a row writing and reading them back. They are written by
// hand instead:
//
//	rows       uvarint
//	strings    uvarint, then each as uvarint length and bytes
//	each row   arm, seed, step, window, checkpoint, miner, group, prompt,
//	           completion, reward, tokens, flags, reason, arrival
//
// where a string field is the uvarint index of its value in the strings
// (each distinct value once, in order of first use), an integer a varint
// (seed: uvarint), reward and arrival the float64's bits as 8
// little-endian bytes, and flags one byte: 1 truncated, 2 accepted, 4
// useful. The
// reader is strict: varints minimal, strings distinct and numbered in
// order of first use, integers in their field's range, no flag bits beyond
// those, every string used, nothing left over; so a block it accepts is the one the writer writes for the
// rows it returns.

// minRolloutBytes is the fewest bytes a row takes (one-byte varints and
// indices, two floats).
const minRolloutBytes = 12 + 2*8

// appendRollouts appends the encoding of rows to b.
func appendRollouts(b []byte, rows []results.Rollout) []byte {
	return encodeRollouts(rows).appendTo(b)
}

// rolloutBlock is rows encoded, before the block is assembled: the string
// table goes first but is complete only after the last row, so the rows'
// bytes wait here, and the block's size is known before it is copied
// anywhere (journal entries are allocated once, at their size).
type rolloutBlock struct {
	rows    int
	strings []string
	body    []byte
}

func encodeRollouts(rows []results.Rollout) rolloutBlock {
	var t stringTable
	body := make([]byte, 0, len(rows)*36)
	for i := range rows {
		r := &rows[i]
		body = binary.AppendUvarint(body, t.index(0, r.Arm))
		body = binary.AppendUvarint(body, r.Seed)
		body = binary.AppendVarint(body, int64(r.Step))
		body = binary.AppendVarint(body, r.Window)
		body = binary.AppendUvarint(body, t.index(1, r.Checkpoint))
		body = binary.AppendUvarint(body, t.index(2, r.Miner))
		body = binary.AppendVarint(body, int64(r.Group))
		body = binary.AppendUvarint(body, t.index(3, r.Prompt))
		body = binary.AppendVarint(body, int64(r.Completion))
		body = binary.LittleEndian.AppendUint64(body, math.Float64bits(r.Reward))
		body = binary.AppendVarint(body, int64(r.Tokens))
		var flags byte
		if r.Truncated {
			flags |= flagTruncated
		}
		if r.Accepted {
			flags |= flagAccepted
		}
		if r.Useful {
			flags |= flagUseful
		}
		body = append(body, flags)
		body = binary.AppendUvarint(body, t.index(4, r.Reason))
		body = binary.LittleEndian.AppendUint64(body, math.Float64bits(r.Arrival))
	}
	return rolloutBlock{rows: len(rows), strings: t.values, body: body}
}

// size is the block's length in bytes.
func (blk rolloutBlock) size() int {
	n := uvarintLen(uint64(blk.rows)) + uvarintLen(uint64(len(blk.strings))) + len(blk.body)
	for _, v := range blk.strings {
		n += uvarintLen(uint64(len(v))) + len(v)
	}
	return n
}

func (blk rolloutBlock) appendTo(b []byte) []byte {
	b = slices.Grow(b, blk.size())
	b = binary.AppendUvarint(b, uint64(blk.rows))
	b = binary.AppendUvarint(b, uint64(len(blk.strings)))
	for _, v := range blk.strings {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return append(b, blk.body...)
}

const (
	flagTruncated = 1 << iota
	flagAccepted
	flagUseful
)

// stringTable numbers distinct strings in order of first use. Each field
// remembers its last value: a group's rows share most of theirs, and
// comparing with the last is cheaper than a map lookup.
type stringTable struct {
	values []string
	ids    map[string]uint64
	last   [5]struct {
		s  string
		id uint64
		ok bool
	}
}

func (t *stringTable) index(field int, s string) uint64 {
	l := &t.last[field]
	if l.ok && l.s == s {
		return l.id
	}
	if t.ids == nil {
		t.ids = map[string]uint64{}
	}
	id, ok := t.ids[s]
	if !ok {
		id = uint64(len(t.values))
		t.ids[s] = id
		t.values = append(t.values, s)
	}
	l.s, l.id, l.ok = s, id, true
	return id
}

// decodeRollouts reads a block appendRollouts wrote, the whole of data,
// into reuse's memory when it is large enough.
func decodeRollouts(data []byte, reuse []results.Rollout) ([]results.Rollout, error) {
	d := rolloutDecoder{data: data}
	n := d.count(minRolloutBytes)
	ns := d.count(1)
	strs := make([]string, ns)
	for i := range strs {
		length := d.count(1)
		if d.err == nil {
			strs[i], d.data = string(d.data[:length]), d.data[length:]
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	distinct := make(map[string]bool, ns)
	for _, s := range strs {
		if distinct[s] {
			return nil, fmt.Errorf("string %q twice", s)
		}
		distinct[s] = true
	}
	// The writer numbers strings in order of first use: a row may name
	// any string used before, or the next.
	used := 0
	str := func() string {
		i := d.uvarint()
		switch {
		case d.err != nil:
			return ""
		case i > uint64(used) || i >= uint64(ns):
			d.fail(fmt.Errorf("string %d of %d, where %d are in use", i, ns, used))
			return ""
		case i == uint64(used):
			used++
		}
		return strs[i]
	}
	var rows []results.Rollout
	switch {
	case n > 0 && cap(reuse) >= n:
		rows = reuse[:n]
	case n > 0:
		rows = make([]results.Rollout, n)
	}
	for i := range rows {
		r := &rows[i]
		r.Arm = str()
		r.Seed = d.uvarint()
		r.Step = d.int32()
		r.Window = d.varint()
		r.Checkpoint = str()
		r.Miner = str()
		r.Group = d.int32()
		r.Prompt = str()
		r.Completion = d.int32()
		r.Reward = d.float64()
		r.Tokens = d.int32()
		flags := d.byte()
		if flags&^(flagTruncated|flagAccepted|flagUseful) != 0 {
			d.fail(fmt.Errorf("flags %#x", flags))
		}
		r.Truncated, r.Accepted, r.Useful = flags&flagTruncated != 0, flags&flagAccepted != 0, flags&flagUseful != 0
		r.Reason = str()
		r.Arrival = d.float64()
		if d.err != nil {
			return nil, fmt.Errorf("rollout %d: %w", i, d.err)
		}
	}
	if used < ns {
		return nil, fmt.Errorf("string %d is not used", used)
	}
	if len(d.data) > 0 {
		return nil, fmt.Errorf("%d bytes after the rollouts", len(d.data))
	}
	return rows, nil
}

// rolloutDecoder reads a block's values; after the first error every read
// returns zero and the error stays.
type rolloutDecoder struct {
	data []byte
	err  error
}

var errRolloutsTruncated = errors.New("rollouts truncated")

func (d *rolloutDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *rolloutDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail(errRolloutsTruncated)
		return 0
	}
	if n != uvarintLen(v) {
		d.fail(errors.New("a varint is not minimal"))
		return 0
	}
	d.data = d.data[n:]
	return v
}

// varint is a zigzag varint: uvarint's minimality makes it minimal too.
func (d *rolloutDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *rolloutDecoder) int32() int32 {
	v := d.varint()
	if v != int64(int32(v)) {
		d.fail(fmt.Errorf("%d is out of range", v))
		return 0
	}
	return int32(v)
}

// count is a uvarint count of items of at least unit bytes each, refused
// when the rest of the block cannot hold that many (so that a bad count
// allocates nothing).
func (d *rolloutDecoder) count(unit int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.data)/unit) {
		d.fail(fmt.Errorf("a count of %d in %d bytes", v, len(d.data)))
		return 0
	}
	return int(v)
}

func (d *rolloutDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.data) < 1 {
		d.fail(errRolloutsTruncated)
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

func (d *rolloutDecoder) float64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.data) < 8 {
		d.fail(errRolloutsTruncated)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.data))
	d.data = d.data[8:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
