package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
)

// errChanged marks a run file that differs from what the last manifest
// recorded.
var errChanged = errors.New("changed since relix recorded it")

// checkRecorded refuses to go on from run files that changed after relix
// recorded them. A finished run's files never change, so when the last
// manifest of this spec lists a run's files, each must still have the
// size and SHA-256 recorded there; otherwise the merge that follows would
// write a new manifest recording the altered file as relix's own.
//
// A run whose directory is gone is not checked: deleting it is how a
// user asks for that run again. Merged tables are not checked either: the
// merge writes them afresh from the runs.
func checkRecorded(out string, s *spec.Spec) error {
	m, err := results.ReadManifest(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w; rerun with --force to start over", err)
	case m.SpecHash != s.Hash():
		return nil // claim has refused or cleared another spec's results
	}
	var runFiles results.Manifest
	for _, f := range m.Files {
		arm, seed, ok := runOf(f.Path)
		if !ok {
			continue
		}
		if _, err := os.Lstat(filepath.Join(out, "runs", arm, seed)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		runFiles.Files = append(runFiles.Files, f)
	}
	if err := runFiles.Verify(out); err != nil {
		return fmt.Errorf("%w: %w\nthe manifest recorded these files when the runs finished; delete a run's directory to redo that run, or rerun with --force to redo every run", errChanged, err)
	}
	return nil
}

// runOf is the run a manifest path belongs to: runs/ARM/seed-N/...
func runOf(path string) (arm, seed string, ok bool) {
	parts := strings.SplitN(path, "/", 4)
	if len(parts) < 4 || parts[0] != "runs" || !strings.HasPrefix(parts[2], "seed-") {
		return "", "", false
	}
	return parts[1], parts[2], true
}
