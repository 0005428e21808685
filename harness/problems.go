package harness

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
)

// ProblemSets are an experiment's two problem sets.
type ProblemSets struct {
	Train   *dataset.Set
	Heldout *dataset.Set
}

// A ProblemSetError is a problem set that could not be made or read: the
// spec's dataset block or the files it names are at fault, not the work.
type ProblemSetError struct{ Err error }

func (e *ProblemSetError) Error() string { return e.Err.Error() }
func (e *ProblemSetError) Unwrap() error { return e.Err }

// LoadProblemSets makes or reads the spec's problem sets; relative file
// paths are resolved against dir (the spec file's directory). Generated sets
// are disjoint by construction; file sets that share a problem statement
// are refused, since scoring on training problems measures nothing. Its
// errors are *ProblemSetError.
func LoadProblemSets(s *spec.Spec, dir string) (*ProblemSets, error) {
	sets, err := loadProblemSets(s, dir)
	if err != nil {
		return nil, &ProblemSetError{err}
	}
	return sets, nil
}

// CheckPool refuses, before any work, a training pool that the run would
// exhaust under its cooldown (spec.Train.PoolNeeded). It is a check of the
// run, not of the spec: a spec used only for the zone sweep, which trains
// nothing, may have a small pool, and a file set is only sized once read.
// Its error is a *ProblemSetError.
func CheckPool(s *spec.Spec, train *dataset.Set) error {
	if s.Trains() && train.Len() < s.Train.PoolNeeded() {
		return &ProblemSetError{fmt.Errorf("dataset.train: %s", s.Train.PoolShortfall(train.Len()))}
	}
	return nil
}

// CheckHeldout refuses a held-out set too large for the spec's evaluation
// (spec.HeldoutLimit): one read from a file is known only once loaded.
func CheckHeldout(s *spec.Spec, heldout *dataset.Set) error {
	if field, why := s.HeldoutLimit(heldout.Len()); why != "" {
		return &ProblemSetError{fmt.Errorf("%s: %s", field, why)}
	}
	return nil
}

func loadProblemSets(s *spec.Spec, dir string) (*ProblemSets, error) {
	train, err := loadSet(s.Dataset.Train, dataset.Train, dir, "dataset.train")
	if err != nil {
		return nil, err
	}
	heldout, err := loadSet(s.Dataset.Heldout, dataset.HeldOut, dir, "dataset.heldout")
	if err != nil {
		return nil, err
	}
	if shared := dataset.Overlap(heldout, train); len(shared) > 0 {
		more := ""
		if len(shared) > 3 {
			more = fmt.Sprintf(" and %d more", len(shared)-3)
			shared = shared[:3]
		}
		return nil, fmt.Errorf("dataset: %d held-out problems also appear in the training set (%s%s)",
			len(dataset.Overlap(heldout, train)), strings.Join(shared, ", "), more)
	}
	return &ProblemSets{Train: train, Heldout: heldout}, nil
}

func loadSet(ps spec.ProblemSet, split dataset.Split, dir, field string) (*dataset.Set, error) {
	var (
		set *dataset.Set
		err error
	)
	switch {
	case ps.Generated != nil:
		set, err = dataset.Generate(dataset.GeneratorConfig{Size: ps.Generated.Size, Seed: ps.Generated.Seed, Mix: ps.Generated.Mix, Levels: ps.Generated.Levels}, split)
	case ps.JSONL != nil:
		set, err = dataset.LoadJSONL(resolve(dir, ps.JSONL.Path), columns(ps.JSONL.Columns))
		set, err = limit(set, err, ps.JSONL.Limit)
	case ps.Parquet != nil:
		set, err = dataset.LoadParquet(resolve(dir, ps.Parquet.Path), columns(ps.Parquet.Columns))
		set, err = limit(set, err, ps.Parquet.Limit)
	default:
		return nil, fmt.Errorf("%s: no problem set", field)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if len(set.Problems) == 0 {
		return nil, fmt.Errorf("%s: the set is empty", field)
	}
	return set, nil
}

func limit(set *dataset.Set, err error, n int) (*dataset.Set, error) {
	if err != nil || n <= 0 || n >= len(set.Problems) {
		return set, err
	}
	return set.First(n), nil
}

func columns(c spec.Columns) dataset.Columns {
	return dataset.Columns{ID: c.ID, Problem: c.Problem, Answer: c.Answer, Topic: c.Topic}
}

func resolve(dir, path string) string {
	if filepath.IsAbs(path) || dir == "" {
		return path
	}
	return filepath.Join(dir, path)
}
