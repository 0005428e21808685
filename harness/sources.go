package harness

import (
	"fmt"

	"github.com/relix-lab/relix/harness/market"
	"github.com/relix-lab/relix/harness/source"
	"github.com/relix-lab/relix/harness/uniform"
)

// newSource makes the rollout source of cfg.Arm. The dispatch lives here,
// where a run's sources are built, rather than in package source: the
// sources import the contract, so the contract cannot import them.
func newSource(cfg source.Config) (source.Source, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	switch cfg.Arm.Source {
	case "uniform":
		return uniform.New(cfg)
	case "market":
		return market.New(cfg)
	}
	return nil, fmt.Errorf("source: arm %q has source %q; want uniform or market", cfg.Arm.Name, cfg.Arm.Source)
}
