package sourcetest

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/relix-lab/relix/harness/source"
)

// The statistical tests run on the fake runner at a fixed checkpoint with
// cooldown 0, so the pool, and its in-zone fraction f, is the same at every
// step: every selector is compared on the same ground. Each proportion is a
// count of groups, and its standard error the binomial one; a test fails
// beyond 3 standard errors (the seeds are fixed, so a test is either always
// within or never).

// Rate is a hit rate over groups.
type Rate struct{ in, n int }

// Add counts a step's groups.
func (r *Rate) Add(a source.Account) { r.in += a.InZoneGroups; r.n += a.GeneratedGroups }

// P is the hit rate.
func (r Rate) P() float64 { return float64(r.in) / float64(r.n) }

// SE is its binomial standard error.
func (r Rate) SE() float64 { return math.Sqrt(r.P() * (1 - r.P()) / float64(r.n)) }

func (r Rate) String() string {
	return fmt.Sprintf("%.4f ± %.4f (95%% CI, %d groups)", r.P(), 1.96*r.SE(), r.n)
}

// Run runs steps windows (or steps) of a source at ck-0 and returns the
// account of each.
func Run(t *testing.T, src source.Source, steps int) []source.Account {
	t.Helper()
	out := make([]source.Account, steps)
	for step := range steps {
		b, err := src.Next(context.Background(), step, "ck-0", "ck-0")
		if err != nil {
			t.Fatal(err)
		}
		out[step] = b.Account
	}
	return out
}

// Total is the hit rate over the accounts.
func Total(as []source.Account) Rate {
	var r Rate
	for _, a := range as {
		r.Add(a)
	}
	return r
}

// Within fails the test when a and b differ by more than 3 standard errors.
func Within(t *testing.T, what string, a, b, se float64) {
	t.Helper()
	if math.Abs(a-b) > 3*se {
		t.Errorf("%s: %.4f vs %.4f differ by %.1f standard errors", what, a, b, math.Abs(a-b)/se)
	}
}
