package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/relix-lab/relix/runners"
)

// BenchmarkProtocolOverhead is what the protocol costs per completion: a
// worker that answers generate at once with fixed completions, so the time
// is relix's encoding, the pipe both ways, the worker's writing and relix's
// decoding and checks. "short" completions are a sim-sized answer; "4096
// tokens" carry ids and log-probabilities as a GPU worker's do when a proof
// needs them. The cost of a GPU step's generation is this figure times the
// completions it makes.
func BenchmarkProtocolOverhead(b *testing.B) {
	for _, bc := range []struct {
		name       string
		prompts, n int
		tokens     int
	}{
		{"group-1x8/short", 1, 8, 0},
		{"eval-64x8/short", 64, 8, 0},
		{"group-1x8/4096-tokens", 1, 8, 4096},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := fakeConfig(b, "instant")
			cfg.Env["RELIX_FAKE_TOKENS"] = fmt.Sprint(bc.tokens)
			r, _ := startFake(b, cfg)
			ps := prompts(b, bc.prompts)
			s := runners.Sampling{Temperature: 1, TopP: 1, MaxTokens: 8192, Tokens: bc.tokens > 0}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				s.Seed = uint64(i)
				if _, err := r.Generate(ctx, r.Base(), ps, bc.n, s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*bc.prompts*bc.n), "ns/completion")
		})
	}
}

// BenchmarkHiddenRoundTrip is one proof's hidden request through the sim
// worker (Serve over real pipes): the ids of the longest completion of a
// group generated with an 8,192-token cap, 32 positions, 32 vectors of 64
// back. "json" is an older worker's way (no features), "binary" sends the
// ids and the vectors in the attachment, "handle" names ids the worker
// generated instead of sending them.
func BenchmarkHiddenRoundTrip(b *testing.B) {
	for _, lane := range []struct{ name, features string }{
		{"json", "none"}, {"binary", FeatureBinary}, {"handle", FeatureBinary + "," + FeatureHandles},
	} {
		b.Run(lane.name, func(b *testing.B) {
			cfg := fakeConfig(b, "sim")
			cfg.Env["RELIX_FAKE_FEATURES"] = lane.features
			cfg.Env["RELIX_FAKE_CONCURRENCY"] = "1" // as relix worker serves
			r, _ := startFake(b, cfg)
			tokens, base := longCompletion8192(b, r)
			positions := make([]int, len(base))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j, p := range base { // new positions each time
					positions[j] = (p + i) % len(tokens)
				}
				if _, err := r.Hidden(ctx, r.Base(), tokens, positions); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(tokens)), "tokens")
		})
	}
}

// longCompletion8192 generates a group at an 8,192-token cap and returns
// the ids of its longest completion and 32 positions spread over them.
func longCompletion8192(b *testing.B, r runners.Runner) ([]uint32, []int) {
	b.Helper()
	s := runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192, Seed: 3, Tokens: true}
	comps, err := r.Generate(ctx, r.Base(), prompts(b, 4), 8, s)
	if err != nil {
		b.Fatal(err)
	}
	var tokens []uint32
	for _, cs := range comps {
		for _, c := range cs {
			if len(c.Tokens) > len(tokens) {
				tokens = c.Tokens
			}
		}
	}
	positions := make([]int, 32)
	for i := range positions {
		positions[i] = (i*len(tokens))/len(positions) + len(tokens)/64
	}
	return tokens, positions
}

// BenchmarkSimGroupRoundTrip is one market attempt's generate through the
// sim worker as relix worker serves it (one request at a time): one
// prompt, eight completions without ids. The time is the sim's and the
// protocol's together; the sim alone is ~15 µs of it.
func BenchmarkSimGroupRoundTrip(b *testing.B) {
	cfg := fakeConfig(b, "sim")
	cfg.Env["RELIX_FAKE_CONCURRENCY"] = "1"
	r, _ := startFake(b, cfg)
	ps := prompts(b, 1)
	s := runners.Sampling{Temperature: 0.9, TopP: 1, MaxTokens: 8192}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Seed = uint64(i)
		if _, err := r.Generate(ctx, r.Base(), ps, 8, s); err != nil {
			b.Fatal(err)
		}
	}
}
