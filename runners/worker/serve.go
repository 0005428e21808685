package worker

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// Concurrency is how many requests are served at once (0: 1). At 1
	// each request is answered on the goroutine that read it, which
	// spares two thread hand-offs per request: most of a small request's
	// cost on a busy machine.
	Concurrency int
	// Features are those Serve may take up when relix offers them: nil
	// means all it speaks (Features), an empty list none, as a worker
	// older than them answers.
	Features []string
	// Log, when set, gets one line at the end: the requests served by
	// method and the bytes they carried.
	Log io.Writer
	// heldIDs bounds the ids kept for handles (0: workerHeldIDs); tests
	// make it small to see handles let go.
	heldIDs int
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
		env, err := parseEnvelope(line, true)
		if err == nil {
			err = checkRequest(&env)
		}
		if err != nil {
			return fmt.Errorf("request line %d is not a protocol request: %w", lines.n, err)
		}
		req := request{envelope: env}
		if env.Bin > 0 {
			if req.att, err = lines.attachment(env.Bin, len(line)); err != nil {
				return fmt.Errorf("reading requests: %w", err)
			}
		}
		done, err := s.handle(ctx, req)
		if err != nil || done {
			return err
		}
		lines.max = s.max // hello may have changed it
	}
}

// request is a request as read: its envelope and its attachment.
type request struct {
	envelope
	att []byte
}

type server struct {
	o   ServeOptions
	out io.Writer
	max int
	// binary, handles and digests are the features hello took up.
	binary, handles, digests bool
	ids                      *idStore
	tally                    tally

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
	s.tally.write(s.o.Log, s.o.Worker)
	if s.runner != nil {
		_ = s.runner.Close()
	}
}

// handle answers req, concurrently for the runner's methods when Serve
// may work on several; it reports done after shutdown.
func (s *server) handle(ctx context.Context, req request) (done bool, err error) {
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
	if s.o.Concurrency <= 1 {
		s.answer(ctx, req)
		return false, nil
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	// The body is a slice of the reader's buffer, which the next line
	// overwrites while this request is answered; one answered on the
	// reading goroutine is done with it by then.
	req.Body = bytes.Clone(req.Body)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.sem }()
		s.answer(ctx, req)
	}()
	return false, nil
}

// answer runs a runner method and writes its answer. A write that fails
// is not an error here: relix is gone, and the next read ends the loop.
func (s *server) answer(ctx context.Context, req request) {
	result, rerr := s.call(ctx, req)
	items := 0
	if b, ok := result.(batchReplies); ok {
		items = len(b)
	}
	n, _ := s.replied(req.ID, result, rerr)
	s.tally.add(req.Method, items, len(req.Body)+len(req.att), n)
}

func (s *server) helloed(ctx context.Context, req request) (bool, error) {
	var h Hello
	if err := strictUnmarshal(req.Body, &h); err != nil {
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
	caps := []string{CapGenerate, CapStep, CapHidden, CapSave, CapLoad, CapBatch}
	if _, ok := r.(runners.Oracle); ok {
		caps = append(caps, CapProbability, CapProbabilities)
	}
	if _, ok := r.(difficultyTeller); ok {
		caps = append(caps, CapDifficulties)
	}
	res := HelloResult{
		Protocol: Version, Worker: s.o.Worker, Model: s.o.Model, Serves: s.o.Serves, Base: s.base,
		Capabilities: caps, Concurrency: max(s.o.Concurrency, 1),
	}
	speaks := Features
	if s.o.Features != nil {
		speaks = s.o.Features
	}
	for _, f := range h.Features {
		if slices.Contains(speaks, f) && slices.Contains(Features, f) && !slices.Contains(res.Features, f) {
			res.Features = append(res.Features, f)
		}
	}
	if !res.Speaks(FeatureHandles) {
		// A digest names ids by a handle: without handles, nothing to name.
		res.Features = slices.DeleteFunc(res.Features, func(f string) bool { return f == FeatureDigests })
	}
	s.binary, s.handles, s.digests = res.Speaks(FeatureBinary), res.Speaks(FeatureHandles), res.Speaks(FeatureDigests)
	if s.handles {
		s.ids = newIDStore(cmp.Or(s.o.heldIDs, workerHeldIDs))
	}
	if s.o.NeedsProblems {
		res.Needs = []string{NeedProblems}
	}
	return false, s.reply(req.ID, res, nil)
}

func (s *server) loadProblems(ctx context.Context, req request) error {
	var p ProblemsParams
	if err := fastOrStrict(req.Body, &p); err != nil {
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
