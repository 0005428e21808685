package harness

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math"
	"testing"

	"github.com/relix-lab/relix/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marketRollouts is n rows shaped as a market window writes them: groups of
// 8 completions by a few miners, most rejected, arrival times set.
func marketRollouts(n int) []results.Rollout {
	rows := make([]results.Rollout, n)
	reasons := []string{"", "missed", "late", "rejected:proof"}
	for i := range rows {
		g := i / 8
		rows[i] = results.Rollout{
			Arm: "market", Seed: 1, Step: int32(1 + g/50), Window: int64(1 + g/50),
			Checkpoint: fmt.Sprintf("sim-%016x", g/50), Miner: fmt.Sprintf("m%d", g%16),
			Group: int32(g % 50), Prompt: fmt.Sprintf("gen-%05d", (g*7919)%4000), Completion: int32(i % 8),
			Reward: float64(i % 3 / 2), Tokens: int32(1000 + i*37%7000), Truncated: i%5 == 0,
			Accepted: g%6 == 0, Useful: g%12 == 0, Reason: reasons[g%len(reasons)], Arrival: float64(g) * 1.25,
		}
		if rows[i].Accepted {
			rows[i].Reason = ""
		}
	}
	return rows
}

func TestRolloutsRoundTrip(t *testing.T) {
	for name, rows := range map[string][]results.Rollout{
		"none":   nil,
		"market": marketRollouts(200),
		"edges": {
			{Arm: "α", Seed: math.MaxUint64, Step: math.MinInt32, Window: math.MinInt64, Group: math.MaxInt32,
				Completion: -1, Reward: math.Inf(-1), Tokens: math.MaxInt32, Arrival: math.NaN(), Truncated: true},
			{Arm: "", Reward: math.Copysign(0, -1), Arrival: math.Float64frombits(0x7ff8000000000bad), Accepted: true},
		},
	} {
		t.Run(name, func(t *testing.T) {
			data := appendRollouts(nil, rows)
			got, err := decodeRollouts(data, nil)
			require.NoError(t, err)
			require.Len(t, got, len(rows))
			for i := range rows {
				// Floats compared by their bits: NaN payloads and −0 survive.
				w, g := rows[i], got[i]
				assert.Equal(t, math.Float64bits(w.Reward), math.Float64bits(g.Reward), "row %d reward", i)
				assert.Equal(t, math.Float64bits(w.Arrival), math.Float64bits(g.Arrival), "row %d arrival", i)
				w.Reward, w.Arrival, g.Reward, g.Arrival = 0, 0, 0, 0
				assert.Equal(t, w, g, "row %d", i)
			}
			assert.Equal(t, data, appendRollouts(nil, got), "written again, the same bytes")
			reuse := make([]results.Rollout, 1, len(rows)+3)
			again, err := decodeRollouts(data, reuse)
			require.NoError(t, err)
			assert.Equal(t, data, appendRollouts(nil, again), "read into reused memory, the same rows")
			if len(rows) > 0 {
				assert.Same(t, &reuse[0], &again[0], "the memory given is reused")
			}
		})
	}
}

// TestRolloutsReaderIsStrict: every truncation is an error, and so is each
// way of writing a block other than appendRollouts' own.
func TestRolloutsReaderIsStrict(t *testing.T) {
	data := appendRollouts(nil, marketRollouts(16))
	for n := range len(data) {
		_, err := decodeRollouts(data[:n], nil)
		assert.Error(t, err, "truncated to %d bytes", n)
	}
	_, err := decodeRollouts(append(bytes.Clone(data), 0), nil)
	assert.EqualError(t, err, "1 bytes after the rollouts")

	one := appendRollouts(nil, []results.Rollout{{Arm: "a", Prompt: "p"}})
	// one: rows 1, strings 3 ("a", "", "p": arm, checkpoint, prompt), then
	// the row, one byte a field but for the two floats.
	row := 1 + 1 + 2 + 1 + 2
	for name, tc := range map[string]struct {
		edit func(b []byte) []byte
		want string
	}{
		"non-minimal varint": {func(b []byte) []byte {
			return append([]byte{b[0] | 0x80, 0}, b[1:]...)
		}, "a varint is not minimal"},
		"string out of range": {func(b []byte) []byte { b[row] = 9; return b }, "rollout 0: string 9 of 3, where 0 are in use"},
		"unused string": {func(b []byte) []byte {
			b[row+7] = 0 // prompt "p" → "a": "p" unused
			return b
		}, "string 2 is not used"},
		"strings out of order": {func(b []byte) []byte { b[row] = 1; return b }, "rollout 0: string 1 of 3, where 0 are in use"},
		"a string twice":       {func(b []byte) []byte { b[4] = 0; b[6] = 'a'; return b }, `string "a" twice`},
		"bad flags":            {func(b []byte) []byte { b[row+18] = 8; return b }, "rollout 0: flags 0x8"},
		"count past the data": {func(b []byte) []byte {
			return append(binary.AppendUvarint(nil, 1<<40), b[1:]...)
		}, "a count of 1099511627776 in"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeRollouts(tc.edit(bytes.Clone(one)), nil)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	big := appendRollouts(nil, []results.Rollout{{Step: 1}})
	big = append(big[:5], binary.AppendVarint(nil, math.MaxInt32+1)...) // rows, strings, "", arm, seed, then step
	big = append(big, make([]byte, 40)...)
	_, err = decodeRollouts(big, nil)
	assert.ErrorContains(t, err, "2147483648 is out of range")
}

// FuzzDecodeRollouts feeds the rollouts reader arbitrary bytes: it never
// panics, and a block it accepts is exactly what the writer writes for the
// rows it returns.
func FuzzDecodeRollouts(f *testing.F) {
	f.Add(appendRollouts(nil, marketRollouts(9)))
	f.Add(appendRollouts(nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := decodeRollouts(b, nil)
		if err != nil {
			return
		}
		if again := appendRollouts(nil, rows); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes, but its rows are written as %x", b, again)
		}
	})
}

// BenchmarkRollouts writes and reads back 200,000 market-shaped rows, by
// hand and (as journal version 2 did) by gob.
func BenchmarkRollouts(b *testing.B) {
	rows := marketRollouts(200_000)
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeRollouts(appendRollouts(nil, rows), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(rows); err != nil {
				b.Fatal(err)
			}
			var got []results.Rollout
			if err := gob.NewDecoder(&buf).Decode(&got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
