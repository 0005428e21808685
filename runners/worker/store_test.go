package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkpointDir writes a checkpoint directory of files (path → contents;
// a path ending in / is an empty directory) under a new temporary one.
func checkpointDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ckpt")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, body := range files {
		path := filepath.Join(dir, name)
		if name[len(name)-1] == '/' {
			require.NoError(t, os.MkdirAll(path, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	}
	return dir
}

// tree reads a directory back as checkpointDir's map.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, path)
		require.NoError(t, err)
		switch {
		case rel == ".":
		case d.IsDir():
			if entries, err := os.ReadDir(path); err == nil && len(entries) == 0 {
				out[rel+"/"] = ""
			}
		default:
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			out[rel] = string(b)
		}
		return nil
	}))
	return out
}

// The store's copy outlives the saved directory and comes back as the same
// tree, without a writer's temporary files.
func TestStoreLaysOutTheCheckpointItKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]string
	}{
		{"one file", map[string]string{"checkpoint.json": "{}\n"}, nil},
		{"shards and a config", map[string]string{
			"model-00001.safetensors": "a", "model-00002.safetensors": "b", "config.json": "{}",
		}, nil},
		{"nested, an empty directory and a temporary file", map[string]string{
			"optimizer/state.pt": "s", "optimizer/rng/seed": "1", "empty/": "", ".tmp-checkpoint.json-123": "torn",
		}, map[string]string{"optimizer/state.pt": "s", "optimizer/rng/seed": "1", "empty/": ""}},
		{"no files", map[string]string{}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.want
			if want == nil {
				want = tt.files
			}
			s := &store{parent: t.TempDir(), entries: map[string]*storeEntry{}}
			defer s.remove()
			dir := checkpointDir(t, tt.files)
			require.NoError(t, s.keep("ck", dir, true))
			require.NoError(t, os.RemoveAll(dir)) // the harness moves or prunes it
			require.True(t, s.has("ck"))
			got, ok, err := s.get("ck")
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, want, tree(t, got))
			again, _, err := s.get("ck")
			require.NoError(t, err)
			assert.Equal(t, got, again, "laid out once")
		})
	}
}

// The store keeps the last storeCapacity checkpoints; what it lets go, and
// a checkpoint saved again, leaves nothing behind.
func TestStoreKeepsTheLastCheckpointsAndNothingElse(t *testing.T) {
	t.Parallel()
	s := &store{parent: t.TempDir(), entries: map[string]*storeEntry{}}
	dir := checkpointDir(t, map[string]string{"a": "1", "sub/b": "2"})
	const saves = storeCapacity + 5
	for i := range saves {
		require.NoError(t, s.keep(fmt.Sprintf("ck%d", i), dir, true))
		if i == saves-2 {
			_, _, err := s.get(fmt.Sprintf("ck%d", i)) // a restore lays one out
			require.NoError(t, err)
		}
	}
	require.NoError(t, s.keep(fmt.Sprintf("ck%d", saves-1), dir, true)) // saved again
	entries, err := os.ReadDir(s.root)
	require.NoError(t, err)
	assert.Len(t, entries, storeCapacity*2+1, "two files for each checkpoint kept, and the one laid out")
	for i := range saves {
		assert.Equal(t, i >= saves-storeCapacity, s.has(fmt.Sprintf("ck%d", i)), "ck%d", i)
	}
	root := s.root
	s.remove()
	assert.NoDirExists(t, root)
	assert.False(t, s.has("ck0"))
}

func TestStoreGetOfAnUnknownCheckpoint(t *testing.T) {
	t.Parallel()
	s := &store{parent: t.TempDir(), entries: map[string]*storeEntry{}}
	dir, ok, err := s.get("nope")
	assert.NoError(t, err)
	assert.False(t, ok)
	assert.Empty(t, dir)
}

// A step's save costs the store a link and an eviction's unlink.
func BenchmarkStoreKeep(b *testing.B) {
	s := &store{parent: b.TempDir(), entries: map[string]*storeEntry{}}
	defer s.remove()
	dir := checkpointDir(b, map[string]string{"checkpoint.json": string(make([]byte, 40<<10))})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.keep(fmt.Sprintf("ck%d", i), dir, true); err != nil {
			b.Fatal(err)
		}
	}
}
