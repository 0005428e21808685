package worker

import (
	"encoding/json"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// Version is the protocol version relix speaks. A worker that speaks
// another one is refused at hello (PROTOCOL.md).
const Version = 1

// The methods of the protocol.
const (
	MethodHello       = "hello"
	MethodProblems    = "problems"
	MethodGenerate    = "generate"
	MethodStep        = "step"
	MethodHidden      = "hidden"
	MethodSave        = "save"
	MethodLoad        = "load"
	MethodProbability = "probability"
	MethodShutdown    = "shutdown"
)

// Capabilities a worker announces at hello. generate and step are
// required; hidden, save and load are expected of every training worker;
// probability (runners.Oracle) only of one that knows true success
// probabilities, such as the sim.
const (
	CapGenerate    = MethodGenerate
	CapStep        = MethodStep
	CapHidden      = MethodHidden
	CapSave        = MethodSave
	CapLoad        = MethodLoad
	CapProbability = MethodProbability
)

// NeedProblems in a hello result asks relix for the problem sets (a
// "problems" request) before any other request.
const NeedProblems = "problems"

// Error codes of a structured error.
const (
	CodeProtocolVersion   = "protocol_version"   // hello: the worker does not speak relix's version
	CodeBadRequest        = "bad_request"        // the request does not decode or is inconsistent
	CodeUnknownMethod     = "unknown_method"     // a method the worker does not implement
	CodeUnknownCheckpoint = "unknown_checkpoint" // a checkpoint id the worker does not hold
	CodeFailed            = "failed"             // the request was understood and failed
)

// DefaultMaxMessage is the largest message either side sends unless the
// spec says otherwise (runner.max_message_mib).
const DefaultMaxMessage = 256 << 20

// Request is one line from relix to the worker.
type Request struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Response is one line from the worker to relix: the request's id and
// exactly one of Result and Error.
type Response struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a structured error: the worker understood that a request
// failed and says why. It is returned to the caller, never retried.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, runners.ErrUnknownCheckpoint) hold for the
// worker's unknown_checkpoint errors.
func (e *Error) Is(target error) bool {
	return target == runners.ErrUnknownCheckpoint && e.Code == CodeUnknownCheckpoint
}

// Hello is the first request's params.
type Hello struct {
	Protocol int `json:"protocol"`
	// Relix is the version of relix speaking (informational).
	Relix string `json:"relix,omitempty"`
	// MaxMessage is the largest line, in bytes, either side may send.
	MaxMessage int    `json:"max_message"`
	Config     Config `json:"config"`
}

// Config is what a worker needs of the spec's runner block: where its
// model is and how to run it, and, for a worker serving the sim, the sim's
// policy.
type Config struct {
	Model  string `json:"model,omitempty"`
	Dtype  string `json:"dtype,omitempty"`
	Device string `json:"device,omitempty"`
	// Sim is sent only when the spec's runner serves the sim
	// (spec.Runner.ServesSim), so the sim's constants shape results only
	// where they are part of the spec's hash.
	Sim *SimPolicy `json:"sim,omitempty"`
}

// SimPolicy is spec.SimPolicy with the protocol's field names.
type SimPolicy struct {
	Skills          int     `json:"skills"`
	Ability         float64 `json:"ability"`
	DifficultyScale float64 `json:"difficulty_scale"`
	DifficultyShift float64 `json:"difficulty_shift"`
	HiddenSD        float64 `json:"hidden_sd"`
	Verbosity       float64 `json:"verbosity"`
	LengthSD        float64 `json:"length_sd"`
	TokensPerStep   float64 `json:"tokens_per_step"`
	Stop            float64 `json:"stop"`
	NoiseChoices    int     `json:"noise_choices"`
	LRScale         float64 `json:"lr_scale"`
}

// Spec returns the policy as the spec's type.
func (p SimPolicy) Spec() spec.SimPolicy { return spec.SimPolicy(p) }

// HelloResult is the worker's answer to hello.
type HelloResult struct {
	Protocol int `json:"protocol"`
	// Worker names the worker program and its version ("relix-sim/1",
	// "relix-python/1").
	Worker string `json:"worker"`
	// Model identifies what it serves (a model directory and its config
	// hash, "tiny", or the sim's policy).
	Model string `json:"model"`
	// Serves is "sim" for a worker serving relix's embedded sim.
	Serves string `json:"serves,omitempty"`
	// Base is the id of the untrained checkpoint: the one a fresh worker
	// holds.
	Base         string   `json:"base"`
	Capabilities []string `json:"capabilities"`
	Needs        []string `json:"needs,omitempty"`
	// Concurrency is how many requests the worker works on at once; relix
	// sends no more than that, so a request's timeout is its own time.
	// 0 means 1.
	Concurrency int `json:"concurrency,omitempty"`
}

// Has reports whether the worker announced capability c.
func (h *HelloResult) Has(c string) bool {
	for _, x := range h.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// ProblemsParams carries the problem sets to a worker that needs them.
type ProblemsParams struct {
	Problems []dataset.Problem `json:"problems"`
}

// GenerateParams asks for N completions of each prompt.
type GenerateParams struct {
	Checkpoint string           `json:"checkpoint"`
	Prompts    []runners.Prompt `json:"prompts"`
	N          int              `json:"n"`
	Sampling   runners.Sampling `json:"sampling"`
}

// GenerateResult holds N completions per prompt, in prompt order.
type GenerateResult struct {
	Completions [][]runners.Completion `json:"completions"`
}

// StepParams asks for one GRPO optimizer step.
type StepParams struct {
	Checkpoint string          `json:"checkpoint"`
	Groups     []runners.Group `json:"groups"`
	Hyper      runners.Hyper   `json:"hyper"`
}

// StepResult is the new checkpoint and the step's metrics.
type StepResult struct {
	Checkpoint string              `json:"checkpoint"`
	Metrics    runners.StepMetrics `json:"metrics"`
}

// HiddenParams asks for last hidden states after prefixes of Tokens.
type HiddenParams struct {
	Checkpoint string   `json:"checkpoint"`
	Tokens     []uint32 `json:"tokens"`
	Positions  []int    `json:"positions"`
}

// HiddenResult holds one vector per position.
type HiddenResult struct {
	Hidden [][]float32 `json:"hidden"`
}

// SaveParams asks the worker to write a checkpoint to Dir.
type SaveParams struct {
	Checkpoint string `json:"checkpoint"`
	Dir        string `json:"dir"`
}

// LoadParams asks the worker to read the checkpoint saved in Dir.
type LoadParams struct {
	Dir string `json:"dir"`
}

// LoadResult is the loaded checkpoint's id: the id it was saved under.
type LoadResult struct {
	Checkpoint string `json:"checkpoint"`
}

// ProbabilityParams asks for a prompt's true success probability
// (runners.Oracle).
type ProbabilityParams struct {
	Checkpoint string           `json:"checkpoint"`
	Prompt     runners.Prompt   `json:"prompt"`
	Sampling   runners.Sampling `json:"sampling"`
	Truncated  string           `json:"truncated"`
}

// ProbabilityResult is that probability.
type ProbabilityResult struct {
	Probability float64 `json:"probability"`
}

// Empty is the params and result of methods that carry nothing.
type Empty struct{}
