package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem with a spec, located where it was written.
type Error struct {
	File  string // the spec file, or "--set PATH=VALUE" for an override
	Line  int    // 1-based; 0 when the problem has no line (an override)
	Col   int
	Field string // dotted path, e.g. train.group_size or arms[1].name
	Msg   string
}

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a spec, in file order.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// maxReportedErrors bounds a report: past it, more lines help nobody.
const maxReportedErrors = 50

func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	out = slices.CompactFunc(out, func(a, b Error) bool { return a == b })
	if len(out) > maxReportedErrors {
		more := len(out) - maxReportedErrors
		out = append(out[:maxReportedErrors], Error{File: out[0].File, Msg: fmt.Sprintf("... and %d more problems", more)})
	}
	return out
}

// position is where a value was written.
type position struct {
	file      string
	line, col int
}

func (p position) errorf(field, format string, args ...any) Error {
	return Error{File: p.file, Line: p.line, Col: p.col, Field: field, Msg: fmt.Sprintf(format, args...)}
}
