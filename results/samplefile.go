package results

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/relix-lab/relix/eval"
)

// ReadSamples reads per-sample records from any Parquet file with the
// columns problem (string or integer), sample (integer), correct (bool) and
// finish_reason (string: "stop" or "length") or truncated (bool), either
// optional (without both, truncation is not reported); correct may be an
// integer column of 0 and 1; tokens (integer) is optional and other columns
// are ignored. Files from
// other tools work as well as relix's own eval table. A file that holds the
// samples of more than one arm, seed or checkpoint is an error: scores are
// per arm.
func ReadSamples(path string) ([]eval.Sample, error) {
	groups, err := ReadSampleGroups(path, nil)
	if err != nil {
		return nil, err
	}
	return groups[0].Samples, nil
}

// SampleGroup is the samples of one value of the --by columns.
type SampleGroup struct {
	Label   string // "arm=market,step=300"; "" without by
	Samples []eval.Sample
}

// ReadSampleGroups is ReadSamples of a file that holds several arms,
// seeds, checkpoints or steps: the samples are split by the values of the
// columns named in by (arm, seed, checkpoint, step), in order of first
// appearance, and every other of those columns must hold one value within
// a group.
func ReadSampleGroups(path string, by []string) ([]SampleGroup, error) {
	tbl, err := readParquetTable(path)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	groups, err := sampleFileGroups(tbl, by)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return groups, nil
}

// readParquetTable reads a whole Parquet file; the caller releases it.
// It reads record by record on the calling goroutine (pqarrow.ReadTable
// decodes columns on goroutines of its own), so that a codec's panic on a
// corrupt page is recovered here and said as ErrCorrupt.
func readParquetTable(path string) (tbl arrow.Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			tbl, err = nil, Corrupt(path, fmt.Errorf("%v", p))
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mem := memory.DefaultAllocator
	pf, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024}, mem)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
	}
	defer rr.Release()
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for rr.Next() {
		rec := rr.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, Corrupt(path, err)
	}
	return array.NewTableFromRecords(rr.Schema(), recs), nil
}

// groupingColumns are the columns that tell one scored set from another.
var groupingColumns = []string{"arm", "seed", "checkpoint", "step"}

func sampleFileGroups(tbl arrow.Table, by []string) ([]SampleGroup, error) {
	samples, err := sampleFileRows(tbl)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(samples))
	for _, name := range by {
		if !slices.Contains(groupingColumns, name) {
			return nil, fmt.Errorf("--by %s: want some of %v", name, groupingColumns)
		}
		values, err := sampleFileColumn(tbl, name, true, sampleFileStrings)
		if err != nil {
			return nil, err
		}
		for i, v := range values {
			if keys[i] != "" {
				keys[i] += ","
			}
			keys[i] += name + "=" + v
		}
	}
	var groups []SampleGroup
	index := map[string]int{}
	rows := map[string][]int{}
	for i, k := range keys {
		g, ok := index[k]
		if !ok {
			g = len(groups)
			index[k] = g
			groups = append(groups, SampleGroup{Label: k})
		}
		groups[g].Samples = append(groups[g].Samples, samples[i])
		rows[k] = append(rows[k], i)
	}
	for _, name := range groupingColumns {
		if slices.Contains(by, name) {
			continue
		}
		for _, g := range groups {
			if err := sampleFileSingleValued(tbl, name, rows[g.Label], g.Label); err != nil {
				return nil, err
			}
		}
	}
	return groups, nil
}

func sampleFileRows(tbl arrow.Table) ([]eval.Sample, error) {
	problems, err := sampleFileColumn(tbl, "problem", true, sampleFileStrings)
	if err != nil {
		return nil, err
	}
	indices, err := sampleFileColumn(tbl, "sample", true, sampleFileInts)
	if err != nil {
		return nil, err
	}
	correct, err := sampleFileColumn(tbl, "correct", true, sampleFileBools)
	if err != nil {
		return nil, err
	}
	tokens, err := sampleFileColumn(tbl, "tokens", false, sampleFileInts)
	if err != nil {
		return nil, err
	}
	truncated, err := sampleFileTruncation(tbl)
	if err != nil {
		return nil, err
	}
	samples := make([]eval.Sample, tbl.NumRows())
	for i := range samples {
		if indices[i] < 0 || indices[i] > int64(^uint32(0)>>1) {
			return nil, fmt.Errorf("row %d: column \"sample\": %d is not a sample index", i+1, indices[i])
		}
		samples[i] = eval.Sample{Problem: problems[i], Sample: int(indices[i]), Correct: correct[i], FinishUnknown: truncated == nil}
		if truncated != nil {
			samples[i].Truncated = truncated[i]
		}
		if tokens != nil {
			samples[i].Tokens = int(tokens[i])
		}
	}
	return samples, nil
}

// sampleFileTruncation reads truncated, or derives it from finish_reason.
func sampleFileTruncation(tbl arrow.Table) ([]bool, error) {
	if len(tbl.Schema().FieldIndices("truncated")) > 0 {
		return sampleFileColumn(tbl, "truncated", true, sampleFileBools)
	}
	reasons, err := sampleFileColumn(tbl, "finish_reason", false, sampleFileStrings)
	if err != nil {
		return nil, err
	}
	if reasons == nil {
		return nil, nil // unknown: no truncation is reported
	}
	truncated := make([]bool, len(reasons))
	for i, r := range reasons {
		if truncated[i], err = eval.ParseFinishReason(r); err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return truncated, nil
}

// sampleFileSingleValued checks that an optional grouping column holds one
// value at most in the rows of a group.
func sampleFileSingleValued(tbl arrow.Table, name string, rows []int, group string) error {
	values, err := sampleFileColumn(tbl, name, false, sampleFileStrings)
	if err != nil || values == nil {
		return nil // absent or of a type that does not group: not ours to judge
	}
	seen := map[string]bool{}
	for _, i := range rows {
		seen[values[i]] = true
	}
	if len(seen) <= 1 {
		return nil
	}
	distinct := make([]string, 0, len(seen))
	for v := range seen {
		distinct = append(distinct, strconv.Quote(v))
	}
	sort.Strings(distinct)
	if len(distinct) > 3 {
		distinct = append(distinct[:3], "...")
	}
	where := ""
	if group != "" {
		where = " within " + group
	}
	return fmt.Errorf("column %q holds %d values%s (%v): score reads the samples of one arm, seed and checkpoint per file (--by %s splits them)",
		name, len(seen), where, distinct, name)
}

// sampleFileColumn flattens the column name with read; a missing column is
// an error when required and nil otherwise.
func sampleFileColumn[T any](tbl arrow.Table, name string, required bool, read func(arrow.Array, []T) ([]T, error)) ([]T, error) {
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) == 0 {
		if required {
			return nil, fmt.Errorf("no column %q", name)
		}
		return nil, nil
	}
	out := make([]T, 0, tbl.NumRows())
	var err error
	for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
		if n := chunk.NullN(); n > 0 {
			for i := 0; i < chunk.Len(); i++ {
				if chunk.IsNull(i) {
					return nil, fmt.Errorf("column %q: row %d is null", name, len(out)+i+1)
				}
			}
		}
		if out, err = read(chunk, out); err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
	}
	if int64(len(out)) != tbl.NumRows() {
		return nil, fmt.Errorf("%w: column %q holds %d values for %d rows", ErrCorrupt, name, len(out), tbl.NumRows())
	}
	return out, nil
}

func sampleFileStrings(a arrow.Array, out []string) ([]string, error) {
	switch a := a.(type) {
	case *array.String:
		for i := 0; i < a.Len(); i++ {
			out = append(out, a.Value(i))
		}
	case *array.LargeString:
		for i := 0; i < a.Len(); i++ {
			out = append(out, a.Value(i))
		}
	case *array.Dictionary:
		dict, err := sampleFileStrings(a.Dictionary(), nil)
		if err != nil {
			return nil, err
		}
		for i := 0; i < a.Len(); i++ {
			out = append(out, dict[a.GetValueIndex(i)])
		}
	default:
		ints, err := sampleFileInts(a, nil)
		if err != nil {
			return nil, fmt.Errorf("type %s: want a string or an integer", a.DataType())
		}
		for _, v := range ints {
			out = append(out, strconv.FormatInt(v, 10))
		}
	}
	return out, nil
}

func sampleFileInts(a arrow.Array, out []int64) ([]int64, error) {
	n := a.Len()
	switch a := a.(type) {
	case *array.Int8:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Int16:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Int32:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Int64:
		for i := 0; i < n; i++ {
			out = append(out, a.Value(i))
		}
	case *array.Uint8:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Uint16:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Uint32:
		for i := 0; i < n; i++ {
			out = append(out, int64(a.Value(i)))
		}
	case *array.Uint64:
		for i := 0; i < n; i++ {
			v := a.Value(i)
			if v > 1<<63-1 {
				return nil, fmt.Errorf("value %d out of range", v)
			}
			out = append(out, int64(v))
		}
	default:
		return nil, fmt.Errorf("type %s: want an integer", a.DataType())
	}
	return out, nil
}

func sampleFileBools(a arrow.Array, out []bool) ([]bool, error) {
	b, ok := a.(*array.Boolean)
	if !ok {
		// 0 and 1 are how many tools write a verdict.
		ints, err := sampleFileInts(a, nil)
		if err != nil {
			return nil, fmt.Errorf("type %s: want a bool (or 0 and 1)", a.DataType())
		}
		for _, v := range ints {
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("value %d: want a bool (or 0 and 1)", v)
			}
			out = append(out, v == 1)
		}
		return out, nil
	}
	for i := 0; i < b.Len(); i++ {
		out = append(out, b.Value(i))
	}
	return out, nil
}
