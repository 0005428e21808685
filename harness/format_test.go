package harness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/relix-lab/relix/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errKilled = errors.New("killed")

func sampleState() runState {
	return runState{SpecHash: "abc123", Train: "sha256:ff", Completed: 7, Current: "ck-7", Published: "ck-5"}
}

func sampleEntry() *stepRecord {
	return &stepRecord{
		Rollouts: []results.Rollout{{Arm: "market", Seed: 1, Step: 3, Prompt: "p-1", Reward: 1}},
		Steps:    []results.Step{{Arm: "market", Seed: 1, Step: 3}},
		Source:   []byte{6, 'm', 'a', 'r', 'k', 'e', 't', 1, 0, 0, 0},
	}
}

// TestStateReaderIsStrict writes state.json and changes it every way a
// disk or a hand can: a truncated file, any flipped bit, another version.
// Each is an error, or (a flipped letter's case, which JSON keys ignore) the
// very same state.
func TestStateReaderIsStrict(t *testing.T) {
	st := sampleState()
	data, err := encodeState(st)
	require.NoError(t, err)
	want, err := decodeState(data)
	require.NoError(t, err)
	st.Version, st.Checksum = stateVersion, want.Checksum
	assert.Equal(t, st, *want)
	assert.Less(t, len(data), 400, "state.json stays a few hundred bytes")

	for n := range len(data) - 1 {
		_, err := decodeState(data[:n])
		assert.Error(t, err, "truncated to %d bytes", n)
	}
	for i := range data {
		for bit := range 8 {
			b := append([]byte(nil), data...)
			b[i] ^= 1 << bit
			if got, err := decodeState(b); err == nil {
				assert.Equal(t, want, got, "byte %d bit %d flipped: decodes to another state", i, bit)
			}
		}
	}
	old := []byte(`{"spec_hash": "abc123", "completed": 7, "current": "ck-7", "published": "ck-5", "source": "eyJ2ZXJzaW9uIjoxfQ==", "done": false}`)
	_, err = decodeState(old)
	assert.EqualError(t, err, "state version 0; this build reads version 3 (rerun with --force)")
	_, err = decodeState(bytes.Replace(data, []byte(`"done"`), []byte(`"gone"`), 1))
	assert.ErrorContains(t, err, "unknown field")
	_, err = decodeState(bytes.Replace(data, []byte(`"version": 3`), []byte(`"version": 2`), 1))
	assert.EqualError(t, err, "state version 2; this build reads version 3 (rerun with --force)")
	_, err = decodeState(append(data, []byte("{}")...))
	assert.ErrorContains(t, err, "after top-level value")
}

func TestJournalEntryRoundTrip(t *testing.T) {
	data, err := encodeEntry(3, sampleEntry())
	require.NoError(t, err)
	got, err := decodeEntry(data, 3)
	require.NoError(t, err)
	assert.Equal(t, sampleEntry(), got)
	_, err = decodeEntry(data, 4)
	assert.EqualError(t, err, "the entry of step 3, not 4")
}

// TestJournalEntryReaderIsStrict: every truncation and every flipped bit of
// an entry is an error (CRC-32C catches every single-bit error).
func TestJournalEntryReaderIsStrict(t *testing.T) {
	data, err := encodeEntry(3, sampleEntry())
	require.NoError(t, err)
	for n := range len(data) {
		_, err := decodeEntry(data[:n], 3)
		assert.Error(t, err, "truncated to %d bytes", n)
	}
	for i := range data {
		for bit := range 8 {
			b := append([]byte(nil), data...)
			b[i] ^= 1 << bit
			_, err := decodeEntry(b, 3)
			assert.Error(t, err, "byte %d bit %d flipped", i, bit)
		}
	}
	_, err = decodeEntry(append(data, 0), 3)
	assert.Error(t, err, "a byte after the checksum")
}

// TestResumeRefusesADamagedJournal stops the tiny experiment after its
// third step, damages one file of the market run, and checks that running
// again fails and names the file, instead of resuming from another state.
func TestResumeRefusesADamagedJournal(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, dir string) string{
		"journal entry": func(t *testing.T, dir string) string {
			path := filepath.Join(dir, journalDir, "000002.rec")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			data[len(data)/2] ^= 4
			require.NoError(t, os.WriteFile(path, data, 0o644))
			return path
		},
		"truncated entry": func(t *testing.T, dir string) string {
			path := filepath.Join(dir, journalDir, "000001.rec")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, data[:len(data)-1], 0o644))
			return path
		},
		"checkpoint": func(t *testing.T, dir string) string {
			paths, err := filepath.Glob(filepath.Join(newestCheckpoint(t, dir), "current", "*"))
			require.NoError(t, err)
			require.Len(t, paths, 1)
			data, err := os.ReadFile(paths[0])
			require.NoError(t, err)
			data[len(data)/2] ^= 1
			require.NoError(t, os.WriteFile(paths[0], data, 0o644))
			return paths[0]
		},
		"checkpoint added": func(t *testing.T, dir string) string {
			path := filepath.Join(newestCheckpoint(t, dir), "published", "extra.safetensors")
			require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
			return path
		},
		"checkpoint checksums": func(t *testing.T, dir string) string {
			path := filepath.Join(newestCheckpoint(t, dir), checksumsFile)
			require.NoError(t, os.WriteFile(path, []byte("garbage\n"), 0o644))
			return path
		},
		"state": func(t *testing.T, dir string) string {
			path := filepath.Join(dir, stateFile)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, []byte(string(data[:len(data)-3])), 0o644))
			return path
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, path := tiny(t)
			out := filepath.Join(t.TempDir(), "out")
			opts := Options{Backends: simOnly, SpecPath: path, Out: out, Jobs: 1, Now: fixedClock, Arms: []string{"market"}, Seeds: []uint64{5}, NoMerge: true}
			opts.failpoint = func(p string) error {
				if p == "step 3: journal" {
					return errKilled
				}
				return nil
			}
			_, err := Run(context.Background(), s, opts)
			require.ErrorIs(t, err, errKilled)
			damaged := damage(t, filepath.Join(out, "runs", "market", "seed-5"))
			opts.failpoint = nil
			_, err = Run(context.Background(), s, opts)
			require.ErrorIs(t, err, results.ErrCorrupt)
			assert.Contains(t, err.Error(), damaged)
			assert.Contains(t, err.Error(), "rerun with --force")
		})
	}
}

// newestCheckpoint is the checkpoint directory a resume of the run in dir
// loads: the one of its last step.
func newestCheckpoint(t *testing.T, dir string) string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(dir, ckptDir, "0*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	return dirs[len(dirs)-1]
}

func TestChecksumsFile(t *testing.T) {
	files := []checksummed{{"current/a.json", 10, 0xdeadbeef}, {"published/b c.bin", 0, 1}}
	got, err := decodeChecksums(encodeChecksums(files))
	require.NoError(t, err)
	assert.Equal(t, files, got)
	for _, bad := range []string{
		"deadbeef 10 a\ndeadbeef 10 a\n", // not sorted, twice
		"deadbeef 10 ../a\n",
		"deadbeef 10 /etc/passwd\n",
		"deadbee 10 a\n",
		"deadbeef -1 a\n",
		"deadbeef 10\n",
		"deadbeef 10 a",
	} {
		_, err := decodeChecksums([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

// FuzzDecodeState feeds state.json's reader arbitrary bytes: it never
// panics, and a state it accepts writes back to one that reads the same.
func FuzzDecodeState(f *testing.F) {
	data, err := encodeState(sampleState())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version": 3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		again, err := encodeState(*st)
		if err != nil {
			t.Fatal(err)
		}
		if st2, err := decodeState(again); err != nil || *st2 != *st {
			t.Fatalf("%q reads as %+v, written back as %q: %+v, %v", b, st, again, st2, err)
		}
	})
}

// FuzzDecodeEntry feeds the journal entry reader arbitrary bytes: it never
// panics, and an entry it accepts carries a checksum over its bytes.
func FuzzDecodeEntry(f *testing.F) {
	data, err := encodeEntry(3, sampleEntry())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(journalMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeEntry(b, 3)
		if err != nil {
			return
		}
		again, err := encodeEntry(3, rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeEntry(again, 3); err != nil {
			t.Fatalf("%x decodes, but its record written again does not: %v", b, err)
		}
	})
}

// FuzzDecodeChecksums feeds the checkpoints' checksum list arbitrary bytes:
// it never panics, and a list it accepts is exactly what encoding it gives.
func FuzzDecodeChecksums(f *testing.F) {
	f.Add([]byte("deadbeef 10 current/a.json\n0000000a 0 published/b\n"))
	f.Add([]byte("deadbeef 10 ../a\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := decodeChecksums(data)
		if err != nil {
			return
		}
		if got := encodeChecksums(files); !bytes.Equal(got, data) {
			t.Fatalf("%q re-encodes as %q", data, got)
		}
	})
}
