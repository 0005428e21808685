package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"
)

// Canonical returns the spec's canonical form: JSON with fields in
// declaration order and map keys sorted, holding only what determines the
// results. Where and how fast arms execute (cluster, output) and free text
// (description) are left out, so a run on Slurm and a local run of the same
// experiment share one hash; the runner block of the inactive kind is left
// out too, so including a sim spec under a worker spec changes nothing.
//
// A worker is a transport: its timeouts, restarts and message limit never
// change a result, so they are left out, and a worker that serves the
// embedded sim (Runner.ServesSim) is the sim itself, so its runner block
// hashes as kind sim with the same policy: its results are byte-identical.
func (s *Spec) Canonical() []byte {
	c := *s
	c.Description = ""
	c.Include = nil
	c.Cluster = Cluster{}
	c.Output = Output{}
	// The top-level seed is read only as the default of seeds. Writing the
	// first of seeds in its place keeps the hash of every spec that relies on
	// that default unchanged, and makes a seed that no draw reads (seeds set
	// explicitly) change nothing.
	if len(c.Seeds) > 0 {
		c.Seed = c.Seeds[0]
	}
	switch {
	case c.Runner.Kind == "sim" || c.Runner.ServesSim():
		c.Runner = Runner{Kind: "sim", Sim: s.Runner.Sim}
	case c.Runner.Kind == "worker":
		c.Runner.Sim = SimPolicy{}
		c.Runner.Timeouts = Timeouts{}
		c.Runner.MaxRestarts = 0
		c.Runner.MaxMessage = 0
	}
	// Going through YAML keys the form by the names users write, not by Go
	// field names, so renaming a Go field does not change any hash.
	var tree any
	if err := yaml.Unmarshal(c.YAML(), &tree); err != nil {
		panic("spec: canonical form: " + err.Error()) // only plain data is encoded
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		panic("spec: canonical form: " + err.Error())
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// Hash is the hex SHA-256 of the canonical form: equal hashes, equal results.
func (s *Spec) Hash() string {
	sum := sha256.Sum256(s.Canonical())
	return hex.EncodeToString(sum[:])
}

// ServesSim reports whether the runner is a worker that serves the embedded
// sim over the worker protocol: kind worker with the command
// "relix worker --runner sim" (the program may be any path to a file named
// relix). relix then sends the worker the spec's sim policy, and the worker
// confirms at hello that it serves the sim.
func (r Runner) ServesSim() bool {
	if r.Kind != "worker" || len(r.Command) < 2 {
		return false
	}
	program := filepath.Base(r.Command[0])
	if program != "relix" && program != "relix.exe" {
		return false
	}
	args := r.Command[1:]
	return slices.Equal(args, []string{"worker", "--runner", "sim"}) ||
		slices.Equal(args, []string{"worker", "--runner=sim"})
}

// ShortHash is the first 12 hex digits of Hash, for messages.
func (s *Spec) ShortHash() string { return s.Hash()[:12] }

// YAML returns the resolved spec, every default filled in, as YAML.
func (s *Spec) YAML() []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		panic("spec: YAML form: " + err.Error())
	}
	_ = enc.Close()
	return buf.Bytes()
}
