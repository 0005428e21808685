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
type store struct {
	mu      sync.Mutex
	parent  string // where root is made
	root    string // made on first use
	seq     int
	entries map[string]storeEntry
}

type storeEntry struct {
	dir   string
	owned bool // dir is under root (else it is the loaded directory itself)
	seq   int
}

func newStore(log io.Writer) *store {
	parent := os.TempDir()
	if f, ok := log.(interface{ Name() string }); ok {
		if st, err := os.Stat(f.Name()); err == nil && st.Mode().IsRegular() {
			parent = filepath.Dir(f.Name())
		}
	}
	return &store{parent: parent, entries: map[string]storeEntry{}}
}

func (s *store) get(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	return e.dir, ok
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
	dst := filepath.Join(s.root, fmt.Sprintf("%06d", s.seq))
	entry := storeEntry{dir: dst, owned: true, seq: s.seq}
	linked, err := runners.LinkTree(dir, dst, mustCopy)
	if err != nil {
		_ = os.RemoveAll(dst)
		return err
	}
	if !linked && !mustCopy {
		_ = os.RemoveAll(dst)
		entry = storeEntry{dir: dir, seq: s.seq}
	}
	if old, ok := s.entries[id]; ok && old.owned {
		_ = os.RemoveAll(old.dir)
	}
	s.entries[id] = entry
	for len(s.entries) > storeCapacity {
		oldest := ""
		for k, e := range s.entries {
			if oldest == "" || e.seq < s.entries[oldest].seq {
				oldest = k
			}
		}
		if e := s.entries[oldest]; e.owned {
			_ = os.RemoveAll(e.dir)
		}
		delete(s.entries, oldest)
	}
	return nil
}

func (s *store) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != "" {
		_ = os.RemoveAll(s.root)
	}
	s.root, s.entries = "", map[string]storeEntry{}
}
