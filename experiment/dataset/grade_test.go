package dataset_test

import (
	"math/rand/v2"
	"testing"

	"github.com/relix-lab/relix/eval"
	"github.com/relix-lab/relix/experiment/dataset"
)

// generatedProblems is a few thousand problems of every topic, both splits.
func generatedProblems(t *testing.T) []dataset.Problem {
	t.Helper()
	var all []dataset.Problem
	for _, split := range dataset.Splits() {
		s, err := dataset.Generate(dataset.GeneratorConfig{Size: 3000, Seed: 1}, split)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s.Problems...)
	}
	return all
}

// TestGraderAcceptsGeneratedAnswers: every generated reference answer,
// boxed at the end of a completion, is graded correct by the real grader.
func TestGraderAcceptsGeneratedAnswers(t *testing.T) {
	t.Parallel()
	for _, p := range generatedProblems(t) {
		completion := "Working through the steps carefully, the result is $\\boxed{" + p.Answer + "}$."
		if v := eval.Grade(completion, p.Answer, eval.GradeOptions{}); !v.Correct {
			t.Errorf("%s (%s): the reference %q boxed is graded wrong: %s", p.ID, p.Topic, p.Answer, v.Reason)
		}
	}
}

// TestGraderRejectsWrongAnswers: WrongAnswer never writes an answer the
// grader takes for the reference, for generated and for loaded problems.
func TestGraderRejectsWrongAnswers(t *testing.T) {
	t.Parallel()
	problems := generatedProblems(t)
	loaded, err := dataset.LoadJSONL("testdata/problems.jsonl", dataset.Columns{})
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, loaded.Problems...)
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range problems {
		for range 3 {
			wrong := dataset.WrongAnswer(p, r)
			if v := eval.Grade(`so \boxed{`+wrong+`}`, p.Answer, eval.GradeOptions{}); v.Correct {
				t.Errorf("%s (%s): the wrong answer %q is graded correct for %q", p.ID, p.Topic, wrong, p.Answer)
			}
		}
	}
}
