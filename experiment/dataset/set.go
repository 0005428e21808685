// Package dataset holds relix's problem sets: the procedural math generator
// (Generate), loaders for JSONL and Parquet problem files (LoadJSONL,
// LoadParquet), the observable features estimators learn from, and plausible
// wrong answers for simulated completions (WrongAnswer). README.md documents
// the topics, the features, the split rule and the ID rule.
//
// It uses experiment/seed for random streams and eval's answer extractor for
// the boxed answers of dataset solutions, and no other relix package: the
// harness maps a spec onto GeneratorConfig and Columns.
package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Problem is one math problem with its reference answer.
type Problem struct {
	// ID is unique within its set and stable: a generated problem's ID is
	// ProblemID(Statement), the same in a set of any size or seed; a loaded
	// problem's is the file's id column, or ProblemID(Statement) without one.
	ID        string `json:"id"`
	Statement string `json:"statement"`
	// Answer is the reference answer in a form the grader reads: "42",
	// "-\frac{3}{4}", "2.5", "2\sqrt{3}", "(2, -1)".
	Answer   string   `json:"answer"`
	Topic    string   `json:"topic"` // a generator topic, the file's topic column, or ""
	Features Features `json:"features"`
	// Level is the generator's difficulty level (1..Levels) a generated
	// problem was drawn at, as datasets such as MATH label their problems;
	// 0 when unknown (a loaded problem).
	Level int `json:"level,omitempty"`
}

// ProblemID is the ID rule shared by generated problems and loaded problems
// without an id column: "p-" and the first 16 hex digits of the SHA-256 of
// the statement. The prefix keeps an all-digit hash from reading as a
// number in YAML or a spreadsheet.
func ProblemID(statement string) string {
	sum := sha256.Sum256([]byte(statement))
	return "p-" + hex.EncodeToString(sum[:8])
}

// Split is the side of the train/held-out divide a problem belongs to.
type Split string

// The splits.
const (
	Train   Split = "train"
	HeldOut Split = "heldout"
)

// Splits lists the splits.
func Splits() []Split { return []Split{Train, HeldOut} }

func (s Split) valid() bool { return s == Train || s == HeldOut }

// SplitOf is the split rule: it assigns every statement to exactly one split,
// whatever its seed or set, so generated train and held-out sets cannot share
// a statement. The key is the statement's numbers in order ("What is
// 47 + 38?" has the key "47 38"; a decimal point between digits belongs to
// its number); SHA-256 of the key decides, its first byte's low bit 0 for
// Train and 1 for HeldOut. Rephrasings of the same numbers ("Compute
// $47 - 38$.", "\frac{47}{38}") land in the same split, so the held-out set
// does not hold a reworded training problem either. A statement without
// digits is keyed by its words, lower-cased and single-spaced.
func SplitOf(statement string) Split {
	if splitBit(statement) == 0 {
		return Train
	}
	return HeldOut
}

const splitDomain = "relix/dataset/split/v1\x00"

func splitBit(s string) byte {
	var buf [256]byte
	b := append(buf[:0], splitDomain...)
	numbers := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		if numbers > 0 {
			b = append(b, ' ')
		}
		numbers++
		for i < len(s) && (isDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
			b = append(b, s[i])
			i++
		}
	}
	if numbers == 0 {
		b = append(b, strings.Join(strings.Fields(strings.ToLower(s)), " ")...)
	}
	sum := sha256.Sum256(b)
	return sum[0] & 1
}

// Set is an ordered problem set with an index by ID. Build one with NewSet
// (or Generate, LoadJSONL, LoadParquet); do not modify Problems afterwards.
type Set struct {
	Name     string
	Problems []Problem
	// Hash is the content hash for the manifest, "sha256:" and 64 hex
	// digits (see HashProblems).
	Hash string

	byID map[string]int
}

// NewSet indexes problems by ID and hashes them. Every problem needs an ID,
// unique in the set, a statement and an answer.
func NewSet(name string, problems []Problem) (*Set, error) {
	s := &Set{Name: name, Problems: problems, byID: make(map[string]int, len(problems))}
	for i, p := range problems {
		switch {
		case p.ID == "":
			return nil, fmt.Errorf("%s: problem %d has no id", name, i+1)
		case strings.TrimSpace(p.Statement) == "":
			return nil, fmt.Errorf("%s: problem %q has no statement", name, p.ID)
		case strings.TrimSpace(p.Answer) == "":
			return nil, fmt.Errorf("%s: problem %q has no answer", name, p.ID)
		}
		if j, dup := s.byID[p.ID]; dup {
			return nil, fmt.Errorf("%s: problems %d and %d share the id %q", name, j+1, i+1, p.ID)
		}
		s.byID[p.ID] = i
	}
	s.Hash = HashProblems(problems)
	return s, nil
}

// Len is the number of problems.
func (s *Set) Len() int { return len(s.Problems) }

// Lookup returns the problem with the given ID.
func (s *Set) Lookup(id string) (Problem, bool) {
	i, ok := s.byID[id]
	if !ok {
		return Problem{}, false
	}
	return s.Problems[i], true
}

// Contains reports whether the set has a problem with the given ID.
func (s *Set) Contains(id string) bool {
	_, ok := s.byID[id]
	return ok
}

// First returns a set of the first n problems (all of them when n is 0 or
// at least Len), with its own hash. A generated set's first n problems are
// exactly the set Generate makes with Size n.
func (s *Set) First(n int) *Set {
	if n <= 0 || n >= len(s.Problems) {
		return s
	}
	t, err := NewSet(s.Name, s.Problems[:n:n])
	if err != nil {
		panic(err) // a prefix of a valid set is valid
	}
	return t
}

// Overlap returns the IDs of the problems of a whose statement (spaces
// normalized) also occurs in b, in a's order. A harness checks loaded train
// and held-out files with it; generated sets never overlap.
func Overlap(a, b *Set) []string {
	in := make(map[string]bool, len(b.Problems))
	for _, p := range b.Problems {
		in[strings.Join(strings.Fields(p.Statement), " ")] = true
	}
	var ids []string
	for _, p := range a.Problems {
		if in[strings.Join(strings.Fields(p.Statement), " ")] {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// HashProblems is the content hash of a problem list: SHA-256 over
// "relix/dataset/v1\n" followed by, for each problem in order, its ID,
// statement, answer and topic, each as a uvarint byte length and the bytes.
// Features are derived from these and are not hashed; neither is the set's
// name. The same problems loaded from JSONL or Parquet hash the same.
func HashProblems(problems []Problem) string {
	h := sha256.New()
	h.Write([]byte("relix/dataset/v1\n"))
	var n [binary.MaxVarintLen64]byte
	for _, p := range problems {
		for _, f := range [...]string{p.ID, p.Statement, p.Answer, p.Topic} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
			io.WriteString(h, f)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
