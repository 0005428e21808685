package runtable

import (
	"math"
	"testing"

	"github.com/relix-lab/relix/results"
)

// The generated table is spliced into a file that also holds hand-written
// prose; a regeneration must keep the prose and replace only the table.
func TestSpliceKeepsTheProse(t *testing.T) {
	t.Parallel()
	const begin, end = "<!-- t:begin -->", "<!-- t:end -->"
	// A section of another length than the old one: the prose after the
	// end marker shares the document's memory, and must survive the copy.
	for _, section := range []string{"new\n", "old one, longer\n", "a much longer new section\nof two lines\n", "\n"} {
		doc := "# T\n\nprose\n" + begin + "\nold one\n" + end + "\nmore prose\nand more\n"
		got, err := Splice([]byte(doc), begin, end, section)
		if err != nil {
			t.Fatal(err)
		}
		want := "# T\n\nprose\n" + begin + "\n" + section + end + "\nmore prose\nand more\n"
		if string(got) != want {
			t.Errorf("section %q: got %q, want %q", section, got, want)
		}
	}
	if got, _ := Splice(nil, begin, end, "t\n"); string(got) != begin+"\nt\n"+end+"\n" {
		t.Errorf("a new file: got %q", got)
	}
	if _, err := Splice([]byte(begin+"\nunterminated"), begin, end, "t\n"); err == nil {
		t.Error("a begin marker without an end was accepted")
	}
}

// Checkpoint s's in-zone fraction is on the row of step s+1 (the rollouts
// it generated), the last checkpoint's on the final row, and over several
// seeds it is their mean: a table must not show one seed's value as the
// run's.
func TestInZoneReadsTheGeneratingStepAndAveragesSeeds(t *testing.T) {
	t.Parallel()
	r := &Run{FinalStep: 3, Steps: []results.Step{
		{Arm: "a", Seed: 1, Step: 1, InZoneFraction: 0.2},
		{Arm: "a", Seed: 2, Step: 1, InZoneFraction: 0.4},
		{Arm: "a", Seed: 1, Step: 2, InZoneFraction: 0.9},
		{Arm: "a", Seed: 1, Step: 3, InZoneFraction: 0.1},
		{Arm: "b", Seed: 1, Step: 1, InZoneFraction: 1},
	}}
	got := r.InZone("a", []int32{0, 1, 3, 7})
	want := []float64{0.3, 0.9, 0.1, 0.1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("checkpoint %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if z := r.InZone("c", []int32{0}); !math.IsNaN(z[0]) {
		t.Errorf("an arm without rows: got %v, want NaN", z[0])
	}
}
