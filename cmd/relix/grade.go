package main

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/results"
)

func gradeCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "grade",
		Usage:     "grade model completions against reference answers (JSONL in, JSONL out)",
		ArgsUsage: "FILE",
		Description: "Reads JSONL, one object per line: {\"completion\": \"...\", \"answer\": \"...\", \"id\": ...}\n" +
			"(id is optional and echoed back; answer may be a JSON number). FILE - reads standard input.\n" +
			"The answer of a completion is its last \\boxed{...} (or \\fbox{...}; several boxes make one\n" +
			"list when the reference has several parts). It is correct when it means the same as the\n" +
			"reference: equal as exact rationals, within 1e-9 for radicals, pi and functions, as\n" +
			"expressions by a randomized identity test, as equations and inequalities by their\n" +
			"residuals, element-wise for tuples, intervals and matrices, as unordered sets and lists,\n" +
			"or as text. eval/README.md lists every rule with examples.\n\n" +
			"Writes one JSONL line per input line:\n" +
			"{\"id\": ..., \"correct\": true|false, \"extracted\": \"...\", \"reason\": \"...\"},\n" +
			"where reason says why a wrong answer is wrong (empty when correct).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "summary", Usage: "print the accuracy with its Wilson 95% interval and why answers were wrong, instead of the graded lines (which --output still writes)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the graded lines to `FILE` instead of standard output"},
			&cli.BoolFlag{Name: "fallback-last-number", Usage: "answer a completion without a box with the last number of its final line"},
			&cli.Float64Flag{Name: "rel-tol", Usage: "also take numbers within this relative `TOLERANCE` as equal, rationals included (0.333 answers \\frac13 at 1e-3); 0 compares rationals exactly"},
		},
		Action: func(c *cli.Context) error {
			if err := flagsAfterFiles(c); err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("grade takes one FILE (- for standard input), got %d arguments", c.NArg())
			}
			in, name, closeIn, err := openRecords(p, c.Args().First())
			if err != nil {
				return invalid(err)
			}
			defer closeIn()
			var (
				out    io.Writer
				outTmp *os.File
			)
			switch output := c.String("output"); {
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
			sum, err := eval.GradeJSONL(in, name, out, opts)
			if err != nil {
				var lineErr *eval.LineError
				if errors.As(err, &lineErr) {
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

// flagsAfterFiles rejects a flag written after the files: the command line
// parser stops reading flags at the first file, so it would be taken for a
// file name.
func flagsAfterFiles(c *cli.Context) error {
	for _, arg := range c.Args().Slice() {
		if len(arg) > 1 && arg[0] == '-' {
			return usagef("flag %s comes after a file: write the flags first (relix %s [flags] FILE...)", arg, c.Command.Name)
		}
	}
	return nil
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
