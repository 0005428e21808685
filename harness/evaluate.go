package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/harness/source"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/seed"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
	"github.com/relix-lab/relix/runners"
)

// EvalSamplingSeed is the sampling seed of every held-out evaluation of the
// run with seed runSeed: the same for every arm and every checkpoint, so
// sample j of a problem is drawn with the same randomness whichever policy
// draws it (common random numbers) and differences between arms are paired.
func EvalSamplingSeed(s *spec.Spec, runSeed uint64) uint64 {
	return seed.Derive(s.Eval.Seed, runSeed, "eval")
}

// EvalTarget names the checkpoint EvaluateCheckpoint scores.
type EvalTarget struct {
	// Checkpoint is a directory written by Runner.Save. It wins over Arm.
	Checkpoint string
	// Arm scores that arm's latest checkpoint in the results directory Out
	// (an arm of source none is the base policy). With neither Checkpoint
	// nor Arm, the base policy is scored.
	Arm string
	// Seed is the run seed: which run of Arm, and the eval sampling seed
	// (0: the spec's first seed).
	Seed uint64
	// Out is the results directory (default: the spec's output.dir).
	Out string
	// SpecDir resolves relative paths of the spec (problem files).
	SpecDir string
	// Log receives a worker runner's stderr; nil discards it.
	Log io.Writer
	// Backends are the runner kinds this program serves (required).
	Backends runners.Backends
	// Environ and Relix are what a worker process inherits and is told at
	// hello (runners.Options).
	Environ []string
	Relix   string
	// Executable is this program, for the runner (runners.Options.Executable).
	Executable string
}

// CheckpointEval is one checkpoint's held-out evaluation.
type CheckpointEval struct {
	Arm        string // the arm scored, "" for the base policy or a checkpoint directory
	Seed       uint64 // the run seed
	Checkpoint string // the runner's checkpoint id
	Samples    []GradedSample
	Scores     eval.Scores
	// TrainInZone is the training pool's exact in-zone fraction at the
	// checkpoint under the training sampling and reward; NaN where the
	// runner is not a runners.Oracle.
	TrainInZone   float64
	trainProblems int
}

// EvaluateCheckpoint scores a checkpoint on the spec's held-out set with its
// eval settings (the first eval.problems problems, eval.samples samples each,
// eval.sampling, truncated completions graded or zeroed per eval.truncated),
// exactly as a run evaluates its arms.
func EvaluateCheckpoint(ctx context.Context, s *spec.Spec, t EvalTarget) (*CheckpointEval, error) {
	if t.Seed == 0 {
		t.Seed = s.Seeds[0]
	} else if !slices.Contains(s.Seeds, t.Seed) {
		return nil, fmt.Errorf("%w: seed %d is not one of %s's seeds %v", ErrNoCheckpoint, t.Seed, s.Name, s.Seeds)
	}
	var arm *spec.Arm
	if t.Arm != "" && t.Checkpoint == "" {
		i := slices.IndexFunc(s.Arms, func(a spec.Arm) bool { return a.Name == t.Arm })
		if i < 0 {
			return nil, fmt.Errorf("%w: no arm named %q in %s (arms: %s)", ErrNoCheckpoint, t.Arm, s.Name, armList(s))
		}
		arm = &s.Arms[i]
	}
	sets, err := LoadProblemSets(s, t.SpecDir)
	if err != nil {
		return nil, err
	}
	if err := CheckHeldout(s, sets.Heldout); err != nil {
		return nil, err
	}
	r, err := t.Backends.New(ctx, s.Runner, runners.Options{
		Problems: []*dataset.Set{sets.Train, sets.Heldout}, Dir: t.SpecDir, Log: t.Log, Executable: t.Executable, Environ: t.Environ, Relix: t.Relix,
	})
	if err != nil {
		return nil, err
	}
	defer r.Close()

	out := &CheckpointEval{Seed: t.Seed, Checkpoint: r.Base()}
	switch {
	case t.Checkpoint != "":
		if out.Checkpoint, err = r.Load(ctx, t.Checkpoint); err != nil {
			return nil, err
		}
	case arm != nil:
		out.Arm = arm.Name
		if arm.Source != "none" {
			if t.Out == "" {
				t.Out = s.Output.Dir
			}
			dir, err := LatestCheckpoint(cluster.Run{Arm: arm.Name, Seed: t.Seed}.Dir(t.Out))
			if err != nil {
				return nil, err
			}
			if out.Checkpoint, err = r.Load(ctx, dir); err != nil {
				return nil, err
			}
		}
	}
	problems := sets.Heldout.Problems
	if s.Eval.Problems > 0 && s.Eval.Problems < len(problems) {
		problems = problems[:s.Eval.Problems]
	}
	if out.Samples, err = Evaluate(ctx, r, out.Checkpoint, problems, s.Eval, EvalSamplingSeed(s, t.Seed)); err != nil {
		return nil, err
	}
	samples := make([]eval.Sample, len(out.Samples))
	for i, g := range out.Samples {
		samples[i] = g.Sample
	}
	if out.Scores, err = eval.Score(samples, s.Eval.K); err != nil {
		return nil, err
	}
	out.trainProblems = sets.Train.Len()
	if out.TrainInZone, err = trainInZone(ctx, s, r, out.Checkpoint, sets.Train); err != nil {
		return nil, err
	}
	return out, nil
}

// trainInZone is the training pool's exact in-zone fraction at checkpoint
// (the quantity the sim's base policy is calibrated to), or NaN where the
// runner cannot report exact success probabilities: sampling it would cost
// a group per problem.
func trainInZone(ctx context.Context, s *spec.Spec, r runners.Runner, checkpoint string, pool *dataset.Set) (float64, error) {
	oracle, ok := r.(runners.Oracle)
	if !ok {
		return math.NaN(), nil
	}
	prompts := make([]runners.Prompt, pool.Len())
	for i, p := range pool.Problems {
		prompts[i] = runners.Prompt{ID: p.ID, Text: p.Statement}
	}
	qs, err := runners.SuccessProbabilities(ctx, oracle, checkpoint, prompts, source.Sampling(s.Train, 0), s.Train.Reward.Truncated)
	if err != nil {
		return 0, fmt.Errorf("the training pool's in-zone fraction: %w", err)
	}
	zone := eval.NewZone(s.Train.GroupSize, s.Train.SigmaMin)
	var sum float64
	for _, q := range qs {
		sum += zone.Chance(q)
	}
	return sum / float64(len(qs)), nil
}

// Report is the evaluation as relix eval prints it; s is the spec it was
// made with.
func (c *CheckpointEval) Report(s *spec.Spec) results.EvalReport {
	e := s.Eval
	rep := results.EvalReport{
		Experiment: s.Name, Arm: c.Arm, Seed: c.Seed, Checkpoint: c.Checkpoint,
		SamplesPerProblem: e.Samples, Temperature: e.Sampling.Temperature, TopP: e.Sampling.TopP, MaxTokens: e.Sampling.MaxTokens,
		TruncatedZero: e.Truncated == "zero",
		Scores:        c.Scores,
	}
	if !math.IsNaN(c.TrainInZone) {
		rep.TrainPool = &results.TrainPoolZone{
			Problems: c.trainProblems, GroupSize: s.Train.GroupSize, SigmaMin: s.Train.SigmaMin,
			TruncatedZero: s.Train.Reward.Truncated == "zero", InZone: c.TrainInZone,
		}
	}
	return rep
}

var checkpointStep = regexp.MustCompile(`^[0-9]{6}$`)

// ErrNoCheckpoint is returned (wrapped) when an arm's run has no checkpoint
// to score yet.
var ErrNoCheckpoint = errors.New("no checkpoint")

// LatestCheckpoint returns the directory of the trainer's checkpoint after
// the last complete step of the run in runDir (ckpt/NNNNNN/current, see
// journal.go).
func LatestCheckpoint(runDir string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, ckptDir))
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(runDir); errors.Is(statErr, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: %s does not exist; run the experiment first (relix run), or point to its results", ErrNoCheckpoint, runDir)
		}
		return "", fmt.Errorf("%w: %s has not completed a step yet", ErrNoCheckpoint, runDir)
	}
	if err != nil {
		return "", err
	}
	latest := ""
	for _, e := range entries {
		if e.IsDir() && checkpointStep.MatchString(e.Name()) && e.Name() > latest {
			latest = e.Name()
		}
	}
	if latest == "" {
		return "", fmt.Errorf("%w: %s has not completed a step yet", ErrNoCheckpoint, runDir)
	}
	return filepath.Join(runDir, ckptDir, latest, "current"), nil
}
