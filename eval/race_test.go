//go:build race

package eval

// raceEnabled: the race detector slows code several times, so timing
// checks are skipped under it.
const raceEnabled = true
