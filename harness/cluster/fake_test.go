package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeSlurm is a directory of shell scripts standing in for sbatch,
// squeue, scontrol and scancel. What they print is set by files in the
// same directory, and every call is recorded there:
//
//	sbatch.out        what sbatch prints (a job id); sbatch.err instead: fail with it
//	squeue.N          what the Nth squeue prints (the last one repeats); "!MSG": fail with MSG
//	squeue.cancelled  what squeue prints once scancel has been called
//	scontrol.ID       what `scontrol show job -o ID` prints; without it, "Invalid job id"
//	NAME.args         the arguments of every call, a line each
type fakeSlurm struct {
	dir string
}

// Each test's fake is a directory of links to one set of scripts, written
// once: writing an executable while another test forks can leave the
// child holding it open for writing, and running it then fails with "text
// file busy". A script finds its test's directory from the link it was
// run by.
const fakeHead = `#!/bin/sh
d=$(dirname "$0")
printf '%%s\n' "$*" >>"$d/%s.args"
`

var (
	fakeScriptsOnce sync.Once
	fakeScriptsDir  string
	fakeScriptsErr  error
)

func writeFakeScripts() {
	fakeScriptsDir, fakeScriptsErr = os.MkdirTemp("", "relix-fake-slurm-")
	for name, body := range fakeScripts {
		if fakeScriptsErr == nil {
			script := fmt.Sprintf(fakeHead, name) + body
			fakeScriptsErr = os.WriteFile(filepath.Join(fakeScriptsDir, name), []byte(script), 0o755)
		}
	}
}

var fakeScripts = map[string]string{
	"sbatch": `
script=$(eval echo \${$#})
cp "$script" "$d/submitted.sh"
if [ -e "$d/sbatch.err" ]; then cat "$d/sbatch.err" >&2; exit 1; fi
cat "$d/sbatch.out"
`,
	"squeue": `
n=$(cat "$d/squeue.n" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n >"$d/squeue.n"
f="$d/squeue.$n"
while [ ! -e "$f" ] && [ $n -gt 1 ]; do n=$((n - 1)); f="$d/squeue.$n"; done
if [ -e "$d/scancel.args" ] && [ -e "$d/squeue.cancelled" ]; then f="$d/squeue.cancelled"; fi
case $(cat "$f") in
!*) cut -c2- "$f" >&2; exit 1 ;;
esac
cat "$f"
`,
	"scontrol": `
eval id=\${$#}
if [ -e "$d/scontrol.$id" ]; then cat "$d/scontrol.$id"; exit 0; fi
echo "slurm_load_jobs error: Invalid job id specified" >&2
exit 1
`,
	"scancel": `
exit 0
`,
}

func newFakeSlurm(t *testing.T) *fakeSlurm {
	t.Helper()
	fakeScriptsOnce.Do(writeFakeScripts)
	require.NoError(t, fakeScriptsErr)
	f := &fakeSlurm{dir: t.TempDir()}
	for name := range fakeScripts {
		require.NoError(t, os.Symlink(filepath.Join(fakeScriptsDir, name), filepath.Join(f.dir, name)))
	}
	f.set(t, "sbatch.out", "12\n")
	return f
}

func (f *fakeSlurm) set(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644))
}

// queue sets what successive squeue calls print.
func (f *fakeSlurm) queue(t *testing.T, outputs ...string) {
	t.Helper()
	for i, out := range outputs {
		f.set(t, fmt.Sprintf("squeue.%d", i+1), out)
	}
}

// calls returns the recorded arguments of every call of a command.
func (f *fakeSlurm) calls(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, name+".args"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// eventLog records Events calls as lines.
type eventLog struct {
	mu    sync.Mutex
	lines []string
	errs  map[Run]error
	// onStart, when set, is called after each Start.
	onStart func(Run)
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *eventLog) Start(r Run) {
	l.add("start %s", r)
	if l.onStart != nil {
		l.onStart(r)
	}
}

func (l *eventLog) Running(r Run) { l.add("running %s", r) }

func (l *eventLog) Finish(r Run, err error) {
	if err != nil {
		l.add("failed %s", r)
		l.mu.Lock()
		if l.errs == nil {
			l.errs = map[Run]error{}
		}
		l.errs[r] = err
		l.mu.Unlock()
		return
	}
	l.add("done %s", r)
}

func (l *eventLog) Note(msg string) { l.add("note %s", msg) }

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// notes returns the Note lines only.
func (l *eventLog) notes() []string {
	var out []string
	for _, line := range l.all() {
		if msg, ok := strings.CutPrefix(line, "note "); ok {
			out = append(out, msg)
		}
	}
	return out
}

// progress returns the lines other than notes.
func (l *eventLog) progress() []string {
	var out []string
	for _, line := range l.all() {
		if !strings.HasPrefix(line, "note ") {
			out = append(out, line)
		}
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fakeScriptsDir != "" {
		_ = os.RemoveAll(fakeScriptsDir)
	}
	os.Exit(code)
}
