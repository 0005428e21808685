package runners

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkTree(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "shards"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "model.safetensors"), []byte("weights"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "shards", "a.bin"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, ".tmp-123"), []byte("half written"), 0o644))

	for _, mustCopy := range []bool{false, true} {
		dst := filepath.Join(t.TempDir(), "ck")
		linked, err := LinkTree(src, dst, mustCopy)
		require.NoError(t, err)
		assert.True(t, linked, "one file system: every file links")
		got, err := os.ReadFile(filepath.Join(dst, "shards", "a.bin"))
		require.NoError(t, err)
		assert.Equal(t, "a", string(got))
		a, _ := os.Stat(filepath.Join(src, "model.safetensors"))
		b, _ := os.Stat(filepath.Join(dst, "model.safetensors"))
		assert.True(t, os.SameFile(a, b), "a hard link, not a copy")
		assert.NoFileExists(t, filepath.Join(dst, ".tmp-123"), "a writer's temporary file is not part of the checkpoint")
	}
	_, err := LinkTree(filepath.Join(src, "missing"), t.TempDir(), true)
	assert.Error(t, err)
}
