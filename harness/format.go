package harness

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/relix-lab/relix/results"
)

// The two files a run rewrites while it trains, and how they are read back.
// Both are read on resume from a disk that a kill, a full disk or a user may
// have left in any state, so their readers are strict: a file that is
// truncated, corrupted, of another version or not canonical is an error,
// never a run resumed from a different state.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// stateVersion is state.json's. Version 1 (no version field, read as 0)
// held the source's whole state as base64; a run done at version 2 has
// rollouts shards without useful and, the first run, no problems table to
// merge. This build refuses both.
const stateVersion = 3

// runState is state.json: a few hundred bytes, written when a trained run
// starts (nothing complete) and when it is done. In between, how far the
// run got and its checkpoints are the journal's (journal.go); in memory,
// the run keeps them here.
type runState struct {
	Version   int    `json:"version"`
	SpecHash  string `json:"spec_hash"`
	Train     string `json:"train"`     // the training set's hash: source deltas name prompts by index
	Completed int    `json:"completed"` // steps complete (0: none)
	Current   string `json:"current"`   // trainer's checkpoint after Completed steps
	Published string `json:"published"` // last published checkpoint
	Done      bool   `json:"done"`      // the run's shards are written
	// Checksum is "crc32c:" and the 8 hex digits of the CRC-32C of the
	// file as written with Checksum empty, so that a changed value is
	// caught even where the JSON still parses.
	Checksum string `json:"checksum"`
}

func stateChecksum(st runState) (string, error) {
	st.Checksum = ""
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("crc32c:%08x", crc32.Checksum(data, castagnoli)), nil
}

// encodeState is state.json's bytes: st as indented JSON, of this version,
// with its checksum.
func encodeState(st runState) ([]byte, error) {
	st.Version = stateVersion
	sum, err := stateChecksum(st)
	if err != nil {
		return nil, err
	}
	st.Checksum = sum
	data, err := json.MarshalIndent(st, "", "  ")
	return append(data, '\n'), err
}

// decodeState reads state.json: one JSON object with exactly runState's
// fields, of this version, whose checksum matches.
func decodeState(data []byte) (*runState, error) {
	// The version first, so that a state of another format says so rather
	// than naming the first field it does not know; Unmarshal also refuses
	// anything after the object.
	var v struct{ Version int }
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if v.Version != stateVersion {
		return nil, fmt.Errorf("state version %d; this build reads version %d (rerun with --force)", v.Version, stateVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st runState
	if err := dec.Decode(&st); err != nil {
		return nil, err
	}
	sum, err := stateChecksum(st)
	if err != nil {
		return nil, err
	}
	if st.Checksum != sum {
		return nil, fmt.Errorf("checksum %q, but the content's is %q", st.Checksum, sum)
	}
	if st.Completed < 0 || st.SpecHash == "" {
		return nil, fmt.Errorf("state of %d steps complete of spec %q", st.Completed, st.SpecHash)
	}
	return &st, nil
}

// A journal entry is one record:
//
//	"relixjnl"            magic, 8 bytes
//	version               uvarint (journalVersion)
//	step                  uvarint, the entry's own step
//	length                uvarint, the payload's
//	rollouts length       uvarint
//	rollouts              the record's rollouts (rollcodec.go)
//	payload               gob of the rest of stepRecord
//	checksum              CRC-32C of every byte above, uint32 little-endian
//
// Varints are minimal and nothing follows the checksum.
const (
	journalMagic   = "relixjnl"
	journalVersion = 5 // 1 had no checkpoint ids: the state held them; 2 held the rollouts in the gob; 3 had no steps' trained_groups, burned_slots, window_seconds, trained_reward or carry counts; 4 had no rollouts' useful flag
)

func encodeEntry(step int, rec *stepRecord) ([]byte, error) {
	rest := *rec
	rest.Rollouts = nil
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&rest); err != nil {
		return nil, err
	}
	rollouts := encodeRollouts(rec.Rollouts)
	b := make([]byte, 0, len(journalMagic)+4*binary.MaxVarintLen64+rollouts.size()+payload.Len()+4)
	b = append(append(b, journalMagic...), binary.AppendUvarint(nil, journalVersion)...)
	b = binary.AppendUvarint(b, uint64(step))
	b = binary.AppendUvarint(b, uint64(rollouts.size()))
	b = rollouts.appendTo(b)
	b = binary.AppendUvarint(b, uint64(payload.Len()))
	b = append(b, payload.Bytes()...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// decodeEntry reads the journal entry of step.
func decodeEntry(data []byte, step int) (*stepRecord, error) {
	return decodeEntryReusing(data, step, nil)
}

// decodeEntryReusing is decodeEntry with the rollouts decoded into reuse's
// memory when it is large enough (a reader that is done with the last
// entry's rows before it reads the next).
func decodeEntryReusing(data []byte, step int, reuse []results.Rollout) (*stepRecord, error) {
	if !bytes.HasPrefix(data, []byte(journalMagic)) {
		return nil, errors.New("not a relix journal entry")
	}
	body := data[:max(len(data)-4, 0)]
	if len(data) < len(journalMagic)+4 || binary.LittleEndian.Uint32(data[len(body):]) != crc32.Checksum(body, castagnoli) {
		return nil, errors.New("checksum mismatch: the entry is truncated or altered")
	}
	rest := body[len(journalMagic):]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(rest)
		if n <= 0 || n != uvarintLen(v) {
			return 0, false
		}
		rest = rest[n:]
		return v, true
	}
	var header [3]uint64
	for i := range header {
		v, ok := uvarint()
		if !ok {
			return nil, errors.New("malformed entry header")
		}
		header[i] = v
	}
	switch version, got, length := header[0], header[1], header[2]; {
	case version != journalVersion:
		return nil, fmt.Errorf("journal entry version %d; this build reads version %d (rerun with --force)", version, journalVersion)
	case got != uint64(step):
		return nil, fmt.Errorf("the entry of step %d, not %d", got, step)
	case length > uint64(len(rest)):
		return nil, fmt.Errorf("rollouts of %d bytes where %d follow", length, len(rest))
	}
	rollouts, err := decodeRollouts(rest[:header[2]], reuse)
	if err != nil {
		return nil, err
	}
	rest = rest[header[2]:]
	length, ok := uvarint()
	if !ok || length != uint64(len(rest)) {
		return nil, fmt.Errorf("a payload of %d bytes where %d follow", length, len(rest))
	}
	r := bytes.NewReader(rest)
	var rec stepRecord
	if err := gob.NewDecoder(r).Decode(&rec); err != nil {
		return nil, err
	}
	if r.Len() > 0 {
		return nil, fmt.Errorf("%d bytes after the record", r.Len())
	}
	if rec.Rollouts != nil {
		return nil, errors.New("rollouts inside the record's gob")
	}
	rec.Rollouts = rollouts
	return &rec, nil
}
