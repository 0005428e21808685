package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/relix-lab/relix/harness/cluster"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/results"
)

// Merge concatenates the shards of every run of s under out, in plan order,
// into the results directory's tables, computes the summary and writes the
// manifest. The merged files depend only on the shards, so a local run and a
// Slurm run of the same spec give the same bytes. m carries what only the
// caller knows (build, datasets, start time); Merge fills in the rest, the
// end time from clock.
func Merge(ctx context.Context, s *spec.Spec, out string, m *results.Manifest, clock func() time.Time) error {
	if clock == nil {
		return errors.New("harness: Merge has no clock")
	}
	runs, err := Plan(s, nil, nil)
	if err != nil {
		return err
	}
	for _, id := range runs {
		st, err := journal{id.Dir(out)}.readState()
		if err != nil {
			return err
		}
		if st == nil || !st.Done {
			return fmt.Errorf("run %s is not finished; run it before merging", id)
		}
	}
	opts := results.Options{SpecHash: s.Hash()}
	layout := results.Layout{Dir: out}
	if err := concat[results.Rollout](ctx, runs, out, results.RolloutsFile, layout.Rollouts(), opts, nil); err != nil {
		return err
	}
	var steps []results.Step
	if err := concat(ctx, runs, out, results.StepsFile, layout.Steps(), opts, func(r results.Step) { steps = append(steps, r) }); err != nil {
		return err
	}
	var evals []results.Eval
	// The summary needs no text: every run's evaluations are held at once.
	if err := concat(ctx, runs, out, results.EvalFile, layout.Eval(), opts, func(r results.Eval) {
		r.Text = ""
		evals = append(evals, r)
	}); err != nil {
		return err
	}
	// The problems table is the first run's (problemsRun), copied as it is.
	if err := concat[results.Problem](ctx, runs[:1], out, results.ProblemsFile, layout.Problems(), opts, nil); err != nil {
		return err
	}
	summary, err := summarize(s, evals, steps)
	if err != nil {
		return err
	}
	if err := results.WriteFile(layout.Summary(), summary, opts); err != nil {
		return err
	}

	m.Experiment = s.Name
	m.SpecHash = s.Hash()
	m.Spec = string(s.YAML())
	m.GoVersion = runtime.Version()
	m.Seeds = s.Seeds
	m.Arms = nil
	for _, a := range s.Arms {
		m.Arms = append(m.Arms, a.Name)
	}
	m.End = clock()
	if m.Start.IsZero() {
		m.Start = m.End
	}
	if err := m.ListFiles(out); err != nil {
		return err
	}
	return results.WriteManifest(out, m)
}

// concat streams one table's shards into a single file, calling each (when
// not nil) with every row.
func concat[R results.Row](ctx context.Context, runs []cluster.Run, out, name, dst string, opts results.Options, each func(R)) error {
	w, err := results.Create[R](dst, opts)
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, id := range runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		shard := filepath.Join(id.Dir(out), name)
		_, err := results.Scan(shard, results.ReadOptions{}, func(r R) error {
			if each != nil {
				each(r)
			}
			return w.Write(r)
		})
		if err != nil {
			return fmt.Errorf("merging %s: %w", shard, err)
		}
	}
	return w.Commit()
}
