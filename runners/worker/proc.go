package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// procError is a failure of the worker process rather than of one request:
// it crashed, hung or broke the protocol. Every request in flight on the
// process fails with it. A crash or a hang is retried on a new process; a
// protocol violation is fatal, because a new process would commit it again.
type procError struct {
	msg   string
	fatal bool
}

func (e *procError) Error() string { return e.msg }

// proc is one worker process and the conversation with it.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *logTail
	max   int
	wmu   sync.Mutex // serializes request lines

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan answer // nil: abandoned by a cancelled caller
	held    map[string]bool        // checkpoints this process holds
	err     *procError             // why it is gone; set before done closes
	done    chan struct{}

	restoreMu sync.Mutex // one restoration at a time
	hello     HelloResult
	// binary, handles and digests are the features hello negotiated: set
	// before the process serves any request, read-only after.
	binary, handles, digests bool
}

// answer is a response as read: its envelope and its attachment.
type answer struct {
	env envelope
	att []byte
}

// startProc starts the command. Its stderr goes to stderr; stdout is the
// protocol.
func startProc(argv []string, env []string, stderr *logTail, max int) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second // a grandchild holding stderr open must not block Wait
	setProcessGroup(cmd)
	// The pipes are made here rather than by exec so that both can be
	// widened: a replay's ids or a batch of groups then crosses in one
	// write instead of a context switch every 64 KiB.
	stdinR, stdin, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdin.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = stdinR, stdoutW
	widenPipe(stdin, pipeSize)
	widenPipe(stdout, pipeSize)
	err = cmd.Start()
	stdinR.Close() // the worker holds its own copies now
	stdoutW.Close()
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, fmt.Errorf("starting the worker %q: %w", strings.Join(argv, " "), err)
	}
	p := &proc{
		cmd: cmd, stdin: stdin, log: stderr, max: max, nextID: 1,
		pending: map[uint64]chan answer{}, held: map[string]bool{}, done: make(chan struct{}),
	}
	go p.read(stdout)
	return p, nil
}

// read dispatches response lines until the process is gone, then reaps it.
func (p *proc) read(stdout io.ReadCloser) {
	lines := newLineReader(stdout, p.max)
	for {
		line, err := lines.next()
		if err != nil {
			p.tooLarge(err)
			break
		}
		// The caller decodes the result from the line after this loop has
		// read the next one into the reader's buffer.
		line = bytes.Clone(line)
		env, err := parseEnvelope(line, false)
		if err == nil {
			err = checkResponse(&env)
		}
		if err != nil {
			p.fail(&procError{msg: fmt.Sprintf("the worker wrote a line on stdout that is not a protocol message (line %d: %s): %v; "+
				"a worker writes only protocol messages on stdout and its logs on stderr", lines.n, quote(line, 120), err), fatal: true})
			break
		}
		a := answer{env: env}
		if env.Bin > 0 {
			if a.att, err = lines.attachment(env.Bin, len(line)); err != nil {
				p.tooLarge(err)
				break
			}
		}
		p.mu.Lock()
		ch, ok := p.pending[env.ID]
		delete(p.pending, env.ID)
		p.mu.Unlock()
		if !ok {
			p.fail(&procError{msg: fmt.Sprintf("the worker answered request %d, which relix never sent or which was answered already (line %d)", env.ID, lines.n), fatal: true})
			break
		}
		if ch != nil {
			ch <- a // buffered: never blocks
		}
	}
	p.kill()
	werr := p.cmd.Wait()
	stdout.Close()
	p.log.flush()
	p.mu.Lock()
	if p.err == nil {
		p.err = &procError{msg: exitMessage(werr)}
	}
	p.mu.Unlock()
	close(p.done)
}

// tooLarge fails the process for a message over the limit; other read
// errors are the process's end, which Wait explains.
func (p *proc) tooLarge(err error) {
	if errors.Is(err, ErrTooLarge) {
		p.fail(&procError{msg: fmt.Sprintf("the worker wrote a message longer than the limit (%v; raise runner.max_message_mib if it is legitimate)", err), fatal: true})
	}
}

func exitMessage(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "the worker exited (status 0) without being asked to"
	case errors.As(err, &exit):
		return "the worker died (" + exit.ProcessState.String() + ")"
	}
	return "the worker died: " + err.Error()
}

func quote(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// fail records why the process is being given up on (the first reason
// wins) and kills it.
func (p *proc) fail(e *procError) {
	p.mu.Lock()
	if p.err == nil {
		p.err = e
	}
	p.mu.Unlock()
	p.kill()
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		killProcessGroup(p.cmd)
	}
}

// gone returns the process's failure once it is gone, nil while it runs.
func (p *proc) gone() *procError {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

func (p *proc) holds(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[id]
}

func (p *proc) hold(id string) {
	p.mu.Lock()
	p.held[id] = true
	p.mu.Unlock()
}

func (p *proc) forget(ids []string) {
	p.mu.Lock()
	for _, id := range ids {
		if id != p.hello.Base {
			delete(p.held, id)
		}
	}
	p.mu.Unlock()
}

// call sends one request and waits for its answer, the process's end, the
// timeout (which kills the process as hung) or the caller's cancellation.
// A structured error comes back as *Error; a failure of the process as
// *procError.
func (p *proc) call(ctx context.Context, method string, params any, timeout time.Duration, result any) error {
	e := encoder{binary: p.binary, att: takeBuffer()}
	defer func() { giveBuffer(e.att) }()
	body, err := encodeBody(&e, params)
	if err != nil {
		return fmt.Errorf("%s params do not encode as JSON: %w", method, err)
	}
	p.mu.Lock()
	id := p.nextID
	p.nextID++
	p.mu.Unlock()
	// The message is built outside the lock: a step's can be megabytes.
	msg := appendRequest(slices.Grow(takeBuffer(), len(body)+len(e.att)+96), id, method, body, len(e.att))
	defer func() { giveBuffer(msg) }()
	if n := len(msg) + len(e.att); n > p.max {
		return fmt.Errorf("%s request of %d bytes is longer than the message limit of %d bytes (runner.max_message_mib)", method, n, p.max)
	}
	msg = append(append(msg, '\n'), e.att...)
	ch := make(chan answer, 1)
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		<-p.done
		return p.err
	}
	p.pending[id] = ch
	p.mu.Unlock()

	p.wmu.Lock()
	_, err = p.stdin.Write(msg)
	p.wmu.Unlock()
	if err != nil {
		p.fail(&procError{msg: fmt.Sprintf("writing the %s request: %v", method, err)})
		<-p.done
		return p.err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-ch:
		if a.env.Error != nil {
			return a.env.Error
		}
		return decodeResult(method, a.env.Body, a.att, result)
	case <-p.done:
		return p.err
	case <-timer.C:
		p.fail(&procError{msg: fmt.Sprintf("the worker hung: no answer to the %s request within %v", method, timeout)})
		<-p.done
		return p.err
	case <-ctx.Done():
		p.mu.Lock()
		if _, waiting := p.pending[id]; waiting {
			p.pending[id] = nil // a late answer is dropped, not a protocol error
		}
		p.mu.Unlock()
		return ctx.Err()
	}
}

// stop asks the process to shut down, waits up to grace, then kills it.
func (p *proc) stop(grace time.Duration) {
	if p.gone() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		_ = p.call(ctx, MethodShutdown, Empty{}, grace, &Empty{})
		cancel()
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	p.fail(&procError{msg: "the worker was shut down"})
	<-p.done
}

// environ is the worker's environment: the caller's, then the spec's extras
// in a fixed order.
func environ(inherited []string, extra map[string]string) []string {
	env := slices.Clone(inherited)
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}
