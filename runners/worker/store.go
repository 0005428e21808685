package worker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/relix-lab/relix/runners"
)

// storeCapacity bounds the checkpoints relix keeps copies of: the trainer's
// current one, the published one and a few older ones are all a run needs.
const storeCapacity = 8

// store keeps relix's own copy of the last saved files of each checkpoint,
// so a new worker process can load it even after the harness has moved or
// deleted the directory it was saved to. Copies are hard links where the
// filesystem allows (free), real copies otherwise. The store lives beside
// the worker's log when that is a file (the run's directory, on the results
// filesystem), else in the system's temporary directory, and is removed by
// Close.
//
// A checkpoint's files are kept flat, as root/<seq>.<i>, and laid out as a
// directory again only when a new process loads one. Every step saves a
// checkpoint and evicts an older one, and a directory made and removed for
// each costs the filesystem several times what the links cost; a restore
// is rare.
type store struct {
	mu      sync.Mutex
	parent  string // where root is made
	root    string // made on first use
	seq     int
	entries map[string]*storeEntry
}

type storeEntry struct {
	seq int
	// owned: the files are kept under root (else dir is the loaded
	// directory itself, which could not be linked).
	owned bool
	dir   string   // !owned: the directory; owned: the layout, once made
	dirs  []string // owned: the checkpoint's directories, relative to it
	files []string // owned: its files, relative to it; file i is root/<seq>.<i>
}

func newStore(log io.Writer) *store {
	parent := os.TempDir()
	if f, ok := log.(interface{ Name() string }); ok {
		if st, err := os.Stat(f.Name()); err == nil && st.Mode().IsRegular() {
			parent = filepath.Dir(f.Name())
		}
	}
	return &store{parent: parent, entries: map[string]*storeEntry{}}
}

// has reports whether the store can restore checkpoint id.
func (s *store) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.entries[id]
	return ok
}

// get returns a directory holding checkpoint id's files, laying it out
// from the kept files the first time it is asked for.
func (s *store) get(id string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return "", false, nil
	}
	if !e.owned || e.dir != "" {
		return e.dir, true, nil
	}
	dir := filepath.Join(s.root, fmt.Sprintf("%06d", e.seq))
	if err := s.layOut(e, dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", false, fmt.Errorf("laying out relix's copy of checkpoint %s: %w", id, err)
	}
	e.dir = dir
	return dir, true, nil
}

func (s *store) layOut(e *storeEntry, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range e.dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	for i, f := range e.files {
		if _, err := runners.LinkOrCopy(s.kept(e, i), filepath.Join(dir, f), true); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) kept(e *storeEntry, i int) string {
	return filepath.Join(s.root, fmt.Sprintf("%06d.%d", e.seq, i))
}

// keep records dir as the files of checkpoint id. With mustCopy the files
// are linked or copied under the store (the caller's directory may go
// away); without it a directory that cannot be linked is remembered as is.
func (s *store) keep(id, dir string, mustCopy bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == "" {
		root, err := os.MkdirTemp(s.parent, ".relix-worker-checkpoints-")
		if err != nil {
			if root, err = os.MkdirTemp("", "relix-worker-checkpoints-"); err != nil {
				return err
			}
		}
		if s.root, err = filepath.Abs(root); err != nil {
			return err
		}
	}
	s.seq++
	e := &storeEntry{seq: s.seq, owned: true}
	linked, err := s.take(e, dir, mustCopy)
	if err != nil || !linked {
		s.drop(e)
	}
	if err != nil {
		return err
	}
	if !linked {
		e = &storeEntry{seq: s.seq, dir: dir}
	}
	if old, ok := s.entries[id]; ok {
		s.drop(old)
	}
	s.entries[id] = e
	for len(s.entries) > storeCapacity {
		oldest := ""
		for k, e := range s.entries {
			if oldest == "" || e.seq < s.entries[oldest].seq {
				oldest = k
			}
		}
		s.drop(s.entries[oldest])
		delete(s.entries, oldest)
	}
	return nil
}

// take links (or, with mustCopy, copies) the checkpoint directory dir's
// files into the store as e's. linked is false when a file could not be
// linked and mustCopy is not set.
func (s *store) take(e *storeEntry, dir string, mustCopy bool) (linked bool, err error) {
	if e.dirs, e.files, err = runners.CheckpointFiles(dir); err != nil {
		return false, err
	}
	for i, f := range e.files {
		if ok, err := runners.LinkOrCopy(filepath.Join(dir, f), s.kept(e, i), mustCopy); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// drop removes what the store keeps of e.
func (s *store) drop(e *storeEntry) {
	if !e.owned {
		return
	}
	for i := range e.files {
		_ = os.Remove(s.kept(e, i))
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

func (s *store) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != "" {
		_ = os.RemoveAll(s.root)
	}
	s.root, s.entries = "", map[string]*storeEntry{}
}
