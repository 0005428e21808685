package results

import (
	"os"
	"reflect"
	"testing"
)

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
