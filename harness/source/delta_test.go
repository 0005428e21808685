package source

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeltaRoundTrip(t *testing.T) {
	e := NewDelta("test", 3)
	e.Uint(2)
	e.Uint(300)
	e.Float(math.Copysign(0, -1))
	e.Uint(7)
	b := e.Bytes()

	d := ReadDelta(b, "test", 3)
	n := d.Count(1)
	assert.Equal(t, 2, n)
	assert.Equal(t, 300, d.Uint(301))
	f := d.Float()
	assert.True(t, f == 0 && math.Signbit(f), "a float comes back bit for bit")
	assert.Equal(t, 7, d.Uint(8))
	require.NoError(t, d.End())
}

func TestDeltaReaderIsStrict(t *testing.T) {
	valid := NewDelta("test", 1)
	valid.Uint(5)
	for name, c := range map[string]struct {
		b    []byte
		read func(*DeltaDecoder)
		want string
	}{
		"another kind":  {NewDelta("other", 1).Bytes(), nil, `source delta: a delta of a "other" source; want test`},
		"another build": {NewDelta("test", 2).Bytes(), nil, "source delta: version 2 of the test encoding; this build reads version 1"},
		"empty":         {nil, nil, "source delta: truncated"},
		"truncated":     {valid.Bytes()[:2], nil, "source delta: truncated"},
		"left over":     {valid.Bytes(), nil, "source delta: 1 bytes after the end"},
		"out of range":  {valid.Bytes(), func(d *DeltaDecoder) { d.Uint(5) }, "source delta: value 5 out of range (want < 5)"},
		// 5 as two bytes: a second encoding of the same value.
		"not minimal": {append(NewDelta("test", 1).Bytes(), 0x85, 0x00), func(d *DeltaDecoder) { d.Uint(9) }, "source delta: a varint is not minimally encoded"},
		"overflow":    {append(NewDelta("test", 1).Bytes(), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), func(d *DeltaDecoder) { d.Uint(9) }, "source delta: a varint overflows 64 bits"},
		"huge count":  {valid.Bytes(), func(d *DeltaDecoder) { d.Count(1) }, "source delta: truncated"},
		"short float": {valid.Bytes(), func(d *DeltaDecoder) { d.Float() }, "source delta: truncated"},
	} {
		d := ReadDelta(c.b, "test", 1)
		if c.read != nil {
			c.read(d)
		}
		err := d.End()
		if assert.Error(t, err, name) {
			assert.Equal(t, c.want, err.Error(), name)
		}
	}
}
