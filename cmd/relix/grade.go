package main

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/results"
)

func gradeCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "grade",
		Usage:     "grade model completions against reference answers (JSONL, CSV or Parquet in, JSONL out)",
		ArgsUsage: "FILE",
		Description: "Reads JSONL, one object per line: {\"completion\": \"...\", \"answer\": \"...\", \"id\": ...}\n" +
			"(id is optional and echoed back; answer may be a JSON number). FILE - reads standard input.\n" +
			"--completion-field, --answer-field and --id-field name other fields, dotted for nested\n" +
			"objects (doc.answer). Lines of lm-evaluation-harness --log_samples are read as it writes\n" +
			"them: every response in resps graded against target (or --answer-field), doc_id the id, a\n" +
			"document logged once per filter graded once. FILE.csv (a header row) and FILE.parquet are\n" +
			"read by column name the same way.\n" +
			"The answer of a completion is its last \\boxed{...} (or \\fbox{...}; several boxes make one\n" +
			"list when the reference has several parts). It is correct when it means the same as the\n" +
			"reference: equal as exact rationals, within 1e-9 for radicals, pi and functions, as\n" +
			"expressions by a randomized identity test, as equations and inequalities by their\n" +
			"residuals, element-wise for tuples, intervals and matrices, as unordered sets and lists,\n" +
			"or as text. eval/README.md lists every rule with examples.\n\n" +
			"Writes one JSONL line per completion:\n" +
			"{\"id\": ..., \"sample\": n, \"correct\": true|false, \"extracted\": \"...\", \"reason\": \"...\"},\n" +
			"where sample numbers the completions of one id from 0 and reason says why a wrong answer\n" +
			"is wrong (empty when correct): relix score reads it as it stands.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "summary", Usage: "print the accuracy with its Wilson 95% interval and why answers were wrong, instead of the graded lines (which --output still writes)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the graded lines to `FILE` instead of standard output"},
			&cli.BoolFlag{Name: "fallback-last-number", Usage: "answer a completion without a box with the last number of its final line"},
			&cli.StringFlag{Name: "completion-field", Value: "completion", Usage: "the `FIELD` (a dotted path, or a column) holding the completion"},
			&cli.StringFlag{Name: "answer-field", Value: "answer", Usage: "the `FIELD` holding the reference answer (lm-evaluation-harness lines: target)"},
			&cli.StringFlag{Name: "id-field", Value: "id", Usage: "the `FIELD` holding the optional id (lm-evaluation-harness lines: doc_id)"},
			&cli.Float64Flag{Name: "rel-tol", Usage: "also take numbers within this relative `TOLERANCE` as equal, rationals included (0.333 answers \\frac13 at 1e-3); 0 compares rationals exactly"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("grade takes one FILE (- for standard input), got %d arguments", c.NArg())
			}
			var (
				out    io.Writer
				outTmp *os.File
				err    error
			)
			switch output := c.String("output"); {
			case output != "" && isSpecialFile(output):
				// A device or a pipe is written to, never replaced by a
				// rename (-o /dev/null must stay /dev/null).
				f, err := os.OpenFile(output, os.O_WRONLY, 0)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			case output != "":
				if outTmp, err = os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".tmp-*"); err != nil {
					return err
				}
				defer os.Remove(outTmp.Name())
				defer outTmp.Close()
				out = outTmp
			case !c.Bool("summary"):
				out = p.stdout
			}
			if tol := c.Float64("rel-tol"); tol < 0 || tol >= 1 || math.IsNaN(tol) {
				return usagef("grade: --rel-tol %v; want 0 ≤ TOLERANCE < 1", tol)
			}
			opts := eval.GradeOptions{FallbackLastNumber: c.Bool("fallback-last-number"), RelTolerance: c.Float64("rel-tol")}
			fields := eval.Fields{Completion: c.String("completion-field"), Answer: c.String("answer-field"), ID: c.String("id-field")}
			sum, err := gradeFile(p, c.Args().First(), fields, out, opts)
			if err != nil {
				var lineErr *eval.LineError
				if errors.As(err, &lineErr) || errors.As(err, new(unreadable)) {
					return invalid(err)
				}
				return err
			}
			if outTmp != nil {
				if err := commitOutput(outTmp, c.String("output")); err != nil {
					return err
				}
			}
			if c.Bool("summary") {
				return results.WriteGradeSummary(p.stdout, sum)
			}
			return nil
		},
	}
}

// unreadable marks an input file that does not open or parse: bad input,
// said as the error says it.
type unreadable struct{ error }

func (u unreadable) Unwrap() error { return u.error }

// gradeFile grades path by its kind: CSV and Parquet by column, anything
// else as JSONL lines.
func gradeFile(p *process, path string, fields eval.Fields, out io.Writer, opts eval.GradeOptions) (eval.GradeSummary, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		ins, err := results.ReadGradeParquet(path, fields)
		if err != nil {
			return eval.GradeSummary{}, unreadable{err}
		}
		return eval.GradeInputs(ins, out, opts)
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return eval.GradeSummary{}, unreadable{err}
		}
		defer f.Close()
		ins, err := eval.ReadGradeCSV(f, path, fields)
		if err != nil {
			return eval.GradeSummary{}, err
		}
		return eval.GradeInputs(ins, out, opts)
	}
	in, name, closeIn, err := openRecords(p, path)
	if err != nil {
		return eval.GradeSummary{}, unreadable{err}
	}
	defer closeIn()
	return eval.GradeLines(in, name, out, fields, opts)
}

// openRecords opens a JSONL input file, or standard input for "-".
func openRecords(p *process, path string) (io.Reader, string, func(), error) {
	if path == "-" {
		return p.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", nil, err
	}
	return f, path, func() { f.Close() }, nil
}

// isSpecialFile reports whether path exists and is neither a regular file
// nor a directory: a device, a pipe or a socket.
func isSpecialFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.Mode().IsRegular() && !info.IsDir()
}

// commitOutput makes a fully written temporary file visible under its final
// name, so that an interrupted grade never leaves half a file behind.
func commitOutput(tmp *os.File, path string) error {
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
