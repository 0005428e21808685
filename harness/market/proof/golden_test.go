package proof

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the current code")

// goldenCase is one completion's proof: the challenged positions, the
// honest miner's commitments there, and the verdict of every variant.
type goldenCase struct {
	Source    string            `json:"source"`
	Tokens    int               `json:"tokens"`
	Window    int               `json:"window"`
	Positions []int             `json:"positions"`
	Honest    []Commitment      `json:"honest"`
	Stale     []Commitment      `json:"stale"`
	Verdicts  map[string]Result `json:"verdicts"`
}

// goldenSource is a hidden-state function with two checkpoints: the
// published one and an older one a stale miner generated with.
type goldenSource struct {
	name                string
	published, older    string
	hidden, olderHidden HiddenFunc
}

func goldenSources(t *testing.T) []goldenSource {
	pub, err := sim.New(spec.DefaultSimPolicy(), runners.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := spec.DefaultSimPolicy()
	p.Ability += 0.01 // another policy: another checkpoint with other hidden states
	old, err := sim.New(p, runners.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := model(64)
	return []goldenSource{
		{"model", "published", "older", m, m},
		{"sim", pub.Base(), old.Base(), pub.Hidden, old.Hidden},
	}
}

// TestGolden checks commitments and verdicts, honest, stale and forged,
// against testdata/golden.json, written before the proofs were optimised:
// a faster proof must give bit-identical commitments and verdicts.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	lengths := []int{1, 2, 5, 31, 32, 33, 64, 100, 777, 4096, 8191, 8192}
	for range 4 {
		lengths = append(lengths, 1+r.IntN(8192))
	}
	var got []goldenCase
	for _, src := range goldenSources(t) {
		for i, n := range lengths {
			w := randomness(1000 + i)
			tok := tokens(r, n)
			c := goldenCase{Source: src.name, Tokens: n, Window: 1000 + i, Verdicts: map[string]Result{}}
			c.Positions = ChallengePositions(tok, w, Challenges)
			honest := NewProver(src.hidden, src.published, tok, w)
			stale := NewProver(src.olderHidden, src.older, tok, w)
			var err error
			if c.Honest, err = honest.Open(ctx, c.Positions); err != nil {
				t.Fatal(err)
			}
			if c.Stale, err = stale.Open(ctx, c.Positions); err != nil {
				t.Fatal(err)
			}
			edited := slices.Clone(tok)
			k := r.IntN(max(1, 3*n/4))
			edited[k] = (edited[k] + 1) % 151936
			spliced := slices.Clone(tok)
			for j := r.IntN(max(1, n/4)); j < n; j++ {
				spliced[j] = tok[(j+1)%n]
			}
			drift := func(ctx context.Context, ck string, tok []uint32, pos []int) ([][]float32, error) {
				hs, err := src.hidden(ctx, ck, tok, pos)
				for _, v := range hs {
					for k := range v {
						v[k] *= 1 + 1e-5
					}
				}
				return hs, err
			}
			outOfRange := make(forged, Challenges)
			for i := range outOfRange {
				for k := range outOfRange[i].Indices {
					outOfRange[i].Indices[k] = uint32(64 + k)
				}
			}
			for name, v := range map[string]struct {
				h      HiddenFunc
				tokens []uint32
				o      Opener
			}{
				"honest":          {src.hidden, tok, honest},
				"stale":           {src.hidden, tok, stale},
				"edited":          {src.hidden, edited, honest},
				"spliced":         {src.hidden, spliced, honest},
				"drift":           {drift, tok, honest},
				"too few":         {src.hidden, tok, forged(make([]Commitment, 3))},
				"repeated index":  {src.hidden, tok, forged(make([]Commitment, len(c.Positions)))},
				"out of range":    {src.hidden, tok, outOfRange[:len(c.Positions)]},
				"empty":           {src.hidden, nil, honest},
				"honest, base 40": {src.hidden, tok, honest},
			} {
				base := 8.0
				if name == "honest, base 40" {
					base = 40
				}
				res, err := Verify(ctx, v.h, src.published, v.tokens, v.o, w, base)
				if err != nil {
					t.Fatal(err)
				}
				c.Verdicts[name] = res
			}
			got = append(got, c)
		}
	}
	// One case a line: a diff names the cases that changed.
	var data []byte
	for _, c := range got {
		line, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		data = append(append(data, line...), '\n')
	}
	path := filepath.Join("testdata", "golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if bytes.Equal(data, want) {
		return
	}
	gotLines, wantLines := bytes.Split(data, []byte("\n")), bytes.Split(want, []byte("\n"))
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d golden cases, want %d (%s)", len(gotLines)-1, len(wantLines)-1, path)
	}
	for i := range gotLines {
		if !bytes.Equal(gotLines[i], wantLines[i]) {
			t.Errorf("case %d (%s, %d tokens) differs from %s:\n got %s\nwant %s", i, got[i].Source, got[i].Tokens, path, gotLines[i], wantLines[i])
		}
	}
}
