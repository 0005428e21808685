package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relix-lab/relix/harness"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/dirlock"
	"github.com/urfave/cli/v2"
)

func compareCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare experiments: one table and one page of their shared metrics and paired differences",
		ArgsUsage: "DIR...",
		Description: "Reads the results directories DIR (a multirun's root stands for every experiment it holds;\n" +
			"nothing is rerun), prints each experiment's value of every arm metric they all report, then each\n" +
			"experiment's paired differences from the first, arm by arm, over the held-out problems and\n" +
			"training seeds both scored, and writes compare.md and index.html in --out.\n\n" +
			"With two or more shared training seeds a difference is the crossed seeds × problems comparison,\n" +
			"as in an experiment's own paired table; with one, the paired t over problems, whose interval\n" +
			"leaves out the variance between training runs. Experiments scored on other problems are named\n" +
			"in a note, not compared.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "`DIR` for compare.md and index.html (default: ROOT/compare for one multirun ROOT; required otherwise)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("compare: want at least one DIR (two results directories, or a multirun's root)")
			}
			dirs := c.Args().Slice()
			out := c.String("out")
			if out == "" {
				if _, err := harness.ReadMultirun(dirs[0]); len(dirs) != 1 || err != nil {
					return usagef("compare: --out: where to write the comparison (it defaults only for one multirun's root)")
				}
				out = filepath.Join(dirs[0], "compare")
			}
			targets, err := harness.CompareTargets(dirs)
			if err != nil {
				return invalid(err)
			}
			cmp, err := harness.Compare(targets)
			if errors.Is(err, dirlock.ErrInUse) {
				return err
			}
			if err != nil {
				return invalid(err)
			}
			for _, t := range cmp.Tables() {
				fmt.Fprintf(p.stdout, "%s\n", t.Title)
				if err := t.Terminal(p.stdout); err != nil {
					return err
				}
				fmt.Fprintln(p.stdout)
			}
			for _, n := range cmp.Notes {
				fmt.Fprintf(p.stdout, "note: %s\n", n)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			written, err := results.WriteComparison(cmp, out)
			if err != nil {
				return err
			}
			for _, w := range written {
				fmt.Fprintf(p.stdout, "wrote %s\n", w)
			}
			return nil
		},
	}
}
