package runners

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LinkTree recreates the checkpoint directory src at dst with hard links to
// its regular files: a checkpoint is written once and shared, which on a GPU
// saves gigabytes per step. A writer's temporary files (".tmp*") are not part
// of a checkpoint and are skipped. Where the file system cannot link, a file
// is copied when mustCopy is set; otherwise LinkTree stops and reports linked
// false, leaving dst partly filled for the caller to remove.
func LinkTree(src, dst string, mustCopy bool) (linked bool, err error) {
	linked = true
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		case strings.HasPrefix(d.Name(), ".tmp"):
			return nil
		}
		if os.Link(path, target) == nil {
			return nil
		}
		if !mustCopy {
			linked = false
			return filepath.SkipAll
		}
		return copyFile(path, target)
	})
	return linked, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
