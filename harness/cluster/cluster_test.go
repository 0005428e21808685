package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalRunsEveryRunJobsAtATime(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		ran      []Run
		now, top atomic.Int32
	)
	l := &Local{Jobs: 2, Run: func(ctx context.Context, r Run) error {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			old := top.Load()
			if n <= old || top.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		ran = append(ran, r)
		mu.Unlock()
		return nil
	}}
	runs := []Run{{Arm: "a", Seed: 1}, {Arm: "a", Seed: 2}, {Arm: "b", Seed: 1}, {Arm: "b", Seed: 2}, {Arm: "c", Seed: 1}}
	require.NoError(t, l.Execute(context.Background(), runs))
	assert.ElementsMatch(t, runs, ran)
	assert.Equal(t, int32(2), top.Load())
}

func TestLocalStopsTheOthersAtTheFirstFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var started, cancelled atomic.Int32
	l := &Local{Jobs: 5, Run: func(ctx context.Context, r Run) error {
		if r.Arm == "bad" {
			return boom
		}
		started.Add(1)
		<-ctx.Done()
		cancelled.Add(1)
		return ctx.Err()
	}}
	err := l.Execute(context.Background(), []Run{{Arm: "a", Seed: 1}, {Arm: "b", Seed: 1}, {Arm: "bad", Seed: 7}, {Arm: "c", Seed: 1}, {Arm: "d", Seed: 1}})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "bad/seed-7: boom", err.Error())
	assert.Equal(t, started.Load(), cancelled.Load(), "the runs beside it stop; those not yet started never start")
}

func TestTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	lines, err := tail(write("short", "a\nb\nc\n"), 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "c"}, lines)

	lines, err = tail(write("empty", ""), 2)
	require.NoError(t, err)
	assert.Empty(t, lines)

	lines, err = tail(write("no newline", "a\nb"), 5)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, lines)

	// A long log is read from its last 64 KiB only; its cut first line is dropped.
	long := strings.Repeat("x", 100<<10) + "\nlast but one\nlast\n"
	lines, err = tail(write("long", long), 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"last but one", "last"}, lines)

	_, err = tail(filepath.Join(dir, "missing"), 2)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
