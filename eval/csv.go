package eval

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ReadGradeCSV reads grade records from CSV with a header row: the
// columns fields names (completion, answer and the optional id by
// default). An id that is an integer stays a number, anything else is a
// string, so that relix score reads the output. path names r in errors.
func ReadGradeCSV(r io.Reader, path string, fields Fields) ([]GradeInput, error) {
	fields = fields.WithDefaults()
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, csvError(path, err)
	}
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		return -1
	}
	completion, answer, id := col(fields.Completion), col(fields.Answer), col(fields.ID)
	for _, c := range []struct {
		name string
		at   int
	}{{fields.Completion, completion}, {fields.Answer, answer}} {
		if c.at < 0 {
			return nil, &LineError{Path: path, Line: 1, Err: fmt.Errorf("no column %q in the header %q", c.name, header)}
		}
	}
	var ins []GradeInput
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ins, nil
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		in := GradeInput{Completion: rec[completion], Answer: rec[answer]}
		if id >= 0 && rec[id] != "" {
			if _, err := strconv.ParseInt(rec[id], 10, 64); err == nil {
				in.ID = json.RawMessage(rec[id])
			} else {
				in.ID, _ = json.Marshal(rec[id])
			}
		}
		ins = append(ins, in)
	}
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{Path: path, Line: pe.StartLine, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", path, err)
}
