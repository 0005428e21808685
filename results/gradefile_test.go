package results

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/relix-lab/relix/eval"
)

func TestReadGradeParquet(t *testing.T) {
	t.Parallel()
	path := writeSampleFileForTest(t, []arrow.Field{
		{Name: "doc", Type: arrow.PrimitiveTypes.Int64},
		{Name: "output", Type: arrow.BinaryTypes.String},
		{Name: "gold", Type: arrow.PrimitiveTypes.Int32},
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{3, 4}, nil)
		b.Field(1).(*array.StringBuilder).AppendValues([]string{`\boxed{12}`, `\boxed{7}`}, nil)
		b.Field(2).(*array.Int32Builder).AppendValues([]int32{12, 8}, nil)
	})
	got, err := ReadGradeParquet(path, eval.Fields{Completion: "output", Answer: "gold", ID: "doc"})
	if err != nil || len(got) != 2 || string(got[0].ID) != "3" || got[0].Answer != "12" || got[1].Completion != `\boxed{7}` {
		t.Fatalf("ReadGradeParquet = %+v, %v", got, err)
	}
	if _, err := ReadGradeParquet(path, eval.Fields{}); err == nil || err.Error() != path+`: no column "completion"` {
		t.Errorf("default fields: %v", err)
	}
}

// TestScoreBy scores every arm of one eval-shaped file and compares them
// with the arm named by its value; finish reasons absent, truncation is
// not reported.
func TestScoreBy(t *testing.T) {
	t.Parallel()
	path := writeSampleFileForTest(t, []arrow.Field{
		{Name: "arm", Type: arrow.BinaryTypes.String},
		{Name: "problem", Type: arrow.BinaryTypes.String},
		{Name: "sample", Type: arrow.PrimitiveTypes.Int32},
		{Name: "correct", Type: arrow.PrimitiveTypes.Int8},
	}, func(b *array.RecordBuilder) {
		for _, arm := range []string{"market", "uniform"} {
			for p := range 6 {
				b.Field(0).(*array.StringBuilder).Append(arm)
				b.Field(1).(*array.StringBuilder).Append(string(rune('a' + p)))
				b.Field(2).(*array.Int32Builder).Append(0)
				c := int8(0)
				if p < 4 || arm == "market" {
					c = 1
				}
				b.Field(3).(*array.Int8Builder).Append(c)
			}
		}
	})
	r, err := ScoreFiles(ScoreOptions{Files: []string{path}, Paired: "uniform", By: []string{"arm"}, Ks: []int{1}, Draws: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Files) != 2 || r.Files[0].Path != path+"[arm=market]" || r.Files[1].Path != path+"[arm=uniform]" {
		t.Fatalf("sets %+v", r.Files)
	}
	if m := r.Files[0].Scores.Metrics(); len(m) != 1 || m[0].Mean != 1 {
		t.Errorf("market's metrics %+v: want pass@1 = 1 and no truncation", m)
	}
	if len(r.Paired) != 1 || r.Paired[0].A != path+"[arm=market]" || len(r.Paired[0].Comparisons) != 1 {
		t.Fatalf("paired %+v", r.Paired)
	}
	if d := r.Paired[0].Comparisons[0].Paired.Diff; d < 0.333 || d > 0.334 {
		t.Errorf("market − uniform pass@1 = %v, want 1/3", d)
	}
	if _, err := ScoreFiles(ScoreOptions{Files: []string{path}, Ks: []int{1}}); err == nil {
		t.Error("two arms without --by: want an error")
	}
}
