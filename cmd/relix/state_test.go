package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relix-lab/relix/results"
)

// The tests of this file simulate, through process, what relix takes from
// the outside world: its build, its checkout, its own path and signals.

func TestVersionComesFromTheBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		linked  string
		info    *debug.BuildInfo
		ok      bool
		version string
	}{
		{"module and commit", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}}, true, "relix v1.2.3 (commit abc123, "},
		{"link-time version wins", "v9.0.0", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "relix v9.0.0 (commit unknown, "},
		{"a checkout's build", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "relix devel (commit unknown, "},
		{"no build info", "", nil, false, "relix devel (commit unknown, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			p := testProcess(strings.NewReader(""), &stdout, &stderr)
			p.version = tc.linked
			p.buildInfo = func() (*debug.BuildInfo, bool) { return tc.info, tc.ok }
			p.gitHead = func() (string, error) { t.Error("relix version asked git"); return "", errors.New("no") }
			require.Equal(t, exitOK, run(p, []string{"relix", "version"}), stderr.String())
			assert.Equal(t, tc.version+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+")\n", stdout.String())
		})
	}
}

// TestManifestRecordsTheCheckoutsCommit: a relix whose build recorded no
// commit (go run) records its checkout's HEAD in the manifest, and the
// manifest's times come from the process's clock.
func TestManifestRecordsTheCheckoutsCommit(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "zone-sweep")
	var stdout, stderr bytes.Buffer
	p := testProcess(strings.NewReader(""), &stdout, &stderr)
	p.gitHead = func() (string, error) { return "0123456789abcdef0123456789abcdef01234567", nil }
	code := run(p, []string{"relix", "sweep", "-q", "--out", out,
		"--set", "dataset.train.generated.size=200", "--set", "sweep.grid=[0.1]",
		"--set", "sweep.selectors=[{name: filter, kind: filter}]", "--set", "sweep.seeds=[1]",
		"--set", "sweep.windows=1", "--set", "sweep.warmup=0", "../../experiments/zone-sweep.yaml"})
	require.Equal(t, exitOK, code, stderr.String())
	m, err := results.ReadManifest(out)
	require.NoError(t, err)
	assert.Equal(t, results.BuildInfo{Version: "devel", Commit: "0123456789abcdef0123456789abcdef01234567"}, m.Relix)
	assert.Equal(t, p.now(), m.Start)
	assert.Equal(t, p.now(), m.End)
}

// TestSlurmNeedsToKnowWhatToRun: the program's own path comes from the
// process; without it (and without cluster.binary) Slurm has nothing to run.
func TestSlurmNeedsToKnowWhatToRun(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	p := testProcess(strings.NewReader(""), &stdout, &stderr)
	p.executable = func() (string, error) { return "", errors.New("no /proc here") }
	code := run(p, []string{"relix", "run", "-q", "--cluster", "slurm", "--out", filepath.Join(t.TempDir(), "out"), "testdata/kill.yaml"})
	assert.Equal(t, exitRuntime, code)
	assert.Contains(t, stderr.String(), "cluster.binary: not set, and relix does not know its own executable")
}

// TestASignalStopsARunCleanly delivers a simulated Ctrl-C once a run has
// started training: relix stops after the complete steps, says how to resume, and
// hands the signal back to Go's default so that a second one kills it.
func TestASignalStopsARunCleanly(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out")
	var (
		mu       sync.Mutex
		notified chan<- os.Signal
		stopped  []chan<- os.Signal
	)
	stderr := &onWrite{when: "uniform/seed-9: started", do: func() {
		mu.Lock()
		defer mu.Unlock()
		notified <- os.Interrupt
	}}
	var stdout bytes.Buffer
	p := testProcess(strings.NewReader(""), &stdout, stderr)
	p.signalNotify = func(c chan<- os.Signal, sig ...os.Signal) {
		assert.ElementsMatch(t, []os.Signal{os.Interrupt, syscall.SIGTERM}, sig)
		mu.Lock()
		defer mu.Unlock()
		notified = c
	}
	p.signalStop = func(c chan<- os.Signal) {
		mu.Lock()
		defer mu.Unlock()
		stopped = append(stopped, c)
	}
	code := run(p, []string{"relix", "run", "-q", "--jobs", "1", "--out", dir, "testdata/kill.yaml"})
	assert.Equal(t, 130, code, "stopped by SIGINT: 128 + 2, as shells report it")
	assert.Contains(t, stderr.String(), "relix: interrupted; complete steps are saved in "+dir+", run the same command again to resume\n")
	assert.Contains(t, stderr.String(), "uniform/seed-9: stopped; complete steps are kept\n")
	assert.Empty(t, stdout.String(), "no tables for a stopped run")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, stopped, notified, "the signals go back to Go's default")
	_, err := os.Stat(filepath.Join(dir, results.ManifestFile))
	assert.True(t, os.IsNotExist(err), "an interrupted run is not merged")
}

// onWrite is a writer that calls do, once, when what was written contains
// when.
type onWrite struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	when string
	do   func()
	once sync.Once
}

func (w *onWrite) Write(b []byte) (int, error) {
	w.mu.Lock()
	n, err := w.buf.Write(b)
	hit := strings.Contains(w.buf.String(), w.when)
	w.mu.Unlock()
	if hit {
		w.once.Do(w.do)
	}
	return n, err
}

func (w *onWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
