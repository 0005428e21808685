package main

import (
	"errors"
	"fmt"
	"github.com/relix-lab/relix/results/dirlock"
	"strings"

	"github.com/relix-lab/relix/results"
	"github.com/urfave/cli/v2"
)

func reportCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "rebuild plots, tables and index.html of results directories from their Parquet files",
		ArgsUsage: "RESULTS_DIR...",
		Description: "Reads manifest.json, summary.parquet, steps.parquet and sweep.parquet of each results\n" +
			"directory (nothing is rerun) and writes plots/*.png|svg, tables.md and a self-contained\n" +
			"index.html beside them, then prints the tables.\n\n" +
			"--experiments FILE regenerates the sections of FILE between marker comments\n" +
			"  <!-- relix:begin EXPERIMENT/KIND --> ... <!-- relix:end EXPERIMENT/KIND -->\n" +
			"where KIND is reference, paired, waste, sweep, sweep-carried, sweep-detail or plots; the\n" +
			"prose around them is left as it is.\n\n" +
			"--check writes nothing and exits 1, printing a diff, when any of those files is out of date.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "experiments", Usage: "Markdown `FILE` whose marked sections to regenerate (EXPERIMENTS.md)"},
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 with a diff if any output is out of date"},
			&cli.StringSliceFlag{Name: "plots", Usage: "plot `FORMATS` to write: png, svg (default: both)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("report: want at least one RESULTS_DIR")
			}
			drifts, err := results.Report(results.ReportOptions{
				Dirs:        c.Args().Slice(),
				Experiments: c.String("experiments"),
				Check:       c.Bool("check"),
				Formats:     c.StringSlice("plots"),
				Command:     "relix report " + strings.Join(c.Args().Slice(), " "),
				Out:         p.stdout,
			})
			if errors.Is(err, dirlock.ErrInUse) {
				return err // not the input's fault: exit 3
			}
			if err != nil {
				return invalid(err)
			}
			if len(drifts) > 0 {
				return cli.Exit(fmt.Sprintf("%s out of date; run relix report without --check to regenerate",
					plural(len(drifts), "file")), exitInvalid)
			}
			return nil
		},
	}
}
