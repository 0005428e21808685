// Package resultstest holds test helpers for results directories, for the
// tests across relix that check two runs wrote the same bytes.
package resultstest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ParquetFiles maps every Parquet file under dir (by slash-separated
// relative path) to its bytes.
func ParquetFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading the Parquet files of %s: %v", dir, err)
	}
	return files
}

// SameFiles fails t unless want and got hold the same files with the same
// bytes; want must not be empty.
func SameFiles(t testing.TB, want, got map[string][]byte) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("no files to compare against")
	}
	names := func(m map[string][]byte) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if w, g := names(want), names(got); !slices.Equal(w, g) {
		t.Fatalf("different files:\nwant %v\n got %v", w, g)
	}
	for _, name := range names(want) {
		if !bytes.Equal(want[name], got[name]) {
			t.Errorf("%s differs", name)
		}
	}
}

// CopyDir copies the directory tree src to dst, for tests that change a
// committed results directory.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}
