package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/relix-lab/relix/eval"
)

// writeSampleFileForTest writes columns (name → builder filler) as a
// one-row-group Parquet file, as a tool other than relix might.
func writeSampleFileForTest(t *testing.T, fields []arrow.Field, fill func(b *array.RecordBuilder)) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	fill(b)
	rec := b.NewRecord()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	path := filepath.Join(t.TempDir(), "samples.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithAllocator(mem))
	if err := pqarrow.WriteTable(tbl, f, 1024, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema())); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadSamplesWithFinishReason(t *testing.T) {
	t.Parallel()
	path := writeSampleFileForTest(t, []arrow.Field{
		{Name: "problem", Type: arrow.BinaryTypes.String},
		{Name: "sample", Type: arrow.PrimitiveTypes.Int32},
		{Name: "correct", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "finish_reason", Type: arrow.BinaryTypes.String},
		{Name: "model", Type: arrow.BinaryTypes.String}, // ignored
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"p1", "p1", "p2"}, nil)
		b.Field(1).(*array.Int32Builder).AppendValues([]int32{0, 1, 0}, nil)
		b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
		b.Field(3).(*array.StringBuilder).AppendValues([]string{"stop", "length", "stop"}, nil)
		b.Field(4).(*array.StringBuilder).AppendValues([]string{"m", "m", "m"}, nil)
	})
	got, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []eval.Sample{
		{Problem: "p1", Sample: 0, Correct: true},
		{Problem: "p1", Sample: 1, Truncated: true},
		{Problem: "p2", Sample: 0, Correct: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadSamplesWithIntegerProblemsAndTruncated(t *testing.T) {
	t.Parallel()
	path := writeSampleFileForTest(t, []arrow.Field{
		{Name: "problem", Type: arrow.PrimitiveTypes.Int64},
		{Name: "sample", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "correct", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "truncated", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "tokens", Type: arrow.PrimitiveTypes.Int16},
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{17, -3}, nil)
		b.Field(1).(*array.Uint8Builder).AppendValues([]uint8{2, 0}, nil)
		b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{false, true}, nil)
		b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
		b.Field(4).(*array.Int16Builder).AppendValues([]int16{8192, 301}, nil)
	})
	got, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (eval.Sample{Problem: "17", Sample: 2, Truncated: true, Tokens: 8192}) ||
		got[1] != (eval.Sample{Problem: "-3", Correct: true, Tokens: 301}) {
		t.Errorf("got %+v", got)
	}
}

func TestReadSamplesDictionaryProblems(t *testing.T) {
	t.Parallel()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	path := writeSampleFileForTest(t, []arrow.Field{
		{Name: "problem", Type: dictType},
		{Name: "sample", Type: arrow.PrimitiveTypes.Int64},
		{Name: "correct", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "finish_reason", Type: arrow.BinaryTypes.String},
	}, func(b *array.RecordBuilder) {
		db := b.Field(0).(*array.BinaryDictionaryBuilder)
		for _, p := range []string{"a", "b", "a"} {
			if err := db.AppendString(p); err != nil {
				t.Fatal(err)
			}
		}
		b.Field(1).(*array.Int64Builder).AppendValues([]int64{0, 0, 1}, nil)
		b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, true, false}, nil)
		b.Field(3).(*array.StringBuilder).AppendValues([]string{"stop", "stop", "stop"}, nil)
	})
	got, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Problem != "a" || got[1].Problem != "b" || got[2].Problem != "a" {
		t.Errorf("got %+v", got)
	}
}

func TestReadSamplesErrors(t *testing.T) {
	t.Parallel()
	str := arrow.BinaryTypes.String
	i32 := arrow.PrimitiveTypes.Int32
	boolean := arrow.FixedWidthTypes.Boolean
	for _, tc := range []struct {
		name   string
		fields []arrow.Field
		fill   func(b *array.RecordBuilder)
		err    string
	}{
		{
			"missing correct",
			[]arrow.Field{{Name: "problem", Type: str}, {Name: "sample", Type: i32}, {Name: "finish_reason", Type: str}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).Append("p")
				b.Field(1).(*array.Int32Builder).Append(0)
				b.Field(2).(*array.StringBuilder).Append("stop")
			},
			`no column "correct"`,
		},
		{
			"bad finish reason",
			[]arrow.Field{{Name: "problem", Type: str}, {Name: "sample", Type: i32}, {Name: "correct", Type: boolean}, {Name: "finish_reason", Type: str}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).AppendValues([]string{"p", "q"}, nil)
				b.Field(1).(*array.Int32Builder).AppendValues([]int32{0, 0}, nil)
				b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, true}, nil)
				b.Field(3).(*array.StringBuilder).AppendValues([]string{"stop", "eos"}, nil)
			},
			`row 2: finish_reason "eos": want "stop" or "length"`,
		},
		{
			"null correct",
			[]arrow.Field{{Name: "problem", Type: str}, {Name: "sample", Type: i32}, {Name: "correct", Type: boolean, Nullable: true}, {Name: "truncated", Type: boolean}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).AppendValues([]string{"p", "q"}, nil)
				b.Field(1).(*array.Int32Builder).AppendValues([]int32{0, 0}, nil)
				b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false}, []bool{true, false})
				b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, true}, nil)
			},
			`column "correct": row 2 is null`,
		},
		{
			"float sample",
			[]arrow.Field{{Name: "problem", Type: str}, {Name: "sample", Type: arrow.PrimitiveTypes.Float64}, {Name: "correct", Type: boolean}, {Name: "truncated", Type: boolean}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).Append("p")
				b.Field(1).(*array.Float64Builder).Append(0)
				b.Field(2).(*array.BooleanBuilder).Append(true)
				b.Field(3).(*array.BooleanBuilder).Append(true)
			},
			`column "sample": type float64: want an integer`,
		},
		{
			"two arms",
			[]arrow.Field{{Name: "arm", Type: str}, {Name: "problem", Type: str}, {Name: "sample", Type: i32}, {Name: "correct", Type: boolean}, {Name: "truncated", Type: boolean}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).AppendValues([]string{"market", "uniform"}, nil)
				b.Field(1).(*array.StringBuilder).AppendValues([]string{"p", "p"}, nil)
				b.Field(2).(*array.Int32Builder).AppendValues([]int32{0, 0}, nil)
				b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
				b.Field(4).(*array.BooleanBuilder).AppendValues([]bool{true, true}, nil)
			},
			`column "arm" holds 2 values (["market" "uniform"]): score reads the samples of one arm, seed and checkpoint per file (--by arm splits them)`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeSampleFileForTest(t, tc.fields, tc.fill)
			_, err := ReadSamples(path)
			if want := path + ": " + tc.err; err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
		})
	}

	notParquet := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(notParquet, []byte("problem,sample\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSamples(notParquet); err == nil || !strings.Contains(err.Error(), "not a readable Parquet file") {
		t.Errorf("not Parquet: %v", err)
	}
}

// TestReadSamplesReadsTheEvalTable checks that score reads what the harness
// writes: one arm's rows of the eval table.
func TestReadSamplesReadsTheEvalTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), EvalFile)
	rows := []Eval{
		{Arm: "market", Seed: 1, Step: 300, Checkpoint: "c300", Problem: "p1", Sample: 0, Correct: true, Tokens: 812, Answer: "4"},
		{Arm: "market", Seed: 1, Step: 300, Checkpoint: "c300", Problem: "p1", Sample: 1, Truncated: true, Tokens: 8192},
	}
	if err := WriteFile(path, rows, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (eval.Sample{Problem: "p1", Correct: true, Tokens: 812}) ||
		got[1] != (eval.Sample{Problem: "p1", Sample: 1, Truncated: true, Tokens: 8192}) {
		t.Errorf("got %+v", got)
	}
}
