package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness"
	"github.com/relix-lab/relix/harness/zone"
	"github.com/relix-lab/relix/harness/zone/sweepdir"
	"github.com/relix-lab/relix/results"
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
			sets, err := harness.LoadProblemSets(s, filepath.Dir(path))
			if err != nil {
				return invalid(err)
			}
			out := c.String("out")
			if out == "" {
				out = s.Output.Dir
			}
			quiet := c.Bool("quiet")
			start := p.now()
			cfg := zone.Config{Spec: s, Pool: sets.Train, Jobs: c.Int("jobs")}
			if !quiet {
				shown := 0
				cfg.Progress = func(done, total int) {
					if tenth := 10 * done / total; tenth > shown {
						shown = tenth
						fmt.Fprintf(p.stderr, "sweep: %d/%d runs, %s\n", done, total, p.now().Sub(start).Round(time.Second))
					}
				}
			}
			res, err := zone.Sweep(c.Context, cfg)
			if err != nil {
				return err
			}
			ver, commit := buildVersion()
			m := &results.Manifest{
				Relix:  results.BuildInfo{Version: ver, Commit: gitCommit(commit)},
				Runner: results.Component{Name: s.Runner.Kind, Version: ver},
				Start:  start, End: p.now(),
			}
			rd, err := sweepdir.Write(out, s, sets.Train, res, m)
			if err != nil {
				return err
			}
			if !quiet {
				if err := rd.PrintTables(p.stdout); err != nil {
					return err
				}
			}
			fmt.Fprintf(p.stdout, "%s in %s: %d levels × %d selectors × %d seeds; wrote %s\n",
				plural(len(res.Runs), "run"), m.End.Sub(start).Round(time.Millisecond),
				len(res.Levels), len(s.Sweep.Selectors), len(s.Sweep.Seeds), out)
			return nil
		},
	}
}
