package main

import (
	"context"
	"errors"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
	"github.com/relix-lab/relix/runners/worker"
	"github.com/urfave/cli/v2"
)

func workerCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "serve an embedded runner over the worker protocol on stdin/stdout",
		Description: "Serves the runner named by --runner over the worker protocol (runners/worker/PROTOCOL.md):\n" +
			"requests on stdin, responses on stdout, logs on stderr. A spec whose runner block is\n\n" +
			"  runner: {kind: worker, command: relix worker --runner sim}\n\n" +
			"takes the whole out-of-process path and gives results byte-identical to runner.kind sim\n" +
			"(the spec hashes as the sim). The sim's policy and the problem sets come from relix at\n" +
			"hello, so the worker serves exactly the spec that relix runs.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "runner", Usage: "the runner to serve: sim (required)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("worker: want no arguments (requests come on stdin)")
			}
			if c.String("runner") == "" {
				return usagef("worker: want --runner sim")
			}
			if c.String("runner") != sim.Kind {
				return usagef("worker: --runner %q; want sim (the only embedded runner)", c.String("runner"))
			}
			ver, _ := p.buildVersion()
			return worker.Serve(c.Context, p.stdin, p.stdout, worker.ServeOptions{
				Worker: "relix-sim/" + ver, Model: "relix sim", Serves: sim.Kind,
				NeedsProblems: true,
				// One request at a time: an arm's requests to its worker
				// come one after another (a proof's hidden states in one
				// batch), and answering on the reading goroutine costs a
				// quarter less CPU per request than handing it off.
				Concurrency: 1,
				Log:         p.stderr, // the run's worker.log
				New: func(_ context.Context, cfg worker.Config, problems []*dataset.Set) (runners.Runner, error) {
					if cfg.Sim == nil {
						return nil, errors.New("hello carries no sim policy: relix sends runner.sim only when runner.command is " +
							"\"relix worker --runner sim\" (a program named relix), so that the spec's hash covers it")
					}
					return sim.New(cfg.Sim.Spec(), runners.Options{Problems: problems})
				},
			})
		},
	}
}
