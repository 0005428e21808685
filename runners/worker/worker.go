// Package worker is the out-of-process runner: relix starts the spec's
// worker command and speaks newline-delimited JSON with it (PROTOCOL.md), so
// any model stack can generate and train for relix. The runner restarts a
// worker that crashed or hung, restores the checkpoints a request needs,
// and fails with the worker's last log lines once runner.max_restarts is
// spent. Serve is the other side of the protocol: `relix worker --runner
// sim` serves the embedded sim with it, and runners/worker/python holds the
// reference GPU worker.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
)

// Kind is the spec's runner.kind of this runner.
const Kind = "worker"

// maxLineage bounds the steps kept for replay: checkpoints made by Step and
// not saved since (the harness saves after every step, so one or two).
const maxLineage = 32

// Runner is a worker process behind the runners.Runner contract. It is
// safe for concurrent use.
type Runner struct {
	cfg      spec.Runner
	argv     []string
	env      []string
	relix    string // the caller's version, told at hello
	max      int
	problems *problemsBody
	log      *logTail
	store    *store
	hello    HelloResult // of the first process; later ones must agree on Base
	sem      chan struct{}
	handles  *handleCache
	queue    hiddenQueue

	mu       sync.Mutex
	proc     *proc
	starts   int
	lastErr  error
	fatal    error
	closed   bool
	lineage  map[string]*replay
	lineSeq  int
	restarts int
}

// replay is a Step that made a checkpoint relix has no saved copy of: on a
// new process it is run again, from its restored inputs.
type replay struct {
	params json.RawMessage
	needs  []string
	seq    int
}

var _ runners.Runner = (*Runner)(nil)

// oracleRunner is a Runner whose worker answers probability requests.
type oracleRunner struct{ *Runner }

var _ runners.BatchOracle = oracleRunner{}

// New starts the worker of cfg and greets it. A worker that fails to start
// the first time is not retried: that is a configuration error.
func New(ctx context.Context, cfg spec.Runner, opts runners.Options) (runners.Runner, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("worker: runner.command is empty (want the worker's command line, e.g. \"relix worker --runner sim\")")
	}
	r := &Runner{
		cfg:     cfg,
		argv:    resolveCommand(cfg.Command, opts.Executable),
		env:     environ(opts.Environ, cfg.Env),
		relix:   opts.Relix,
		max:     DefaultMaxMessage,
		log:     newLogTail(opts.Log),
		store:   newStore(opts.Log),
		lineage: map[string]*replay{},
		handles: newHandleCache(relixHeldIDs),
	}
	if cfg.MaxMessage > 0 {
		r.max = cfg.MaxMessage << 20
	}
	r.problems = problemsOf(opts.Problems)
	p, err := r.start(ctx)
	if err != nil {
		r.store.remove()
		return nil, r.withTail(fmt.Errorf("worker: %w", err))
	}
	r.proc, r.starts = p, 1
	r.hello = p.hello
	r.sem = make(chan struct{}, max(p.hello.Concurrency, 1))
	if p.hello.Has(CapProbability) {
		return oracleRunner{r}, nil
	}
	return r, nil
}

// resolveCommand makes a bare "relix" mean this program (self) when this
// program is relix: the sim it serves is then the one this relix embeds.
func resolveCommand(cmd spec.Command, self string) []string {
	argv := slices.Clone([]string(cmd))
	if argv[0] == "relix" && self != "" && filepath.Base(self) == "relix" {
		argv[0] = self
	}
	return argv
}

// start starts a process and greets it: hello, then the problem sets when
// it asks for them.
func (r *Runner) start(ctx context.Context) (*proc, error) {
	p, err := startProc(r.argv, r.env, r.log, r.max)
	if err != nil {
		return nil, &procError{msg: err.Error(), fatal: true}
	}
	if err := r.greet(ctx, p); err != nil {
		// A process that died or hung during hello may do better next
		// time; one that answered hello wrongly will not.
		pe := &procError{msg: err.Error(), fatal: true}
		if errors.As(err, new(*procError)) {
			pe.fatal = false
		}
		p.fail(pe)
		<-p.done
		return nil, pe
	}
	speaks := "JSON only"
	if len(p.hello.Features) > 0 {
		speaks = "features " + strings.Join(p.hello.Features, ", ")
	}
	r.log.notef("worker %s (pid %d) serves %s, base checkpoint %s, %s", p.hello.Worker, p.cmd.Process.Pid, p.hello.Model, p.hello.Base, speaks)
	return p, nil
}

func (r *Runner) greet(ctx context.Context, p *proc) error {
	timeout := r.cfg.Timeouts.Start.Std()
	h := Hello{Protocol: Version, Relix: r.relix, MaxMessage: r.max, Config: Config{Model: r.cfg.Model, Dtype: r.cfg.Dtype, Device: r.cfg.Device},
		Features: Features}
	if r.cfg.ServesSim() {
		sim := SimPolicy(r.cfg.Sim)
		h.Config.Sim = &sim
	}
	// The problem sets are encoded while the worker starts up, once an
	// experiment (problemsOf): a worker that needs them would wait for it
	// after hello, and one that does not costs a single encoding.
	go func() { _, _ = r.problems.get() }()
	var res HelloResult
	if err := p.call(ctx, MethodHello, h, timeout, &res); err != nil {
		var we *Error
		if errors.As(err, &we) && we.Code == CodeProtocolVersion {
			return fmt.Errorf("hello: the worker refuses relix's protocol version %d: %s", Version, we.Message)
		}
		return fmt.Errorf("hello: %w", err)
	}
	if err := checkHello(&res); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if r.hello.Base != "" && res.Base != r.hello.Base {
		return fmt.Errorf("hello: the restarted worker's base checkpoint is %s; the first one's was %s", res.Base, r.hello.Base)
	}
	if r.cfg.ServesSim() && res.Serves != "sim" {
		return fmt.Errorf("hello: runner.command %q names relix's sim worker, so the spec hashes as the sim, but the worker says it serves %q (worker %s)",
			r.cfg.Command, res.Serves, res.Worker)
	}
	p.hello = res
	p.binary, p.handles = res.Speaks(FeatureBinary), res.Speaks(FeatureHandles)
	p.digests = p.handles && res.Speaks(FeatureDigests)
	p.hold(res.Base)
	if slices.Contains(res.Needs, NeedProblems) {
		body, err := r.problems.get()
		if err != nil {
			return fmt.Errorf("the problem sets do not encode as JSON: %w", err)
		}
		if err := p.call(ctx, MethodProblems, body, timeout, &Empty{}); err != nil {
			return fmt.Errorf("sending the problem sets: %w", err)
		}
	}
	return nil
}

// Base is the id of the untrained checkpoint, as the worker named it.
func (r *Runner) Base() string { return r.hello.Base }

// Hello is what the worker said about itself.
func (r *Runner) Hello() HelloResult { return r.hello }

// Identity names the worker program and the model it serves, as its hello
// said, for the run's manifest.
func (r *Runner) Identity() (name, version string) { return r.hello.Worker, r.hello.Model }

// current returns the live process, starting a new one when the last one
// is gone, until runner.max_restarts is spent.
func (r *Runner) current(ctx context.Context) (*proc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		switch {
		case r.closed:
			return nil, errors.New("worker: the runner is closed")
		case r.fatal != nil:
			return nil, r.fatal
		case r.proc != nil && r.proc.gone() == nil:
			return r.proc, nil
		case r.proc != nil:
			r.lost(r.proc, r.proc.gone())
			continue
		case r.restarts >= r.cfg.MaxRestarts:
			r.fatal = r.withTail(fmt.Errorf("worker: giving up after %d restarts (runner.max_restarts): %w", r.restarts, r.lastErr))
			return nil, r.fatal
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.restarts++
		r.log.notef("restarting the worker (restart %d of %d)", r.restarts, r.cfg.MaxRestarts)
		p, err := r.start(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.lastErr = err
			if pe := (*procError)(nil); errors.As(err, &pe) && pe.fatal {
				r.fatal = r.withTail(fmt.Errorf("worker: restart %d: %w", r.restarts, err))
			}
			continue
		}
		r.proc = p
	}
}

// lost records that p failed with e; the caller holds r.mu.
func (r *Runner) lost(p *proc, e *procError) {
	if r.proc != p {
		return // already replaced
	}
	r.proc = nil
	r.lastErr = e
	if e.fatal {
		r.fatal = r.withTail(fmt.Errorf("worker: %w", e))
		return
	}
	r.log.notef("%s", e.msg)
}

func (r *Runner) failed(p *proc, e *procError) {
	p.fail(e)
	<-p.done
	r.mu.Lock()
	r.lost(p, p.err)
	r.mu.Unlock()
}

// withTail appends the worker's last log lines to err.
func (r *Runner) withTail(err error) error {
	tail := r.log.tail()
	if tail == "" {
		return fmt.Errorf("%w (the worker wrote nothing on stderr)", err)
	}
	return fmt.Errorf("%w\nlast lines of the worker's stderr:\n%s", err, tail)
}

// do runs one request to completion: on the live process, after restoring
// the checkpoints it needs, again on a new process when the process
// crashes or hangs. It returns the process that answered.
func (r *Runner) do(ctx context.Context, method string, params any, timeout time.Duration, result any, needs ...string) (*proc, error) {
	retried := false
	for {
		p, err := r.current(ctx)
		if err != nil {
			return nil, err
		}
		err = r.restore(ctx, p, needs)
		if err == nil {
			body := params
			if pp, ok := params.(perProc); ok {
				body = pp.on(p)
			}
			err = r.send(ctx, p, method, body, timeout, result)
		}
		var pe *procError
		var we *Error
		switch {
		case err == nil:
			return p, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &pe):
			r.failed(p, pe)
		case errors.As(err, &we) && we.Code == CodeUnknownCheckpoint && !retried:
			// The worker let a checkpoint go (it may keep only a few):
			// restore it and ask again, once.
			retried = true
			p.forget(needs)
		default:
			return nil, fmt.Errorf("worker: %s: %w", method, err)
		}
	}
}

// perProc is params that depend on the process they go to (a handle is
// only good on the process that issued it).
type perProc interface{ on(p *proc) any }

// send makes one call within the worker's announced concurrency.
func (r *Runner) send(ctx context.Context, p *proc, method string, params any, timeout time.Duration, result any) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	return p.call(ctx, method, params, timeout, result)
}

// restore makes p hold every checkpoint in ids: loaded from relix's copy
// of its last save, or made again by replaying the step that made it.
func (r *Runner) restore(ctx context.Context, p *proc, ids []string) error {
	p.restoreMu.Lock()
	defer p.restoreMu.Unlock()
	for _, id := range ids {
		if err := r.ensure(ctx, p, id, 0); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) ensure(ctx context.Context, p *proc, id string, depth int) error {
	if id == "" || p.holds(id) {
		return nil
	}
	if depth > maxLineage {
		return fmt.Errorf("restoring %s: more than %d steps to replay", id, maxLineage)
	}
	timeout := r.cfg.Timeouts.Other.Std()
	dir, ok, err := r.store.get(id)
	if err != nil {
		return err
	}
	if ok {
		var res LoadResult
		if err := r.send(ctx, p, MethodLoad, LoadParams{Dir: dir}, timeout, &res); err != nil {
			return restoring(id, err)
		}
		if res.Checkpoint != id {
			return fmt.Errorf("restoring %s from %s: the worker loaded checkpoint %s", id, dir, res.Checkpoint)
		}
		p.hold(id)
		return nil
	}
	r.mu.Lock()
	rp := r.lineage[id]
	r.mu.Unlock()
	if rp == nil {
		return fmt.Errorf("worker: %w: %s (neither the worker nor relix's copies of saved checkpoints hold it)", runners.ErrUnknownCheckpoint, id)
	}
	for _, need := range rp.needs {
		if err := r.ensure(ctx, p, need, depth+1); err != nil {
			return err
		}
	}
	var res StepResult
	if err := r.send(ctx, p, MethodStep, rp.params, r.cfg.Timeouts.Step.Std(), &res); err != nil {
		return restoring(id, err)
	}
	if res.Checkpoint != id {
		return fmt.Errorf("restoring %s by replaying the step that made it: the worker made %s instead (is its training deterministic?)", id, res.Checkpoint)
	}
	p.hold(id)
	return nil
}

func restoring(id string, err error) error {
	var pe *procError
	if errors.As(err, &pe) {
		return err // the process failed: do retries on a new one
	}
	return fmt.Errorf("restoring checkpoint %s: %w", id, err)
}

// remember keeps the step that made next, for replay, unless relix can
// restore next otherwise.
func (r *Runner) remember(next string, params *StepParams) {
	if next == params.Checkpoint || next == r.hello.Base {
		return
	}
	if r.store.has(next) {
		return
	}
	// Kept as JSON with its arrays inline (no attachment), by the hand
	// writer where it can.
	raw, ok := appendStepParams(nil, &encoder{}, *params)
	if !ok {
		var err error
		if raw, err = json.Marshal(params); err != nil {
			return
		}
	}
	needs := []string{params.Checkpoint, params.Hyper.Reference}
	for _, g := range params.Groups {
		needs = append(needs, g.Checkpoint)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.lineage[next]; ok {
		return
	}
	r.lineSeq++
	r.lineage[next] = &replay{params: raw, needs: dedupe(needs), seq: r.lineSeq}
	if len(r.lineage) > maxLineage {
		oldest := ""
		for id, rp := range r.lineage {
			if oldest == "" || rp.seq < r.lineage[oldest].seq {
				oldest = id
			}
		}
		delete(r.lineage, oldest)
	}
}

// nonNil makes an empty list travel as [], never null: a worker in any
// language may iterate it.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
