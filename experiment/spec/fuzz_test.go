package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadSpec feeds arbitrary bytes (and an arbitrary override) to the
// loader: it must return a spec or errors, never panic or hang.
func FuzzLoadSpec(f *testing.F) {
	seeds, _ := filepath.Glob("../../experiments/*.yaml")
	bad, _ := filepath.Glob("testdata/*.yml")
	for _, path := range append(seeds, bad...) {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data, "train.steps=5")
		}
	}
	f.Add([]byte("include: spec.yaml\n"), "")
	f.Add([]byte("a: &x [*x]\n"), "arms[0]=1")
	f.Add([]byte("arms: [{name: a, source: market, market: {miners: [{}]}}]\n"), "eval.k=[1,2]")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		files := map[string]string{"spec.yaml": string(data), "other.yaml": "name: other\n"}
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		s, err := Loader{ReadFile: memFS(files)}.Load("spec.yaml", sets...)
		if err == nil {
			_ = s.Hash()
			_ = s.YAML()
		}
	})
}
