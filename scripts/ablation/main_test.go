package main

import "testing"

// The generated table is spliced into a file that also holds hand-written
// prose; a regeneration must keep the prose and replace only the table.
func TestSpliceKeepsTheProse(t *testing.T) {
	t.Parallel()
	doc := "# Ablation\n\nprose\n" + beginMarker + "\nold\n" + endMarker + "\nmore prose\n"
	got, err := splice([]byte(doc), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Ablation\n\nprose\n" + beginMarker + "\nnew\n" + endMarker + "\nmore prose\n"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, _ := splice(nil, "t\n"); string(got) != beginMarker+"\nt\n"+endMarker+"\n" {
		t.Errorf("a new file: got %q", got)
	}
	if _, err := splice([]byte(beginMarker+"\nunterminated"), "t\n"); err == nil {
		t.Error("a begin marker without an end was accepted")
	}
}
