package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relix-lab/relix/experiment/dataset"
	"github.com/relix-lab/relix/experiment/spec"
	"github.com/relix-lab/relix/runners"
	"github.com/relix-lab/relix/runners/sim"
)

// The test binary doubles as a worker: with RELIX_FAKE_WORKER set it serves
// the sim (or misbehaves in the named way) on stdin/stdout and exits.
func TestMain(m *testing.M) {
	if mode := os.Getenv("RELIX_FAKE_WORKER"); mode != "" {
		os.Exit(fakeWorker(mode))
	}
	os.Exit(m.Run())
}

// fakeWorker modes:
//
//	sim          the sim, served with Serve
//	crash-step   the sim, but the process dies in its first step
//	hang-step    the sim, but the process hangs in its first step
//	hang         the sim, but every step hangs
//	forget       the sim, but it has let the first trained checkpoint asked for go
//	forget-hidden  the same, asked for by hidden
//	few-ids      the sim, keeping the ids of only about two completions for handles
//	crash-start  dies before hello, with a message on stderr
//	garbage      writes a log line on stdout before answering hello
//	version      answers hello with protocol version 99
//	nan          answers generate with a NaN log-probability
//	short        answers generate with one completion too few
//	stranger     answers a request id it was never sent
//	huge         answers generate with a line over the limit
//	instant      answers generate at once with fixed completions
//
// RELIX_FAKE_FEATURES lists the features a Serve-based worker takes up
// ("none": JSON only, as an older worker); unset, all of them.
// RELIX_FAKE_CONCURRENCY is its concurrency (2 by default; 1 answers on
// the reading goroutine, as relix worker does).
//
// "Once" faults happen only in the first process: the file named by
// RELIX_FAKE_MARK records that they did.
func fakeWorker(mode string) int {
	switch mode {
	case "crash-start":
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
		fmt.Fprintln(os.Stderr, "ModuleNotFoundError: No module named 'torch'")
		return 1
	case "version", "nan", "short", "stranger", "huge", "instant":
		return rawWorker(mode)
	}
	if mode == "garbage" {
		fmt.Println("Loading checkpoint shards: 100%")
	}
	var features []string
	if f, ok := os.LookupEnv("RELIX_FAKE_FEATURES"); ok {
		features = []string{}
		if f != "none" {
			features = strings.Split(f, ",")
		}
	}
	concurrency := 2
	if c, err := strconv.Atoi(os.Getenv("RELIX_FAKE_CONCURRENCY")); err == nil {
		concurrency = c
	}
	held := 0
	if mode == "few-ids" {
		held = 3000
	}
	err := Serve(context.Background(), os.Stdin, os.Stdout, ServeOptions{
		Worker: "fake/" + mode, Model: "sim", Serves: "sim", NeedsProblems: true, Concurrency: concurrency, Features: features, heldIDs: held,
		New: func(_ context.Context, cfg Config, problems []*dataset.Set) (runners.Runner, error) {
			p := spec.DefaultSimPolicy()
			if cfg.Sim != nil {
				p = cfg.Sim.Spec()
			}
			r, err := sim.New(p, runners.Options{Problems: problems})
			if err != nil {
				return nil, err
			}
			return &faulty{Runner: r, mode: mode}, nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake worker:", err)
		return 1
	}
	return 0
}

// faulty is the sim with a fault in Step: in the step numbered
// RELIX_FAKE_AT (1 by default) of the process's life.
type faulty struct {
	*sim.Runner
	mode  string
	steps atomic.Int32
}

// Generate, in mode forget, answers unknown_checkpoint once for a trained
// checkpoint, as a worker that let it go to free memory does.
func (f *faulty) Generate(ctx context.Context, ck string, prompts []runners.Prompt, n int, s runners.Sampling) ([][]runners.Completion, error) {
	if f.mode == "forget" && ck != f.Base() && once() {
		return nil, fmt.Errorf("fake: %w: %s was let go", runners.ErrUnknownCheckpoint, ck)
	}
	return f.Runner.Generate(ctx, ck, prompts, n, s)
}

// Hidden, in mode forget-hidden, answers unknown_checkpoint once for a
// trained checkpoint.
func (f *faulty) Hidden(ctx context.Context, ck string, tokens []uint32, positions []int) ([][]float32, error) {
	if f.mode == "forget-hidden" && ck != f.Base() && once() {
		return nil, fmt.Errorf("fake: %w: %s was let go", runners.ErrUnknownCheckpoint, ck)
	}
	return f.Runner.Hidden(ctx, ck, tokens, positions)
}

// HiddenMany is the sim's, with forget-hidden's fault: a batch of hidden
// requests reaches it rather than Hidden.
func (f *faulty) HiddenMany(ctx context.Context, ck string, tokens [][]uint32, positions [][]int) ([][][]float32, error) {
	if f.mode == "forget-hidden" && ck != f.Base() && once() {
		return nil, fmt.Errorf("fake: %w: %s was let go", runners.ErrUnknownCheckpoint, ck)
	}
	return f.Runner.HiddenMany(ctx, ck, tokens, positions)
}

func (f *faulty) Step(ctx context.Context, ck string, groups []runners.Group, h runners.Hyper) (string, runners.StepMetrics, error) {
	at, _ := strconv.Atoi(os.Getenv("RELIX_FAKE_AT"))
	n := int(f.steps.Add(1))
	switch {
	case f.mode == "hang":
		fmt.Fprintln(os.Stderr, "step: waiting for a GPU that never answers")
		time.Sleep(time.Hour)
	case (f.mode == "crash-step" || f.mode == "hang-step") && n == max(at, 1) && once():
		fmt.Fprintln(os.Stderr, "step: CUDA error: an illegal memory access was encountered")
		if f.mode == "crash-step" {
			os.Exit(134)
		}
		time.Sleep(time.Hour)
	}
	return f.Runner.Step(ctx, ck, groups, h)
}

// once reports true the first time any process asks.
func once() bool {
	mark := os.Getenv("RELIX_FAKE_MARK")
	f, err := os.OpenFile(mark, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// rawWorker speaks the protocol by hand, to break it in one precise way.
func rawWorker(mode string) int {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 64<<20)
	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	for in.Scan() {
		var req Request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "raw worker:", err)
			return 1
		}
		switch req.Method {
		case MethodHello:
			protocol := Version
			if mode == "version" {
				protocol = 99
			}
			reply(`{"id":%d,"result":{"protocol":%d,"worker":"raw/%s","model":"none","base":"b0","capabilities":["generate","step"],"concurrency":4}}`, req.ID, protocol, mode)
		case MethodGenerate:
			var p GenerateParams
			if err := json.Unmarshal(req.Params, &p); err != nil {
				return 1
			}
			switch mode {
			case "nan":
				reply(`{"id":%d,"result":{"completions":[[{"text":"x","num_tokens":1,"finish":"stop","logprobs":[NaN]}]]}}`, req.ID)
			case "stranger":
				reply(`{"id":%d,"result":{"completions":[]}}`, req.ID+1000)
			case "huge":
				reply(`{"id":%d,"result":{"completions":[[{"text":"%s","num_tokens":1,"finish":"stop"}]]}}`, req.ID, strings.Repeat("x", 2<<20))
			default:
				n := p.N
				if mode == "short" {
					n--
				}
				tokens, _ := strconv.Atoi(os.Getenv("RELIX_FAKE_TOKENS"))
				reply(`{"id":%d,"result":{"completions":%s}}`, req.ID, instantCompletions(len(p.Prompts), n, tokens))
			}
		case MethodShutdown:
			reply(`{"id":%d,"result":{}}`, req.ID)
			return 0
		default:
			reply(`{"id":%d,"error":{"code":"unknown_method","message":"raw worker"}}`, req.ID)
		}
	}
	return 0
}

var longCompletion string

// instantCompletions is a generate result of prompts × n completions: a
// short one, or with tokens > 0 one of that many tokens (ids and
// log-probabilities, about 4 bytes of text per token) as a GPU worker
// returns when asked for tokens.
func instantCompletions(prompts, n, tokens int) string {
	one := `{"text":"The answer is $\\boxed{42}$.","num_tokens":12,"finish":"stop"}`
	if tokens > 0 && longCompletion != "" {
		one = longCompletion // made once: the benchmark times relix, not this worker
	} else if tokens > 0 {
		var c strings.Builder
		fmt.Fprintf(&c, `{"text":"%s","num_tokens":%d,"finish":"length","tokens":[`, strings.Repeat("abc ", tokens), tokens)
		for t := 0; t < tokens; t++ {
			if t > 0 {
				c.WriteByte(',')
			}
			fmt.Fprintf(&c, "%d", (t*7919)%151936)
		}
		c.WriteString(`],"logprobs":[`)
		for t := 0; t < tokens; t++ {
			if t > 0 {
				c.WriteByte(',')
			}
			fmt.Fprintf(&c, "%g", -float32(t%97)/31)
		}
		c.WriteString(`]}`)
		one = c.String()
		longCompletion = one
	}
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < prompts; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for j := 0; j < n; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(one)
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}
