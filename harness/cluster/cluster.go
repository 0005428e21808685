// Package cluster is where an experiment's runs execute: Local runs them as
// goroutines of this process, Slurm as the tasks of one Slurm job array.
// Either way each run writes its own shards into the results directory and
// the harness merges them afterwards, so where the runs executed does not
// change a byte of the results.
package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
)

// Run is one arm repeated with one seed: what one executor slot, or one
// Slurm task, executes.
type Run struct {
	// Group names the experiment of a multirun the run belongs to (its
	// directory under the multirun's root); empty for a single experiment.
	Group string `json:"group,omitempty"`
	Arm   string `json:"arm"`
	Seed  uint64 `json:"seed"`
}

func (r Run) String() string {
	if r.Group != "" {
		return fmt.Sprintf("%s: %s/seed-%d", r.Group, r.Arm, r.Seed)
	}
	return fmt.Sprintf("%s/seed-%d", r.Arm, r.Seed)
}

// Dir is the run's directory under its experiment's results directory,
// wherever it runs.
func (r Run) Dir(out string) string {
	return filepath.Join(out, "runs", r.Arm, "seed-"+strconv.FormatUint(r.Seed, 10))
}

// An Executor executes runs and returns once none is executing: every one
// done, one failed, or ctx cancelled.
type Executor interface {
	Execute(ctx context.Context, runs []Run) error
}

// Local executes runs in this process, Jobs at a time. The first run to
// fail cancels the others (they stop at a step boundary, their complete
// steps kept) and its error, prefixed with the run, is returned.
type Local struct {
	Jobs int                                    // runs at once; at least 1
	Run  func(ctx context.Context, r Run) error // executes one run
}

// Execute runs every run.
func (l *Local) Execute(ctx context.Context, runs []Run) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, max(l.Jobs, 1))
	)
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := l.Run(ctx, r); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", r, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstErr
}
