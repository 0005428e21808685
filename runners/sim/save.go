package sim

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/relix-lab/relix/experiment/spec"
)

// checkpointFile is the file Save writes in its directory.
const checkpointFile = "sim-checkpoint.json"

const checkpointFormat = "relix-sim-checkpoint/1"

// savedCheckpoint is the checkpoint file. Floats survive the JSON round
// trip exactly (encoding/json writes the shortest representation that
// parses back to the same float64), so a loaded checkpoint has its old id.
type savedCheckpoint struct {
	Format string      `json:"format"`
	ID     string      `json:"id"`
	World  string      `json:"world"` // hash of the model version and constants
	Policy savedPolicy `json:"policy"`
	Delta  []float64   `json:"delta"` // ψ − ψ_base: θ_1..θ_K, λ, η
	M      []float64   `json:"adam_m"`
	V      []float64   `json:"adam_v"`
	T      int         `json:"adam_t"`
}

// savedPolicy records the constants for a reader of the file; World is
// what Load checks.
type savedPolicy struct {
	Skills          int     `json:"skills"`
	Ability         float64 `json:"ability"`
	DifficultyScale float64 `json:"difficulty_scale"`
	DifficultyShift float64 `json:"difficulty_shift"`
	HiddenSD        float64 `json:"hidden_sd"`
	Verbosity       float64 `json:"verbosity"`
	LengthSD        float64 `json:"length_sd"`
	TokensPerStep   float64 `json:"tokens_per_step"`
	Stop            float64 `json:"stop"`
	NoiseChoices    int     `json:"noise_choices"`
	LRScale         float64 `json:"lr_scale"`

	Reach           *spec.SimReach       `json:"reach,omitempty"`
	Termination     *spec.SimTermination `json:"termination,omitempty"`
	Sharpen         bool                 `json:"sharpen,omitempty"`
	LevelDifficulty float64              `json:"level_difficulty,omitempty"`
}

func policyRecord(p spec.SimPolicy) savedPolicy { return savedPolicy(p) }

// Save writes the checkpoint to dir/sim-checkpoint.json and syncs it,
// creating dir; a file already there is replaced whole (temp file, rename).
func (r *Runner) Save(_ context.Context, ckID, dir string) error {
	ck, err := r.checkpoint(ckID)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(savedCheckpoint{
		Format: checkpointFormat,
		ID:     ck.id,
		World:  hex.EncodeToString(r.cfg.world[:]),
		Policy: policyRecord(r.cfg.policy),
		Delta:  ck.delta,
		M:      ck.m,
		V:      ck.v,
		T:      ck.t,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("sim: save %s: %w", ck.id, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sim: save %s: %w", ck.id, err)
	}
	return writeAtomic(filepath.Join(dir, checkpointFile), append(data, '\n'))
}

func writeAtomic(path string, data []byte) error {
	// Where no checkpoint stands yet — the harness saves every step into a
	// new directory that it renames into place once the save returns —
	// there is nothing a torn write could destroy, and Load refuses a torn
	// file (it does not parse, or its contents do not hash to its id), so
	// the file is written under its own name: a temporary name and a rename
	// would only add system calls to every step. 0o600 is the mode the
	// temporary file gets.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
			return fmt.Errorf("sim: save %s: %w", path, err)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sim: save: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("sim: save: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("sim: save %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sim: save %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sim: save %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sim: save %s: %w", path, err)
	}
	return nil
}

// Load reads dir/sim-checkpoint.json and returns its id. It refuses a
// checkpoint saved by a sim with other constants, and one whose contents
// do not hash to its id.
func (r *Runner) Load(_ context.Context, dir string) (string, error) {
	path := filepath.Join(dir, checkpointFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sim: load: %w", err)
	}
	var s savedCheckpoint
	if err := json.Unmarshal(data, &s); err != nil {
		return "", fmt.Errorf("sim: load %s: %w", path, err)
	}
	n := r.cfg.numParams()
	switch {
	case s.Format != checkpointFormat:
		return "", fmt.Errorf("sim: load %s: format %q; want %q", path, s.Format, checkpointFormat)
	case s.World != hex.EncodeToString(r.cfg.world[:]):
		return "", fmt.Errorf("sim: load %s: saved by a sim with other constants (%+v); this runner's are %+v",
			path, s.Policy, policyRecord(r.cfg.policy))
	case len(s.Delta) != n || len(s.M) != n || len(s.V) != n || s.T < 0:
		return "", fmt.Errorf("sim: load %s: want %d parameters with their AdamW state", path, n)
	}
	ck := r.register(s.Delta, s.M, s.V, s.T)
	if ck.id != s.ID {
		return "", fmt.Errorf("sim: load %s: contents hash to %s, not to the recorded id %s", path, ck.id, s.ID)
	}
	return ck.id, nil
}
