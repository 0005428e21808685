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
