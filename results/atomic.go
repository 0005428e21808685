package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// atomicFile is a file written under a temporary name in its final
// directory and renamed into place only when complete and synced, so a
// reader (or a resumed run) never sees a partial file under the final name.
type atomicFile struct {
	*os.File
	final string
	done  bool
}

func createAtomic(path string) (*atomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	return &atomicFile{File: f, final: path}, nil
}

// commit syncs the file, renames it to its final name and syncs the
// directory, so that the rename itself survives a crash.
func (a *atomicFile) commit() error {
	if a.done {
		return fmt.Errorf("%s: already committed or aborted", a.final)
	}
	a.done = true
	tmp := a.Name()
	err := errors.Join(a.Chmod(0o644), a.Sync())
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, a.final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return writeError(a.final, tmp, err)
	}
	return syncDir(filepath.Dir(a.final))
}

// writeError says that writing final failed and why, without the name of
// the temporary file it was written through ("no space left on device"
// is about final; the temporary name only puzzles), which the system's
// error carries.
func writeError(final, tmp string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == tmp {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) && le.Old == tmp {
		err = le.Err
	}
	return fmt.Errorf("writing %s: %w", final, err)
}

// abort removes the temporary file. It is a no-op after commit.
func (a *atomicFile) abort() error {
	if a.done {
		return nil
	}
	a.done = true
	_ = a.Close()
	if err := os.Remove(a.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory: after a crash, path holds either its old content or data.
func WriteFileAtomic(path string, data []byte) error {
	a, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		_ = a.abort()
		return writeError(path, a.Name(), err)
	}
	return a.commit()
}

// RemoveTemp deletes the temporary files that writers interrupted by a
// crash left in dir and its subdirectories, and returns their paths. A run
// that resumes calls it before writing again.
func RemoveTemp(dir string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), tempPrefix) {
			if err := os.Remove(path); err != nil {
				return err
			}
			removed = append(removed, path)
		}
		return nil
	})
	return removed, err
}
