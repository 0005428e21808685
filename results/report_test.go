package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The committed synthetic results directories (data files only) and the
// goldens of everything derived from them.
const (
	pairedData = "testdata/paired"
	sweepData  = "testdata/zone-sweep"
	goldenDir  = "testdata/golden"
)

// writeSyntheticRuns writes the two synthetic results directories under
// root, as a run would: tables, then the manifest listing them.
func writeSyntheticRuns(t testing.TB, root string) (paired, sweep string) {
	t.Helper()
	paired, sweep = filepath.Join(root, "paired"), filepath.Join(root, "zone-sweep")
	opts := Options{SpecHash: syntheticSpecHash, RowGroupRows: 500}
	require.NoError(t, WriteFile(filepath.Join(paired, RolloutsFile), syntheticRollouts(), opts))
	require.NoError(t, WriteFile(filepath.Join(paired, StepsFile), syntheticSteps(), opts))
	require.NoError(t, WriteFile(filepath.Join(paired, EvalFile), syntheticEval(), opts))
	require.NoError(t, WriteFile(filepath.Join(paired, ProblemsFile), syntheticProblems(), opts))
	require.NoError(t, WriteFile(filepath.Join(paired, SummaryFile), syntheticSummary(), opts))
	m := syntheticManifest("paired", synthArms, synthSeeds)
	require.NoError(t, m.ListFiles(paired))
	require.NoError(t, WriteManifest(paired, m))

	require.NoError(t, WriteFile(filepath.Join(sweep, SweepFile), syntheticSweep(), opts))
	m = syntheticManifest("zone-sweep", []string{"filter", "market"}, synthSeeds)
	require.NoError(t, m.ListFiles(sweep))
	require.NoError(t, WriteManifest(sweep, m))
	return paired, sweep
}

// TestSyntheticDataGolden writes the synthetic runs and compares every data
// file byte for byte with the committed copy: the writers are deterministic.
func TestSyntheticDataGolden(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if *update {
		root = "testdata"
	}
	paired, sweep := writeSyntheticRuns(t, root)
	if *update {
		return
	}
	for _, pair := range [][2]string{{paired, pairedData}, {sweep, sweepData}} {
		entries, err := os.ReadDir(pair[1])
		require.NoError(t, err)
		got, err := os.ReadDir(pair[0])
		require.NoError(t, err)
		require.Equal(t, len(entries), len(got), "files in %s", pair[1])
		for _, e := range entries {
			want, err := os.ReadFile(filepath.Join(pair[1], e.Name()))
			require.NoError(t, err)
			have, err := os.ReadFile(filepath.Join(pair[0], e.Name()))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, have), "%s/%s differs from the golden (go test ./results -run Golden -update)", pair[1], e.Name())
		}
	}
}

var embeddedPNG = regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]+)`)

// digestEmbedded replaces each embedded base64 blob by the SHA-256 of its
// bytes, so the goldens of SVG and HTML stay small and diffable while still
// pinning every byte.
func digestEmbedded(re *regexp.Regexp, data []byte) []byte {
	return re.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := re.FindSubmatch(m)
		raw, err := base64.StdEncoding.DecodeString(string(sub[1]))
		if err != nil {
			return []byte("INVALID-BASE64")
		}
		sum := sha256.Sum256(raw)
		prefix := m[:len(m)-len(sub[1])]
		return append(append([]byte{}, prefix...), "sha256:"+hex.EncodeToString(sum[:])...)
	})
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden (go test ./results -run Golden -update)")
	if strings.HasSuffix(path, ".png") {
		assert.True(t, bytes.Equal(want, got), "%s differs from the golden (go test ./results -run Golden -update)", path)
		return
	}
	assert.Equal(t, string(want), string(got), "%s differs from the golden (go test ./results -run Golden -update)", path)
}

// TestRenderGolden renders the committed synthetic runs and compares every
// plot (PNG and SVG bytes), tables.md, index.html and the terminal tables
// with their goldens.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	runs, err := renderedRuns()
	require.NoError(t, err)
	for _, rd := range runs {
		t.Run(rd.Run.Name, func(t *testing.T) {
			t.Parallel()
			gdir := filepath.Join(goldenDir, filepath.Base(rd.Run.Dir))
			for _, o := range rd.Files {
				data := o.Data
				switch {
				case strings.HasSuffix(o.Path, ".svg"):
					assert.NotContains(t, string(data), "@font-face", "%s names its font rather than embedding it", o.Path)
					assert.NotContains(t, string(data), svgFamily, "%s names fallbacks for its font", o.Path)
					assert.Contains(t, string(data), svgFamilies, o.Path)
					assert.Less(t, len(data), 100_000, "%s: an embedded font alone was 560 kB", o.Path)
				case strings.HasSuffix(o.Path, ".html"):
					data = digestEmbedded(embeddedPNG, data)
				}
				golden(t, filepath.Join(gdir, filepath.FromSlash(o.Path)), data)
			}
			var term bytes.Buffer
			require.NoError(t, rd.PrintTables(&term))
			golden(t, filepath.Join(gdir, "terminal.txt"), term.Bytes())

			// Rendering twice gives the same bytes.
			again, err := rd.Run.Render(RenderOptions{})
			require.NoError(t, err)
			require.Equal(t, len(rd.Files), len(again.Files))
			for i := range rd.Files {
				assert.True(t, bytes.Equal(rd.Files[i].Data, again.Files[i].Data), rd.Files[i].Path)
			}
		})
	}
}

func TestRenderProducesEveryPlot(t *testing.T) {
	t.Parallel()
	paired, err := Load(pairedData)
	require.NoError(t, err)
	rp, err := paired.Render(RenderOptions{Formats: []string{PNG}})
	require.NoError(t, err)
	sweep, err := Load(sweepData)
	require.NoError(t, err)
	rs, err := sweep.Render(RenderOptions{Formats: []string{SVG}})
	require.NoError(t, err)
	var names []string
	for _, f := range append(rp.Figures, rs.Figures...) {
		names = append(names, f.Name)
		assert.NotEmpty(t, f.PNG)
		assert.NotEmpty(t, f.SVG)
	}
	assert.Equal(t, plotNames, names)
	for _, o := range rp.Files {
		assert.False(t, strings.HasSuffix(o.Path, ".svg"), "only PNG asked for: %s", o.Path)
	}
	for _, o := range rs.Files {
		assert.False(t, strings.HasSuffix(o.Path, ".png"), "only SVG asked for: %s", o.Path)
	}
	_, err = paired.Render(RenderOptions{Formats: []string{"pdf"}})
	assert.EqualError(t, err, `unknown plot format "pdf" (want png or svg)`)
}

func TestBuildThenCheck(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "paired")
	resultstest.CopyDir(t, pairedData, dir)

	r, err := Load(dir)
	require.NoError(t, err)
	rd, err := r.Render(RenderOptions{})
	require.NoError(t, err)
	drifts, err := rd.Check()
	require.NoError(t, err)
	assert.Len(t, drifts, len(rd.Files), "nothing built yet: every derived file is missing")

	_, err = Build(dir, RenderOptions{})
	require.NoError(t, err)
	drifts, err = rd.Check()
	require.NoError(t, err)
	assert.Empty(t, drifts)
	changed, err := rd.Write()
	require.NoError(t, err)
	assert.Empty(t, changed, "a second write changes nothing")

	l := Layout{dir}
	md, err := os.ReadFile(l.Tables())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(l.Tables(), bytes.Replace(md, []byte("0.610"), []byte("0.611"), 1), 0o644))
	require.NoError(t, os.Remove(l.Plot("pass_at_k", SVG)))
	require.NoError(t, os.WriteFile(l.Plot("sweep_waste", PNG), []byte("old"), 0o644))
	drifts, err = rd.Check()
	require.NoError(t, err)
	require.Len(t, drifts, 3)
	assert.Equal(t, Drift{Path: l.Plot("pass_at_k", SVG), Note: "missing"}, drifts[0])
	assert.Equal(t, l.Tables(), drifts[1].Path)
	assert.Contains(t, drifts[1].Diff, "-| pass@1     | 0.330 ± 0.021 | 0.470 ± 0.021 | 0.611 ± 0.021 |\n+| pass@1     | 0.330 ± 0.021 | 0.470 ± 0.021 | 0.610 ± 0.021 |\n")
	assert.Equal(t, Drift{Path: l.Plot("sweep_waste", PNG), Note: "stale (no longer produced)"}, drifts[2])

	changed, err = rd.Write()
	require.NoError(t, err)
	assert.Equal(t, []string{l.Plot("pass_at_k", SVG), l.Tables(), l.Plot("sweep_waste", PNG)}, changed)
	drifts, err = rd.Check()
	require.NoError(t, err)
	assert.Empty(t, drifts)
}

func TestLoadChecksTheManifest(t *testing.T) {
	t.Parallel()
	t.Run("changed file", func(t *testing.T) {
		dir := t.TempDir()
		resultstest.CopyDir(t, pairedData, dir)
		require.NoError(t, WriteFile(filepath.Join(dir, StepsFile), syntheticSteps()[:5], Options{SpecHash: syntheticSpecHash}))
		_, err := Load(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "steps.parquet: ")
		assert.Contains(t, err.Error(), "the file changed after the run")
	})
	t.Run("other spec", func(t *testing.T) {
		dir := t.TempDir()
		resultstest.CopyDir(t, pairedData, dir)
		require.NoError(t, WriteFile(filepath.Join(dir, StepsFile), syntheticSteps(), Options{SpecHash: "0123456789abcdef"}))
		m, err := ReadManifest(dir)
		require.NoError(t, err)
		require.NoError(t, m.ListFiles(dir))
		require.NoError(t, WriteManifest(dir, m))
		_, err = Load(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "written for spec 0123456789ab, but manifest.json is for spec 5a1e0c0ffee0 (files of two different runs)")
	})
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir)
		assert.EqualError(t, err, dir+": no results (want at least one of summary.parquet, steps.parquet, sweep.parquet)")
		_, err = Load(filepath.Join(dir, "nope"))
		assert.Error(t, err)
	})
	t.Run("no manifest", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "adhoc")
		require.NoError(t, WriteFile(filepath.Join(dir, SummaryFile), syntheticSummary(), Options{}))
		r, err := Load(dir)
		require.NoError(t, err)
		assert.Equal(t, "adhoc", r.Name)
		assert.Equal(t, []string{"base", "uniform", "market"}, r.Arms())
	})
}

func TestManifestRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	resultstest.CopyDir(t, pairedData, dir)
	m, err := ReadManifest(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{EvalFile, ProblemsFile, RolloutsFile, StepsFile, SummaryFile}, func() []string {
		var p []string
		for _, f := range m.Files {
			p = append(p, f.Path)
		}
		return p
	}())
	require.NoError(t, m.Verify(dir))
	// Derived files and temporary files are not listed.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, PlotsDir, "x.png"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, IndexFile), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, tempPrefix+"steps.parquet-1"), nil, 0o644))
	again := *m
	require.NoError(t, again.ListFiles(dir))
	assert.Equal(t, m.Files, again.Files)

	data, err := m.Marshal()
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(pairedData, ManifestFile))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(data))

	require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestFile), bytes.Replace(data, []byte(`"manifest_version": 1`), []byte(`"manifest_version": 2`), 1), 0o644))
	_, err = ReadManifest(dir)
	assert.ErrorContains(t, err, "manifest_version 2; this relix reads version 1")
}
