package results

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canon renders a row with pointers followed and NaN spelled out, so that
// rows compare equal when their columns do (NaN == NaN, nil == nil).
func canon(v any) string {
	rv := reflect.ValueOf(v)
	out := ""
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				out += rv.Type().Field(i).Name + "=<nil> "
				continue
			}
			f = f.Elem()
		}
		s := fmt.Sprint(f.Interface())
		if f.Kind() == reflect.Float64 {
			s = strconv.FormatFloat(f.Float(), 'g', -1, 64)
		}
		out += rv.Type().Field(i).Name + "=" + s + " "
	}
	return out
}

func canonAll[R any](rows []R) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = canon(r)
	}
	return out
}

func roundTrip[R Row](t *testing.T, rows []R) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	path := filepath.Join(t.TempDir(), tableFor[R]().file)
	w, err := Create[R](path, Options{SpecHash: syntheticSpecHash, RowGroupRows: 50, Allocator: mem})
	require.NoError(t, err)
	for i := range rows { // one at a time and in bulk both work
		if i%3 == 0 {
			require.NoError(t, w.Write(rows[i]))
		} else {
			require.NoError(t, w.Write(rows[i:i+1]...))
		}
	}
	assert.Equal(t, int64(len(rows)), w.Rows())
	require.NoError(t, w.Commit())
	require.NoError(t, w.Abort(), "Abort after Commit is a no-op")
	assert.ErrorContains(t, w.Write(rows...), "write after commit or abort")
	assert.ErrorContains(t, w.Commit(), "already committed or aborted")
	info, err := Inspect[R](path)
	require.NoError(t, err)
	assert.Equal(t, syntheticSpecHash, info.SpecHash)

	var got []R
	fi, err := Scan(path, ReadOptions{Allocator: mem, BatchRows: 17}, func(r R) error {
		got = append(got, r)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, FileInfo{Table: tableFor[R]().name, SchemaVersion: SchemaVersion, SpecHash: syntheticSpecHash,
		Rows: int64(len(rows)), RowGroups: (len(rows) + 49) / 50, CreatedBy: createdBy}, fi)
	assert.Equal(t, canonAll(rows), canonAll(got))
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("rollouts", func(t *testing.T) { roundTrip(t, syntheticRollouts()) })
	t.Run("steps", func(t *testing.T) { roundTrip(t, syntheticSteps()) })
	t.Run("eval", func(t *testing.T) { roundTrip(t, syntheticEval()) })
	t.Run("summary", func(t *testing.T) { roundTrip(t, syntheticSummary()) })
	t.Run("sweep", func(t *testing.T) { roundTrip(t, syntheticSweep()) })
	t.Run("problems", func(t *testing.T) { roundTrip(t, syntheticProblems()) })
	t.Run("empty", func(t *testing.T) { roundTrip(t, []Summary{}) })
}

func TestEmptyStringsAndNaNAreNull(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rollouts.parquet")
	require.NoError(t, WriteFile(path, []Rollout{{Arm: "uniform", Arrival: math.NaN()}}, Options{}))
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	rg := pf.MetaData().RowGroup(0)
	for _, name := range []string{"miner", "reason", "arrival"} {
		idx := pf.MetaData().Schema.ColumnIndexByName(name)
		cc, err := rg.ColumnChunk(idx)
		require.NoError(t, err)
		st, err := cc.Statistics()
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.NullCount(), name)
	}
}

// TestInterruptedWriterLeavesNoFile covers the two ways a write can stop
// before Commit: an error path that aborts, and a process killed mid-file.
func TestInterruptedWriterLeavesNoFile(t *testing.T) {
	t.Parallel()
	t.Run("abort", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, RolloutsFile)
		w, err := Create[Rollout](path, Options{RowGroupRows: 10})
		require.NoError(t, err)
		require.NoError(t, w.Write(syntheticRollouts()[:95]...))
		require.NoError(t, w.Abort())
		assert.NoFileExists(t, path)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "the temporary file is removed too")
	})
	t.Run("killed", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, RolloutsFile)
		// Keep a previous complete file under the final name: a killed
		// rewrite must leave it intact.
		require.NoError(t, WriteFile(path, syntheticRollouts()[:3], Options{}))
		before, err := os.ReadFile(path)
		require.NoError(t, err)

		exe, err := os.Executable()
		require.NoError(t, err)
		cmd := exec.Command(exe, "-test.run=^TestCrashHelper$")
		cmd.Env = append(os.Environ(), "RELIX_RESULTS_CRASH_DIR="+dir)
		out, err := cmd.CombinedOutput()
		var exit interface{ ExitCode() int }
		require.True(t, errors.As(err, &exit), "the helper must die: %v\n%s", err, out)

		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "the final name still holds the previous complete file")
		rows, err := Read[Rollout](path)
		require.NoError(t, err)
		assert.Len(t, rows, 3)

		removed, err := RemoveTemp(dir)
		require.NoError(t, err)
		assert.Len(t, removed, 1, "the killed writer left its temporary file, which RemoveTemp deletes")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1)
	})
}

// TestCrashHelper runs only in the subprocess started above: it writes
// several row groups and kills itself before committing.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("RELIX_RESULTS_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestInterruptedWriterLeavesNoFile")
	}
	w, err := Create[Rollout](filepath.Join(dir, RolloutsFile), Options{RowGroupRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(syntheticRollouts()...); err != nil {
		t.Fatal(err)
	}
	// SIGKILL on Unix: no deferred function, no Commit.
	self, _ := os.FindProcess(os.Getpid())
	_ = self.Kill()
	select {}
}

func TestReaderRejectsOtherSchemaVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), StepsFile)
	require.NoError(t, WriteFile(path, syntheticSteps()[:2], Options{}))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	// The footer holds the version as a string; rewrite it in place.
	i := indexOf(data, []byte(metaSchemaVersion))
	require.Positive(t, i)
	j := indexOf(data[i:], []byte(strconv.Itoa(SchemaVersion)))
	data[i+j] = '9'
	require.NoError(t, os.WriteFile(path, data, 0o644))

	_, err = Read[Step](path)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrSchemaVersion)
	assert.Contains(t, err.Error(), "schema version 9: this relix reads steps tables of schema versions 1 to 2; regenerate the file")

	_, err = Read[Summary](filepath.Join(t.TempDir(), "missing.parquet"))
	require.Error(t, err)
}

func TestReaderRejectsOtherTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), StepsFile)
	require.NoError(t, WriteFile(path, syntheticSteps()[:2], Options{}))
	_, err := Read[Summary](path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `not a relix summary table (its relix.table metadata is "steps")`)
}

// TestPlainLogicalTypes reads every table with Arrow's low-level Parquet
// reader, column by column, as an independent reader would: the physical
// and logical types must be the plain ones pandas, polars and DuckDB read
// without extensions, the values must match, and Zstd must be on.
func TestPlainLogicalTypes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, WriteFile(filepath.Join(dir, RolloutsFile), syntheticRollouts(), Options{}))
	require.NoError(t, WriteFile(filepath.Join(dir, StepsFile), syntheticSteps(), Options{}))
	require.NoError(t, WriteFile(filepath.Join(dir, EvalFile), syntheticEval(), Options{}))
	require.NoError(t, WriteFile(filepath.Join(dir, SummaryFile), syntheticSummary(), Options{}))
	require.NoError(t, WriteFile(filepath.Join(dir, SweepFile), syntheticSweep(), Options{}))
	require.NoError(t, WriteFile(filepath.Join(dir, ProblemsFile), syntheticProblems(), Options{}))

	for _, ti := range Schemas() {
		t.Run(ti.Name, func(t *testing.T) {
			pf, err := file.OpenParquetFile(filepath.Join(dir, ti.File), false)
			require.NoError(t, err)
			defer pf.Close()
			md := pf.MetaData()
			assert.Equal(t, createdBy, md.GetCreatedBy())
			sc := md.Schema
			require.Equal(t, len(ti.Columns), sc.NumColumns())
			for i, c := range ti.Columns {
				col := sc.Column(i)
				assert.Equal(t, c.Name, col.Name())
				lt := col.LogicalType()
				switch c.Type {
				case "utf8":
					assert.Equal(t, parquet.Types.ByteArray, col.PhysicalType(), c.Name)
					assert.True(t, lt.Equals(schema.StringLogicalType{}), "%s: %s", c.Name, lt)
				case "int32", "int64", "uint64":
					bits := map[string]int{"int32": 32, "int64": 64, "uint64": 64}[c.Type]
					assert.True(t, lt.Equals(schema.NewIntLogicalType(int8(bits), c.Type != "uint64")) || lt.Equals(schema.NoLogicalType{}),
						"%s: %s", c.Name, lt)
				case "float64":
					assert.Equal(t, parquet.Types.Double, col.PhysicalType(), c.Name)
					assert.True(t, lt.Equals(schema.NoLogicalType{}), "%s: %s", c.Name, lt)
				case "bool":
					assert.Equal(t, parquet.Types.Boolean, col.PhysicalType(), c.Name)
					assert.True(t, lt.Equals(schema.NoLogicalType{}), "%s: %s", c.Name, lt)
				default:
					t.Errorf("%s: unexpected type %s", c.Name, c.Type)
				}
				wantRep := parquet.Repetitions.Required
				if c.Nullable {
					wantRep = parquet.Repetitions.Optional
				}
				assert.Equal(t, wantRep, col.SchemaNode().RepetitionType(), c.Name)
			}
			// Every column chunk is Zstd-compressed; the dictionary-encoded
			// ones say so in their encodings.
			rg := md.RowGroup(0)
			for i := 0; i < sc.NumColumns(); i++ {
				cc, err := rg.ColumnChunk(i)
				require.NoError(t, err)
				assert.Equal(t, "ZSTD", cc.Compression().String(), sc.Column(i).Name())
			}
			for _, k := range []string{metaTable, metaSchemaVersion, metaSpecHash} {
				assert.NotNil(t, md.KeyValueMetadata().FindValue(k), k)
			}
		})
	}

	// Read one column of each physical type through the column readers and
	// check the values against what was written.
	steps := syntheticSteps()
	pf, err := file.OpenParquetFile(filepath.Join(dir, StepsFile), false)
	require.NoError(t, err)
	defer pf.Close()
	rg := pf.RowGroup(0)
	n := int(rg.NumRows())
	require.Equal(t, len(steps), n)

	arm := readByteArrays(t, rg, pf.MetaData().Schema.ColumnIndexByName("arm"), n)
	seed := readInt64s(t, rg, pf.MetaData().Schema.ColumnIndexByName("seed"), n)
	step := readInt32s(t, rg, pf.MetaData().Schema.ColumnIndexByName("step"), n)
	waste := readFloat64s(t, rg, pf.MetaData().Schema.ColumnIndexByName("waste"), n)
	for i, s := range steps {
		assert.Equal(t, s.Arm, arm[i])
		assert.Equal(t, int64(s.Seed), seed[i])
		assert.Equal(t, s.Step, step[i])
		assert.Equal(t, s.Waste, waste[i])
	}
}

func readByteArrays(t *testing.T, rg *file.RowGroupReader, col, n int) []string {
	cr, err := rg.Column(col)
	require.NoError(t, err)
	vals := make([]parquet.ByteArray, n)
	_, read, err := cr.(*file.ByteArrayColumnChunkReader).ReadBatch(int64(n), vals, nil, nil)
	require.NoError(t, err)
	require.Equal(t, n, read)
	out := make([]string, n)
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func readInt64s(t *testing.T, rg *file.RowGroupReader, col, n int) []int64 {
	cr, err := rg.Column(col)
	require.NoError(t, err)
	vals := make([]int64, n)
	_, read, err := cr.(*file.Int64ColumnChunkReader).ReadBatch(int64(n), vals, nil, nil)
	require.NoError(t, err)
	require.Equal(t, n, read)
	return vals
}

func readInt32s(t *testing.T, rg *file.RowGroupReader, col, n int) []int32 {
	cr, err := rg.Column(col)
	require.NoError(t, err)
	vals := make([]int32, n)
	_, read, err := cr.(*file.Int32ColumnChunkReader).ReadBatch(int64(n), vals, nil, nil)
	require.NoError(t, err)
	require.Equal(t, n, read)
	return vals
}

func readFloat64s(t *testing.T, rg *file.RowGroupReader, col, n int) []float64 {
	cr, err := rg.Column(col)
	require.NoError(t, err)
	vals := make([]float64, n)
	defLevels := make([]int16, n)
	_, read, err := cr.(*file.Float64ColumnChunkReader).ReadBatch(int64(n), vals, defLevels, nil)
	require.NoError(t, err)
	require.Equal(t, n, read, "no nulls in this column")
	return vals
}

func indexOf(haystack, needle []byte) int {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if string(haystack[i:i+len(needle)]) == string(needle) {
			return i
		}
	}
	return -1
}

func TestDeterministicBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	require.NoError(t, WriteFile(a, syntheticRollouts(), Options{SpecHash: "h"}))
	require.NoError(t, WriteFile(b, syntheticRollouts(), Options{SpecHash: "h"}))
	da, err := os.ReadFile(a)
	require.NoError(t, err)
	db, err := os.ReadFile(b)
	require.NoError(t, err)
	assert.Equal(t, da, db)
}

// benchRollouts is a market run's rollouts at the reference protocol's
// shape: windows of groups of G = 8 from 16 miners, 4,000 prompts, a third
// of the groups wasted.
func benchRollouts(n int) []Rollout {
	r := synthRand(42)
	reasons := []string{"zero_variance", "late", "duplicate"}
	rows := make([]Rollout, 0, n)
	for g := 0; len(rows) < n; g++ {
		step := int32(g/12 + 1)
		accepted := g%12 < 8
		reason := ""
		if !accepted {
			reason = reasons[r.IntN(len(reasons))]
		}
		miner := fmt.Sprintf("miner-%02d", r.IntN(16))
		prompt := fmt.Sprintf("train-%05d", r.IntN(4000))
		arrival := float64(g%12) + r.Float64()
		for c := int32(0); c < 8 && len(rows) < n; c++ {
			rows = append(rows, Rollout{
				Arm: "market", Seed: 1, Step: step, Window: int64(step), Checkpoint: fmt.Sprintf("ckpt-%04d", (step-1)/10*10),
				Miner: miner, Group: int32(g % 12), Prompt: prompt, Completion: c, Reward: float64(r.IntN(2)),
				Tokens: int32(r.IntN(8192)), Truncated: r.IntN(4) == 0, Accepted: accepted, Useful: accepted && g%3 != 0, Reason: reason, Arrival: arrival,
			})
		}
	}
	return rows
}

func BenchmarkWriteRollouts(b *testing.B) {
	rows := benchRollouts(200_000)
	dir := b.TempDir()
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		path := filepath.Join(dir, RolloutsFile)
		if err := WriteFile(path, rows, Options{SpecHash: syntheticSpecHash}); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
	}
	b.StopTimer()
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size)/float64(len(rows)), "bytes/row")
	b.ReportMetric(0, "ns/op")
}

// TestCorruptFileIsAnError flips bits all over a rollouts file's pages:
// every read ends in rows or an error, never a panic, and a file that
// does not decode is said to be corrupt, with what to do.
func TestCorruptFileIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, RolloutsFile)
	require.NoError(t, WriteFile(path, syntheticRollouts(), Options{RowGroupRows: 50}))
	clean, err := os.ReadFile(path)
	require.NoError(t, err)
	corrupt := 0
	for k := 0; k < 64; k++ {
		data := bytes.Clone(clean)
		at := 4 + (k*7919)%(len(data)-8) // past the magic, before the footer's magic
		data[at] ^= 1 << (k % 8)
		flipped := filepath.Join(dir, strconv.Itoa(k)+".parquet")
		require.NoError(t, os.WriteFile(flipped, data, 0o644))
		_, err := Read[Rollout](flipped)
		if errors.Is(err, ErrCorrupt) {
			corrupt++
			assert.Contains(t, err.Error(), flipped+" is corrupt: ")
			assert.Contains(t, err.Error(), "rerun with --force or delete it")
		}
	}
	t.Logf("%d of 64 flips reported corrupt (the others decode to rows or fail on the schema)", corrupt)
}

// TestCorruptSampleFileIsAnError: the sample reader, which score uses,
// reads a flipped file to rows or an ErrCorrupt error too, never a panic
// (its table reader used to decode columns on goroutines of its own,
// where no recover reached the codec's panic).
func TestCorruptSampleFileIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, EvalFile)
	require.NoError(t, WriteFile(path, syntheticEval(), Options{RowGroupRows: 50}))
	clean, err := os.ReadFile(path)
	require.NoError(t, err)
	corrupt := 0
	for k := 0; k < 64; k++ {
		data := bytes.Clone(clean)
		data[4+(k*7919)%(len(data)-8)] ^= 1 << (k % 8)
		flipped := filepath.Join(dir, strconv.Itoa(k)+".parquet")
		require.NoError(t, os.WriteFile(flipped, data, 0o644))
		if _, err := ReadSampleGroups(flipped, []string{"arm", "seed", "checkpoint", "step"}); errors.Is(err, ErrCorrupt) {
			corrupt++
		}
	}
	t.Logf("%d of 64 flips reported corrupt", corrupt)
}
