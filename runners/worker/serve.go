package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/runners"
)

// ServeOptions describe the runner that Serve puts behind the protocol.
type ServeOptions struct {
	// Worker and Model are the hello result's names (what the program is,
	// what it serves); Serves is "sim" for the embedded sim.
	Worker, Model, Serves string
	// NeedsProblems asks relix for the problem sets at hello.
	NeedsProblems bool
	// New makes the runner from hello's configuration and, once they have
	// come, the problem sets (nil at hello; with NeedsProblems the runner
	// is made again when they arrive and must keep its base checkpoint).
	New func(ctx context.Context, cfg Config, problems []*dataset.Set) (runners.Runner, error)
	// Concurrency is how many requests are served at once (0: 1).
	Concurrency int
}

// Serve speaks the worker side of the protocol on in and out until a
// shutdown request or the end of in. Every failure of a request goes back
// as a structured error; Serve itself fails only when the conversation
// cannot go on (a line that is not a request, a refused protocol version,
// a write error).
func Serve(ctx context.Context, in io.Reader, out io.Writer, o ServeOptions) error {
	s := &server{o: o, out: out, max: DefaultMaxMessage}
	s.sem = make(chan struct{}, max(o.Concurrency, 1))
	lines := newLineReader(in, s.max)
	defer s.close()
	for {
		line, err := lines.next()
		if errors.Is(err, io.EOF) {
			return nil // relix went away: nothing more to answer
		}
		if err != nil {
			return fmt.Errorf("reading requests: %w", err)
		}
		req, err := DecodeRequest(line)
		if err != nil {
			return fmt.Errorf("request line %d is not a protocol request: %w", lines.n, err)
		}
		done, err := s.handle(ctx, req)
		if err != nil || done {
			return err
		}
		lines.max = s.max // hello may have changed it
	}
}

type server struct {
	o   ServeOptions
	out io.Writer
	max int

	wmu sync.Mutex // serializes lines on out
	sem chan struct{}
	wg  sync.WaitGroup

	hello    *Hello
	runner   runners.Runner
	base     string
	problems bool // the problem sets have come
}

func (s *server) close() {
	s.wg.Wait()
	if s.runner != nil {
		_ = s.runner.Close()
	}
}

// handle answers req, concurrently for the runner's methods; it reports
// done after shutdown.
func (s *server) handle(ctx context.Context, req Request) (done bool, err error) {
	switch {
	case req.Method == MethodHello:
		return s.helloed(ctx, req)
	case s.hello == nil:
		return false, s.reply(req.ID, nil, &Error{CodeBadRequest, fmt.Sprintf("%s before hello: hello comes first", req.Method)})
	case req.Method == MethodProblems:
		return false, s.loadProblems(ctx, req)
	case req.Method == MethodShutdown:
		s.wg.Wait()
		return true, s.reply(req.ID, Empty{}, nil)
	case s.o.NeedsProblems && !s.problems:
		return false, s.reply(req.ID, nil, &Error{CodeBadRequest, fmt.Sprintf("%s before problems: this worker needs the problem sets first", req.Method)})
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		result, rerr := s.call(ctx, req)
		_ = s.reply(req.ID, result, rerr) // when relix is gone the next read ends the loop
	}()
	return false, nil
}

func (s *server) helloed(ctx context.Context, req Request) (bool, error) {
	var h Hello
	if err := strictUnmarshal(req.Params, &h); err != nil {
		return false, s.reply(req.ID, nil, &Error{CodeBadRequest, "hello params: " + err.Error()})
	}
	if h.Protocol != Version {
		msg := fmt.Sprintf("relix speaks protocol version %d; this worker speaks %d (use a relix and a worker of the same protocol)", h.Protocol, Version)
		if err := s.reply(req.ID, nil, &Error{CodeProtocolVersion, msg}); err != nil {
			return true, err
		}
		return true, errors.New(msg)
	}
	if s.hello != nil {
		return false, s.reply(req.ID, nil, &Error{CodeBadRequest, "a second hello"})
	}
	r, err := s.o.New(ctx, h.Config, nil)
	if err != nil {
		return false, s.reply(req.ID, nil, &Error{CodeBadRequest, err.Error()})
	}
	s.hello, s.runner, s.base = &h, r, r.Base()
	if h.MaxMessage > 0 {
		s.max = h.MaxMessage
	}
	caps := []string{CapGenerate, CapStep, CapHidden, CapSave, CapLoad}
	if _, ok := r.(runners.Oracle); ok {
		caps = append(caps, CapProbability)
	}
	res := HelloResult{
		Protocol: Version, Worker: s.o.Worker, Model: s.o.Model, Serves: s.o.Serves, Base: s.base,
		Capabilities: caps, Concurrency: max(s.o.Concurrency, 1),
	}
	if s.o.NeedsProblems {
		res.Needs = []string{NeedProblems}
	}
	return false, s.reply(req.ID, res, nil)
}

func (s *server) loadProblems(ctx context.Context, req Request) error {
	var p ProblemsParams
	if err := strictUnmarshal(req.Params, &p); err != nil {
		return s.reply(req.ID, nil, &Error{CodeBadRequest, "problems params: " + err.Error()})
	}
	set, err := dataset.NewSet("problems", p.Problems)
	if err != nil {
		return s.reply(req.ID, nil, &Error{CodeBadRequest, err.Error()})
	}
	s.wg.Wait() // no request may be using the runner being replaced
	r, err := s.o.New(ctx, s.hello.Config, []*dataset.Set{set})
	if err != nil {
		return s.reply(req.ID, nil, &Error{CodeBadRequest, err.Error()})
	}
	if r.Base() != s.base {
		_ = r.Close()
		return s.reply(req.ID, nil, &Error{CodeFailed, fmt.Sprintf("the base checkpoint changed with the problem sets (%s, was %s)", r.Base(), s.base)})
	}
	_ = s.runner.Close()
	s.runner, s.problems = r, true
	return s.reply(req.ID, Empty{}, nil)
}

// call runs one runner method and returns its result or a structured error.
func (s *server) call(ctx context.Context, req Request) (any, *Error) {
	r := s.runner
	bad := func(err error) *Error { return &Error{CodeBadRequest, req.Method + " params: " + err.Error()} }
	switch req.Method {
	case MethodGenerate:
		var p GenerateParams
		if err := strictUnmarshal(req.Params, &p); err != nil {
			return nil, bad(err)
		}
		cs, err := r.Generate(ctx, p.Checkpoint, p.Prompts, p.N, p.Sampling)
		if err != nil {
			return nil, failure(err)
		}
		return GenerateResult{Completions: cs}, nil
	case MethodStep:
		var p StepParams
		if err := strictUnmarshal(req.Params, &p); err != nil {
			return nil, bad(err)
		}
		next, m, err := r.Step(ctx, p.Checkpoint, p.Groups, p.Hyper)
		if err != nil {
			return nil, failure(err)
		}
		return StepResult{Checkpoint: next, Metrics: m}, nil
	case MethodHidden:
		var p HiddenParams
		if err := strictUnmarshal(req.Params, &p); err != nil {
			return nil, bad(err)
		}
		h, err := r.Hidden(ctx, p.Checkpoint, p.Tokens, p.Positions)
		if err != nil {
			return nil, failure(err)
		}
		return HiddenResult{Hidden: h}, nil
	case MethodSave:
		var p SaveParams
		if err := strictUnmarshal(req.Params, &p); err != nil {
			return nil, bad(err)
		}
		if err := r.Save(ctx, p.Checkpoint, p.Dir); err != nil {
			return nil, failure(err)
		}
		return Empty{}, nil
	case MethodLoad:
		var p LoadParams
		if err := strictUnmarshal(req.Params, &p); err != nil {
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
		if err := strictUnmarshal(req.Params, &p); err != nil {
			return nil, bad(err)
		}
		pr, err := o.SuccessProbability(ctx, p.Checkpoint, p.Prompt, p.Sampling, p.Truncated)
		if err != nil {
			return nil, failure(err)
		}
		return ProbabilityResult{Probability: pr}, nil
	}
	return nil, &Error{CodeUnknownMethod, fmt.Sprintf("method %q is not served here", req.Method)}
}

func failure(err error) *Error {
	if errors.Is(err, runners.ErrUnknownCheckpoint) {
		return &Error{CodeUnknownCheckpoint, err.Error()}
	}
	return &Error{CodeFailed, err.Error()}
}

// reply writes one response line. A result that cannot be encoded (a
// non-finite number) or is longer than the limit goes back as an error.
func (s *server) reply(id uint64, result any, e *Error) error {
	resp := Response{ID: id, Error: e}
	if e == nil {
		data, err := json.Marshal(result)
		switch {
		case err != nil:
			resp.Error = &Error{CodeFailed, "result does not encode as JSON: " + err.Error()}
		case len(data) > s.max:
			resp.Error = &Error{CodeFailed, fmt.Sprintf("result of %d bytes is longer than the message limit of %d bytes", len(data), s.max)}
		default:
			resp.Result = data
		}
	}
	line, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err = s.out.Write(append(line, '\n'))
	return err
}
