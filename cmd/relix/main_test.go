package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMain lets a test re-execute this test binary as relix itself, so that
// real exit codes and real stdout/stderr are checked.
func TestMain(m *testing.M) {
	if os.Getenv("RELIX_TEST_AS_MAIN") == "1" {
		main()
	}
	testscript.Main(m, map[string]func(){"relix": main})
}

// TestScripts runs the end-to-end scripts in testdata/script: the real
// binary, real files, real exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("GOCOVERDIR", "")
			return nil
		},
		UpdateScripts: *update,
	})
}

// testProcess is a simulated outside world: stdin, stdout and stderr as
// given, no environment for relix itself (worker processes inherit the
// test's, which a Python worker needs for its BLAS settings), a stopped clock, no signals, and a build that
// recorded no commit in a directory that is no checkout. Its executable is
// the test binary, as os.Executable says.
func testProcess(stdin io.Reader, stdout, stderr io.Writer) *process {
	return &process{
		stdin:        stdin,
		stdout:       stdout,
		stderr:       stderr,
		getenv:       func(string) string { return "" },
		environ:      os.Environ,
		now:          func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		ctx:          context.Background(),
		signalNotify: func(chan<- os.Signal, ...os.Signal) {},
		signalStop:   func(chan<- os.Signal) {},
		executable:   os.Executable,
		buildInfo:    func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true },
		gitHead:      func() (string, error) { return "", errors.New("not a git checkout") },
	}
}

// cliRun runs relix in-process and returns its exit code, stdout and stderr.
func cliRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return cliRunWithStdin(t, "", args...)
}

// cliRunWithStdin runs relix in-process with stdin as its standard input.
func cliRunWithStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(testProcess(strings.NewReader(stdin), &stdout, &stderr), append([]string{"relix"}, args...))
	return code, stdout.String(), stderr.String()
}

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./cmd/relix -update")
	assert.Equal(t, string(want), got)
}

func TestExitCodesOfTheRealBinary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"ok", []string{"version"}, exitOK},
		{"invalid spec", []string{"validate", "../../experiment/spec/testdata/unknown-key.bad.yml"}, exitInvalid},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"unknown flag", []string{"validate", "--frobnicate", "x.yaml"}, exitUsage},
		{"missing argument", []string{"validate"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], tt.args...)
			cmd.Env = append(os.Environ(), "RELIX_TEST_AS_MAIN=1")
			err := cmd.Run()
			code := 0
			if exitErr, ok := err.(*exec.ExitError); ok {
				code = exitErr.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.code, code)
		})
	}
}

// TestHelp keeps the CLI reference in testdata/help.golden; a change to a
// command's flags or text shows up as a diff there.
func TestHelp(t *testing.T) {
	t.Parallel()
	var all strings.Builder
	code, out, _ := cliRun(t, "--help")
	require.Equal(t, exitOK, code)
	all.WriteString("$ relix --help\n" + out)
	for _, cmd := range commands(newProcess()) {
		code, out, _ := cliRun(t, cmd.Name, "--help")
		require.Equal(t, exitOK, code, cmd.Name)
		all.WriteString("\n$ relix " + cmd.Name + " --help\n" + out)
	}
	golden(t, "help.golden", all.String())
}

func TestFlagsFirst(t *testing.T) {
	cmd := &cli.Command{Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}},
		&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}},
		&cli.StringSliceFlag{Name: "set"},
	}}
	for _, tc := range []struct{ in, want []string }{
		{[]string{"spec.yaml", "--jobs", "1"}, []string{"--jobs", "1", "spec.yaml"}},
		{[]string{"spec.yaml", "-q", "--set", "a=1", "-j", "2"}, []string{"-q", "--set", "a=1", "-j", "2", "spec.yaml"}},
		{[]string{"a", "--jobs=3", "b", "-"}, []string{"--jobs=3", "a", "b", "-"}},
		{[]string{"a", "--", "--quiet"}, []string{"--", "a", "--quiet"}},
		{[]string{"--set", "-x", "a"}, []string{"--set", "-x", "a"}},
		{[]string{"a", "--help"}, []string{"--help", "a"}},
	} {
		assert.Equal(t, tc.want, flagsFirst(cmd, tc.in), "%q", tc.in)
	}
}

func TestFlagsAfterTheSpecAndSuggestions(t *testing.T) {
	code, out, _ := cliRun(t, "validate", "../../experiments/smoke.yaml", "--print", "--set", "train.steps=5")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "steps: 5")

	code, _, errOut := cliRun(t, "rnu", "x.yaml")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, "relix: unknown command \"rnu\"; did you mean \"run\"? See 'relix --help'\n", errOut)
	code, _, errOut = cliRun(t, "run", "--jbos", "2", "x.yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "flag provided but not defined: -jbos; did you mean --jobs?")
}
