package harness

import "github.com/relix-lab/relix/harness/cluster"

// Progress hears about runs as they go. It is told, never asked, so a slow
// terminal cannot slow a run down; implementations are in harness/progress.
type Progress interface {
	// Start is called when a run begins; from is the number of steps
	// already complete (a resumed run), steps the total.
	Start(run cluster.Run, from, steps int)
	// Step is called after each committed step.
	Step(run cluster.Run, s StepReport)
	// Finish is called when a run ends; err is nil on success.
	Finish(run cluster.Run, err error)
	// Note is a line of news about the experiment as a whole.
	Note(msg string)
}

// StepReport is what a progress display shows about a run.
type StepReport struct {
	Step     int     // steps complete
	Steps    int     // total steps
	Accepted int64   // groups trained on so far
	Waste    float64 // 1 − used / generated rollouts so far
	Pass1    float64 // pass@1 of the latest evaluated checkpoint; NaN before the first
}

// quietProgress discards everything.
type quietProgress struct{}

func (quietProgress) Start(cluster.Run, int, int)  {}
func (quietProgress) Step(cluster.Run, StepReport) {}
func (quietProgress) Finish(cluster.Run, error)    {}
func (quietProgress) Note(string)                  {}
