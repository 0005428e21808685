//go:build race

package harness

// raceEnabled: the race detector slows the sim tenfold, and
// TestSimPredictions trains three arms for 300 steps; it runs in make test,
// where its golden file is checked, and its concurrency is the harness's
// own, which the other tests cover under the detector.
const raceEnabled = true
