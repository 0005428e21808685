// Package progress shows how an experiment's runs are going: one live line
// per running arm on a terminal (mpb), or plain periodic log lines when the
// output is not a terminal or the user asked for them.
package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/harness"
	"github.com/relix-lab/relix/results"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Terminal draws one bar per run: step, accepted groups, waste so far,
// latest pass@1 and an ETA.
type Terminal struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[cluster.Run]*runBar
	out  io.Writer
	now  func() time.Time
}

type runBar struct {
	bar   *mpb.Bar
	mu    sync.Mutex
	state harness.StepReport
	last  time.Time // when the previous step was reported, for the ETA
}

// NewTerminal draws on w, which should be a terminal; now is the clock of
// the ETAs.
func NewTerminal(w io.Writer, now func() time.Time) *Terminal {
	return &Terminal{
		p:    mpb.New(mpb.WithOutput(w), mpb.WithWidth(28), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh()),
		bars: map[cluster.Run]*runBar{},
		out:  w,
		now:  now,
	}
}

// Start adds a bar for run.
func (t *Terminal) Start(run cluster.Run, from, steps int) {
	rb := &runBar{state: harness.StepReport{Step: from, Steps: steps, Pass1: math.NaN()}, last: t.now()}
	name := run.String()
	rb.bar = t.p.AddBar(int64(steps),
		mpb.PrependDecorators(
			decor.Name(name, decor.WC{W: len(name) + 1, C: decor.DindentRight}),
			decor.CountersNoUnit("step %d/%d"),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				rb.mu.Lock()
				defer rb.mu.Unlock()
				return describe(rb.state)
			}),
			decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WC{W: 6}), " done"),
		),
	)
	rb.bar.SetCurrent(int64(from))
	t.mu.Lock()
	t.bars[run] = rb
	t.mu.Unlock()
}

// Step moves run's bar.
func (t *Terminal) Step(run cluster.Run, s harness.StepReport) {
	t.mu.Lock()
	rb := t.bars[run]
	t.mu.Unlock()
	if rb == nil {
		return
	}
	rb.mu.Lock()
	prev := rb.state.Step
	rb.state = s
	at := t.now()
	took := at.Sub(rb.last)
	rb.last = at
	rb.mu.Unlock()
	rb.bar.EwmaIncrInt64(int64(s.Step-prev), took)
}

// Finish completes or aborts run's bar.
func (t *Terminal) Finish(run cluster.Run, err error) {
	t.mu.Lock()
	rb := t.bars[run]
	t.mu.Unlock()
	if rb == nil {
		return
	}
	if err != nil {
		rb.bar.Abort(false)
		return
	}
	rb.bar.SetTotal(-1, true)
}

// Note prints a line above the bars.
func (t *Terminal) Note(msg string) {
	fmt.Fprintln(t.out, msg)
}

// Wait waits for the bars to be drawn for the last time.
func (t *Terminal) Wait() { t.p.Wait() }

func describe(s harness.StepReport) string {
	out := fmt.Sprintf(" accepted %d  waste %s", s.Accepted, pct(s.Waste))
	if !math.IsNaN(s.Pass1) {
		out += fmt.Sprintf("  pass@1 %.3f", s.Pass1)
	}
	return out + "  "
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return results.Percent(v)
}

// Log writes one line per run every interval (and at start and end): for
// CI logs, pipes and --quiet-less non-interactive use.
type Log struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	interval time.Duration
	last     map[cluster.Run]time.Time
	started  map[cluster.Run]time.Time
	from     map[cluster.Run]int
}

// NewLog writes to w; interval 0 logs every step.
func NewLog(w io.Writer, now func() time.Time, interval time.Duration) *Log {
	return &Log{w: w, now: now, interval: interval, last: map[cluster.Run]time.Time{},
		started: map[cluster.Run]time.Time{}, from: map[cluster.Run]int{}}
}

// Start logs that run began.
func (l *Log) Start(run cluster.Run, from, steps int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.started[run], l.last[run], l.from[run] = t, t, from
	if from > 0 {
		fmt.Fprintf(l.w, "%s: resuming at step %d/%d\n", run, from, steps)
		return
	}
	fmt.Fprintf(l.w, "%s: started (%d steps)\n", run, steps)
}

// Step logs run's state when interval has passed since its last line.
func (l *Log) Step(run cluster.Run, s harness.StepReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if s.Step < s.Steps && t.Sub(l.last[run]) < l.interval {
		return
	}
	l.last[run] = t
	eta := ""
	if done := s.Step - l.from[run]; done > 0 && s.Step < s.Steps {
		per := t.Sub(l.started[run]) / time.Duration(done)
		eta = fmt.Sprintf("  eta %s", (per * time.Duration(s.Steps-s.Step)).Round(time.Second))
	}
	fmt.Fprintf(l.w, "%s: step %d/%d%s%s\n", run, s.Step, s.Steps, describe(s), eta)
}

// Finish logs how run ended.
func (l *Log) Finish(run cluster.Run, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(l.w, "%s: stopped; complete steps are kept\n", run)
		return
	}
	if err != nil {
		fmt.Fprintf(l.w, "%s: failed: %v\n", run, err)
		return
	}
	fmt.Fprintf(l.w, "%s: done in %s\n", run, l.now().Sub(l.started[run]).Round(time.Millisecond))
}

// Note logs a line.
func (l *Log) Note(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, msg)
}
