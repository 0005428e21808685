package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ManifestVersion is the version of the manifest.json format.
const ManifestVersion = 1

// Manifest is a run's record: what was run (the resolved spec and its
// hash), with what (relix, Go, the runner, the datasets), when, and which
// data files it produced. It is written once per run, as indented JSON.
type Manifest struct {
	Version    int       `json:"manifest_version"`
	Experiment string    `json:"experiment"`
	SpecHash   string    `json:"spec_hash"`
	Spec       string    `json:"spec"`            // the resolved spec, as the caller serialised it (canonical YAML)
	Relix      BuildInfo `json:"relix"`           // relix's version and the commit it was built from
	GoVersion  string    `json:"go_version"`      // runtime.Version() of the binary that ran
	Runner     Component `json:"runner"`          // e.g. {sim, <relix version>} or the worker's hello
	Datasets   []Dataset `json:"datasets"`        // train and held-out sets
	Arms       []string  `json:"arms"`            // arm names in spec order: tables and plots use this order
	Seeds      []uint64  `json:"seeds"`           // experiment seeds the arms were repeated with
	Start      time.Time `json:"start"`           // from the caller's clock
	End        time.Time `json:"end"`             // from the caller's clock
	Files      []File    `json:"files"`           // the data files, see ListFiles
	Notes      []string  `json:"notes,omitempty"` // anything a reader should know (resumed at step N, ...)
}

// BuildInfo identifies a build of relix.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// Component identifies a runner (or another versioned part).
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Dataset identifies a problem set by its content.
type Dataset struct {
	Name     string `json:"name"`     // train | heldout
	Source   string `json:"source"`   // generated:<size>:<seed>, or the file path
	Problems int    `json:"problems"` // number of problems
	SHA256   string `json:"sha256"`   // hash of the problems' content
}

// File is one file of the results directory.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the results directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ListFiles fills m.Files with the run's data files in dir — every regular
// file except manifest.json, the derived outputs (plots/, tables.md,
// index.html, which relix report rebuilds) and temporary files — sorted by
// path, each with its size and SHA-256.
func (m *Manifest) ListFiles(dir string) error {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if notListed(rel) || !d.Type().IsRegular() {
			return nil
		}
		size, sum, err := hashFile(path)
		if err != nil {
			return err
		}
		files = append(files, File{Path: rel, Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	m.Files = files
	return nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks that every file the manifest lists is in dir with the
// recorded size and SHA-256.
//
// A manifest is read from a results directory anyone may have handed over,
// so an entry is checked before anything is read: its path must stay
// inside dir (relative, no ".." part) and name a regular file, not a
// symlink, a device or a pipe, of the recorded size. Nothing outside dir
// is read, and nothing is read that could not end (/dev/zero, a FIFO).
func (m *Manifest) Verify(dir string) error {
	var errs []error
	for _, f := range m.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			errs = append(errs, fmt.Errorf("%s lists %q, a path outside the results directory %s: not read", ManifestFile, f.Path, dir))
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		info, err := os.Lstat(path)
		if err == nil && !info.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("%s: not a regular file (%s): not read", path, info.Mode().Type()))
			continue
		}
		if err == nil && info.Size() != f.Size {
			errs = append(errs, fmt.Errorf("%s: %d bytes; %s records %d bytes (the file changed after the run)", path, info.Size(), ManifestFile, f.Size))
			continue
		}
		size, sum, err := hashFile(path)
		switch {
		case err != nil:
			errs = append(errs, err)
		case size != f.Size || sum != f.SHA256:
			errs = append(errs, fmt.Errorf("%s: %d bytes, sha256 %s; %s records %d bytes, sha256 %s (the file changed after the run)",
				path, size, short(sum), ManifestFile, f.Size, short(f.SHA256)))
		}
	}
	return errors.Join(errs...)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Marshal returns the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	mm := *m
	if mm.Version == 0 {
		mm.Version = ManifestVersion
	}
	mm.Start, mm.End = mm.Start.UTC(), mm.End.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&mm); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteManifest writes m to dir/manifest.json atomically.
func WriteManifest(dir string, m *Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, ManifestFile), data)
}

// ReadManifest reads dir/manifest.json, refusing unknown fields and other
// manifest versions.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// decodeManifest is ReadManifest's decoder, for manifest.json's bytes.
func decodeManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("manifest_version %d; this relix reads version %d", m.Version, ManifestVersion)
	}
	// Marshal writes the times in UTC, and JSON has no year outside 0 to
	// 9999: a time near either end with an offset reads, but a manifest
	// holding it could not be written again (a resumed run would fail at
	// its end, writing the manifest).
	for _, t := range []struct {
		field string
		time  time.Time
	}{{"start", m.Start}, {"end", m.End}} {
		if y := t.time.UTC().Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("%s %s is in the year %d in UTC, outside 0 to 9999", t.field, t.time.Format(time.RFC3339), y)
		}
	}
	return &m, nil
}
