package worker

import (
	"encoding/json"
	"slices"

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
	// MethodProbabilities is probability for many prompts in one request.
	MethodProbabilities = "probabilities"
	// MethodDifficulties is each prompt's latent difficulty on the
	// worker's own scale (the sim's d_i), for the problems table.
	MethodDifficulties = "difficulties"
	// MethodBatch carries several independent requests in one message.
	MethodBatch    = "batch"
	MethodShutdown = "shutdown"
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
	// CapProbabilities: the batched probability; relix falls back to one
	// probability request per prompt without it.
	CapProbabilities = MethodProbabilities
	// CapBatch: the worker answers batch requests; relix then sends
	// hidden requests that wait on one another as one batch.
	CapBatch = MethodBatch
	// CapDifficulties: the worker can say how hard each problem is (the
	// sim); without it the problems table's difficulty is null.
	CapDifficulties = MethodDifficulties
)

// Features are optional ways of speaking, offered by relix at hello and
// used only when the worker's hello result lists them too; JSON without
// handles is what both sides fall back to (PROTOCOL.md, "Features").
const (
	// FeatureBinary: bulk numeric arrays travel in a binary attachment
	// after the message's line instead of as JSON numbers.
	FeatureBinary = "binary"
	// FeatureHandles: the worker names each completion it generated with
	// token ids by a handle, and hidden may name those ids by it.
	FeatureHandles = "handles"
	// FeatureDigests: with handles, a generate request may ask for
	// digests, and each completion then carries its handle and the SHA-256
	// of its ids instead of the ids, which stay with the worker.
	FeatureDigests = "digests"
)

// Features lists the features this relix offers and this package's Serve
// speaks.
var Features = []string{FeatureBinary, FeatureHandles, FeatureDigests}

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
	CodeUnknownHandle     = "unknown_handle"     // hidden: a handle the worker does not hold (any more)
)

// DefaultMaxMessage is the largest message either side sends unless the
// spec says otherwise (runner.max_message_mib).
const DefaultMaxMessage = 256 << 20

// Request is one line from relix to the worker.
type Request struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	// Bin is the length in bytes of the binary attachment that follows
	// the line (FeatureBinary); 0: none.
	Bin int `json:"bin,omitempty"`
}

// Response is one line from the worker to relix: the request's id and
// exactly one of Result and Error.
type Response struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	Bin    int             `json:"bin,omitempty"`
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
	// Features are the features relix offers (FeatureBinary, …).
	Features []string `json:"features,omitempty"`
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

	Reach           *spec.SimReach       `json:"reach,omitempty"`
	Termination     *spec.SimTermination `json:"termination,omitempty"`
	Sharpen         bool                 `json:"sharpen,omitempty"`
	LevelDifficulty float64              `json:"level_difficulty,omitempty"`
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
	// Features are the offered features the worker will use; a worker
	// that knows none leaves it out.
	Features []string `json:"features,omitempty"`
}

// Has reports whether the worker announced capability c.
func (h *HelloResult) Has(c string) bool { return slices.Contains(h.Capabilities, c) }

// Speaks reports whether the worker takes up feature f.
func (h *HelloResult) Speaks(f string) bool { return slices.Contains(h.Features, f) }

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
	// Digests asks, with Sampling.Tokens and FeatureDigests, for each
	// completion's handle and digest in place of its ids.
	Digests bool `json:"digests,omitempty"`
}

// GenerateResult holds N completions per prompt, in prompt order.
type GenerateResult struct {
	Completions [][]Completion `json:"completions"`
}

// Completion is a completion as it travels: with FeatureHandles, one
// generated with token ids carries the handle that names them.
type Completion struct {
	runners.Completion
	Handle uint64 `json:"handle,omitempty"`
	// Digest is the SHA-256 of the ids Handle names (4 little-endian
	// bytes an id) as 64 lower-case hex digits, in answer to
	// GenerateParams.Digests; the ids are then left out.
	Digest string `json:"digest,omitempty"`
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

// HiddenParams asks for last hidden states after prefixes of Tokens, or
// of the ids that Handle names (FeatureHandles; then Tokens is left out).
type HiddenParams struct {
	Checkpoint string   `json:"checkpoint"`
	Tokens     []uint32 `json:"tokens,omitempty"`
	Handle     uint64   `json:"handle,omitempty"`
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

// ProbabilitiesParams asks for the success probabilities of many prompts
// at one checkpoint (runners.BatchOracle).
type ProbabilitiesParams struct {
	Checkpoint string           `json:"checkpoint"`
	Prompts    []runners.Prompt `json:"prompts"`
	Sampling   runners.Sampling `json:"sampling"`
	Truncated  string           `json:"truncated"`
}

// ProbabilitiesResult holds one probability per prompt, in prompt order.
type ProbabilitiesResult struct {
	Probabilities []float64 `json:"probabilities"`
}

// DifficultiesParams asks for the latent difficulty of many prompts.
type DifficultiesParams struct {
	Prompts []runners.Prompt `json:"prompts"`
}

// DifficultiesResult holds one finite difficulty per prompt, in prompt
// order.
type DifficultiesResult struct {
	Difficulties []float64 `json:"difficulties"`
}

// BatchParams are independent requests answered in one response: each
// one's params as its method's, bulk references pointing into the batch
// message's one attachment.
type BatchParams struct {
	Requests []BatchRequest `json:"requests"`
}

// BatchRequest is one request of a batch: no id, the batch's is enough.
type BatchRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// BatchResult holds one response per request, in order.
type BatchResult struct {
	Responses []BatchResponse `json:"responses"`
}

// BatchResponse is one request's result or error.
type BatchResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Empty is the params and result of methods that carry nothing.
type Empty struct{}
