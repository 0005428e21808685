package dataset

// This file is the package's only use of Arrow, so that the Parquet loader
// can move to a package of its own without touching the rest.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// LoadParquet reads a Parquet problem file, one problem per row. Columns must
// be flat (not nested) and hold strings or numbers. Errors name the file and
// the row (1-based).
func LoadParquet(path string, cols Columns) (*Set, error) {
	if err := checkProblemFile(path); err != nil {
		return nil, err
	}
	return loadParquet(path, cols, memory.DefaultAllocator)
}

// loadParquet reads with the given allocator, so tests can check that every
// buffer is released.
func loadParquet(path string, cols Columns, mem memory.Allocator) (set *Set, err error) {
	defer func() {
		if p := recover(); p != nil { // Arrow's codecs panic on some corrupt pages
			set, err = nil, fmt.Errorf("%s is corrupt: %v; replace the file", path, p)
		}
	}()
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, mem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	available := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		available[i] = f.Name
	}
	has := func(n string) bool { return len(schema.FieldIndices(n)) > 0 }

	// Resolve each role to a leaf column of the file.
	var names [4]string
	var leaves []int
	var roles []int
	for i, c := range cols.resolve() {
		name, ok := c.pick(has)
		if !ok {
			if c.optional {
				continue
			}
			return nil, fmt.Errorf("%s: %s", path, c.missing(available))
		}
		leaf := pf.MetaData().Schema.ColumnIndexByName(name)
		if leaf < 0 {
			return nil, fmt.Errorf("%s: column %q is nested; want a flat column of strings or numbers", path, name)
		}
		names[i] = name
		if !slices.Contains(leaves, leaf) {
			leaves = append(leaves, leaf)
		}
		roles = append(roles, i)
	}

	rr, err := fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer rr.Release()
	var (
		problems []Problem
		rows     = map[string]int{}
		row      int
	)
	for rr.Next() {
		rec := rr.Record()
		var cols [4]arrow.Array
		for _, role := range roles {
			col := rec.Column(rec.Schema().FieldIndices(names[role])[0])
			if !textColumn(col.DataType()) {
				return nil, fmt.Errorf("%s: column %q has type %s; want strings or numbers", path, names[role], col.DataType())
			}
			cols[role] = col
		}
		for k := range int(rec.NumRows()) {
			row++
			var values [4]string
			for role, col := range cols {
				if col != nil {
					values[role] = cellText(col, k)
				}
			}
			p, err := rowProblem(values, names)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d: %w", path, row, err)
			}
			if first, dup := rows[p.ID]; dup {
				return nil, fmt.Errorf("%s: row %d: duplicate id %q (first in row %d)%s", path, row, p.ID, first, dupHint(p))
			}
			rows[p.ID] = row
			problems = append(problems, p)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(problems) == 0 {
		return nil, fmt.Errorf("%s: no problems", path)
	}
	return NewSet(filepath.Base(path), problems)
}

// textColumn reports whether a column's cells can be read as text: strings
// and numbers.
func textColumn(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY,
		arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// cellText reads row k of a text column; a null reads as "". Floats are
// written in full ("1000000", not "1e+06"), as JSON numbers are.
func cellText(col arrow.Array, k int) string {
	if col.IsNull(k) {
		return ""
	}
	switch a := col.(type) {
	case *array.Binary:
		return string(a.Value(k))
	case *array.LargeBinary:
		return string(a.Value(k))
	case *array.Float64:
		return strconv.FormatFloat(a.Value(k), 'f', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(k)), 'f', -1, 32)
	}
	return col.ValueStr(k) // strings and integers
}
