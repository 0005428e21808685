package worker

import (
	"encoding/json"
	"fmt"

	"github.com/relix-lab/relix/runners"
)

// The bodies that carry bulk arrays, as they travel: the public types'
// JSON field for field, with every numeric array a bulk (inline in the
// JSON lane, a reference into the attachment in the binary one). The
// other bodies travel as their public types.

type wireCompletion struct {
	Text      string         `json:"text"`
	NumTokens int            `json:"num_tokens"`
	Finish    string         `json:"finish"`
	Tokens    *bulk[uint32]  `json:"tokens,omitempty"`
	LogProbs  *bulk[float32] `json:"logprobs,omitempty"`
	Trace     *bulk[float64] `json:"trace,omitempty"`
	Handle    uint64         `json:"handle,omitempty"`
	Digest    string         `json:"digest,omitempty"`
}

type wireGenerateResult struct {
	Completions [][]wireCompletion `json:"completions"`
}

type wireGroup struct {
	Prompt      runners.Prompt   `json:"prompt"`
	Completions []wireCompletion `json:"completions"`
	Rewards     []float64        `json:"rewards"`
	Checkpoint  string           `json:"checkpoint,omitempty"`
}

type wireStepParams struct {
	Checkpoint string        `json:"checkpoint"`
	Groups     []wireGroup   `json:"groups"`
	Hyper      runners.Hyper `json:"hyper"`
}

type wireHiddenParams struct {
	Checkpoint string        `json:"checkpoint"`
	Tokens     *bulk[uint32] `json:"tokens,omitempty"`
	Handle     uint64        `json:"handle,omitempty"`
	Positions  []int         `json:"positions"`
}

type wireHiddenResult struct {
	Hidden *matrix `json:"hidden"`
}

// encodeBody writes v, a method's params or result, as JSON, with its bulk
// arrays where e puts them.
func encodeBody(e *encoder, v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return v, nil // already JSON (a step kept for replay): inline arrays are always allowed
	case GenerateResult:
		mark := len(e.att)
		if out := appendGenerateResult(nil, e, v); out != nil {
			return out, nil
		}
		e.att = e.att[:mark]
		w := wireGenerateResult{Completions: make([][]wireCompletion, len(v.Completions))}
		for i, cs := range v.Completions {
			w.Completions[i] = putCompletions(e, cs)
		}
		return json.Marshal(w)
	case StepParams:
		mark := len(e.att)
		if out, ok := appendStepParams(nil, e, v); ok {
			return out, nil
		}
		e.att = e.att[:mark]
		w := wireStepParams{Checkpoint: v.Checkpoint, Groups: make([]wireGroup, len(v.Groups)), Hyper: v.Hyper}
		for i, g := range v.Groups {
			cs := make([]Completion, len(g.Completions))
			for j, c := range g.Completions {
				cs[j].Completion = c
			}
			w.Groups[i] = wireGroup{Prompt: g.Prompt, Completions: putCompletions(e, cs), Rewards: nonNil(g.Rewards), Checkpoint: g.Checkpoint}
		}
		return json.Marshal(w)
	case GenerateParams:
		if out, ok := appendGenerateParams(nil, &v); ok {
			return out, nil
		}
	case ProbabilitiesParams:
		if out, ok := appendProbabilitiesParams(nil, &v); ok {
			return out, nil
		}
	case HiddenParams:
		return appendHiddenParams(nil, e, &v), nil
	case HiddenResult:
		return json.Marshal(wireHiddenResult{Hidden: putMatrix(e, v.Hidden)})
	case batchOf:
		// Written by hand: encoding/json would compact every item's params
		// once more.
		out := append([]byte(nil), `{"requests":[`...)
		for i, p := range v.params {
			raw, err := encodeBody(e, p)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"method":`...)
			out = appendString(out, v.methods[i])
			out = append(out, `,"params":`...)
			out = append(append(out, raw...), '}')
		}
		return append(out, "]}"...), nil
	case batchReplies:
		return appendBatchReplies(nil, e, v), nil
	}
	return json.Marshal(v)
}

func putCompletions(e *encoder, cs []Completion) []wireCompletion {
	out := make([]wireCompletion, len(cs))
	for j, c := range cs {
		out[j] = wireCompletion{
			Text: c.Text, NumTokens: c.NumTokens, Finish: c.Finish, Handle: c.Handle, Digest: c.Digest,
			Tokens: putBulk(e, c.Tokens), LogProbs: putBulk(e, c.LogProbs), Trace: putBulk(e, c.Trace),
		}
	}
	return out
}

// decodeBody decodes a body into dst, resolving references into att. A
// reference outside the attachment is an error of the message, as a
// mistyped field is.
func decodeBody(raw, att []byte, dst any) error {
	switch d := dst.(type) {
	case *GenerateResult:
		var w wireGenerateResult
		if err := fastOrStrict(raw, &w); err != nil {
			return err
		}
		if w.Completions == nil {
			d.Completions = nil
			return nil
		}
		d.Completions = make([][]Completion, len(w.Completions))
		for i, ws := range w.Completions {
			cs, err := getCompletions(ws, att)
			if err != nil {
				return fmt.Errorf("completions[%d]: %w", i, err)
			}
			d.Completions[i] = cs
		}
		return nil
	case *StepParams:
		var w wireStepParams
		if err := fastOrStrict(raw, &w); err != nil {
			return err
		}
		*d = StepParams{Checkpoint: w.Checkpoint, Hyper: w.Hyper}
		if w.Groups != nil {
			d.Groups = make([]runners.Group, len(w.Groups))
		}
		for i, g := range w.Groups {
			cs, err := getCompletions(g.Completions, att)
			if err != nil {
				return fmt.Errorf("groups[%d]: %w", i, err)
			}
			d.Groups[i] = runners.Group{Prompt: g.Prompt, Rewards: g.Rewards, Checkpoint: g.Checkpoint}
			if cs != nil {
				d.Groups[i].Completions = make([]runners.Completion, len(cs))
				for j := range cs {
					d.Groups[i].Completions[j] = cs[j].Completion
				}
			}
		}
		return nil
	case *HiddenParams:
		var w wireHiddenParams
		if err := fastOrStrict(raw, &w); err != nil {
			return err
		}
		tokens, err := w.Tokens.get(att)
		if err != nil {
			return fmt.Errorf("tokens: %w", err)
		}
		*d = HiddenParams{Checkpoint: w.Checkpoint, Tokens: tokens, Handle: w.Handle, Positions: w.Positions}
		return nil
	case *batchAnswer:
		d.att = att // the items are decoded by whoever asked for them
		return fastOrStrict(raw, &d.BatchResult)
	case *GenerateParams, *BatchParams, *ProbabilitiesParams, *ProblemsParams:
		return fastOrStrict(raw, dst)
	case *HiddenResult:
		var w wireHiddenResult
		if err := fastOrStrict(raw, &w); err != nil {
			return err
		}
		h, err := w.Hidden.get(att)
		if err != nil {
			return fmt.Errorf("hidden: %w", err)
		}
		d.Hidden = h
		return nil
	}
	return strictUnmarshal(raw, dst)
}

// fastOrStrict decodes raw with the fast reader, or with encoding/json
// where the fast one gives up.
func fastOrStrict(raw []byte, v any) error {
	if fastDecode(raw, v) {
		return nil
	}
	return strictUnmarshal(raw, v)
}

func getCompletions(ws []wireCompletion, att []byte) ([]Completion, error) {
	if ws == nil {
		return nil, nil
	}
	out := make([]Completion, len(ws))
	for j, w := range ws {
		c := &out[j]
		c.Text, c.NumTokens, c.Finish, c.Handle, c.Digest = w.Text, w.NumTokens, w.Finish, w.Handle, w.Digest
		var err error
		if c.Tokens, err = w.Tokens.get(att); err != nil {
			return nil, fmt.Errorf("completion %d tokens: %w", j, err)
		}
		if c.LogProbs, err = w.LogProbs.get(att); err != nil {
			return nil, fmt.Errorf("completion %d logprobs: %w", j, err)
		}
		if c.Trace, err = w.Trace.get(att); err != nil {
			return nil, fmt.Errorf("completion %d trace: %w", j, err)
		}
	}
	return out, nil
}
