package main

import (
	"errors"
	"path/filepath"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness"
	"github.com/urfave/cli/v2"
)

func evalCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "score a checkpoint (default: the base policy) on the held-out set",
		ArgsUsage: "SPEC",
		Description: "Generates eval.samples completions of each held-out problem with the spec's eval sampling\n" +
			"and seed, grades them, and prints pass@k and truncation with standard errors over problems.\n" +
			"Every arm is sampled with the same seeds (common random numbers), so the numbers are\n" +
			"the same on every run and comparable between arms. Where the runner reports exact success\n" +
			"probabilities (the sim does) it also prints the training pool's in-zone fraction at the\n" +
			"checkpoint under the training sampling and reward (train.sigma_min, train.group_size).\n\n" +
			"Without --arm or --checkpoint it scores the runner's base policy; --arm scores that arm's\n" +
			"latest checkpoint in the results directory of a run (relix run); --checkpoint scores a\n" +
			"checkpoint directory saved by the runner.",
		Flags: []cli.Flag{
			setFlag(),
			&cli.StringFlag{Name: "arm", Usage: "score this arm's latest checkpoint in the results directory"},
			&cli.Uint64Flag{Name: "seed", Usage: "the run seed of --arm, and the root of the eval sampling seed", DefaultText: "the spec's first seed"},
			&cli.StringFlag{Name: "checkpoint", Usage: "score the runner checkpoint saved in `DIR`"},
			&cli.StringFlag{Name: "out", Usage: "results `DIR` to find --arm's run in (default: the spec's output.dir)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.StringFlag{Name: "format", Value: "markdown", Usage: "table style: markdown or ascii"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("eval: want exactly one SPEC")
			}
			if c.String("arm") != "" && c.String("checkpoint") != "" {
				return usagef("eval: give --arm or --checkpoint, not both")
			}
			style, err := tableStyle(c)
			if err != nil {
				return err
			}
			path := c.Args().First()
			s, err := spec.Load(path, c.StringSlice("set")...)
			if err != nil {
				return invalid(err)
			}
			res, err := harness.EvaluateCheckpoint(c.Context, s, harness.EvalTarget{
				Checkpoint: c.String("checkpoint"),
				Arm:        c.String("arm"),
				Seed:       c.Uint64("seed"),
				Out:        c.String("out"),
				SpecDir:    filepath.Dir(path),
				Log:        p.stderr,
				Backends:   backends,
				Environ:    p.environ(),
				Relix:      p.relixBuild().Version,
				Executable: p.self(),
			})
			if errors.Is(err, harness.ErrNoCheckpoint) || errors.As(err, new(*harness.ProblemSetError)) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return res.Report(s).WriteJSON(p.stdout)
			}
			return res.Report(s).Write(p.stdout, style)
		},
	}
}
