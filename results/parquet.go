package results

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// DefaultRowGroupRows is the number of rows a writer buffers before it
// flushes them as one row group: it bounds a writer's memory.
const DefaultRowGroupRows = 64 * 1024

// ErrSchemaVersion is returned (wrapped) when a file was written with
// another schema version than this relix reads.
var ErrSchemaVersion = errors.New("unsupported schema version")

// Options configure a table writer.
type Options struct {
	// SpecHash is the hash of the resolved spec, stored in the file's
	// key-value metadata under relix.spec_hash.
	SpecHash string
	// RowGroupRows is the number of rows per row group (DefaultRowGroupRows
	// when zero).
	RowGroupRows int
	// Allocator for Arrow buffers (the Go allocator when nil); tests pass a
	// checked allocator.
	Allocator memory.Allocator
}

// Writer streams rows of one table into a Parquet file. Rows are buffered
// column by column (colBuf) and flushed as a row group every RowGroupRows
// rows, so memory stays bounded however many rows are written. The file appears
// under its final name only at Commit; until then it is a temporary file in
// the same directory, which Abort (or RemoveTemp after a crash) deletes.
// A Writer is not safe for concurrent use.
type Writer[R Row] struct {
	t       *table[R]
	out     *atomicFile
	buf     *bufio.Writer
	fw      *file.Writer
	cols    []colBuf // one per column, reused by every row group
	perRG   int
	pending int
	rows    int64
	err     error
	closed  bool
}

// Create starts writing the table of row type R to path, for example
//
//	w, err := results.Create[results.Rollout](layout.Rollouts(), results.Options{SpecHash: h})
func Create[R Row](path string, opts Options) (*Writer[R], error) {
	t := tableFor[R]()
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	perRG := opts.RowGroupRows
	if perRG <= 0 {
		perRG = DefaultRowGroupRows
	}
	props := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCreatedBy(createdBy),
		parquet.WithVersion(parquet.V2_6),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(int64(perRG)),
		parquet.WithStats(true),
	}
	for _, c := range t.cols {
		if c.flags&dict != 0 {
			props = append(props, parquet.WithDictionaryFor(c.name, true))
		}
	}
	out, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[R]{t: t, out: out, buf: bufio.NewWriterSize(out, 1<<20), perRG: perRG,
		cols: make([]colBuf, len(t.cols))}
	for c, col := range t.cols {
		if col.flags&dict != 0 {
			w.cols[c].dict = newDictBuf()
		}
	}
	// The Parquet schema is the one pqarrow derives from the Arrow schema
	// (what the readers check), and the file writer is set up as pqarrow's
	// own FileWriter sets it up, so the files are the same byte for byte.
	wprops := parquet.NewWriterProperties(props...)
	pqschema, err := pqarrow.ToParquet(t.schema(), wprops, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		_ = out.abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The bufio.Writer hides the file's Close from the Parquet writer, which
	// would otherwise close the file before it can be synced.
	w.fw = file.NewParquetWriter(w.buf, pqschema.Root(), file.WithWriterProps(wprops),
		file.WithWriteMetadata(make(metadata.KeyValueMetadata, 0)))
	for _, kv := range [][2]string{
		{metaTable, t.name},
		{metaSchemaVersion, strconv.Itoa(SchemaVersion)},
		{metaSpecHash, opts.SpecHash},
	} {
		if err := w.fw.AppendKeyValueMetadata(kv[0], kv[1]); err != nil {
			_ = out.abort()
			return nil, err
		}
	}
	return w, nil
}

// Path is the file's final name.
func (w *Writer[R]) Path() string { return w.out.final }

// Rows is the number of rows written so far.
func (w *Writer[R]) Rows() int64 { return w.rows }

// Write appends rows.
func (w *Writer[R]) Write(rows ...R) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("%s: write after commit or abort", w.out.final)
	}
	w.reserve(len(rows))
	for len(rows) > 0 {
		n := min(len(rows), w.perRG-w.pending, putBlock)
		for c := range w.cols {
			w.t.cols[c].put(&w.cols[c], rows[:n])
		}
		rows = rows[n:]
		w.pending += n
		w.rows += int64(n)
		if w.pending == w.perRG {
			if err := w.flush(); err != nil {
				return err
			}
			w.reserve(len(rows))
		}
	}
	return nil
}

// putBlock is how many rows Write converts a column at a time: a few
// hundred rows (tens of KiB) stay in the CPU's cache while every column
// reads them.
const putBlock = 256

// reserve sizes the column buffers for n more rows (at most a row group)
// at once, rather than by doubling: a bulk write, the usual case, then
// allocates each buffer once.
func (w *Writer[R]) reserve(n int) {
	n = min(w.pending+n, w.perRG)
	for c := range w.cols {
		w.cols[c].reserve(n, w.t.cols[c].typ, w.t.cols[c].flags&nullable != 0)
	}
}

func (w *Writer[R]) flush() error {
	if w.pending == 0 {
		return nil
	}
	w.pending = 0
	err := w.writeRowGroup()
	for c := range w.cols {
		w.cols[c].reset()
	}
	if err != nil {
		w.err = fmt.Errorf("%s: %w", w.out.final, err)
		return w.err
	}
	return nil
}

// writeRowGroup writes the buffered rows as one row group. Parquet's
// column writers report some failures by panicking (pqarrow let those
// through); they become the writer's error.
func (w *Writer[R]) writeRowGroup() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parquet: %v", r)
		}
	}()
	rgw := w.fw.AppendRowGroup()
	for c := range w.cols {
		cw, err := rgw.NextColumn()
		if err != nil {
			return err
		}
		if err := w.cols[c].writeTo(cw); err != nil {
			return err
		}
	}
	return rgw.Close()
}

// Commit flushes the last row group, writes the footer, syncs the file and
// renames it to its final name.
func (w *Writer[R]) Commit() error {
	if w.closed {
		return fmt.Errorf("%s: already committed or aborted", w.out.final)
	}
	if w.err != nil {
		// A row group failed: what the file holds is not a table.
		_ = w.Abort()
		return w.err
	}
	err := w.flush()
	if cerr := w.close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: %w", w.out.final, cerr)
	}
	if err == nil {
		err = w.buf.Flush()
	}
	if err != nil {
		_ = w.out.abort()
		return err
	}
	return w.out.commit()
}

// Abort discards everything written: no file appears under the final name.
// It is a no-op after Commit, so `defer w.Abort()` is the usual pattern.
func (w *Writer[R]) Abort() error {
	if !w.closed {
		_ = w.close()
	}
	return w.out.abort()
}

// close writes the footer into the buffer.
func (w *Writer[R]) close() (err error) {
	w.closed = true
	w.cols = nil
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parquet: %v", r)
		}
	}()
	return w.fw.Close()
}

// WriteFile writes rows as a complete table file in one call.
func WriteFile[R Row](path string, rows []R, opts Options) error {
	w, err := Create[R](path, opts)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := w.Write(rows...); err != nil {
		return err
	}
	return w.Commit()
}

// FileInfo is what a table file says about itself in its metadata.
type FileInfo struct {
	Table         string
	SchemaVersion int
	SpecHash      string
	Rows          int64
	RowGroups     int
	CreatedBy     string
}

// ReadOptions configure a table reader.
type ReadOptions struct {
	// Allocator for Arrow buffers (the Go allocator when nil).
	Allocator memory.Allocator
	// BatchRows is the number of rows decoded at a time (64Ki when zero).
	BatchRows int
}

// Inspect reads a table file's metadata and checks that it is the table of
// row type R in a schema version this relix reads.
func Inspect[R Row](path string) (fi FileInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Corrupt(path, fmt.Errorf("%v", p))
		}
	}()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return FileInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	return check(tableFor[R](), path, pf)
}

func check[R any](t *table[R], path string, pf *file.Reader) (FileInfo, error) {
	md := pf.MetaData()
	kv := md.KeyValueMetadata()
	get := func(k string) string {
		if v := kv.FindValue(k); v != nil {
			return *v
		}
		return ""
	}
	fi := FileInfo{Table: get(metaTable), SpecHash: get(metaSpecHash), Rows: md.NumRows,
		RowGroups: pf.NumRowGroups(), CreatedBy: md.GetCreatedBy()}
	if fi.Table != t.name {
		return fi, fmt.Errorf("%s: not a relix %s table (its %s metadata is %q)", path, t.name, metaTable, fi.Table)
	}
	v, err := strconv.Atoi(get(metaSchemaVersion))
	if err != nil {
		return fi, fmt.Errorf("%s: %w: %s is %q, want %d", path, ErrSchemaVersion, metaSchemaVersion, get(metaSchemaVersion), SchemaVersion)
	}
	fi.SchemaVersion = v
	if v < OldestSchemaVersion || v > SchemaVersion {
		return fi, fmt.Errorf("%s: %w %d: this relix reads %s tables of schema versions %d to %d; regenerate the file with this relix, or read it with the relix that wrote it",
			path, ErrSchemaVersion, v, t.name, OldestSchemaVersion, SchemaVersion)
	}
	return fi, nil
}

// Scan reads a table file batch by batch and calls fn with each row, in
// file order. Memory is bounded by one batch.
//
// A file of an older schema version (from OldestSchemaVersion on) is read
// as well: the columns added since are left at their zero value (null) or,
// where the table can derive them from the rows, filled in (rollouts'
// useful); fi.SchemaVersion says which version the file has.
//
// A file that fails to decode — Arrow's codecs panic on some corrupt pages
// — is an ErrCorrupt error naming it, never a crash; a panic inside fn is
// fn's own and goes on.
func Scan[R Row](path string, opts ReadOptions, fn func(R) error) (fi FileInfo, err error) {
	inFn := false
	defer func() {
		if p := recover(); p != nil {
			if inFn {
				panic(p)
			}
			err = Corrupt(path, fmt.Errorf("%v", p))
		}
	}()
	t := tableFor[R]()
	mem := opts.Allocator
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	batch := opts.BatchRows
	if batch <= 0 {
		batch = 64 * 1024
	}
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return FileInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	if fi, err = check(t, path, pf); err != nil {
		return fi, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batch)}, mem)
	if err != nil {
		return fi, fmt.Errorf("%s: %w", path, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		return fi, fmt.Errorf("%s: %w", path, err)
	}
	present, err := sameColumns(t, schema, fi.SchemaVersion)
	if err != nil {
		return fi, fmt.Errorf("%s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return fi, fmt.Errorf("%s: %w", path, err)
	}
	defer rr.Release()
	emit := func(r R) error {
		inFn = true
		err := fn(r)
		inFn = false
		return err
	}
	flush := func() error { return nil }
	if t.upgrade != nil {
		emit, flush = t.upgrade(fi.SchemaVersion, emit)
	}
	for rr.Next() {
		rec := rr.Record()
		cols := rec.Columns()
		n := int(rec.NumRows())
		for i := 0; i < n; i++ {
			var r R
			for c, col := range present {
				col.get(cols[c], i, &r)
			}
			if err := emit(r); err != nil {
				return fi, err
			}
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fi, Corrupt(path, err)
	}
	if err := flush(); err != nil {
		return fi, err
	}
	return fi, nil
}

// ErrCorrupt marks a file that does not decode.
var ErrCorrupt = errors.New("corrupt")

// Corrupt is the error of a file that does not decode: what to do about it
// is part of the message.
func Corrupt(path string, cause error) error {
	return fmt.Errorf("%s is %w: %v; rerun with --force or delete it", path, ErrCorrupt, cause)
}

// Read reads a whole table file. Use Scan for large tables.
func Read[R Row](path string) ([]R, error) {
	var rows []R
	_, err := Scan(path, ReadOptions{}, func(r R) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

// sameColumns checks that a file of schema version v has the columns the
// table had in that version, in order, and returns them: the file's
// columns one for one.
func sameColumns[R any](t *table[R], s *arrow.Schema, v int) ([]column[R], error) {
	var want []column[R]
	for _, c := range t.cols {
		if c.inVersion(v) {
			want = append(want, c)
		}
	}
	if s.NumFields() != len(want) {
		return nil, fmt.Errorf("%d columns, the %s schema of version %d declares %d", s.NumFields(), t.name, v, len(want))
	}
	for i, c := range want {
		f := s.Field(i)
		if f.Name != c.name || !arrow.TypeEqual(f.Type, c.typ) {
			return nil, fmt.Errorf("column %d is %s %s, the %s schema of version %d declares %s %s", i, f.Name, f.Type, t.name, v, c.name, c.typ)
		}
	}
	return want, nil
}

// tableFile is the path of a table's file in a results directory.
func tableFile[R Row](dir string) string { return filepath.Join(dir, tableFor[R]().file) }
