package worker

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// tally counts what a Serve conversation carried, by method, for the one
// line Serve writes to its log at the end: where a run's pipe time went
// shows there without a profiler.
type tally struct {
	mu      sync.Mutex
	methods map[string]*methodTally
}

type methodTally struct {
	requests, items int
	in, out         int64
}

func (t *tally) add(method string, items int, in, out int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.methods == nil {
		t.methods = map[string]*methodTally{}
	}
	m := t.methods[method]
	if m == nil {
		m = &methodTally{}
		t.methods[method] = m
	}
	m.requests++
	m.items += items
	m.in += int64(in)
	m.out += int64(out)
}

// write writes the tally as one line, the busiest methods first.
func (t *tally) write(w io.Writer, who string) {
	if w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.methods))
	for k := range t.methods {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := t.methods[b].requests - t.methods[a].requests; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, k := range names {
		m := t.methods[k]
		items := ""
		if m.items > 0 {
			items = fmt.Sprintf(" of %d items", m.items)
		}
		parts[i] = fmt.Sprintf("%s %d%s (%s in, %s out)", k, m.requests, items, mib(m.in), mib(m.out))
	}
	fmt.Fprintf(w, "%s served %s\n", who, strings.Join(parts, ", "))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
