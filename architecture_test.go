package relix_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/relix-lab/relix/"

// layerRules are architecture.md's "must never import" table: a package
// matching pkg must not depend on any package matching a forbidden pattern,
// directly or through others. A pattern ending in /... matches the package
// and everything below it.
var layerRules = []struct {
	pkg       string
	forbidden []string
	why       string
}{
	{"eval", []string{module + "..."}, "eval is the bottom: grading and statistics know nothing of relix"},
	{"experiment/...", []string{"harness/...", "runners/...", "results/...", "cmd/..."}, "the spec, the problems and the seeds are read by every layer and read none"},
	{"runners/...", []string{"harness/...", "results/...", "cmd/..."}, "runners know nothing of sources, markets or result files"},
	{"results/...", []string{"harness/...", "runners/...", "cmd/..."}, "result files are plain tables, whoever produced them"},
	{"harness/source", []string{"harness/market/...", "harness/uniform/..."}, "the source contract is what the sources share, not what they are"},
	{"harness/market/...", []string{"harness/uniform/..."}, "the market and the uniform trainer are independent sources"},
	{"harness/uniform/...", []string{"harness/market/..."}, "the market and the uniform trainer are independent sources"},
	{"harness/...", []string{"cmd/..."}, "the CLI is the top"},
	{"eval", []string{"github.com/apache/arrow/...", "gonum.org/v1/plot/..."}, "grading links no file format or plotting"},
	{"experiment/...", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
	{"runners/...", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
	{"harness/source", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
	{"harness/market/...", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
	{"harness/uniform/...", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
	{"harness/zone/...", []string{"gonum.org/v1/plot/..."}, "only results draws plots"},
}

// backendImporters are the only packages that may import a runner backend:
// the CLI, which wires them (cmd/relix/backends.go). Library code receives
// the backends it may use; tests, and the fixture packages they share
// (named like net/http/httptest: …test), import what they use.
var (
	backends         = []string{"runners/sim", "runners/worker"}
	backendImporters = []string{"cmd/relix"}
)

func match(pattern, pkg string) bool {
	// A pattern whose first element is not a domain names a package of this
	// module.
	if first, _, _ := strings.Cut(pattern, "/"); !strings.Contains(first, ".") {
		pattern = module + pattern
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// goList returns, for every package of the module, the packages its
// non-test code imports: directly, or with deps all it depends on.
func goList(t *testing.T, deps bool) map[string][]string {
	t.Helper()
	field := "{{.Imports}}"
	if deps {
		field = "{{.Deps}}"
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} "+field, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		graph[pkg] = strings.Fields(strings.Trim(imports, "[]"))
	}
	return graph
}

func TestLayers(t *testing.T) {
	t.Parallel()
	deps := goList(t, true)
	for _, rule := range layerRules {
		for pkg, ds := range deps {
			if !match(rule.pkg, pkg) {
				continue
			}
			for _, f := range rule.forbidden {
				for _, d := range ds {
					if match(f, d) && !match(rule.pkg, d) {
						t.Errorf("%s depends on %s: %s", strings.TrimPrefix(pkg, module), strings.TrimPrefix(d, module), rule.why)
						break // one example per rule is enough to act on
					}
				}
			}
		}
	}
}

func TestBackendsAreWiredInOnePlace(t *testing.T) {
	t.Parallel()
	for pkg, imports := range goList(t, false) {
		wires := strings.HasSuffix(pkg, "test")
		for _, w := range backendImporters {
			wires = wires || match(w, pkg)
		}
		for _, imp := range imports {
			for _, b := range backends {
				if match(b, imp) && !wires && !match(b+"/...", pkg) {
					t.Errorf("%s imports the backend %s: only %v wire backends", strings.TrimPrefix(pkg, module), b, backendImporters)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, pkg string
		want         bool
	}{
		{"harness/...", module + "harness", true},
		{"harness/...", module + "harness/market/proof", true},
		{"harness/...", module + "harnessx", false},
		{"harness/source", module + "harness/source/sourcetest", false},
		{module + "...", module + "eval", true},
		{"gonum.org/v1/plot/...", "gonum.org/v1/plot/vg", true},
		{"gonum.org/v1/plot/...", module + "results", false},
	} {
		if got := match(c.pattern, c.pkg); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.pkg, got, c.want)
		}
	}
}
