package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness"
	"github.com/urfave/cli/v2"
)

func sweepCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "sweep",
		Usage:     "measure waste vs in-zone fraction for the reactive filter and markets (FIG.05)",
		ArgsUsage: "SPEC",
		Description: "For every in-zone fraction of sweep.grid, puts the simulated training pool at a checkpoint\n" +
			"with that fraction (runner.sim.difficulty_shift, found on the exact success probabilities) and\n" +
			"runs sweep.windows windows of every selector there: the uniform sampler with the reactive\n" +
			"filter, and markets of sweep.miners miners with each estimator. sweep.seeds repeat everything;\n" +
			"the numbers do not depend on --jobs.\n\n" +
			"Writes sweep.parquet, manifest.json, plots, tables.md and index.html to results/<name>/\n" +
			"(or --out) and prints the tables.",
		Flags: []cli.Flag{
			setFlag(),
			&cli.StringFlag{Name: "out", Usage: "results directory (default: the spec's output.dir, results/<name>)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "runs at once (default: the number of cores); results do not depend on it"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines, and no tables: only the closing line"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("sweep: want exactly one SPEC")
			}
			path := c.Args().First()
			s, err := spec.Load(path, c.StringSlice("set")...)
			if err != nil {
				return invalid(err)
			}
			opts := harness.SweepOptions{
				SpecPath: path, Out: c.String("out"), Jobs: c.Int("jobs"),
				Now: p.now, Relix: p.relixBuild(), Backends: backends, Command: "relix sweep " + path,
			}
			quiet := c.Bool("quiet")
			if !quiet {
				opts.Log = p.stderr
			}
			oc, err := harness.Sweep(c.Context, s, opts)
			if errors.As(err, new(*harness.ProblemSetError)) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			if !quiet {
				if err := oc.Rendered.PrintTables(p.stdout); err != nil {
					return err
				}
			}
			m := oc.Manifest
			fmt.Fprintf(p.stdout, "%s in %s: %d levels × %d selectors × %d seeds; wrote %s\n",
				plural(len(oc.Result.Runs), "run"), m.End.Sub(m.Start).Round(time.Millisecond),
				len(oc.Result.Levels), len(s.Sweep.Selectors), len(s.Sweep.Seeds), oc.Dir)
			return nil
		},
	}
}
