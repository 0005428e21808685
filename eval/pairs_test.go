package eval

import (
	"os"
	"strings"
	"testing"
)

// TestAnswerPairs holds the grader to testdata/answer-pairs.tsv: pairs by
// category in the answer styles of MATH, GSM8K, OpenMathInstruct-2 and
// NuminaMath, each with its verdict. Every pair must get its verdict; the
// log gives each category's count.
func TestAnswerPairs(t *testing.T) {
	data, err := os.ReadFile("testdata/answer-pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	category := ""
	counts := map[string][2]int{} // right, all
	var order []string
	for n, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "# ") && !strings.Contains(line, "\t"):
			if name := strings.TrimPrefix(line, "# "); !strings.Contains(name, " ") {
				category = name
				order = append(order, category)
			}
			continue
		case line == "":
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || (f[2] != "0" && f[2] != "1") || category == "" {
			t.Fatalf("answer-pairs.tsv:%d: want answer<TAB>reference<TAB>0|1 under a category", n+1)
		}
		err := EquivalentReason(f[0], f[1])
		c := counts[category]
		c[1]++
		if (err == nil) == (f[2] == "1") {
			c[0]++
		} else {
			t.Errorf("answer-pairs.tsv:%d (%s): Equivalent(%q, %q) = %v, want %s", n+1, category, f[0], f[1], err == nil, f[2])
		}
		counts[category] = c
	}
	for _, name := range order {
		t.Logf("%-16s %d/%d", name, counts[name][0], counts[name][1])
	}
}

// TestSeveralBoxes grades completions that box each part of an answer
// apart: the boxes make one list when the reference has several parts, and
// only then.
func TestSeveralBoxes(t *testing.T) {
	for _, c := range []struct {
		completion, reference string
		correct               bool
	}{
		{`The solutions are \boxed{(2,2)} \text{ and } \boxed{(6,2)}.`, "(2,2), (6,2)", true},
		{`So $\boxed{1},\boxed{2},\boxed{3}$.`, "1, 2, 3", true},
		{`So $\boxed{1},\boxed{2},\boxed{3}$.`, `\{3, 2, 1\}`, true},
		{`First \boxed{1} then \boxed{3}.`, "1, 2", false},
		{`Try \boxed{2}; no, the answer is \boxed{3}.`, "3", true},
		{`Try \boxed{2}; no, the answer is \boxed{3}.`, "2", false},
		{`\boxed{5} and \boxed{-5}`, `\pm 5`, true},
	} {
		if v := Grade(c.completion, c.reference, GradeOptions{}); v.Correct != c.correct {
			t.Errorf("Grade(%q, %q) = %v (%s, %q), want %v", c.completion, c.reference, v.Correct, v.Reason, v.Extracted, c.correct)
		}
	}
}
