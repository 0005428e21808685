package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// benchCase is a completion with the reference answer it is graded against.
type benchCase struct{ completion, reference string }

// realisticCompletions builds n math completions of 2 to 8 KB: reasoning
// prose with inline LaTeX, ending in a boxed answer that is right (as the
// reference, or in another notation) or wrong, or missing because the
// completion ran into the token cap.
func realisticCompletions(n int, seed uint64) []benchCase {
	rng := rand.New(rand.NewPCG(seed, 1))
	sentences := []string{
		"Let $x$ be the number of apples, so that $3x + 7 = 25$ and therefore $x = 6$. ",
		"We expand $(a+b)^2 = a^2 + 2ab + b^2$ and substitute $a = \\frac{1}{2}$, $b = \\sqrt{3}$. ",
		"By the Pythagorean theorem, $c = \\sqrt{a^2 + b^2} = \\sqrt{9 + 16} = 5$. ",
		"The sum of the series is $\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$, which for $n = 20$ gives $210$. ",
		"Wait, let me double-check the arithmetic: $12 \\times 17 = 204$, not $214$. ",
		"Since $\\gcd(12, 18) = 6$, the fraction reduces to $\\dfrac{2}{3}$. ",
		"Consider the interval $[0, 1)$ and the set $\\{x : x^2 < \\tfrac{1}{4}\\}$. ",
		"Hmm, that does not look right. Let's reconsider the boundary case where $x \\to \\infty$. ",
		"So the probability is $\\binom{5}{2} \\left(\\frac{1}{2}\\right)^5 = \\frac{10}{32} = \\frac{5}{16}$. ",
		"\n\nStep 3: Solve the quadratic $x^2 - 5x + 6 = 0$, whose roots are $x = 2$ and $x = 3$.\n\n",
	}
	type answer struct{ boxed, reference string }
	right := []answer{
		{"42", "42"}, {`\frac{5}{16}`, `\frac{5}{16}`}, {"210", "210"}, {`2\sqrt{3}`, `2\sqrt{3}`},
		{`\dfrac{2}{3}`, `\frac{2}{3}`}, {"0.5", `\frac{1}{2}`}, {"1,000", "1000"}, {`(2, 3)`, `(2,3)`},
	}
	cases := make([]benchCase, n)
	for i := range cases {
		size := 2048 + rng.IntN(6*1024)
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(sentences[rng.IntN(len(sentences))])
		}
		a := right[rng.IntN(len(right))]
		switch r := rng.IntN(10); {
		case r < 5: // right
			fmt.Fprintf(&b, "\n\nTherefore, the final answer is $\\boxed{%s}$.", a.boxed)
		case r < 8: // wrong
			fmt.Fprintf(&b, "\n\nTherefore, the final answer is $\\boxed{%d}$.", 40+rng.IntN(5))
		default: // truncated before the answer
		}
		cases[i] = benchCase{completion: b.String(), reference: a.reference}
	}
	return cases
}

func BenchmarkGrade(b *testing.B) {
	cases := realisticCompletions(256, 1)
	total := 0
	for _, c := range cases {
		total += len(c.completion)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for _, c := range cases {
			Grade(c.completion, c.reference, GradeOptions{})
		}
	}
	b.ReportMetric(float64(b.N*len(cases))/time.Since(start).Seconds(), "completions/s")
}

func BenchmarkExtractAnswer(b *testing.B) {
	cases := realisticCompletions(256, 2)
	total := 0
	for _, c := range cases {
		total += len(c.completion)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for range b.N {
		for _, c := range cases {
			ExtractAnswer(c.completion, GradeOptions{})
		}
	}
}

func BenchmarkEquivalent(b *testing.B) {
	for _, pair := range []struct{ name, got, want string }{
		{"identical", `\frac{5}{16}`, `\frac{5}{16}`},
		{"integers", "41", "42"},
		{"fraction vs decimal", `\dfrac{1}{2}`, "0.5"},
		{"radicals", `\frac{\sqrt{3}}{2}`, `\frac{1}{2}\sqrt{3}`},
		{"interval", `\left[0, \frac{1}{2}\right)`, "[0, 0.5)"},
		{"set", `\{3, 1, 2\}`, `\{1,2,3\}`},
		{"polynomial identity", `2x^2+4x+2`, `2(x+1)^2`},
		{"trigonometric identity", `\sec^2 y`, `\tan^2 y + 1`},
		{"rational functions, not equal", `\frac{1}{x}+\frac{1}{y}`, `\frac{1}{x+y}`},
		{"equations", `y=-\frac12x+\frac34`, `2x+4y-3=0`},
		{"inequality vs interval", `(-793,10)`, `-793 < a < 10`},
		{"plus-minus", `1\pm\sqrt{2}`, `1+\sqrt2, 1-\sqrt2`},
	} {
		b.Run(pair.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				Equivalent(pair.got, pair.want)
			}
		})
	}
}

// gradeFile is a relix grade input of n realistic completions (mean about
// 5 KB), one JSONL line each, as a model-evaluation run writes them.
func gradeFile(n int) []byte {
	var buf bytes.Buffer
	for i, c := range realisticCompletions(n, 2) {
		line, _ := json.Marshal(map[string]any{"id": i, "completion": c.completion, "answer": c.reference})
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkGradeJSONL is relix grade's whole work on a file: read every
// line, grade it, write its verdict.
func BenchmarkGradeJSONL(b *testing.B) {
	data := gradeFile(4000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := GradeJSONL(bytes.NewReader(data), "bench.jsonl", io.Discard, GradeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
