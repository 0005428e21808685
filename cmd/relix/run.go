package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/relix-lab/relix/experiment/multirun"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness"
	"github.com/relix-lab/relix/harness/progress"
	"github.com/relix-lab/relix/results"
	"github.com/urfave/cli/v2"
)

func runCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "train every arm, evaluate every checkpoint and write the results",
		ArgsUsage: "SPEC",
		Description: "Runs the experiment SPEC: each arm × seed trains for train.steps steps, every checkpoint\n" +
			"due for evaluation is scored on the held-out set with the same seeds, and the runs are merged\n" +
			"into results/<name>/ (Parquet tables, manifest.json, plots, tables.md, index.html).\n\n" +
			"A run whose results exist resumes from its last complete step; a finished one is skipped\n" +
			"(--force reruns). Interrupt with Ctrl-C: complete steps are kept and the next run resumes.\n\n" +
			"With --cluster slurm (or cluster.kind: slurm in the spec) every unfinished run becomes a task of\n" +
			"one Slurm job array, running this relix (or cluster.binary) on the same spec and results\n" +
			"directory, which every node must see; Ctrl-C cancels the array. The merged results are the\n" +
			"same bytes as a local run's.",
		Flags: []cli.Flag{
			setFlag(),
			&cli.StringFlag{Name: "out", Usage: "results directory (default: the spec's output.dir, results/<name>)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "runs at once (default: the number of cores); results do not depend on it"},
			&cli.BoolFlag{Name: "force", Usage: "discard existing results and run everything again"},
			&cli.StringSliceFlag{Name: "arm", Usage: "run only this arm (repeatable); the results are merged only when every run is done"},
			&cli.StringSliceFlag{Name: "seed", Usage: "run only this seed (repeatable)"},
			&cli.BoolFlag{Name: "no-merge", Usage: "leave the runs' shards unmerged (for cluster tasks; the driver merges)"},
			&cli.StringFlag{Name: "cluster", Usage: "where the runs execute, overriding the spec's cluster.kind: local or slurm"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress display; plain log lines every 30 s"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "plain log lines after every step instead of live bars"},
			&cli.BoolFlag{Name: "multirun", Aliases: []string{"m"}, Usage: "run one experiment per combination of the --set values listed with commas (key=a,b), each in OUT/key=a,...; OUT defaults to the spec's output.dir + \"-multirun\""},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("run: want exactly one SPEC")
			}
			path := c.Args().First()
			sets := c.StringSlice("set")
			switch c.String("cluster") {
			case "":
			case "slurm":
				// Before the user's --set, so that they may set the
				// Slurm fields of a spec written for local runs.
				sets = append([]string{"cluster.kind=slurm"}, sets...)
			case "local":
			default:
				return usagef("run: --cluster %q: want local or slurm", c.String("cluster"))
			}
			if c.Bool("multirun") {
				return runMultirun(c, p, path, sets)
			}
			s, err := spec.Load(path, sets...)
			if err != nil {
				if multirun.Sweeps(c.StringSlice("set")) {
					return invalid(fmt.Errorf("%w\n(a --set lists several values: add --multirun to run one experiment for each)", err))
				}
				return invalid(err)
			}
			if c.String("cluster") == "local" {
				// A Slurm task: it runs here, whatever the spec's cluster block says.
				s.Cluster.Kind = "local"
			}
			seeds, err := parseSeeds(c.StringSlice("seed"))
			if err != nil {
				return usagef("run: %v", err)
			}
			prog, wait := progressFor(p, c.Bool("quiet"), c.Bool("verbose"))
			opts := harness.Options{
				SpecPath: path, Out: c.String("out"), Jobs: c.Int("jobs"), Force: c.Bool("force"),
				Arms: c.StringSlice("arm"), Seeds: seeds, NoMerge: c.Bool("no-merge") || len(c.StringSlice("arm")) > 0 || len(seeds) > 0,
				Progress: prog, Now: p.now, Relix: p.relixBuild(), Executable: p.self(), Backends: backends, Environ: p.environ(),
				Sets: c.StringSlice("set"), Command: "relix run " + path,
			}
			start := p.now()
			oc, err := harness.Run(c.Context, s, opts)
			wait()
			if err != nil {
				if errors.Is(err, harness.ErrSpecChanged) || errors.As(err, new(*harness.ProblemSetError)) {
					return invalid(err)
				}
				if c.Context.Err() != nil {
					dir := opts.Out
					if oc != nil {
						dir = oc.Dir // where --out was not given
					}
					fmt.Fprintf(p.stderr, "relix: interrupted; complete steps are saved in %s, run the same command again to resume\n", dir)
					return cli.Exit("", exitRuntime)
				}
				return err
			}
			return printOutcome(p, oc, p.now().Sub(start))
		},
	}
}

// runMultirun expands the --set values into experiments and runs them
// together.
func runMultirun(c *cli.Context, p *process, path string, sets []string) error {
	for _, f := range []string{"arm", "seed", "no-merge"} {
		if c.IsSet(f) {
			return usagef("run: --multirun runs whole experiments; --%s is for one (run it on a member's directory)", f)
		}
	}
	combos, err := multirun.Expand(sets)
	if err != nil {
		return usagef("run: %v", err)
	}
	members := make([]harness.Member, len(combos))
	for i, combo := range combos {
		s, err := spec.Load(path, combo.Sets...)
		if err != nil {
			return invalid(fmt.Errorf("combination %s: %w", combo.Name, err))
		}
		if c.String("cluster") == "local" {
			s.Cluster.Kind = "local"
		}
		members[i] = harness.Member{Name: combo.Name, Spec: s, Sets: combo.Sets, Swept: combo.Swept}
	}
	root := c.String("out")
	if root == "" {
		root = members[0].Spec.Output.Dir + "-multirun"
	}
	prog, wait := progressFor(p, c.Bool("quiet"), c.Bool("verbose"))
	opts := harness.Options{
		SpecPath: path, Jobs: c.Int("jobs"), Force: c.Bool("force"),
		Progress: prog, Now: p.now, Relix: p.relixBuild(), Executable: p.self(), Backends: backends, Environ: p.environ(),
		Command: "relix run --multirun " + path,
	}
	start := p.now()
	outcomes, err := harness.Multirun(c.Context, root, members, opts)
	wait()
	if err != nil {
		if errors.Is(err, harness.ErrSpecChanged) || errors.As(err, new(*harness.ProblemSetError)) {
			return invalid(err)
		}
		if c.Context.Err() != nil {
			fmt.Fprintf(p.stderr, "relix: interrupted; complete steps are saved under %s, run the same command again to resume\n", root)
			return cli.Exit("", exitRuntime)
		}
		return err
	}
	runs := 0
	for _, oc := range outcomes {
		runs += len(oc.Runs)
	}
	fmt.Fprintf(p.stdout, "%d experiments, %d runs done in %s\n", len(outcomes), runs, p.now().Sub(start).Round(time.Millisecond))
	for _, oc := range outcomes {
		state := ""
		if oc.Skipped {
			state = " (already complete)"
		}
		fmt.Fprintf(p.stdout, "  %s%s\n", results.Layout{Dir: oc.Dir}.Index(), state)
	}
	fmt.Fprintf(p.stdout, "\ncompare them: relix compare %s\n", root)
	return nil
}

func parseSeeds(args []string) ([]uint64, error) {
	var out []uint64
	for _, a := range args {
		v, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seed %q is not a seed (want a non-negative integer)", a)
		}
		out = append(out, v)
	}
	return out, nil
}

// progressFor picks live bars on a terminal and log lines elsewhere; wait
// lets the bars draw for the last time.
func progressFor(p *process, quiet, verbose bool) (harness.Progress, func()) {
	if f, ok := p.stderr.(interface{ Fd() uintptr }); ok && !quiet && !verbose && isatty.IsTerminal(f.Fd()) {
		t := progress.NewTerminal(p.stderr, p.now)
		return t, t.Wait
	}
	interval := 30 * time.Second
	if verbose {
		interval = 0
	}
	return progress.NewLog(p.stderr, p.now, interval), func() {}
}

func printOutcome(p *process, oc *harness.Outcome, took time.Duration) error {
	switch {
	case oc.Skipped:
		fmt.Fprintf(p.stdout, "%s: already complete (use --force to rerun)\n", oc.Dir)
	case oc.Rendered == nil:
		fmt.Fprintf(p.stdout, "%d runs done in %s; shards in %s/runs (merge with relix run without --arm/--seed)\n", len(oc.Runs), took.Round(time.Millisecond), oc.Dir)
		return nil
	default:
		fmt.Fprintf(p.stdout, "%d runs done in %s", len(oc.Runs), took.Round(time.Millisecond))
		if len(oc.Resumed) > 0 {
			fmt.Fprintf(p.stdout, " (%d resumed)", len(oc.Resumed))
		}
		fmt.Fprintln(p.stdout)
	}
	if err := oc.Rendered.PrintTables(p.stdout); err != nil {
		return err
	}
	l := results.Layout{Dir: oc.Dir}
	fmt.Fprintf(p.stdout, "\nresults: %s\ntables:  %s\nreport:  %s\nplots:   %s/\n", oc.Dir, l.Tables(), l.Index(), oc.Dir+"/"+results.PlotsDir)
	return nil
}
