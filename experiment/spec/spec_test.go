package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func experiments(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../experiments/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func TestExperimentsAreValid(t *testing.T) {
	t.Parallel()
	for _, path := range experiments(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			s, err := Load(path)
			require.NoError(t, err)
			assert.NotEmpty(t, s.Name)
			assert.Len(t, s.Hash(), 64)
		})
	}
}

// TestBadSpecs checks that each testdata/*.bad.yml is rejected with exactly
// the errors in its .err golden file. A "# set: PATH=VALUE" comment line in
// the spec is passed as a --set override.
func TestBadSpecs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.bad.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".bad.yml"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			var sets []string
			for _, line := range strings.Split(string(data), "\n") {
				if set, ok := strings.CutPrefix(line, "# set: "); ok {
					sets = append(sets, set)
				}
			}
			_, err = Load(path, sets...)
			require.Error(t, err, "a .bad.yml spec must be rejected")
			var errs Errors
			require.ErrorAs(t, err, &errs)
			golden(t, strings.TrimSuffix(path, ".bad.yml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./experiment/spec -update")
	assert.Equal(t, string(want), string(got))
}

func load(t *testing.T, text string, sets ...string) (*Spec, error) {
	t.Helper()
	files := map[string]string{"spec.yaml": text}
	return Loader{ReadFile: memFS(files)}.Load("spec.yaml", sets...)
}

func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		data, ok := files[filepath.ToSlash(filepath.Clean(name))]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(data), nil
	}
}

const minimal = "name: m\narms: [{name: base, source: none}, {name: u, source: uniform}, {name: mk, source: market}]\n"

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := load(t, minimal)
	require.NoError(t, err)
	assert.Equal(t, 300, s.Train.Steps)
	assert.Equal(t, 8, s.Train.GroupsPerStep)
	assert.Equal(t, 8, s.Train.GroupSize)
	assert.Equal(t, 0.43, s.Train.SigmaMin)
	assert.Equal(t, 0.9, s.Train.Sampling.Temperature)
	assert.Equal(t, 8192, s.Train.Sampling.MaxTokens)
	assert.Equal(t, 0.04, s.Train.GRPO.KLBeta)
	assert.Equal(t, Forever, s.Train.Cooldown)
	assert.Equal(t, []uint64{1}, s.Seeds)
	assert.Equal(t, "results/m", s.Output.Dir)
	assert.Equal(t, "none", s.Arms[1].Filter)
	require.NotNil(t, s.Arms[2].Market)
	assert.Equal(t, 16, s.Arms[2].Market.Miners[0].Count)
	assert.Equal(t, "learned", s.Arms[2].Market.Miners[0].Estimator.Kind)
	assert.Len(t, s.Sweep.Grid, 15)
	assert.InDelta(t, 0.15, s.Sweep.Grid[14], 1e-12)
}

func TestListElementsGetTheirOwnDefaults(t *testing.T) {
	t.Parallel()
	s, err := load(t, "name: m\narms:\n  - name: mk\n    source: market\n    market:\n      miners: [{count: 3, estimator: {kind: oracle}}]\n")
	require.NoError(t, err)
	g := s.Arms[0].Market.Miners[0]
	assert.Equal(t, 3, g.Count)
	assert.Equal(t, "honest", g.Behaviour)
	assert.Equal(t, "oracle", g.Estimator.Kind)
	assert.Equal(t, 0.9, g.Estimator.Decay)
	assert.Equal(t, 64, s.Arms[0].Market.Candidates)
}

func TestSetOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		set   string
		check func(*testing.T, *Spec)
	}{
		{"train.steps=50", func(t *testing.T, s *Spec) { assert.Equal(t, 50, s.Train.Steps) }},
		{"eval.k=[1,2,8]", func(t *testing.T, s *Spec) { assert.Equal(t, []int{1, 2, 8}, s.Eval.K) }},
		{"arms[1].filter=dynamic", func(t *testing.T, s *Spec) { assert.Equal(t, "dynamic", s.Arms[1].Filter) }},
		{"arms.1.name=other", func(t *testing.T, s *Spec) { assert.Equal(t, "other", s.Arms[1].Name) }},
		{"runner.kind=worker", nil},
		{"train.cooldown=20", func(t *testing.T, s *Spec) { assert.Equal(t, Cooldown(20), s.Train.Cooldown) }},
		{"cluster.jobs=4", func(t *testing.T, s *Spec) { assert.Equal(t, 4, s.Cluster.Jobs) }},
		{"description=a=b", func(t *testing.T, s *Spec) { assert.Equal(t, "a=b", s.Description) }},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			t.Parallel()
			s, err := load(t, minimal, tt.set)
			if tt.check == nil {
				require.Error(t, err) // worker without a command
				assert.Contains(t, err.Error(), "runner.command: missing")
				return
			}
			require.NoError(t, err)
			tt.check(t, s)
		})
	}
}

func TestWorkerCommandFromString(t *testing.T) {
	t.Parallel()
	s, err := load(t, minimal, `runner.kind=worker`, `runner.command=relix worker --runner sim --note "two words"`)
	require.NoError(t, err)
	assert.Equal(t, Command{"relix", "worker", "--runner", "sim", "--note", "two words"}, s.Runner.Command)
}

func TestIncludeMergesDeepAndLaterWins(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"dir/base.yaml":  "name: base\nseed: 5\ntrain: {steps: 100, group_size: 4}\narms: [{name: a, source: uniform}]\n",
		"dir/extra.yaml": "train: {steps: 200}\n",
		"dir/top.yaml":   "include: [base.yaml, extra.yaml]\nname: top\ntrain: {group_size: 16}\n",
	}
	s, err := Loader{ReadFile: memFS(files)}.Load("dir/top.yaml")
	require.NoError(t, err)
	assert.Equal(t, "top", s.Name)
	assert.Equal(t, uint64(5), s.Seed)
	assert.Equal(t, 200, s.Train.Steps)
	assert.Equal(t, 16, s.Train.GroupSize)
	assert.Equal(t, "a", s.Arms[0].Name)
	assert.Nil(t, s.Include, "the resolved spec has its includes applied")
}

func TestErrorsPointAtTheFileThatSetTheValue(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"base.yaml": "name: base\narms: [{name: a, source: uniform}]\ntrain:\n  group_size: 1\n",
		"top.yaml":  "include: base.yaml\ntrain: {steps: 0}\n",
	}
	_, err := Loader{ReadFile: memFS(files)}.Load("top.yaml")
	require.Error(t, err)
	assert.Equal(t, "base.yaml:4:15: train.group_size: out of range (got 1; want ≥ 2)\n"+
		"top.yaml:2:16: train.steps: out of range (got 0; want ≥ 1)", err.Error())
}

func TestProblemSetReplacesTheDefaultAlternative(t *testing.T) {
	t.Parallel()
	s, err := load(t, minimal+"dataset:\n  heldout: {jsonl: {path: h.jsonl, columns: {problem: question, answer: solution}}}\n")
	require.NoError(t, err)
	assert.Nil(t, s.Dataset.Heldout.Generated)
	assert.Equal(t, "question", s.Dataset.Heldout.JSONL.Columns.Problem)
	assert.NotNil(t, s.Dataset.Train.Generated)
}

func TestHash(t *testing.T) {
	t.Parallel()
	base, err := load(t, minimal)
	require.NoError(t, err)
	same := []string{"cluster.jobs=7", "output.dir=elsewhere", "description=words", "runner.timeouts.step=1h"}
	for _, set := range same {
		s, err := load(t, minimal, set)
		require.NoError(t, err)
		assert.Equal(t, base.Hash(), s.Hash(), "%s must not change the hash", set)
	}
	different := []string{"train.steps=299", "seed=2", "runner.sim.stop=0.5", "eval.k=[1]", "arms[1].filter=dynamic"}
	for _, set := range different {
		s, err := load(t, minimal, set)
		require.NoError(t, err)
		assert.NotEqual(t, base.Hash(), s.Hash(), "%s must change the hash", set)
	}
	// Writing a default explicitly is the same experiment.
	explicit, err := load(t, minimal+"train: {steps: 300, sigma_min: 0.43}\n")
	require.NoError(t, err)
	assert.Equal(t, base.Hash(), explicit.Hash())
}

func TestPrintedSpecLoadsToTheSameHash(t *testing.T) {
	t.Parallel()
	for _, path := range experiments(t) {
		s, err := Load(path)
		require.NoError(t, err)
		again, err := load(t, string(s.YAML()))
		require.NoError(t, err, "%s: printed form must load:\n%s", path, s.YAML())
		assert.Equal(t, s.Hash(), again.Hash(), path)
	}
}

func TestSchemaValidatesEveryExperiment(t *testing.T) {
	t.Parallel()
	var doc any
	require.NoError(t, json.Unmarshal(JSONSchema(), &doc))
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("spec.schema.json", doc))
	schema, err := c.Compile("spec.schema.json")
	require.NoError(t, err)

	for _, path := range experiments(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		inst := yamlToJSONValue(t, data)
		assert.NoError(t, schema.Validate(inst), path)
	}
	bad := yamlToJSONValue(t, []byte("name: x\ntrain: {steps: many, bogus: 1}\n"))
	assert.Error(t, schema.Validate(bad), "the schema must reject what validate rejects")
}

// yamlToJSONValue converts YAML to the plain values a JSON decoder yields.
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	js, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	require.NoError(t, err)
	return out
}

func TestAliasBombIsRejectedQuickly(t *testing.T) {
	t.Parallel()
	miners := strings.Repeat("*m, ", 999) + "*m"
	arms := strings.Repeat("*a, ", 999) + "*a"
	text := "name: bomb\nm: &m {count: 1}\n" +
		"a: &a {name: x, source: market, market: {miners: [" + miners + "]}}\n" +
		"arms: [" + arms + "]\n"
	_, err := load(t, text)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec too large once aliases are expanded")
	assert.Less(t, strings.Count(err.Error(), "\n"), maxReportedErrors+2, "the report is bounded too")
}

// TestGeneratedDocsAreCurrent keeps docs/spec.md and spec.schema.json, both
// generated from the types, in step with the code.
func TestGeneratedDocsAreCurrent(t *testing.T) {
	t.Parallel()
	golden(t, "../../docs/spec.md", Reference())
	golden(t, "../../spec.schema.json", JSONSchema())
}

// TestNamesThatNameDirectories: an experiment's and an arm's names become
// directories; one that cannot be is refused at validation (a 300-byte arm
// name used to fail only when its run started).
func TestNamesThatNameDirectories(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ text, want string }{
		{"name: x\narms: [{name: " + strings.Repeat("a", 300) + ", source: uniform}]\n", "arms[0].name: 300 bytes, longer than 100: an arm's name names its runs' directories"},
		{"name: x\narms: [{name: a/b, source: uniform}]\n", `arms[0].name: "a/b" holds a path separator or NUL`},
		{"name: ..\narms: [{name: a, source: uniform}]\n", `name: ".." is not a name: the name names the results directory`},
	} {
		_, err := Loader{ReadFile: memFS(map[string]string{"s.yaml": c.text})}.Load("s.yaml")
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}
