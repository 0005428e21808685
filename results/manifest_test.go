package results

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadManifestRefusesUnwritableTimes: a start or end that is before
// the year 0 or after 9999 once in UTC is refused when read, not when a
// resumed run writes the manifest again at its end.
func TestReadManifestRefusesUnwritableTimes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ json, want string }{
		{`{"manifest_version": 1, "end": "0000-01-01T00:00:00+01:00"}`, "end 0000-01-01T00:00:00+01:00 is in the year -1 in UTC"},
		{`{"manifest_version": 1, "start": "9999-12-31T23:59:59-01:00"}`, "start 9999-12-31T23:59:59-01:00 is in the year 10000 in UTC"},
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestFile), []byte(c.json), 0o644))
		_, err := ReadManifest(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(dir, ManifestFile)+": "+c.want)
	}
}

// FuzzDecodeManifest feeds manifest.json's reader arbitrary bytes: it never
// panics, and a manifest it accepts is written back (Marshal, what
// WriteManifest writes) to bytes that read as the same manifest.
func FuzzDecodeManifest(f *testing.F) {
	for _, path := range []string{"testdata/paired/manifest.json", "testdata/zone-sweep/manifest.json"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"manifest_version": 1, "notes": ["resumed at step 40"], "start": "2025-01-02T03:04:05+01:00"}`))
	f.Add([]byte(`{"manifest_version": 2}`))
	f.Add([]byte(`{"manifest_version": 1, "unknown": true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("%q reads as %+v, which does not write back: %v", b, m, err)
		}
		m2, err := decodeManifest(again)
		if err != nil {
			t.Fatalf("%q reads, but written back as %q it does not: %v", b, again, err)
		}
		if want := writtenBack(m); !reflect.DeepEqual(m2, want) {
			t.Fatalf("%q reads as %+v, written back as %q: %+v", b, want, again, m2)
		}
	})
}

// writtenBack is m as Marshal records it: the times in UTC, and no notes
// where the list is empty (notes is omitted then).
func writtenBack(m *Manifest) *Manifest {
	w := *m
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	if len(w.Notes) == 0 {
		w.Notes = nil
	}
	return &w
}
