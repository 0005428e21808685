package main

import (
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
	"github.com/relix-lab/relix/runners/worker"
)

// backends are the runner kinds relix serves, by the spec's runner.kind: the
// one place a backend is wired in. The library takes this list from its
// caller, so a new backend is its package and one line here.
var backends = runners.Backends{
	sim.Kind:    sim.Backend, // the embedded policy simulator, the default
	worker.Kind: worker.New,  // an out-of-process worker speaking PROTOCOL.md
}
