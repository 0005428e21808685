package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/results"
)

func scoreCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "pass@k and truncation of per-sample records, and paired comparisons between arms",
		ArgsUsage: "FILE...",
		Description: "Reads per-sample records, one file per arm: JSONL lines\n" +
			"{\"problem\": \"p1\" or 17, \"sample\": 0, \"correct\": true, \"finish_reason\": \"stop\" or \"length\"}\n" +
			"(\"truncated\": true|false may stand for finish_reason; without either, truncation is not\n" +
			"reported; \"id\" may stand for problem and correct may be 0 or 1, so relix grade's output is\n" +
			"read as it stands), or Parquet (*.parquet) with those columns, such as relix's eval table\n" +
			"(--by arm scores every arm of it). FILE - reads JSONL from standard input.\n\n" +
			"Prints, per file, the unbiased pass@k (1 - C(n-c,k)/C(n,k) per problem, averaged) and the\n" +
			"truncation rate (share of finish_reason \"length\"), each with its standard error over problems.\n" +
			"With --paired OTHER, compares every FILE with OTHER on the same problems: mean difference,\n" +
			"SE, 95% Student-t interval, two-sided p-value (t with n-1 df), and a paired bootstrap that\n" +
			"resamples whole problems (percentile 95% interval, share of draws in which FILE beats OTHER).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "k", Value: "1", Usage: "comma-separated `K`s of pass@k, e.g. 1,4 (every problem needs at least k samples)"},
			&cli.StringFlag{Name: "paired", Usage: "compare every FILE with the arm in `OTHER`, problem by problem"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of tables"},
			&cli.StringFlag{Name: "format", Value: "markdown", Usage: "table `STYLE`: markdown or ascii"},
			&cli.IntFlag{Name: "draws", Value: eval.DefaultBootstrapDraws, Usage: "`N` bootstrap resamples for --paired"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`SEED` of the bootstrap's random stream"},
			&cli.StringFlag{Name: "by", Usage: "split each Parquet FILE by these `COLUMNS` (arm, seed, checkpoint, step; comma-separated), one scored set per value: a whole eval.parquet at once; --paired may then name a set by its values (uniform)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("score takes at least one FILE")
			}
			ks, err := parseKs(c.String("k"))
			if err != nil {
				return err
			}
			style, err := tableStyle(c)
			if err != nil {
				return err
			}
			if c.Int("draws") < 1 || c.Int("draws") > eval.MaxBootstrapDraws {
				return usagef("--draws %d: want 1 to %d", c.Int("draws"), eval.MaxBootstrapDraws)
			}
			report, err := results.ScoreFiles(results.ScoreOptions{
				Files: c.Args().Slice(), Paired: c.String("paired"),
				Ks: ks, Draws: c.Int("draws"), Seed: c.Uint64("seed"), Stdin: p.stdin, By: splitList(c.String("by")),
			})
			if errors.As(err, new(*results.InputError)) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return report.WriteJSON(p.stdout)
			}
			return report.Write(p.stdout, style)
		},
	}
}

// splitList is a comma-separated flag's values, none for "".
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseKs(s string) ([]int, error) {
	var ks []int
	for _, field := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || k < 1 {
			return nil, usagef("--k %q: want positive integers separated by commas, like 1,4", s)
		}
		for _, seen := range ks {
			if seen == k {
				return nil, usagef("--k %q: %d appears twice", s, k)
			}
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// tableStyle is the --format of score and eval.
func tableStyle(c *cli.Context) (results.Style, error) {
	switch f := c.String("format"); f {
	case "markdown":
		return results.StyleMarkdown, nil
	case "ascii":
		return results.StyleASCII, nil
	default:
		return 0, usagef("--format %q: want markdown or ascii", f)
	}
}
