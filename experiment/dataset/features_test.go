package dataset

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestFeatureNames(t *testing.T) {
	t.Parallel()
	names := FeatureNames()
	if len(names) != NumFeatures || len(Features{}.Vector()) != NumFeatures {
		t.Fatalf("%d names, NumFeatures %d, Vector length %d", len(names), NumFeatures, len(Features{}.Vector()))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("feature name %q twice", n)
		}
		seen[n] = true
	}
	// The scalar features' names are their JSON keys too.
	b, err := json.Marshal(Features{})
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, n := range names[:12] {
		if _, ok := keys[n]; !ok {
			t.Errorf("feature %q is not a JSON key of Features", n)
		}
	}
}

func TestVector(t *testing.T) {
	t.Parallel()
	f := Features{Chars: 1, Words: 2, Numbers: 3, MaxDigits: 4, TotalDigits: 5, Operators: 6, Unknowns: 7,
		Operations: 8, Steps: 9, AnswerKind: AnswerRadical, AnswerDigits: 10, AnswerMagnitude: 1.5, AnswerNegative: true}
	want := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1.5, 1, 0, 0, 0, 1, 0, 0}
	if got := f.Vector(); !slices.Equal(got, want) {
		t.Fatalf("Vector() = %v\nwant       %v", got, want)
	}
}

func TestTextFeatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		statement, answer string
		want              Features
	}{
		{
			"What is $47 + 38$?", "85",
			Features{Chars: 18, Words: 5, Numbers: 2, MaxDigits: 2, TotalDigits: 4, Operators: 1,
				Operations: 1, Steps: 1, AnswerKind: AnswerInteger, AnswerDigits: 2, AnswerMagnitude: 1.934498},
		},
		{
			"Solve $2x + 3y = 7$ and $x - y = 1.25$ for x and y.", "(2, -1)",
			Features{Chars: 51, Words: 16, Numbers: 4, MaxDigits: 3, TotalDigits: 6, Operators: 4, Unknowns: 2,
				Operations: 4, Steps: 4, AnswerKind: AnswerTuple, AnswerDigits: 2, AnswerMagnitude: 0.477121, AnswerNegative: true},
		},
		{
			// Command names are not words; "six-sided" has no minus; "remainder" is an operator word.
			`A six-sided die: find the remainder of $\frac{3}{4} \times 12$.`, `-\frac{3}{4}`,
			Features{Chars: 63, Words: 10, Numbers: 3, MaxDigits: 2, TotalDigits: 4, Operators: 3,
				Operations: 3, Steps: 3, AnswerKind: AnswerFraction, AnswerDigits: 2, AnswerMagnitude: 0.243038, AnswerNegative: true},
		},
		{
			"Name the largest planet.", "Jupiter",
			Features{Chars: 24, Words: 4, Steps: 1, AnswerKind: AnswerOther},
		},
	}
	for _, tt := range tests {
		t.Run(tt.statement, func(t *testing.T) {
			t.Parallel()
			if got := TextFeatures(tt.statement, tt.answer); got != tt.want {
				t.Fatalf("TextFeatures()\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCountUnknowns(t *testing.T) {
	t.Parallel()
	tests := map[string]int{
		"2x + 3 = 7":                  1,
		"$3x - y = 2$, $x + z = 1$":   3,
		`\max(x, 2)`:                  1,
		"the next box of six":         0,
		`\frac{x}{2} \times y = 3`:    2,
		"Solve for $x$ in terms of y": 2,
	}
	for s, want := range tests {
		if got := countUnknowns(s); got != want {
			t.Errorf("countUnknowns(%q) = %d, want %d", s, got, want)
		}
	}
}
