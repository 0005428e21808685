package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

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
			"the same on every run and comparable between arms.\n\n" +
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
			format := c.String("format")
			if format != "markdown" && format != "ascii" {
				return usagef("--format %q: want markdown or ascii", format)
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
			})
			if errors.Is(err, harness.ErrNoCheckpoint) {
				return invalid(err)
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return writeEvalJSON(p, s, res)
			}
			return writeEvalTable(p, s, res, format == "markdown")
		},
	}
}

// evalTarget names what was scored: the arm, or the base policy.
func evalTarget(res *harness.CheckpointEval) string {
	if res.Arm != "" {
		return res.Arm
	}
	return "base policy"
}

func writeEvalTable(p *process, s *spec.Spec, res *harness.CheckpointEval, markdown bool) error {
	e := s.Eval
	truncated := "graded on the answer they contain"
	if e.Truncated == "zero" {
		truncated = "scored 0"
	}
	fmt.Fprintf(p.stdout, "%s: %s, checkpoint %s, seed %d\n", s.Name, evalTarget(res), res.Checkpoint, res.Seed)
	fmt.Fprintf(p.stdout, "%d held-out problems × %d samples, temperature %g, top_p %g, max_tokens %d; truncated completions %s\n\n",
		len(res.Scores.Problems), e.Samples, e.Sampling.Temperature, e.Sampling.TopP, e.Sampling.MaxTokens, truncated)
	header := []string{"policy", "problems", "samples"}
	row := []string{evalTarget(res), strconv.Itoa(len(res.Scores.Problems)), strconv.Itoa(res.Scores.Samples)}
	for _, m := range res.Scores.Metrics() {
		header = append(header, m.Name)
		row = append(row, formatValue(m))
	}
	return renderTable(p.stdout, header, [][]string{row}, 1, markdown)
}

type evalJSON struct {
	Experiment string       `json:"experiment"`
	Arm        string       `json:"arm,omitempty"`
	Seed       uint64       `json:"seed"`
	Checkpoint string       `json:"checkpoint"`
	Problems   int          `json:"problems"`
	Samples    int          `json:"samples"`
	Metrics    []metricJSON `json:"metrics"`
}

type metricJSON struct {
	Name string   `json:"name"`
	K    int      `json:"k,omitempty"`
	Mean float64  `json:"mean"`
	SE   *float64 `json:"se"` // null with a single problem
}

func writeEvalJSON(p *process, s *spec.Spec, res *harness.CheckpointEval) error {
	out := evalJSON{
		Experiment: s.Name, Arm: res.Arm, Seed: res.Seed, Checkpoint: res.Checkpoint,
		Problems: len(res.Scores.Problems), Samples: res.Scores.Samples,
	}
	for _, m := range res.Scores.Metrics() {
		mj := metricJSON{Name: m.Name, K: m.K, Mean: m.Mean}
		if !math.IsNaN(m.SE) {
			mj.SE = &m.SE
		}
		out.Metrics = append(out.Metrics, mj)
	}
	enc := json.NewEncoder(p.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
