package worker

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// tailLines is how many of the worker's last stderr lines an error quotes.
const tailLines = 20

// logTail passes the worker's stderr on to the run's log and keeps its last
// lines for error messages. relix's own notes about the worker (notef) go
// to the log too, prefixed "relix: ", and are not part of the tail.
type logTail struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte
	lines   []string
}

func newLogTail(w io.Writer) *logTail {
	if w == nil {
		w = io.Discard
	}
	return &logTail{w: w}
}

// Write takes the worker's stderr. Whole lines go on to the log, so that
// relix's notes never land inside one of the worker's lines.
func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 4096 { // a very long line without a newline
		l.line(l.partial)
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// line passes one line on to the log and keeps it in the tail.
func (l *logTail) line(b []byte) {
	_, _ = l.w.Write(append(b[:len(b):len(b)], '\n')) // a failing log must not fail the worker
	l.lines = append(l.lines, strings.TrimRight(string(b), "\r"))
	if len(l.lines) > tailLines {
		l.lines = l.lines[len(l.lines)-tailLines:]
	}
}

// flush passes on a last line that had no newline (the worker is gone).
func (l *logTail) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(l.partial)
		l.partial = l.partial[:0]
	}
}

// notef writes one of relix's own lines to the log, not to the tail.
func (l *logTail) notef(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = fmt.Fprintf(l.w, "relix: "+format+"\n", args...)
}

// tail returns the last lines, indented, or "" when there are none.
func (l *logTail) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return "  " + strings.Join(l.lines, "\n  ")
}
