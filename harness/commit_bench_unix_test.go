//go:build unix

package harness

import (
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/harness/cluster"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/runners"
)

// BenchmarkCommit commits one step of experiments/paired.yaml's trained
// arms — checkpoints, then the journal entry with the source's delta —
// after enough steps for the market's estimators to have reached their
// steady size (a memory of one group is forgotten after about 63 windows
// at decay 0.9): the cost
// every step of a run pays on top of its work. ns/op is mostly waiting for
// fsync, which a shared disk makes noisy; cpu-ns/op is this process's CPU
// time (user and system). state-B/op and journal-B/op are what the step
// leaves on disk besides its checkpoints (state.json is written only when
// a run starts and ends, so a step's is 0).
func BenchmarkCommit(b *testing.B) {
	for _, arm := range []string{"uniform", "market"} {
		b.Run(arm, func(b *testing.B) {
			ctx := context.Background()
			s, err := spec.Load("../experiments/paired.yaml", "eval.every=0")
			if err != nil {
				b.Fatal(err)
			}
			sets, err := LoadProblemSets(s, "../experiments")
			if err != nil {
				b.Fatal(err)
			}
			e := &runEnv{spec: s, sets: sets, out: b.TempDir(), backends: simOnly, progress: quietProgress{}, workerLog: io.Discard}
			r, err := e.backends.New(ctx, s.Runner, runners.Options{Problems: []*dataset.Set{sets.Train, sets.Heldout}, Log: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			id := cluster.Run{Arm: arm, Seed: s.Seed}
			src, err := newSource(source.Config{Arm: armOf(s, arm), Train: s.Train, Seed: id.Seed, Pool: sets.Train, Runner: r,
				Reward: source.NewRewarder(s.Train.Reward)})
			if err != nil {
				b.Fatal(err)
			}
			j := journal{id.Dir(e.out)}
			st := &runState{SpecHash: s.Hash(), Current: r.Base(), Published: r.Base()}
			const warm = 70
			var rec *stepRecord
			prev := st.Published
			for step := range warm {
				prev = st.Published
				if rec, err = e.step(ctx, r, src, id, st, step, nil); err != nil {
					b.Fatal(err)
				}
			}
			var stateBytes, journalBytes int64
			cpu0 := cpuTime(b)
			for b.Loop() {
				if err := e.commit(ctx, j, r, src, st, warm, rec, prev); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			_ = filepath.WalkDir(j.dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				switch rel, _ := filepath.Rel(j.dir, path); {
				case rel == stateFile:
					stateBytes += info.Size()
				case filepath.Dir(rel) == journalDir:
					journalBytes += info.Size()
				}
				return nil
			})
			b.ReportMetric(float64(stateBytes), "state-B/op")
			b.ReportMetric(float64(journalBytes), "journal-B/op")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
