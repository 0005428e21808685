package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every line is a JSON object with the table's columns, in order, and
// the values a reader of the Parquet file would see (null for null).
func TestAppendNDJSON(t *testing.T) {
	steps := []Step{{Arm: "market\x00\"x\"", Seed: 3, Step: 1, Loss: math.NaN(), Waste: 0.25, LR: 1e-6}, {Arm: "uniform", Step: 2}}
	out := AppendNDJSON(nil, steps)
	sc := bufio.NewScanner(bytes.NewReader(out))
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	assert.Equal(t, "market\x00\"x\"", lines[0]["arm"])
	assert.Equal(t, 3.0, lines[0]["seed"])
	assert.Nil(t, lines[0]["loss"], "NaN is null")
	assert.Equal(t, 0.25, lines[0]["waste"])
	assert.Equal(t, 1e-6, lines[0]["lr"])
	var names []string
	for _, c := range Schemas()[1].Columns {
		names = append(names, c.Name)
	}
	assert.Len(t, lines[1], len(names), "every column of the steps table")
	for _, n := range names {
		assert.Contains(t, lines[1], n)
	}
}
