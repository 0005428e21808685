package harness

import (
	"fmt"

	"github.com/relix-lab/relix/experiment/spec"
)

// The memory model behind Estimate, fitted to peaks measured with
// /usr/bin/time on the sim (BENCHMARKS.md, "Memory estimate"): a process
// and each run it executes start from a fixed size; an evaluation holds
// its samples (about 800 bytes each, the runner's completions included);
// a run's journal and row buffers grow with the completions it trains on.
const (
	processBytes      = 40 << 20
	runBytes          = 60 << 20
	evalSampleBytes   = 800
	trainedSampleByte = 1700
)

// With eval.keep_text an evaluation's rows keep their completions' text,
// and the journal entry that commits them and the shard written from it
// copy it again: at the peak about six times the text's bytes a sample
// (the sim: 1.5 GiB more for 2,048,000 samples of 142 bytes on average,
// BENCHMARKS.md, "Memory estimate").
// The sim's text is a short sketch (about 150 bytes, at most about 300); a
// model's is bounded by the token cap at about 4 bytes a token, which is
// what the estimate takes: an upper estimate, since most completions end
// before the cap.
const (
	keptTextCopies    = 6
	simTextBytes      = 150
	textBytesPerToken = 4
)

// Estimate is relix's own peak memory for a spec, as `relix validate`
// prints it. A worker's memory (the model on a GPU) is the worker's and
// not counted.
type Estimate struct {
	Runs        int   // runs the spec plans
	AtOnce      int   // runs executing at once
	EvalSamples int64 // samples of one evaluation; 0 where the held-out set is read from a file
	// KeptText is the bytes a sample of an evaluation adds when
	// eval.keep_text keeps its text (0 when off).
	KeptText int64
	PerRun   int64 // bytes, one run at its peak
	Peak     int64 // bytes, the process at its peak
}

// EstimateMemory estimates the peak memory of relix run for s with jobs
// runs at once (jobs ≤ 0: cores).
func EstimateMemory(s *spec.Spec, jobs, cores int) Estimate {
	runs, _ := Plan(s, nil, nil)
	if jobs <= 0 {
		jobs = s.Cluster.Jobs
	}
	if jobs <= 0 {
		jobs = cores
	}
	e := Estimate{Runs: len(runs), AtOnce: max(min(jobs, len(runs)), 1)}
	if g := s.Dataset.Heldout.Generated; g != nil {
		e.EvalSamples = int64(s.EvalProblems(g.Size)) * int64(s.Eval.Samples)
	}
	trained := int64(0)
	if s.Trains() {
		trained = int64(s.Train.Steps) * int64(s.Train.GroupsPerStep) * int64(s.Train.GroupSize)
	}
	if s.Eval.KeepText {
		e.KeptText = keptTextCopies * textBytes(s)
	}
	e.PerRun = runBytes + e.EvalSamples*(evalSampleBytes+e.KeptText) + trained*trainedSampleByte
	e.Peak = processBytes + int64(e.AtOnce)*e.PerRun
	return e
}

// textBytes is the text of one held-out completion, as the estimate takes
// it: the sim's sketch, or a model's at the token cap.
func textBytes(s *spec.Spec) int64 {
	if s.Runner.Kind == "sim" || s.Runner.ServesSim() {
		return simTextBytes
	}
	return textBytesPerToken * int64(s.Eval.Sampling.MaxTokens)
}

func (e Estimate) String() string {
	perSample := evalSampleBytes + e.KeptText
	evals := fmt.Sprintf("the held-out file's size adds about %d bytes a sample of an evaluation", perSample)
	if e.EvalSamples > 0 {
		evals = fmt.Sprintf("an evaluation holds %d samples", e.EvalSamples)
	}
	if e.KeptText > 0 {
		evals += fmt.Sprintf(", each with its kept text: about %s a sample", byteSize(perSample))
	}
	return fmt.Sprintf("about %s at peak: %d of %d runs at once, %s each (%s); a worker's own memory is not counted",
		mib(e.Peak), e.AtOnce, e.Runs, mib(e.PerRun), evals)
}

func mib(b int64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.0f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", (b+1<<19)>>20)
}

// byteSize is a sample's bytes as the estimate prints them.
func byteSize(b int64) string {
	if b >= 10<<10 {
		return fmt.Sprintf("%d KiB", (b+1<<9)>>10)
	}
	return fmt.Sprintf("%d bytes", b)
}
