package results

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/relix-lab/relix/eval"
)

// ReadGradeParquet reads relix grade's records from a Parquet file: the
// columns fields names (completion, answer and the optional id by
// default), strings or integers. An integer id stays a number.
func ReadGradeParquet(path string, fields eval.Fields) ([]eval.GradeInput, error) {
	fields = fields.WithDefaults()
	tbl, err := readParquetTable(path)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	completions, err := sampleFileColumn(tbl, fields.Completion, true, sampleFileStrings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	answers, err := sampleFileColumn(tbl, fields.Answer, true, sampleFileStrings)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var ids []string
	numeric := false
	if idx := tbl.Schema().FieldIndices(fields.ID); len(idx) > 0 {
		if ids, err = sampleFileColumn(tbl, fields.ID, false, sampleFileStrings); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		numeric = arrow.IsInteger(tbl.Schema().Field(idx[0]).Type.ID())
	}
	ins := make([]eval.GradeInput, len(completions))
	for i := range ins {
		ins[i] = eval.GradeInput{Completion: completions[i], Answer: answers[i]}
		if ids != nil {
			if numeric {
				ins[i].ID = json.RawMessage(ids[i])
			} else {
				ins[i].ID, _ = json.Marshal(ids[i])
			}
		}
	}
	return ins, nil
}
