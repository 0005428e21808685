package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/relix-lab/relix/experiment/spec"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitInvalid = 1 // bad spec, bad input file, failed check
	exitUsage   = 2 // unknown command or flag, wrong number of arguments
	exitRuntime = 3 // the work itself failed
)

// invalidInputError marks an error caused by what the user gave relix (exit 1).
type invalidInputError struct{ err error }

func (e invalidInputError) Error() string { return e.err.Error() }
func (e invalidInputError) Unwrap() error { return e.err }

func invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidInputError{err}
}

// usageError marks a command line that does not parse (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func init() {
	// urfave/cli's help flag is one global value that every app run writes
	// to as it parses; apps running side by side (tests, or any program
	// embedding relix's CLI) would race on it. Each parse gets its own copy.
	cli.HelpFlag = privateHelpFlag{cli.HelpFlag.(*cli.BoolFlag)}
}

// privateHelpFlag is the help flag, applied through a copy.
type privateHelpFlag struct{ *cli.BoolFlag }

func (f privateHelpFlag) Apply(set *flag.FlagSet) error {
	c := *f.BoolFlag
	return c.Apply(set)
}

// commands lists every subcommand; each lives in its own file with its test.
func commands(p *process) []*cli.Command {
	return []*cli.Command{
		runCommand(p),
		sweepCommand(p),
		validateCommand(p),
		schemaCommand(p),
		reportCommand(p),
		compareCommand(p),
		gradeCommand(p), scoreCommand(p),
		evalCommand(p),
		workerCommand(p),
		versionCommand(p),
	}
}

func newApp(p *process) *cli.App {
	return &cli.App{
		Name:  "relix",
		Usage: "reproducible paired RL experiments: market vs uniform prompt selection for GRPO",
		Description: "relix reads one experiment spec (YAML) and runs, evaluates and reports a paired\n" +
			"comparison of training arms that differ only in where their prompts come from.\n\n" +
			"Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 runtime failure, 130 or 143 stopped\n" +
			"by Ctrl-C or SIGTERM (complete steps are kept).",
		Commands:             commands(p),
		Reader:               p.stdin,
		Writer:               p.stdout,
		ErrWriter:            p.stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		// --set values hold commas (eval.k=[1,4]); each flag is one value.
		DisableSliceFlagSeparator: true,
		// Errors are turned into exit codes by run, not by the cli package,
		// so that tests can run the app in-process.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok && c.Command != nil {
				var names []string
				for _, f := range c.Command.Flags {
					names = append(names, f.Names()...)
				}
				if near := spec.Suggest(strings.TrimLeft(name, "-"), names); near != "" {
					msg += fmt.Sprintf("; did you mean --%s?", near)
				}
			}
			return usageError{msg}
		},
		CommandNotFound: func(c *cli.Context, name string) {
			var names []string
			for _, cmd := range c.App.Commands {
				names = append(names, cmd.Names()...)
			}
			if near := spec.Suggest(name, names); near != "" {
				fmt.Fprintf(c.App.ErrWriter, "relix: unknown command %q; did you mean %q? See 'relix --help'\n", name, near)
				return
			}
			fmt.Fprintf(c.App.ErrWriter, "relix: unknown command %q; see 'relix --help'\n", name)
		},
	}
}

// flagsFirst moves a command's flags before its arguments, so that
// `relix run SPEC --jobs 1` means what `relix run --jobs 1 SPEC` does: the
// cli package stops reading flags at the first argument. A flag takes the
// next word as its value unless it is a switch or written --flag=value;
// "--" ends the flags, and "-" (standard input) is an argument.
func flagsFirst(cmd *cli.Command, args []string) []string {
	switches := map[string]bool{}
	for _, f := range cmd.Flags {
		if _, ok := f.(*cli.BoolFlag); ok {
			for _, name := range f.Names() {
				switches[name] = true
			}
		}
	}
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(append(flags, a), append(rest, args[i+1:]...)...)
		case len(a) < 2 || a[0] != '-':
			rest = append(rest, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !switches[name] && i+1 < len(args) && name != "help" && name != "h" {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, rest...)
}

// run executes relix with args and returns the process exit code.
func run(p *process, args []string) int {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	signals := make(chan os.Signal, 1)
	p.signalNotify(signals, os.Interrupt, syscall.SIGTERM)
	defer p.signalStop(signals)
	var stoppedBy atomic.Int32 // the signal that stopped the work, 0 for none
	go func() {
		select {
		case sig := <-signals:
			// The first Ctrl-C stops cleanly after the work that is
			// complete; a second one gets Go's default: exit at once.
			if s, ok := sig.(syscall.Signal); ok {
				stoppedBy.Store(int32(s))
			}
			cancel()
			p.signalStop(signals)
		case <-ctx.Done():
		}
	}()
	app := newApp(p)
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
		// A command's "help" subcommand is a single global value that
		// concurrent app runs would share; --help does the same job.
		cmd.HideHelpCommand = true
	}
	if len(args) > 2 {
		if cmd := app.Command(args[1]); cmd != nil {
			args = append(args[:2:2], flagsFirst(cmd, args[2:])...)
		}
	}
	err := app.RunContext(ctx, args)
	if len(args) > 1 && app.Command(args[1]) == nil && args[1] != "" && args[1][0] != '-' {
		return exitUsage
	}
	code := exitCode(p.stderr, err)
	if sig := stoppedBy.Load(); sig != 0 && code != exitOK {
		// Stopped by a signal: the shell's convention, 128 + its number
		// (130 for Ctrl-C), so that scripts tell it from a failure.
		return 128 + int(sig)
	}
	return code
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var coder cli.ExitCoder
	var inv invalidInputError
	var usage usageError
	code := exitRuntime
	switch {
	case errors.As(err, &coder):
		code = coder.ExitCode()
	case errors.As(err, &inv):
		code = exitInvalid
	case errors.As(err, &usage):
		code = exitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "relix: %s\n", msg)
	}
	return code
}
