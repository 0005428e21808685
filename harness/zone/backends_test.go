package zone

import (
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

// simOnly is what these tests serve: the embedded sim.
var simOnly = runners.Backends{sim.Kind: sim.Backend}
