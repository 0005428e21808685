package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

const fixtureParquet = "testdata/problems.parquet"

// writeParquet writes one record of the given schema, filled by fill, to
// path, with Zstd compression and a pinned created_by so that the file is
// the same bytes every time.
func writeParquet(t *testing.T, path string, schema *arrow.Schema, fill func(b *array.RecordBuilder)) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	fill(b)
	rec := b.NewRecord()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCreatedBy("relix dataset tests"),
		parquet.WithAllocator(mem))
	w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // closes f too
		t.Fatal(err)
	}
}

var stringField = func(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
}

// appendStrings appends values to a string column; nil is a null.
func appendStrings(b array.Builder, values ...any) {
	sb := b.(*array.StringBuilder)
	for _, v := range values {
		if v == nil {
			sb.AppendNull()
			continue
		}
		sb.Append(v.(string))
	}
}

// TestParquetFixture keeps testdata/problems.parquet the Parquet twin of
// testdata/problems.jsonl: the same cells (numbers as their JSON text),
// regenerated with -update. It is not parallel, so that it is done before
// the parallel tests read the fixture.
func TestParquetFixture(t *testing.T) {
	if !*update {
		t.Skip("regenerates testdata/problems.parquet with -update")
	}
	data, err := os.ReadFile(fixtureJSONL)
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "problem", "answer", "topic"}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = stringField(c)
	}
	writeParquet(t, fixtureParquet, arrow.NewSchema(fields, nil), func(b *array.RecordBuilder) {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var row map[string]any
			if err := dec.Decode(&row); err != nil {
				t.Fatal(err)
			}
			for i, c := range cols {
				v := row[c]
				if n, ok := v.(json.Number); ok {
					v = n.String()
				}
				appendStrings(b.Field(i), v)
			}
		}
	})
}

func TestLoadParquetMatchesJSONL(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	pq, err := loadParquet(fixtureParquet, Columns{}, mem)
	mem.AssertSize(t, 0) // every buffer and record released
	if err != nil {
		t.Fatal(err)
	}
	js, err := LoadJSONL(fixtureJSONL, Columns{})
	if err != nil {
		t.Fatal(err)
	}
	if pq.Hash != fixtureHash || pq.Hash != js.Hash {
		t.Fatalf("Parquet hash %s, JSONL hash %s, want both %s", pq.Hash, js.Hash, fixtureHash)
	}
	for i := range pq.Problems {
		if pq.Problems[i] != js.Problems[i] {
			t.Errorf("problem %d differs:\nparquet %+v\njsonl   %+v", i, pq.Problems[i], js.Problems[i])
		}
	}
	if pq.Name != "problems.parquet" {
		t.Errorf("name %q", pq.Name)
	}
}

func TestLoadParquetNumbersAndNames(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "numbers.parquet")
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "uid", Type: arrow.PrimitiveTypes.Int64},
		{Name: "question", Type: arrow.BinaryTypes.String},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64},
		{Name: "extra", Type: arrow.PrimitiveTypes.Int32},
		{Name: "subject", Type: arrow.BinaryTypes.Binary},
	}, nil)
	writeParquet(t, path, schema, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{10, 11}, nil)
		appendStrings(b.Field(1), "Half of 1?", "Twice 2?")
		b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.5, 4}, nil)
		b.Field(3).(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
		b.Field(4).(*array.BinaryBuilder).AppendValues([][]byte{[]byte("halves"), nil}, []bool{true, false})
	})
	s, err := LoadParquet(path, Columns{ID: "uid", Answer: "value"})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s=%s %s=%s", s.Problems[0].ID, s.Problems[0].Answer, s.Problems[1].ID, s.Problems[1].Answer)
	if want := "10=0.5 11=4"; got != want || s.Problems[1].Statement != "Twice 2?" {
		t.Fatalf("loaded %s (%q), want %s", got, s.Problems[1].Statement, want)
	}
	if s.Problems[0].Topic != "halves" || s.Problems[1].Topic != "" {
		t.Fatalf("topics %q and %q, want the binary column's text and a null's empty topic", s.Problems[0].Topic, s.Problems[1].Topic)
	}
}

func TestLoadParquetErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	str := func(names ...string) *arrow.Schema {
		fields := make([]arrow.Field, len(names))
		for i, n := range names {
			fields[i] = stringField(n)
		}
		return arrow.NewSchema(fields, nil)
	}
	tests := []struct {
		name   string
		schema *arrow.Schema
		fill   func(b *array.RecordBuilder)
		cols   Columns
		want   string // after "<path>: "
	}{
		{
			name:   "missing column",
			schema: str("text", "answer"),
			fill:   func(b *array.RecordBuilder) { appendStrings(b.Field(0), "1+1"); appendStrings(b.Field(1), "2") },
			want:   `no problem column (looked for "problem", "question"); the columns are "text", "answer"`,
		},
		{
			name:   "named column missing",
			schema: str("problem", "answer"),
			fill:   func(b *array.RecordBuilder) { appendStrings(b.Field(0), "1+1"); appendStrings(b.Field(1), "2") },
			cols:   Columns{Topic: "subject"},
			want:   `no column "subject"; the columns are "problem", "answer"`,
		},
		{
			name:   "null answer",
			schema: str("problem", "answer"),
			fill: func(b *array.RecordBuilder) {
				appendStrings(b.Field(0), "1+1", "2+2")
				appendStrings(b.Field(1), "2", nil)
			},
			want: `row 2: no answer: column "answer" is empty`,
		},
		{
			name:   "duplicate id",
			schema: str("id", "problem", "answer"),
			fill: func(b *array.RecordBuilder) {
				appendStrings(b.Field(0), "a", "b", "b")
				appendStrings(b.Field(1), "1+1", "2+2", "3+3")
				appendStrings(b.Field(2), "2", "4", "6")
			},
			want: `row 3: duplicate id "b" (first in row 2)`,
		},
		{
			name: "list column",
			schema: arrow.NewSchema([]arrow.Field{stringField("problem"),
				{Name: "answer", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true}}, nil),
			fill: func(b *array.RecordBuilder) {
				appendStrings(b.Field(0), "1+1")
				lb := b.Field(1).(*array.ListBuilder)
				lb.Append(true)
				lb.ValueBuilder().(*array.Int64Builder).Append(2)
			},
			want: `column "answer" is nested; want a flat column of strings or numbers`,
		},
		{
			name: "boolean column",
			schema: arrow.NewSchema([]arrow.Field{stringField("problem"),
				{Name: "answer", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil),
			fill: func(b *array.RecordBuilder) {
				appendStrings(b.Field(0), "1+1")
				b.Field(1).(*array.BooleanBuilder).Append(true)
			},
			want: `column "answer" has type bool; want strings or numbers`,
		},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, fmt.Sprintf("bad%d.parquet", i))
		writeParquet(t, path, tt.schema, tt.fill)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadParquet(path, tt.cols)
			if want := path + ": " + tt.want; err == nil || err.Error() != want {
				t.Fatalf("error %v\nwant       %s", err, want)
			}
		})
	}
}

func TestLoadParquetNotParquet(t *testing.T) {
	t.Parallel()
	_, err := LoadParquet(fixtureJSONL, Columns{})
	if err == nil || !strings.HasPrefix(err.Error(), fixtureJSONL+": ") {
		t.Fatalf("error %v, want one naming %s", err, fixtureJSONL)
	}
}
