package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness"
	"github.com/urfave/cli/v2"
)

// setFlag is --set PATH=VALUE, for every command that reads a spec. Each
// command gets its own value: cli flags hold parse state.
func setFlag() cli.Flag {
	return &cli.StringSliceFlag{
		Name:  "set",
		Usage: "override a spec field, e.g. --set train.steps=50 (repeatable; typed and validated like the file)",
	}
}

func validateCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check experiment specs and print their hash",
		ArgsUsage: "SPEC...",
		Description: "Loads each spec with its includes and --set overrides, applies defaults and reports\n" +
			"every problem as file:line:col: field: what is wrong. Exit 1 if any spec is invalid.\n" +
			"A generated training pool too small for the run is noted (relix run refuses it; a\n" +
			"sweep does not need it), without failing. Work that would exhaust memory or never end\n" +
			"(samples of an evaluation, completions of a run, windows of a sweep, bootstrap\n" +
			"resamplings) is refused, naming the field, and relix run's peak memory is estimated.",
		Flags: []cli.Flag{
			setFlag(),
			&cli.BoolFlag{Name: "print", Usage: "print the resolved spec, every default filled in, as YAML"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("validate: want at least one SPEC")
			}
			if c.Bool("print") && c.NArg() != 1 {
				return usagef("validate --print: want exactly one SPEC")
			}
			failed := 0
			for _, path := range c.Args().Slice() {
				s, err := spec.Load(path, c.StringSlice("set")...)
				if err != nil {
					failed++
					fmt.Fprintln(p.stderr, err)
					continue
				}
				if c.Bool("print") {
					_, _ = p.stdout.Write(s.YAML())
					continue
				}
				fmt.Fprintf(p.stdout, "%s: ok (%s, hash %s)\n", path, s.Name, s.ShortHash())
				fmt.Fprintf(p.stdout, "%s: memory: %s\n", path, harness.EstimateMemory(s, 0, runtime.NumCPU()))
				if why := s.GeneratedPoolShortfall(); why != "" {
					fmt.Fprintf(p.stdout, "%s: note: relix run refuses it before any work (relix sweep does not): %s\n", path, why)
				}
			}
			if failed > 0 {
				return invalid(errors.New(plural(failed, "invalid spec")))
			}
			return nil
		},
	}
}

func schemaCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of experiment specs (for editors)",
		Description: "Point your editor's YAML language server at it, e.g. with a first line\n" +
			"# yaml-language-server: $schema=./spec.schema.json",
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("schema: takes no arguments")
			}
			_, err := p.stdout.Write(spec.JSONSchema())
			return err
		},
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
