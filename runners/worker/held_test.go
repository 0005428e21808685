package worker

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sha256LE is the digest as its definition reads: SHA-256 of the ids, 4
// little-endian bytes each.
func sha256LE(ids []uint32) [32]byte {
	var raw []byte
	for _, id := range ids {
		raw = binary.LittleEndian.AppendUint32(raw, id)
	}
	return sha256.Sum256(raw)
}

// heldOf is the worker runner under w.
func heldOf(w runners.Runner) *Runner { return w.(oracleRunner).Runner }

// sameHeldAsSim checks GenerateHeld and HiddenHeld against the in-process
// sim: the completions as the sim's but for their ids, which come back
// held (a digest of the sim's ids) where the worker takes up digests and
// as ids where it does not, and the held ids' hidden states as the sim's.
func sameHeldAsSim(t *testing.T, w *Runner, s *sim.Runner, digests bool) {
	t.Helper()
	ps := prompts(t, 3)
	got, held, err := w.GenerateHeld(ctx, w.Base(), ps, 4, sampling)
	require.NoError(t, err)
	want, err := s.Generate(ctx, s.Base(), ps, 4, sampling)
	require.NoError(t, err)
	require.Len(t, held, len(ps))
	var wg sync.WaitGroup
	for i := range want {
		require.Len(t, held[i], len(want[i]))
		for j, c := range want[i] {
			g, k := got[i][j], held[i][j]
			if !digests {
				assert.Nil(t, k.Ref, "ids, not held, from a worker without digests")
				assert.Equal(t, c, g)
				continue
			}
			require.NotNil(t, k.Ref)
			assert.Nil(t, g.Tokens, "held ids stay with the worker")
			g.Tokens = c.Tokens
			assert.Equal(t, c, g)
			assert.Equal(t, c.NumTokens, k.Len)
			assert.Equal(t, sha256LE(c.Tokens), k.SHA256)
			wg.Add(1)
			go func() { // together, as a proof asks: in one batch
				defer wg.Done()
				pos := []int{0, len(c.Tokens) / 2, len(c.Tokens) - 1}
				wantH, err := s.Hidden(ctx, s.Base(), c.Tokens, pos)
				assert.NoError(t, err)
				gotH, err := w.HiddenHeld(ctx, w.Base(), k, pos)
				assert.NoError(t, err)
				assert.Equal(t, wantH, gotH, "completion %d of prompt %d", j, i)
			}()
		}
	}
	wg.Wait()
}

func TestHeldIDsGiveTheSimsResults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		features, log string
		digests       bool
	}{
		{FeatureBinary + "," + FeatureHandles + "," + FeatureDigests, "features binary, handles, digests\n", true},
		{FeatureHandles + "," + FeatureDigests, "features handles, digests\n", true},
		{FeatureBinary + "," + FeatureHandles, "features binary, handles\n", false},
		{FeatureDigests, "JSON only", false}, // digests name ids by handles: none without them
		{"none", "JSON only", false},
	} {
		t.Run(tc.features, func(t *testing.T) {
			t.Parallel()
			cfg := fakeConfig(t, "sim")
			cfg.Env["RELIX_FAKE_FEATURES"] = tc.features
			w, log := startFake(t, cfg)
			assert.Contains(t, log.String(), tc.log)
			sameHeldAsSim(t, heldOf(w), inProcessSim(t), tc.digests)
		})
	}
}

// A worker that let held ids go answers their hidden states with
// ErrTokensGone, one at a time and in a batch alike.
func TestLetGoHeldIDsAreGone(t *testing.T) {
	t.Parallel()
	w := heldOf(startFakeW(t, "few-ids"))
	_, first, err := w.GenerateHeld(ctx, w.Base(), prompts(t, 1), 2, sampling)
	require.NoError(t, err)
	_, _, err = w.GenerateHeld(ctx, w.Base(), prompts(t, 4), 4, sampling) // more than the worker keeps
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, k := range first[0] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.HiddenHeld(ctx, w.Base(), k, []int{0})
			assert.ErrorIs(t, err, runners.ErrTokensGone)
		}()
	}
	wg.Wait()
}

// Held ids are their process's: after a restart they are gone.
func TestHeldIDsDoNotOutliveTheirProcess(t *testing.T) {
	t.Parallel()
	w := heldOf(startFakeW(t, "crash-step"))
	s := inProcessSim(t)
	_, held, err := w.GenerateHeld(ctx, w.Base(), prompts(t, 1), 2, sampling)
	require.NoError(t, err)
	_, _, err = w.Step(ctx, w.Base(), groupsFor(t, s, s.Base(), 1), runners.NewHyper(grpo, 0, 1, w.Base()))
	require.NoError(t, err)
	_, err = w.HiddenHeld(ctx, w.Base(), held[0][0], []int{0})
	assert.ErrorIs(t, err, runners.ErrTokensGone)
	_, err = w.HiddenHeld(ctx, w.Base(), runners.HeldTokens{Len: 1, Ref: "not the worker's"}, []int{0})
	assert.ErrorContains(t, err, "not named by this runner")
}

// A held request that reaches another process than the one holding its
// ids (one restarted between the check and the send) names no handle
// there: it asks for no positions and is marked stale.
func TestAHeldRequestNamesNoOtherProcesssHandle(t *testing.T) {
	holder, other := &proc{}, &proc{}
	q := hiddenRequest{params: HiddenParams{Checkpoint: "sim-1", Positions: []int{3}}, held: &heldRef{holder, 7}}
	assert.Equal(t, HiddenParams{Checkpoint: "sim-1", Handle: 7, Positions: []int{3}}, q.on(holder))
	assert.False(t, q.stale)
	assert.Equal(t, HiddenParams{Checkpoint: "sim-1", Positions: []int{}}, q.on(other))
	assert.True(t, q.stale)
	assert.True(t, heldGone(&q, nil))
	assert.False(t, heldGone(&hiddenRequest{}, &Error{Code: CodeUnknownHandle}), "a request of ids is never gone")
}

func TestCheckDigest(t *testing.T) {
	sum := sha256LE([]uint32{1, 2})
	good := strings.Repeat("ab", 32)
	asked := GenerateParams{Digests: true, Sampling: runners.Sampling{Tokens: true}}
	for _, tc := range []struct {
		name   string
		c      Completion
		params GenerateParams
		err    string
	}{
		{"none", Completion{}, GenerateParams{}, ""},
		{"good", Completion{Handle: 1, Digest: good}, asked, ""},
		{"not asked", Completion{Handle: 1, Digest: good}, GenerateParams{Sampling: runners.Sampling{Tokens: true}}, "none was asked for"},
		{"no handle", Completion{Digest: good}, asked, "without the handle"},
		{"ids too", Completion{Completion: runners.Completion{Tokens: []uint32{1}}, Handle: 1, Digest: good}, asked, "both token ids and a digest"},
		{"short", Completion{Handle: 1, Digest: good[:62]}, asked, "64 lower-case hex digits"},
		{"upper case", Completion{Handle: 1, Digest: strings.ToUpper(good)}, asked, "64 lower-case hex digits"},
		{"not hex", Completion{Handle: 1, Digest: strings.Repeat("zz", 32)}, asked, "64 lower-case hex digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDigest(&tc.c, &tc.params)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.err)
		})
	}
	got, err := parseDigest(hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	assert.Equal(t, sum, got)
	assert.Equal(t, sum, runners.TokensDigest([]uint32{1, 2}))
}

func startFakeW(t *testing.T, mode string) runners.Runner {
	w, _ := startFake(t, fakeConfig(t, mode))
	return w
}
