package worker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/relix-lab/relix/runners"
)

// call runs one runner method and returns its result or a structured error.
func (s *server) call(ctx context.Context, req request) (any, *Error) {
	r := s.runner
	bad := func(err error) *Error { return &Error{CodeBadRequest, req.Method + " params: " + err.Error()} }
	switch req.Method {
	case MethodGenerate:
		var p GenerateParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		cs, err := r.Generate(ctx, p.Checkpoint, p.Prompts, p.N, p.Sampling)
		if err != nil {
			return nil, failure(err)
		}
		return s.generated(cs, &p), nil
	case MethodStep:
		var p StepParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		next, m, err := r.Step(ctx, p.Checkpoint, p.Groups, p.Hyper)
		if err != nil {
			return nil, failure(err)
		}
		return StepResult{Checkpoint: next, Metrics: m}, nil
	case MethodHidden:
		var p HiddenParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		tokens, e := s.hiddenTokens(&p)
		if e != nil {
			return nil, e
		}
		h, err := r.Hidden(ctx, p.Checkpoint, tokens, p.Positions)
		if err != nil {
			return nil, failure(err)
		}
		return HiddenResult{Hidden: h}, nil
	case MethodSave:
		var p SaveParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		if err := r.Save(ctx, p.Checkpoint, p.Dir); err != nil {
			return nil, failure(err)
		}
		return Empty{}, nil
	case MethodLoad:
		var p LoadParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		id, err := r.Load(ctx, p.Dir)
		if err != nil {
			return nil, failure(err)
		}
		return LoadResult{Checkpoint: id}, nil
	case MethodProbability:
		o, ok := r.(runners.Oracle)
		if !ok {
			break
		}
		var p ProbabilityParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		pr, err := o.SuccessProbability(ctx, p.Checkpoint, p.Prompt, p.Sampling, p.Truncated)
		if err != nil {
			return nil, failure(err)
		}
		return ProbabilityResult{Probability: pr}, nil
	case MethodBatch:
		var p BatchParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		return s.batch(ctx, req, &p), nil
	case MethodDifficulties:
		t, ok := r.(difficultyTeller)
		if !ok {
			break
		}
		var p DifficultiesParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		d, err := t.Difficulties(ctx, p.Prompts)
		if err != nil {
			return nil, failure(err)
		}
		return DifficultiesResult{Difficulties: nonNil(d)}, nil
	case MethodProbabilities:
		o, ok := r.(runners.Oracle)
		if !ok {
			break
		}
		var p ProbabilitiesParams
		if err := decodeBody(req.Body, req.att, &p); err != nil {
			return nil, bad(err)
		}
		qs, err := runners.SuccessProbabilities(ctx, o, p.Checkpoint, p.Prompts, p.Sampling, p.Truncated)
		if err != nil {
			return nil, failure(err)
		}
		return ProbabilitiesResult{Probabilities: nonNil(qs)}, nil
	}
	return nil, &Error{CodeUnknownMethod, fmt.Sprintf("method %q is not served here", req.Method)}
}

// batchReplies are a batch's answers, in order, before encoding.
type batchReplies []struct {
	result any
	err    *Error
}

// generated is the result of generate request p; with handles, each
// completion that came with its ids is kept under a new handle, and with
// digests asked for, it goes with its handle and digest in place of its
// ids.
func (s *server) generated(cs [][]runners.Completion, p *GenerateParams) GenerateResult {
	keep := s.handles && p.Sampling.Tokens
	digests := keep && s.digests && p.Digests
	res := GenerateResult{Completions: make([][]Completion, len(cs))}
	for i, group := range cs {
		res.Completions[i] = make([]Completion, len(group))
		for j, c := range group {
			out := &res.Completions[i][j]
			out.Completion = c
			if !keep {
				continue
			}
			if out.Handle = s.ids.put(c.Tokens); out.Handle != 0 && digests {
				sum := runners.TokensDigest(c.Tokens)
				out.Digest, out.Tokens = hex.EncodeToString(sum[:]), nil
			}
		}
	}
	return res
}

// hiddenTokens are the ids a hidden request names: its own, or those its
// handle keeps.
func (s *server) hiddenTokens(p *HiddenParams) ([]uint32, *Error) {
	switch {
	case p.Handle == 0:
		return p.Tokens, nil
	case len(p.Tokens) > 0:
		return nil, &Error{CodeBadRequest, "hidden params: both tokens and a handle (want one)"}
	case !s.handles:
		return nil, &Error{CodeBadRequest, "hidden params: a handle, but hello did not take up the handles feature"}
	}
	ids, ok := s.ids.get(p.Handle)
	if !ok {
		return nil, &Error{CodeUnknownHandle, fmt.Sprintf("handle %d is not held (any more): send the token ids", p.Handle)}
	}
	return ids, nil
}

func failure(err error) *Error {
	if errors.Is(err, runners.ErrUnknownCheckpoint) {
		return &Error{CodeUnknownCheckpoint, err.Error()}
	}
	return &Error{CodeFailed, err.Error()}
}

// reply writes one response: its line, then its attachment. A result that
// cannot be encoded (a non-finite number in JSON) or is longer than the
// limit goes back as an error.
func (s *server) reply(id uint64, result any, e *Error) error {
	_, err := s.replied(id, result, e)
	return err
}

// replied is reply, also returning the bytes written.
func (s *server) replied(id uint64, result any, e *Error) (int, error) {
	enc := encoder{binary: s.binary, att: takeBuffer()}
	defer func() { giveBuffer(enc.att) }()
	var body []byte
	if e == nil {
		var err error
		body, err = encodeBody(&enc, result)
		switch {
		case err != nil:
			e = &Error{CodeFailed, "result does not encode as JSON: " + err.Error()}
		case len(body)+len(enc.att) > s.max:
			e = &Error{CodeFailed, fmt.Sprintf("result of %d bytes is longer than the message limit of %d bytes", len(body)+len(enc.att), s.max)}
		}
		if e != nil {
			body, enc.att = nil, enc.att[:0]
		}
	}
	msg, err := appendResponse(slices.Grow(takeBuffer(), len(body)+64), id, body, e, len(enc.att))
	if err != nil {
		return 0, err
	}
	defer func() { giveBuffer(msg) }()
	msg = append(msg, '\n')
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// The line and its attachment in two writes: joining them first would
	// copy a replay's ids once more.
	if _, err = s.out.Write(msg); err == nil && len(enc.att) > 0 {
		_, err = s.out.Write(enc.att)
	}
	return len(msg) + len(enc.att), err
}
