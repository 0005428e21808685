package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/results/dirlock"
)

// A run's directory holds what it needs to resume after a kill:
//
//	state.json          the run's identity (format.go), and once done, its end
//	journal/NNNNNN.rec  step NNNNNN's rows, source delta and checkpoint ids (0: the base evaluation)
//	ckpt/NNNNNN/        the runner's current and published checkpoints after that step
//	rollouts.parquet    the run's shards, written once every step is complete
//	steps.parquet
//	eval.parquet
//	problems.parquet    the experiment's first run only: the problems table
//
// state.json is written when a trained run starts, before its first step,
// and again when it is done. A step is committed in two writes: its
// checkpoints, saved under a directory no committed step names, then its
// journal entry, which names them and is renamed into place and synced.
// That rename is the step's one commit point, so a step costs the runner's
// save and one synced file: the entries that exist, 1, 2, … in order, are
// the complete steps. A kill before the entry is in place leaves the
// previous step as the last complete one, and the half-done step's
// checkpoints are simply saved again on resume; the previous step's
// checkpoints are removed only after the entry is synced. The source's
// state is never written whole: each journal entry holds the delta of its
// step (source.Source.Delta), and a resumed run applies the deltas of steps
// 1..completed, in order, to a new source. The journal is read in full on
// resume anyway (the progress figures, the deltas, the last checkpoints),
// and it is deleted once the shards are written, when no state is needed
// any more: the deltas need no compaction.

const (
	stateFile     = "state.json"
	journalDir    = "journal"
	ckptDir       = "ckpt"
	workerLogFile = "worker.log"
)

// runEntries are what relix writes in a run's directory, for --force to
// remove (results.Clear) and nothing else.
var runEntries = []string{stateFile, journalDir, ckptDir, workerLogFile, liveStepsFile, dirlock.File,
	results.StepsFile, results.RolloutsFile, results.EvalFile, results.ProblemsFile}

// stepRecord is one journal entry: every row one step produced, the
// source's delta of the step (nil for the base evaluation) and the ids of
// the checkpoints saved after it (empty for the base evaluation), which a
// resumed run loads.
type stepRecord struct {
	Rollouts  []results.Rollout
	Steps     []results.Step
	Evals     []results.Eval
	Source    []byte
	Current   string
	Published string
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
		return nil, j.corrupt(path, err)
	}
	return st, nil
}

// corrupt is the error of a run file that does not decode. A journal entry
// or state cannot be deleted on its own (the steps after it depend on it),
// so the message says what can be: the run, or every run.
func (j journal) corrupt(path string, cause error) error {
	return fmt.Errorf("%s is %w: %v; delete %s to redo this run, or rerun with --force to redo every run", path, results.ErrCorrupt, cause, j.dir)
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

// completed is the number of steps complete: the journal's entries from
// step 1 up to the first that is missing. It only looks for the entries;
// reading them is the caller's.
func (j journal) completed() (int, error) {
	n := 0
	for {
		_, err := os.Stat(j.entry(n + 1))
		if errors.Is(err, fs.ErrNotExist) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// reset removes a journal and checkpoints that a run's state does not
// account for, before the run starts afresh: they cannot be committed
// steps of this run, and would otherwise be read as such on resume.
func (j journal) reset() error {
	return errors.Join(os.RemoveAll(filepath.Join(j.dir, journalDir)), os.RemoveAll(filepath.Join(j.dir, ckptDir)))
}

func (j journal) readStep(step int) (*stepRecord, error) {
	return j.readStepReusing(step, nil)
}

// readStepReusing is readStep with the rollouts read into reuse's memory
// when it is large enough.
func (j journal) readStepReusing(step int, reuse []results.Rollout) (*stepRecord, error) {
	data, err := os.ReadFile(j.entry(step))
	if err != nil {
		return nil, err
	}
	rec, err := decodeEntryReusing(data, step, reuse)
	if err != nil {
		return nil, j.corrupt(j.entry(step), err)
	}
	return rec, nil
}

// liveSteps is the steps table of the run's complete steps as NDJSON
// (results.AppendNDJSON), a line appended as each step commits, for
// reading while the run goes (tail -f, jq, DuckDB's read_json). It is a
// view of the journal, not a record: a resume writes it afresh from the
// journal, so a line lost to a kill between the commit and the append
// comes back, and nothing is read from it.
const liveStepsFile = "steps.ndjson"

func (j journal) writeLiveSteps(data []byte) error {
	return results.WriteFileAtomic(filepath.Join(j.dir, liveStepsFile), data)
}

func (j journal) appendLiveSteps(steps []results.Step) error {
	path := filepath.Join(j.dir, liveStepsFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(results.AppendNDJSON(nil, steps))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	return nil
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
	if err := writeChecksums(tmp); err != nil {
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
