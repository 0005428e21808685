package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"gopkg.in/yaml.v3"
)

// Canonical returns the spec's canonical form: JSON with fields in
// declaration order and map keys sorted, holding only what determines the
// results. Where and how fast arms execute (cluster, output) and free text
// (description) are left out, so a run on Slurm and a local run of the same
// experiment share one hash; the runner block of the inactive kind is left
// out too, so including a sim spec under a worker spec changes nothing.
func (s *Spec) Canonical() []byte {
	c := *s
	c.Description = ""
	c.Include = nil
	c.Cluster = Cluster{}
	c.Output = Output{}
	switch c.Runner.Kind {
	case "sim":
		c.Runner = Runner{Kind: "sim", Sim: s.Runner.Sim}
	case "worker":
		c.Runner.Sim = SimPolicy{}
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
