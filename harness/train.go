package harness

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners"
)

// runEnv is what every run of one experiment shares.
type runEnv struct {
	spec      *spec.Spec
	sets      *ProblemSets
	out       string
	specDir   string
	progress  Progress
	workerLog io.Writer
	// backends make the run's runner (Options.Backends); environ and relix
	// are what a worker process inherits and is told at hello.
	backends runners.Backends
	environ  []string
	relix    string
	// executable is this program (Options.Executable), for the runners.
	executable string
	failpoint  func(string) error

	mu       sync.Mutex
	identity *results.Component // what served the runs, when the runner says
}

// noteIdentity keeps what the first runner that can say reports serving.
func (e *runEnv) noteIdentity(r runners.Runner) {
	id, ok := r.(runners.Identifier)
	if !ok {
		return
	}
	name, version := id.Identity()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.identity == nil {
		e.identity = &results.Component{Name: name, Version: version}
	}
}

func (e *runEnv) fail(point string) error {
	if e.failpoint == nil {
		return nil
	}
	return e.failpoint(point)
}

// run executes one run to completion, resuming from its last complete step,
// and writes its shards. It reports whether it resumed.
func (e *runEnv) run(ctx context.Context, id cluster.Run) (resumed bool, err error) {
	j := journal{id.Dir(e.out)}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return false, err
	}
	st, err := j.readState()
	if err != nil {
		return false, err
	}
	if st != nil && st.SpecHash != e.spec.Hash() {
		return false, fmt.Errorf("%s belongs to another spec", j.dir)
	}
	if st != nil && st.Train != e.sets.Train.Hash {
		return false, fmt.Errorf("%s was trained on another training set (%s, now %s)", j.dir, st.Train, e.sets.Train.Hash)
	}
	if st != nil && st.Done {
		return false, nil
	}
	arm := armOf(e.spec, id.Arm)
	steps := e.spec.Train.Steps
	if arm.Source == "none" {
		steps = 0
	}
	from := 0
	if st != nil && arm.Source != "none" {
		if from, err = j.completed(); err != nil {
			return false, err
		}
	}
	e.progress.Start(id, from, steps)
	defer func() { e.progress.Finish(id, err) }()

	logw := e.workerLog
	if logw == nil {
		f, err := os.OpenFile(filepath.Join(j.dir, workerLogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return false, err
		}
		defer f.Close()
		logw = f
	}
	r, err := e.backends.New(ctx, e.spec.Runner, runners.Options{
		Problems: []*dataset.Set{e.sets.Train, e.sets.Heldout}, Dir: e.specDir, Log: logw, Executable: e.executable, Environ: e.environ, Relix: e.relix,
	})
	if err != nil {
		return false, err
	}
	defer r.Close()
	e.noteIdentity(r)

	if arm.Source == "none" {
		if st == nil {
			evals, err := e.evaluate(ctx, r, id, 0, r.Base())
			if err != nil {
				return false, err
			}
			if err := j.writeStep(0, &stepRecord{Evals: evals}); err != nil {
				return false, err
			}
		}
		return false, e.finish(ctx, id, j, e.newState(r), r, 0)
	}

	src, err := newSource(source.Config{
		Arm: arm, Train: e.spec.Train, Seed: id.Seed, Pool: e.sets.Train, Runner: r,
		Reward: source.NewRewarder(e.spec.Train.Reward),
	})
	if err != nil {
		return false, err
	}
	if a, ok := src.(source.Ahead); ok {
		defer a.Close()
	}
	if st == nil {
		// The state comes first: it says whose the journal is, so whatever
		// an earlier run with another state left must go before it.
		st = e.newState(r)
		if err := j.reset(); err != nil {
			return false, err
		}
		if err := j.writeState(st); err != nil {
			return false, err
		}
	}
	// A resumed run reads its journal once: for the progress figures, for
	// the source's deltas, which rebuild its state applied in order, and
	// for the checkpoints of its last complete step.
	tally := &runTally{pass1: math.NaN()}
	var live []byte // the live steps file, rebuilt from the journal
	for step := 1; step <= from; step++ {
		rec, err := j.readStep(step)
		if err != nil {
			return resumed, fmt.Errorf("resuming at step %d: %w", from, err)
		}
		tally.add(rec)
		live = results.AppendNDJSON(live, rec.Steps)
		if err := src.Apply(step-1, rec.Source); err != nil {
			return resumed, fmt.Errorf("resuming at step %d: %s: %w", from, j.entry(step), err)
		}
		st.Completed, st.Current, st.Published = step, rec.Current, rec.Published
	}
	if from > 0 {
		resumed = true
		dir := j.checkpointDir(from)
		if err := verifyChecksums(dir); err != nil {
			return true, fmt.Errorf("resuming at step %d: the checkpoints are %w: %v; delete %s to redo this run, or rerun with --force to redo every run",
				from, results.ErrCorrupt, err, j.dir)
		}
		for _, ck := range []struct{ name, want string }{{"current", st.Current}, {"published", st.Published}} {
			got, err := r.Load(ctx, filepath.Join(dir, ck.name))
			if err != nil {
				return true, fmt.Errorf("resuming at step %d: %w", from, err)
			}
			if got != ck.want {
				return true, fmt.Errorf("resuming at step %d: %s holds checkpoint %s; the journal names %s", from, filepath.Join(dir, ck.name), got, ck.want)
			}
		}
	}
	if steps > 0 {
		if err := j.writeLiveSteps(live); err != nil {
			return resumed, err
		}
	}
	var rows []results.Rollout
	for step := st.Completed; step < steps; step++ {
		if err := ctx.Err(); err != nil {
			return resumed, err
		}
		prevPublished := st.Published
		rec, err := e.step(ctx, r, src, id, st, step, rows)
		if err != nil {
			return resumed, fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := e.commit(ctx, j, r, src, st, step+1, rec, prevPublished); err != nil {
			return resumed, err
		}
		tally.add(rec)
		if err := j.appendLiveSteps(rec.Steps); err != nil {
			return resumed, err
		}
		rows = rec.Rollouts // committed: the next step's rows can use the memory
		e.progress.Step(id, StepReport{Step: step + 1, Steps: steps, Accepted: tally.accepted, Waste: tally.waste(), Pass1: tally.pass1})
	}
	return resumed, e.finish(ctx, id, j, st, r, steps)
}

// newState is the state of a run that has not started.
func (e *runEnv) newState(r runners.Runner) *runState {
	return &runState{SpecHash: e.spec.Hash(), Train: e.sets.Train.Hash, Current: r.Base(), Published: r.Base()}
}

// step runs one training step: the source's groups, the runner's update,
// publishing and, when due, evaluation. It changes st's checkpoints. The
// step's rollout rows go into reuse's memory when it is large enough.
func (e *runEnv) step(ctx context.Context, r runners.Runner, src source.Source, id cluster.Run, st *runState, step int, reuse []results.Rollout) (*stepRecord, error) {
	s := e.spec
	batch, err := src.Next(ctx, step, st.Current, st.Published)
	if err != nil {
		return nil, err
	}
	publishes, more := (step+1)%s.Train.PublishEvery == 0, step+1 < s.Train.Steps
	early := false
	if a, ok := src.(source.AheadOfStep); ok && more && !publishes {
		a.AheadOfStep(ctx, step+1, st.Published)
		early = true
	}
	h := runners.NewHyper(s.Train.GRPO, step, s.Train.Steps, st.Published)
	next, m, err := r.Step(ctx, st.Current, batch.Groups, h)
	if err != nil {
		return nil, err
	}
	st.Current = next
	if publishes {
		st.Published = next
	}
	if a, ok := src.(source.Ahead); ok && more && !early {
		a.Ahead(ctx, step+1, st.Current, st.Published)
	}
	n := int32(step + 1)
	rec := &stepRecord{
		Rollouts: rolloutRows(id, n, batch, h.StdEpsilon, reuse),
		Steps:    []results.Step{stepRow(id, n, next, h.LR, m, batch, s.Train.GroupsPerStep)},
	}
	if evalDue(s, step+1) {
		if rec.Evals, err = e.evaluate(ctx, r, id, n, next); err != nil {
			return nil, fmt.Errorf("evaluating: %w", err)
		}
	}
	return rec, nil
}

func evalDue(s *spec.Spec, completed int) bool {
	return completed == s.Train.Steps || (s.Eval.Every > 0 && completed%s.Eval.Every == 0)
}

// commit makes step durable (see journal.go): the checkpoints, then the
// journal entry that holds the step's rows, the source's delta and the
// checkpoints' ids, whose rename is the step's commit point; only then is
// the previous step's checkpoint removed.
func (e *runEnv) commit(ctx context.Context, j journal, r runners.Runner, src source.Source, st *runState, completed int, rec *stepRecord, prevPublished string) error {
	var err error
	if rec.Source, err = src.Delta(); err != nil {
		return err
	}
	err = j.saveCheckpoints(completed, func(dir string) error {
		current, published := filepath.Join(dir, "current"), filepath.Join(dir, "published")
		if err := r.Save(ctx, st.Current, current); err != nil {
			return err
		}
		// A checkpoint is written once: the published one is either the
		// step's own (just saved) or unchanged since the previous step,
		// whose save is still on disk. On a GPU a save is gigabytes.
		if st.Published == st.Current && linkedOrCopied(current, published) {
			return nil
		}
		if st.Published == prevPublished && linkedOrCopied(filepath.Join(j.checkpointDir(completed-1), "published"), published) {
			return nil
		}
		_ = os.RemoveAll(published)
		return r.Save(ctx, st.Published, published)
	})
	if err != nil {
		return fmt.Errorf("saving checkpoints: %w", err)
	}
	if err := e.fail(fmt.Sprintf("step %d: checkpoints", completed)); err != nil {
		return err
	}
	rec.Current, rec.Published = st.Current, st.Published
	if err := j.writeStep(completed, rec); err != nil {
		return err
	}
	st.Completed = completed
	if err := e.fail(fmt.Sprintf("step %d: journal", completed)); err != nil {
		return err
	}
	return j.prune(completed)
}

// finish writes the run's shards from its journal, and the experiment's
// first run the problems table, and marks the run done.
func (e *runEnv) finish(ctx context.Context, id cluster.Run, j journal, st *runState, r runners.Runner, steps int) error {
	opts := results.Options{SpecHash: e.spec.Hash()}
	rollouts, err := results.Create[results.Rollout](filepath.Join(j.dir, results.RolloutsFile), opts)
	if err != nil {
		return err
	}
	defer rollouts.Abort()
	stepRows, err := results.Create[results.Step](filepath.Join(j.dir, results.StepsFile), opts)
	if err != nil {
		return err
	}
	defer stepRows.Abort()
	evals, err := results.Create[results.Eval](filepath.Join(j.dir, results.EvalFile), opts)
	if err != nil {
		return err
	}
	defer evals.Abort()
	// The rows of one entry are in the writers once written (they copy into
	// their columns), so the next entry is read into the same memory.
	var rows []results.Rollout
	for step := 0; step <= steps; step++ {
		rec, err := j.readStepReusing(step, rows)
		if os.IsNotExist(err) && step == 0 && steps > 0 {
			continue // trained arms are not evaluated before their first step
		}
		if err != nil {
			return err
		}
		if err := rollouts.Write(rec.Rollouts...); err != nil {
			return err
		}
		rows = rec.Rollouts
		if err := stepRows.Write(rec.Steps...); err != nil {
			return err
		}
		if err := evals.Write(rec.Evals...); err != nil {
			return err
		}
		if err := e.fail(fmt.Sprintf("shards %d", step)); err != nil {
			return err
		}
	}
	for _, w := range []interface{ Commit() error }{rollouts, stepRows, evals} {
		if err := w.Commit(); err != nil {
			return err
		}
	}
	if id == problemsRun(e.spec) {
		if err := e.writeProblems(ctx, r, j.dir); err != nil {
			return err
		}
	}
	st.Done = true
	st.Completed = steps
	if err := j.writeState(st); err != nil {
		return err
	}
	// The journal has served its purpose; the final checkpoint stays, for
	// `relix eval --arm`.
	return os.RemoveAll(filepath.Join(j.dir, journalDir))
}

// evaluate scores checkpoint on the held-out set. Every arm and every step
// of a run uses the same sampling seed, so sample j of a problem is drawn
// with the same randomness whichever checkpoint draws it (common random
// numbers): differences between arms are paired.
func (e *runEnv) evaluate(ctx context.Context, r runners.Runner, id cluster.Run, step int32, checkpoint string) ([]results.Eval, error) {
	s := e.spec
	problems := e.sets.Heldout.Problems
	if s.Eval.Problems > 0 && s.Eval.Problems < len(problems) {
		problems = problems[:s.Eval.Problems]
	}
	samples, err := Evaluate(ctx, r, checkpoint, problems, s.Eval, EvalSamplingSeed(s, id.Seed))
	if err != nil {
		return nil, err
	}
	rows := make([]results.Eval, len(samples))
	for i, smp := range samples {
		rows[i] = results.Eval{
			Arm: id.Arm, Seed: id.Seed, Step: step, Checkpoint: checkpoint,
			Problem: smp.Problem, Sample: int32(smp.Sample.Sample), Correct: smp.Correct,
			Truncated: smp.Truncated, Tokens: int32(smp.Tokens), Answer: smp.Answer, Text: smp.Text,
		}
	}
	return rows, nil
}

// GradedSample is one graded held-out completion.
type GradedSample struct {
	eval.Sample
	Answer string // the extracted answer; "" when none was found
	Text   string // the completion's text with eval.keep_text; "" otherwise
}

// evalChunk bounds how many prompts one Generate call carries, so a worker's
// messages stay small and progress is regular.
const evalChunk = 64

// Evaluate generates e.Samples completions of every problem with checkpoint
// and grades them: a truncated completion is graded on the answer it
// contains (e.Truncated "grade") or scores 0 ("zero"). With e.KeepText each
// sample keeps its completion's text; otherwise the text goes with the
// chunk it came in, so an evaluation holds only what it scores.
func Evaluate(ctx context.Context, r runners.Runner, checkpoint string, problems []dataset.Problem, e spec.Eval, sampleSeed uint64) ([]GradedSample, error) {
	sampling := runners.Sampling{Temperature: e.Sampling.Temperature, TopP: e.Sampling.TopP, MaxTokens: e.Sampling.MaxTokens, Seed: sampleSeed}
	out := make([]GradedSample, 0, len(problems)*e.Samples)
	for lo := 0; lo < len(problems); lo += evalChunk {
		chunk := problems[lo:min(lo+evalChunk, len(problems))]
		prompts := make([]runners.Prompt, len(chunk))
		for i, p := range chunk {
			prompts[i] = runners.Prompt{ID: p.ID, Text: p.Statement}
		}
		comps, err := r.Generate(ctx, checkpoint, prompts, e.Samples, sampling)
		if err != nil {
			return nil, err
		}
		if len(comps) != len(chunk) {
			return nil, fmt.Errorf("runner returned completions for %d prompts, want %d", len(comps), len(chunk))
		}
		for i, p := range chunk {
			if len(comps[i]) != e.Samples {
				return nil, fmt.Errorf("runner returned %d completions of %s, want %d", len(comps[i]), p.ID, e.Samples)
			}
			for j, c := range comps[i] {
				v := eval.Grade(c.Text, p.Answer, eval.GradeOptions{})
				correct := v.Correct && !(c.Truncated() && e.Truncated == "zero")
				// The extracted answer is a substring of the text: alone it
				// would hold every completion's text until the evaluation
				// is written, kept or not.
				g := GradedSample{
					Sample: eval.Sample{Problem: p.ID, Sample: j, Correct: correct, Truncated: c.Truncated(), Tokens: c.NumTokens},
					Answer: strings.Clone(v.Extracted),
				}
				if e.KeepText {
					g.Text = c.Text
				}
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// runTally keeps the figures the progress display shows.
type runTally struct {
	accepted        int64
	used, generated int64
	pass1           float64
}

func (t *runTally) add(rec *stepRecord) {
	for _, s := range rec.Steps {
		t.accepted += int64(s.UsefulGroups)
		t.used += s.UsefulRollouts
		t.generated += s.GeneratedRollouts
	}
	if len(rec.Evals) > 0 {
		correct := 0
		for _, ev := range rec.Evals {
			if ev.Correct {
				correct++
			}
		}
		t.pass1 = float64(correct) / float64(len(rec.Evals))
	}
}

func (t *runTally) waste() float64 {
	if t.generated == 0 {
		return math.NaN()
	}
	return 1 - float64(t.used)/float64(t.generated)
}

// linkedOrCopied reports whether the checkpoint src now also stands at dst.
func linkedOrCopied(src, dst string) bool {
	_, err := runners.LinkTree(src, dst, true)
	return err == nil
}
