package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/relix-lab/relix/results"
)

// A run's directory holds what it needs to resume after a kill:
//
//	state.json          the last complete step: checkpoint ids (format.go)
//	journal/NNNNNN.rec  step NNNNNN's rows and source delta (0: the base evaluation)
//	ckpt/NNNNNN/        the runner's current and published checkpoints after that step
//	rollouts.parquet    the run's shards, written once every step is complete
//	steps.parquet
//	eval.parquet
//
// A step is committed in this order: journal, checkpoints, state. A kill
// before the state is written leaves the previous step as the last complete
// one; the journal and checkpoint of the half-done step are simply written
// again on resume. The source's state is never written whole: each journal
// entry holds the delta of its step (source.Source.Delta), and a resumed
// run applies the deltas of steps 1..completed, in order, to a new source.
// The journal is read in full on resume anyway (the progress figures), and
// it is deleted once the shards are written, when no state is needed any
// more: the deltas need no compaction.

const (
	stateFile  = "state.json"
	journalDir = "journal"
	ckptDir    = "ckpt"
)

// stepRecord is one journal entry: every row one step produced, and the
// source's delta of the step (nil for the base evaluation).
type stepRecord struct {
	Rollouts []results.Rollout
	Steps    []results.Step
	Evals    []results.Eval
	Source   []byte
}

type journal struct{ dir string }

func (j journal) readState() (*runState, error) {
	path := filepath.Join(j.dir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := decodeState(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

func (j journal) writeState(st *runState) error {
	data, err := encodeState(*st)
	if err != nil {
		return err
	}
	return results.WriteFileAtomic(filepath.Join(j.dir, stateFile), data)
}

func (j journal) entry(step int) string {
	return filepath.Join(j.dir, journalDir, fmt.Sprintf("%06d.rec", step))
}

func (j journal) writeStep(step int, rec *stepRecord) error {
	data, err := encodeEntry(step, rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(j.dir, journalDir), 0o755); err != nil {
		return err
	}
	return results.WriteFileAtomic(j.entry(step), data)
}

func (j journal) readStep(step int) (*stepRecord, error) {
	data, err := os.ReadFile(j.entry(step))
	if err != nil {
		return nil, err
	}
	rec, err := decodeEntry(data, step)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.entry(step), err)
	}
	return rec, nil
}

// checkpointDir is where the checkpoints after step are saved; a directory
// is complete once renamed from its temporary name.
func (j journal) checkpointDir(step int) string {
	return filepath.Join(j.dir, ckptDir, fmt.Sprintf("%06d", step))
}

// saveCheckpoints writes the checkpoints after step through a temporary
// directory, so a kill never leaves a half-saved one under the final name.
func (j journal) saveCheckpoints(step int, save func(dir string) error) error {
	final := j.checkpointDir(step)
	tmp := filepath.Join(j.dir, ckptDir, ".relix-tmp-"+filepath.Base(final))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := save(tmp); err != nil {
		return err
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// prune removes checkpoints other than the one after step keep, and any
// temporary directories a kill left behind.
func (j journal) prune(keep int) error {
	entries, err := os.ReadDir(filepath.Join(j.dir, ckptDir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	want := filepath.Base(j.checkpointDir(keep))
	for _, e := range entries {
		if e.Name() != want || strings.HasPrefix(e.Name(), ".relix-tmp-") {
			if err := os.RemoveAll(filepath.Join(j.dir, ckptDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
