package worker

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Handles (FeatureHandles) spare hidden its token ids: a proof asks for
// hidden states of the very ids a replayed generate just returned, so the
// worker keeps those ids under a handle and relix names them by it. Both
// sides bound what they keep by token ids held; a handle either side has
// let go costs one hidden request with the ids, never a wrong answer.

// relixHeldIDs bounds relix's copies of ids it holds handles for (16 MiB):
// a window's proofs use the groups replayed just before, a few hundred
// completions at most.
const relixHeldIDs = 4 << 20

// workerHeldIDs bounds the ids a worker served by Serve keeps (24 MiB):
// half as many again as relix keeps, so relix's handles are seldom stale.
// Both let the oldest go first, in the order the completions were
// generated, so any margin would do; more costs a fresh worker process
// a page fault for every 4 KiB its heap grows (64 MiB was half of a
// market seed's worker's faults, and a tenth of its CPU).
const workerHeldIDs = 6 << 20

// handleCache is relix's side: a copy of each completion's ids with the
// process and handle that name them. A hidden request sends the handle
// only for ids exactly equal to a copy (compared in full, so a caller that
// edits its tokens — a forger's splice — sends its own ids) and only to
// the process that issued it.
type handleCache struct {
	mu    sync.Mutex
	byKey map[uint64][]*handleEntry
	fifo  []*handleEntry
	held  int
	max   int
}

type handleEntry struct {
	key    uint64
	proc   *proc
	handle uint64
	ids    []uint32
	gone   atomic.Bool // evicted or dropped: set under the cache's lock, read without it
}

func newHandleCache(max int) *handleCache {
	return &handleCache{byKey: map[uint64][]*handleEntry{}, max: max}
}

// idsKey hashes the length and a sample of the ids: cheap, and any
// collision is settled by the full comparison.
func idsKey(ids []uint32) uint64 {
	h := uint64(len(ids)) * 0x9e3779b97f4a7c15
	step := max(1, len(ids)/64)
	for i := 0; i < len(ids); i += step {
		h = (h ^ uint64(ids[i])) * 0x100000001b3
	}
	if len(ids) > 0 {
		h = (h ^ uint64(ids[len(ids)-1])) * 0x100000001b3
	}
	return h
}

// put keeps a copy of ids as named by handle on p.
func (c *handleCache) put(p *proc, handle uint64, ids []uint32) {
	if handle == 0 || len(ids) == 0 || len(ids) > c.max {
		return
	}
	e := &handleEntry{key: idsKey(ids), proc: p, handle: handle, ids: slices.Clone(ids)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[e.key] = append(c.byKey[e.key], e)
	c.fifo = append(c.fifo, e)
	c.held += len(e.ids)
	for c.held > c.max {
		c.evict(c.fifo[0])
		c.fifo = c.fifo[1:]
	}
}

// evict removes e from byKey; the caller holds c.mu and removes it from
// fifo.
func (c *handleCache) evict(e *handleEntry) {
	c.held -= len(e.ids)
	e.gone.Store(true)
	list := slices.DeleteFunc(c.byKey[e.key], func(x *handleEntry) bool { return x == e })
	if len(list) == 0 {
		delete(c.byKey, e.key)
	} else {
		c.byKey[e.key] = list
	}
}

// find returns p's handle of ids, if relix holds one.
func (c *handleCache) find(p *proc, ids []uint32) (uint64, bool) {
	if len(ids) == 0 {
		return 0, false
	}
	key := idsKey(ids)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byKey[key] {
		if e.proc == p && slices.Equal(e.ids, ids) {
			return e.handle, true
		}
	}
	return 0, false
}

// lookup returns relix's newest copy of ids, from any process, or nil.
func (c *handleCache) lookup(ids []uint32) *handleEntry {
	if len(ids) == 0 {
		return nil
	}
	key := idsKey(ids)
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.byKey[key]
	for i := len(list) - 1; i >= 0; i-- {
		if slices.Equal(list[i].ids, ids) {
			return list[i]
		}
	}
	return nil
}

// drop forgets p's handle, which the worker no longer holds.
func (c *handleCache) drop(p *proc, handle uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.fifo {
		if e.proc == p && e.handle == handle && !e.gone.Load() {
			c.evict(e)
		}
	}
	c.fifo = slices.DeleteFunc(c.fifo, func(e *handleEntry) bool { return e.gone.Load() })
}

// idStore is a worker's side: the ids of the completions it generated with
// sampling.tokens, by handle, oldest let go first beyond max ids.
type idStore struct {
	mu   sync.Mutex
	next uint64
	ids  map[uint64][]uint32
	fifo []uint64
	held int
	max  int
}

func newIDStore(max int) *idStore { return &idStore{ids: map[uint64][]uint32{}, max: max} }

// put keeps ids (the caller's slice, which it no longer changes) and
// returns their handle; 0 when there is nothing to keep.
func (s *idStore) put(ids []uint32) uint64 {
	if len(ids) == 0 || len(ids) > s.max {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.ids[s.next] = ids
	s.fifo = append(s.fifo, s.next)
	s.held += len(ids)
	for s.held > s.max {
		old := s.fifo[0]
		s.fifo = s.fifo[1:]
		s.held -= len(s.ids[old])
		delete(s.ids, old)
	}
	return s.next
}

func (s *idStore) get(handle uint64) ([]uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, ok := s.ids[handle]
	return ids, ok
}
