package harness

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/relix-lab/relix/results"
)

// checksumsFile lists every file of a step's checkpoints with its size and
// CRC-32C, written after the runner's save and checked before a resume
// loads them. CRC-32C, not SHA-256: it is there to catch a flipped bit or
// a truncated file in checkpoints that are gigabytes on a GPU box, where
// SHA-256 would add seconds to every step; the manifest's SHA-256 of the
// final checkpoints is what says the files are the ones relix wrote.
const checksumsFile = "checksums.crc32c"

type checksummed struct {
	path string // slash-separated, relative to the checkpoint directory
	size int64
	sum  uint32
}

// sumCheckpoints lists the regular files under dir, sorted by path. Any
// other kind of file (a link, a pipe) is refused: nothing relix resumes
// from may point outside its run.
func sumCheckpoints(dir string) ([]checksummed, error) {
	var out []checksummed
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == checksumsFile {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := crc32.New(castagnoli)
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		out = append(out, checksummed{path: rel, size: n, sum: h.Sum32()})
		return nil
	})
	slices.SortFunc(out, func(a, b checksummed) int { return strings.Compare(a.path, b.path) })
	return out, err
}

func encodeChecksums(files []checksummed) []byte {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "%08x %d %s\n", f.sum, f.size, f.path)
	}
	return b.Bytes()
}

// decodeChecksums reads what encodeChecksums wrote, strictly: each line
// exactly as encodeChecksums would write it.
func decodeChecksums(data []byte) ([]checksummed, error) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, errors.New("the last line is cut short")
	}
	var out []checksummed
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" && len(data) == 0 {
			break
		}
		sum, rest, ok1 := strings.Cut(line, " ")
		size, path, ok2 := strings.Cut(rest, " ")
		s, err1 := strconv.ParseUint(sum, 16, 32)
		z, err2 := strconv.ParseInt(size, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || fmt.Sprintf("%08x", s) != sum || strconv.FormatInt(z, 10) != size || z < 0 ||
			path == "" || strings.ContainsAny(path, "\r\x00") || !filepath.IsLocal(filepath.FromSlash(path)) ||
			(len(out) > 0 && path <= out[len(out)-1].path) {
			return nil, fmt.Errorf("line %d is not a checksum line", n+1)
		}
		out = append(out, checksummed{path: path, size: z, sum: uint32(s)})
	}
	return out, nil
}

// writeChecksums records the checkpoints in dir, before dir is renamed
// into place.
func writeChecksums(dir string) error {
	files, err := sumCheckpoints(dir)
	if err != nil {
		return fmt.Errorf("checksumming checkpoints: %w", err)
	}
	return results.WriteFileAtomic(filepath.Join(dir, checksumsFile), encodeChecksums(files))
}

// verifyChecksums checks dir against its checksums: the same files, each
// of the recorded size and CRC-32C.
func verifyChecksums(dir string) error {
	path := filepath.Join(dir, checksumsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	want, err := decodeChecksums(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	got, err := sumCheckpoints(dir)
	if err != nil {
		return err
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got) || (i < len(want) && want[i].path < got[i].path):
			return fmt.Errorf("%s is missing", filepath.Join(dir, filepath.FromSlash(want[i].path)))
		case i >= len(want) || got[i].path < want[i].path:
			return fmt.Errorf("%s is not in %s", filepath.Join(dir, filepath.FromSlash(got[i].path)), checksumsFile)
		case got[i] != want[i]:
			return fmt.Errorf("%s has %d bytes and CRC-32C %08x; %s records %d bytes and %08x",
				filepath.Join(dir, filepath.FromSlash(got[i].path)), got[i].size, got[i].sum, checksumsFile, want[i].size, want[i].sum)
		}
	}
	return nil
}
