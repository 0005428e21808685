package worker

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/relix-lab/relix/runners"
)

// A batch's requests are independent (PROTOCOL.md), and a market's are most
// of its worker's work: a race's groups generated ahead, a proof's hidden
// states of a group's completions. Served one after another on the reading
// goroutine they used one core, where in process the market spreads the
// same work over all of them. So a batch of generate and hidden requests
// only is answered as each would be alone, but
//
//   - its hidden requests at one checkpoint go to the runner's HiddenMany
//     when it has one (the sim walks several prefix hashes in one loop), in
//     one part per core;
//   - its generate requests, and those parts, run on as many goroutines as
//     there are cores;
//   - handles for the ids generated are issued afterwards in request order,
//     so the answer does not depend on scheduling.
//
// A batch holding any other method is answered request by request, in
// order, as before.

// hiddenMany is a runner that answers the hidden states of several
// sequences at one checkpoint in one call (runners/sim's HiddenMany):
// out[j] is Hidden(checkpoint, tokens[j], positions[j]).
type hiddenMany interface {
	HiddenMany(ctx context.Context, checkpoint string, tokens [][]uint32, positions [][]int) ([][][]float32, error)
}

// batchItem is one request of a batch being answered at once.
type batchItem struct {
	method string
	gen    GenerateParams
	hidden HiddenParams
	tokens []uint32 // the hidden request's ids: its own or its handle's
	comps  [][]runners.Completion
	states [][]float32
	err    *Error
}

func (s *server) batch(ctx context.Context, req request, p *BatchParams) batchReplies {
	out := make(batchReplies, len(p.Requests))
	if !s.concurrentBatch(p.Requests) {
		for i, item := range p.Requests {
			switch item.Method {
			case MethodHello, MethodProblems, MethodShutdown, MethodBatch:
				out[i].err = &Error{CodeBadRequest, fmt.Sprintf("a batch may not hold a %s request", item.Method)}
			default:
				out[i].result, out[i].err = s.call(ctx, request{envelope: envelope{ID: req.ID, Method: item.Method, Body: item.Params}, att: req.att})
			}
		}
		return out
	}
	items := make([]batchItem, len(p.Requests))
	var jobs []func()
	byCheckpoint := map[string][]int{} // hidden requests ready to compute, in order
	var checkpoints []string
	for i, r := range p.Requests {
		it := &items[i]
		it.method = r.Method
		bad := func(err error) *Error { return &Error{CodeBadRequest, r.Method + " params: " + err.Error()} }
		if r.Method == MethodGenerate {
			if err := decodeBody(r.Params, req.att, &it.gen); err != nil {
				it.err = bad(err)
				continue
			}
			jobs = append(jobs, func() {
				var err error
				if it.comps, err = s.runner.Generate(ctx, it.gen.Checkpoint, it.gen.Prompts, it.gen.N, it.gen.Sampling); err != nil {
					it.err = failure(err)
				}
			})
			continue
		}
		if err := decodeBody(r.Params, req.att, &it.hidden); err != nil {
			it.err = bad(err)
			continue
		}
		if it.tokens, it.err = s.hiddenTokens(&it.hidden); it.err != nil {
			continue
		}
		ck := it.hidden.Checkpoint
		if _, ok := byCheckpoint[ck]; !ok {
			checkpoints = append(checkpoints, ck)
		}
		byCheckpoint[ck] = append(byCheckpoint[ck], i)
	}
	cores := runtime.GOMAXPROCS(0)
	many, _ := s.runner.(hiddenMany)
	for _, ck := range checkpoints {
		idx := byCheckpoint[ck]
		if many == nil {
			for _, i := range idx {
				jobs = append(jobs, func() { s.hiddenOf(ctx, &items[i]) })
			}
			continue
		}
		parts := min(cores, len(idx))
		for part := range parts {
			lo, hi := part*len(idx)/parts, (part+1)*len(idx)/parts
			jobs = append(jobs, func() { s.hiddenPart(ctx, many, ck, items, idx[lo:hi]) })
		}
	}
	runJobs(jobs, cores)
	for i := range items {
		it := &items[i]
		switch {
		case it.err != nil:
			out[i].err = it.err
		case it.method == MethodGenerate:
			out[i].result = s.generated(it.comps, &it.gen)
		default:
			out[i].result = HiddenResult{Hidden: it.states}
		}
	}
	return out
}

// concurrentBatch reports whether a batch holds generate and hidden
// requests only, and there is more than one core to spread them over.
func (s *server) concurrentBatch(reqs []BatchRequest) bool {
	if runtime.GOMAXPROCS(0) < 2 || len(reqs) < 2 {
		return false
	}
	for _, r := range reqs {
		if r.Method != MethodGenerate && r.Method != MethodHidden {
			return false
		}
	}
	return true
}

// hiddenPart answers hidden requests idx, all at checkpoint ck, in one
// HiddenMany call. That call fails as a whole, so on an error each is
// asked alone, for its own answer.
func (s *server) hiddenPart(ctx context.Context, many hiddenMany, ck string, items []batchItem, idx []int) {
	tokens := make([][]uint32, len(idx))
	positions := make([][]int, len(idx))
	for k, i := range idx {
		tokens[k], positions[k] = items[i].tokens, items[i].hidden.Positions
	}
	states, err := many.HiddenMany(ctx, ck, tokens, positions)
	if err != nil || len(states) != len(idx) {
		for _, i := range idx {
			s.hiddenOf(ctx, &items[i])
		}
		return
	}
	for k, i := range idx {
		items[i].states = states[k]
	}
}

func (s *server) hiddenOf(ctx context.Context, it *batchItem) {
	var err error
	if it.states, err = s.runner.Hidden(ctx, it.hidden.Checkpoint, it.tokens, it.hidden.Positions); err != nil {
		it.err = failure(err)
	}
}

// runJobs runs jobs on at most n goroutines and waits for them.
func runJobs(jobs []func(), n int) {
	if len(jobs) == 1 || n < 2 {
		for _, job := range jobs {
			job()
		}
		return
	}
	next := make(chan func())
	var wg sync.WaitGroup
	for range min(n, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				job()
			}
		}()
	}
	for _, job := range jobs {
		next <- job
	}
	close(next)
	wg.Wait()
}
