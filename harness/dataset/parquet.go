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
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// LoadParquet reads a Parquet problem file, one problem per row. Columns must
// be flat (not nested) and hold strings or numbers. Errors name the file and
// the row (1-based).
func LoadParquet(path string, cols Columns) (*Set, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	mem := memory.DefaultAllocator
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
		var cells [4]cellReader
		for _, role := range roles {
			c, err := newCellReader(rec.Column(rec.Schema().FieldIndices(names[role])[0]))
			if err != nil {
				return nil, fmt.Errorf("%s: column %q: %w", path, names[role], err)
			}
			cells[role] = c
		}
		for k := 0; k < int(rec.NumRows()); k++ {
			row++
			var values [4]string
			for role, c := range cells {
				if c != nil {
					values[role] = c(k)
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

// cellReader reads row k of a column as text; a null reads as "".
type cellReader func(k int) string

func newCellReader(col arrow.Array) (cellReader, error) {
	null := func(k int) bool { return col.IsNull(k) }
	switch a := col.(type) {
	case *array.String:
		return func(k int) string { return ifNotNull(null(k), func() string { return a.Value(k) }) }, nil
	case *array.LargeString:
		return func(k int) string { return ifNotNull(null(k), func() string { return a.Value(k) }) }, nil
	case *array.Binary:
		return func(k int) string { return ifNotNull(null(k), func() string { return string(a.Value(k)) }) }, nil
	case *array.Int64:
		return func(k int) string {
			return ifNotNull(null(k), func() string { return strconv.FormatInt(a.Value(k), 10) })
		}, nil
	case *array.Int32:
		return func(k int) string {
			return ifNotNull(null(k), func() string { return strconv.FormatInt(int64(a.Value(k)), 10) })
		}, nil
	case *array.Uint64:
		return func(k int) string {
			return ifNotNull(null(k), func() string { return strconv.FormatUint(a.Value(k), 10) })
		}, nil
	case *array.Float64:
		return func(k int) string {
			return ifNotNull(null(k), func() string { return strconv.FormatFloat(a.Value(k), 'f', -1, 64) })
		}, nil
	case *array.Float32:
		return func(k int) string {
			return ifNotNull(null(k), func() string { return strconv.FormatFloat(float64(a.Value(k)), 'f', -1, 32) })
		}, nil
	}
	return nil, fmt.Errorf("has type %s; want strings or numbers", col.DataType())
}

func ifNotNull(isNull bool, f func() string) string {
	if isNull {
		return ""
	}
	return f()
}
