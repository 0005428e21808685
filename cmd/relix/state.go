package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// process is everything relix takes from the outside world (the model is
// k6's cmd/state). main makes it once from the real thing and tests make
// simulated ones, so that no command and no library reads the terminal, the
// environment, the signals, the clock, the program's own path or its build
// behind the caller's back: they get what they need from here, as values or
// functions.
type process struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// environ is os.Environ: what worker processes inherit.
	environ func() []string
	now     func() time.Time
	ctx     context.Context
	// signalNotify and signalStop are signal.Notify and signal.Stop: the
	// signals that stop a run (Ctrl-C, SIGTERM) arrive through them.
	signalNotify func(c chan<- os.Signal, sig ...os.Signal)
	signalStop   func(c chan<- os.Signal)
	// executable is os.Executable: what Slurm tasks and a worker command
	// "relix" run.
	executable func() (string, error)
	// buildInfo is debug.ReadBuildInfo: the module version and the commit
	// the toolchain recorded.
	buildInfo func() (*debug.BuildInfo, bool)
	// gitHead is the commit of the working directory's checkout, for a
	// relix the toolchain recorded none for (go run).
	gitHead func() (string, error)
	// version is the release version set at link time, or "".
	version string
}

// version is set at link time for releases (-ldflags "-X main.version=v1.2.3");
// otherwise the module version from the build info is used.
var version = ""

func newProcess() *process {
	return &process{
		stdin:        os.Stdin,
		stdout:       os.Stdout,
		stderr:       os.Stderr,
		getenv:       os.Getenv,
		environ:      os.Environ,
		now:          time.Now,
		ctx:          context.Background(),
		signalNotify: signal.Notify,
		signalStop:   signal.Stop,
		executable:   os.Executable,
		buildInfo:    debug.ReadBuildInfo,
		gitHead:      gitHead,
		version:      version,
	}
}

// self is the path of this program, or "" when the system cannot say.
func (p *process) self() string {
	exe, err := p.executable()
	if err != nil {
		return ""
	}
	return exe
}

// gitHead reads the commit of the checkout this relix was compiled from,
// for a build the toolchain stamped with none (go run). It asks git in
// the directory of this source file, as the compiler recorded it, and only
// if that checkout is relix's own (its go.mod names relix's module): the
// working directory may be another repository altogether, whose commit
// says nothing about relix. A -trimpath build records no directory, and
// gets none.
func gitHead() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", errors.New("no source directory recorded")
	}
	dir := filepath.Dir(file)
	top, err := exec.Command("git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", err
	}
	mod, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(top)), "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module "+relixModule+"\n")) {
		return "", errors.New("not relix's checkout")
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// relixModule is relix's module path, as go.mod declares it.
const relixModule = "github.com/relix-lab/relix"
