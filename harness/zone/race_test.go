//go:build race

package zone

// raceEnabled: the race detector slows the sweep about tenfold, so the
// statistical tests, which need many windows and touch no more concurrency
// than TestDeterministicWhateverJobsAndGOMAXPROCS does, are skipped under it.
const raceEnabled = true
