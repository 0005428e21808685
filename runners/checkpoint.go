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
// saves gigabytes per step. Where the file system cannot link, a file
// is copied when mustCopy is set; otherwise LinkTree stops and reports linked
// false, leaving dst partly filled for the caller to remove.
func LinkTree(src, dst string, mustCopy bool) (linked bool, err error) {
	dirs, files, err := CheckpointFiles(src)
	if err != nil {
		return false, err
	}
	for _, d := range append([]string{"."}, dirs...) {
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			return false, err
		}
	}
	for _, f := range files {
		if ok, err := LinkOrCopy(filepath.Join(src, f), filepath.Join(dst, f), mustCopy); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// CheckpointFiles lists the checkpoint directory dir: the directories below
// it and its regular files, as paths relative to it, parents first. A
// writer's temporary files (".tmp*") are not part of a checkpoint.
func CheckpointFiles(dir string) (dirs, files []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		switch {
		case err != nil:
			return err
		case d.IsDir():
			if rel != "." {
				dirs = append(dirs, rel)
			}
		case d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".tmp"):
			files = append(files, rel)
		}
		return nil
	})
	return dirs, files, err
}

// LinkOrCopy makes dst a hard link to src, or where the file system cannot
// link, a copy when mustCopy is set; ok is false when dst was not made.
func LinkOrCopy(src, dst string, mustCopy bool) (ok bool, err error) {
	if os.Link(src, dst) == nil {
		return true, nil
	}
	if !mustCopy {
		return false, nil
	}
	return true, copyFile(src, dst)
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
