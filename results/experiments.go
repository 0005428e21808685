package results

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// EXPERIMENTS.md holds prose written by people and sections generated from
// results, each between a pair of marker comments on lines of their own:
//
//	<!-- relix:begin paired/reference -->
//	(generated: replaced on every `relix report --experiments`)
//	<!-- relix:end paired/reference -->
//
// The name is <experiment>/<kind>: the experiment's name (its manifest's,
// or its results directory's) and one of the table kinds (reference,
// paired, waste, sweep, sweep-carried, sweep-detail) or "plots" (image links). Everything
// outside the markers is left byte for byte as it was. Sections of an
// experiment whose results directory was not given are left as they are.
var markerRE = regexp.MustCompile(`^\s*<!--\s*relix:(begin|end)\s+(\S+)\s*-->\s*$`)

// SectionKinds are the kinds a marked section may name.
var SectionKinds = []string{KindReference, KindPaired, KindWaste, KindSweep, KindSweepCarried, KindSweepDetail, KindPlots}

// Section returns the generated Markdown of one section kind. docDir is the
// directory of the Markdown file, which plot links are relative to.
func (rd *Rendered) Section(kind, docDir string) (string, error) {
	if kind == KindPlots {
		if len(rd.Figures) == 0 {
			return "", fmt.Errorf("the run has no plots")
		}
		rel, err := relativePath(docDir, rd.Run.Dir)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for i, f := range rd.Figures {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "![%s](%s)\n", f.Title, filepath.ToSlash(filepath.Join(rel, PlotsDir, f.Name+".png")))
		}
		return b.String(), nil
	}
	if !slices.Contains(SectionKinds, kind) {
		return "", fmt.Errorf("unknown section kind %q (want one of %s)", kind, strings.Join(SectionKinds, ", "))
	}
	i := slices.IndexFunc(rd.Tables, func(t Table) bool { return t.Kind == kind })
	if i < 0 {
		return "", fmt.Errorf("the run has no %s table", kind)
	}
	md, err := rd.Tables[i].Markdown()
	if err != nil {
		return "", err
	}
	return "_" + rd.Tables[i].Note + "_\n\n" + md, nil
}

// RewriteSections returns doc with the body of every marked section of the
// given runs regenerated, and the number of sections regenerated. Markers
// must pair up (same name, no nesting); a section naming a given experiment
// with an unknown kind, or a table that run does not have, is an error.
func RewriteSections(doc []byte, docDir string, runs []*Rendered) ([]byte, int, error) {
	byName := map[string]*Rendered{}
	for _, rd := range runs {
		if other, dup := byName[rd.Run.Name]; dup {
			return nil, 0, fmt.Errorf("two results directories for experiment %s: %s and %s", rd.Run.Name, other.Run.Dir, rd.Run.Dir)
		}
		byName[rd.Run.Name] = rd
	}
	lines := strings.SplitAfter(string(doc), "\n")
	var out strings.Builder
	open, openLine := "", 0
	n := 0
	for i, line := range lines {
		m := markerRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if m == nil {
			if open == "" || byName[experimentOf(open)] == nil {
				out.WriteString(line)
			}
			continue
		}
		verb, name := m[1], m[2]
		switch {
		case verb == "begin" && open != "":
			return nil, 0, fmt.Errorf("line %d: section %s begins inside section %s (line %d); close it first", i+1, name, open, openLine)
		case verb == "begin":
			exp, kind, ok := strings.Cut(name, "/")
			if !ok || exp == "" || kind == "" {
				return nil, 0, fmt.Errorf("line %d: section name %q: want <experiment>/<kind>", i+1, name)
			}
			open, openLine = name, i+1
			out.WriteString(line)
			rd := byName[exp]
			if rd == nil {
				continue
			}
			body, err := rd.Section(kind, docDir)
			if err != nil {
				return nil, 0, fmt.Errorf("line %d: section %s: %w", i+1, name, err)
			}
			out.WriteString("\n" + body + "\n")
			n++
		case open == "":
			return nil, 0, fmt.Errorf("line %d: section %s ends but was never begun", i+1, name)
		case name != open:
			return nil, 0, fmt.Errorf("line %d: section %s ends, but the open section is %s (line %d)", i+1, name, open, openLine)
		default:
			out.WriteString(line)
			open = ""
		}
	}
	if open != "" {
		return nil, 0, fmt.Errorf("line %d: section %s is never ended (want <!-- relix:end %s -->)", openLine, open, open)
	}
	return []byte(out.String()), n, nil
}

// relativePath is target relative to base, whether each is given absolute
// or relative to the working directory, so links do not depend on how the
// directories were named on the command line.
func relativePath(base, target string) (string, error) {
	absBase, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	return filepath.Rel(absBase, absTarget)
}

func experimentOf(section string) string {
	exp, _, _ := strings.Cut(section, "/")
	return exp
}

// UnifiedDiff returns a unified diff (3 lines of context) from a to b, or
// "" when they are equal.
func UnifiedDiff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	const context = 3
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--- %s\n+++ %s\n", aName, bName)
	// Group the edit script into hunks separated by more than 2×context
	// unchanged lines.
	for start := 0; start < len(ops); {
		for start < len(ops) && ops[start].kind == ' ' {
			start++
		}
		if start == len(ops) {
			break
		}
		lo := max(0, start-context)
		end := start
		for i := start; i < len(ops); i++ {
			if ops[i].kind != ' ' {
				end = i
				continue
			}
			if i-end > 2*context {
				break
			}
		}
		hi := min(len(ops), end+context+1)
		var aStart, aCount, bStart, bCount int
		aStart, bStart = ops[lo].a+1, ops[lo].b+1
		for _, op := range ops[lo:hi] {
			if op.kind != '+' {
				aCount++
			}
			if op.kind != '-' {
				bCount++
			}
		}
		if aCount == 0 {
			aStart--
		}
		if bCount == 0 {
			bStart--
		}
		fmt.Fprintf(&buf, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
		for _, op := range ops[lo:hi] {
			text := op.text
			if !strings.HasSuffix(text, "\n") {
				text += "\n\\ No newline at end of file\n"
			}
			buf.WriteByte(op.kind)
			buf.WriteString(text)
		}
		start = hi
	}
	return buf.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type diffOp struct {
	kind byte // ' ', '-', '+'
	text string
	a, b int // line index in a and b where the op applies
}

// diffLines is the classic longest-common-subsequence edit script: fine
// for documents of a few thousand lines.
func diffLines(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
