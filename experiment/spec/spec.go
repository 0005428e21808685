// Package spec is relix's experiment language: the types of an experiment
// spec, their defaults, strict YAML decoding with file:line:col errors,
// includes and --set overrides, validation, a canonical form with a stable
// hash, and a JSON Schema generated from the same types.
//
// Struct tags drive everything that would otherwise be written twice:
//
//	yaml:"name"      the key in the file
//	doc:"..."        the description shown by `relix schema` and the spec reference
//	enum:"a,b,c"     the accepted values of a string field
//	min/max:"x"      inclusive bounds of a number (or of a list's length, for lists)
//	xmin/xmax:"x"    exclusive bounds of a number
//	required:"true"  no default can stand for it: the JSON Schema requires it (validate.go says why when it is missing)
//
// Cross-field rules (k ≤ samples, arm names unique, ...) live in validate.go.
package spec

// Spec is one experiment: a paired comparison of training arms that differ
// only in where their rollout groups come from.
//
// Which seed roots which draws is one rule, written once in seedRule
// (reference.go) and published in docs/spec.md.
type Spec struct {
	Name        string   `yaml:"name" doc:"experiment name; names the results directory results/<name>" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" required:"true"`
	Description string   `yaml:"description,omitempty" doc:"free text shown in reports"`
	Include     Includes `yaml:"include,omitempty" doc:"spec files merged under this one (paths relative to this file; later wins)"`
	Seed        uint64   `yaml:"seed" doc:"the default of seeds when seeds is not set; read by nothing else"`
	Seeds       []uint64 `yaml:"seeds,omitempty" doc:"training seeds: every arm runs once per seed, each run's draws derive from (seed, arm, step, purpose); the sweep is rooted at the first (default: [seed])"`
	Dataset     Dataset  `yaml:"dataset" doc:"the training and held-out problem sets"`
	Runner      Runner   `yaml:"runner" doc:"who generates completions and trains the policy"`
	Cluster     Cluster  `yaml:"cluster" doc:"where arm runs execute"`
	Train       Train    `yaml:"train" doc:"the GRPO training protocol shared by every arm"`
	Arms        []Arm    `yaml:"arms" doc:"the arms of the experiment; they differ only in their rollout source" min:"1"`
	Eval        Eval     `yaml:"eval" doc:"held-out evaluation of every arm's checkpoints"`
	Compare     []Pair   `yaml:"compare,omitempty" doc:"pairs of arms [A, B] to compare with paired statistics (A minus B)"`
	Sweep       Sweep    `yaml:"sweep" doc:"the in-zone sweep: waste vs in-zone fraction (relix sweep)"`
	Output      Output   `yaml:"output" doc:"where and in which formats results are written"`
}

// Dataset names the two problem sets. Generated sets are disjoint by
// construction; file sets are checked for overlap when loaded.
type Dataset struct {
	Train   ProblemSet `yaml:"train" doc:"problems that training prompts are drawn from"`
	Heldout ProblemSet `yaml:"heldout" doc:"problems every checkpoint is scored on"`
}

// ProblemSet is exactly one of a generated set, a JSONL file or a Parquet file.
type ProblemSet struct {
	Generated *Generated   `yaml:"generated,omitempty" doc:"the procedural math generator"`
	JSONL     *ProblemFile `yaml:"jsonl,omitempty" doc:"a JSONL file, one problem per line"`
	Parquet   *ProblemFile `yaml:"parquet,omitempty" doc:"a Parquet file, one problem per row"`
}

// Generated configures the procedural math generator.
type Generated struct {
	Size int                `yaml:"size" doc:"number of problems (the generator makes up to about 100,000 per split)" min:"1" max:"100000"`
	Seed uint64             `yaml:"seed" doc:"generator seed (the split, train or heldout, is mixed in)"`
	Mix  map[string]float64 `yaml:"mix,omitempty" doc:"relative weight of each topic (default: all topics equally)"`
	// Levels gives a pool its own difficulty distribution: the generator's
	// problems come in levels 1 (one step, small numbers) to 5.
	Levels []float64 `yaml:"levels,omitempty" doc:"relative weight of each difficulty level 1..5, five numbers (default: every level equally)"`
}

// ProblemFile is a problem set read from disk.
type ProblemFile struct {
	Path    string  `yaml:"path" doc:"file path, relative to the spec file"`
	Columns Columns `yaml:"columns" doc:"which columns hold the problem, its answer, its id and its topic"`
	Limit   int     `yaml:"limit,omitempty" doc:"use only the first N problems (0: all)" min:"0"`
}

// Columns maps a problem file's columns onto relix's problem fields.
type Columns struct {
	ID      string `yaml:"id,omitempty" doc:"column with a stable problem id (default: a hash of the statement)"`
	Problem string `yaml:"problem" doc:"column with the problem statement (default: problem, else question)"`
	Answer  string `yaml:"answer" doc:"column with the reference answer, or a solution ending in \\boxed{...} (default: answer, else solution)"`
	Topic   string `yaml:"topic,omitempty" doc:"column with the problem's topic"`
}

// Runner selects who generates and trains. Fields of the worker kind are
// rejected under kind sim; the sim block is kept under kind worker so that a
// GPU spec can include a sim spec and swap the runner.
type Runner struct {
	Kind string `yaml:"kind" doc:"sim (embedded policy simulator) or worker (out-of-process, e.g. the Python GPU worker)" enum:"sim,worker"`

	Sim SimPolicy `yaml:"sim" doc:"the simulated policy's constants (runner kind sim)"`

	Command     Command           `yaml:"command,omitempty" doc:"worker command line, a string or a list (runner kind worker)"`
	Model       string            `yaml:"model,omitempty" doc:"model path handed to the worker (a local directory; nothing is downloaded)"`
	Dtype       string            `yaml:"dtype,omitempty" doc:"model dtype" enum:",bfloat16,float16,float32"`
	Device      string            `yaml:"device,omitempty" doc:"device the worker should use (e.g. cuda, cuda:1, cpu)"`
	Env         map[string]string `yaml:"env,omitempty" doc:"extra environment variables for the worker process"`
	Timeouts    Timeouts          `yaml:"timeouts" doc:"per-request timeouts for the worker"`
	MaxRestarts int               `yaml:"max_restarts" doc:"restarts of a crashed or hung worker before the run fails" min:"0" max:"100"`
	MaxMessage  int               `yaml:"max_message_mib,omitempty" doc:"largest protocol message either way, in MiB (runner kind worker); a longer line is a protocol error" min:"1" max:"4096"`
}

// SimPolicy holds the simulated policy's constants. The base values in
// experiments/paired.yaml are calibrated to the reference base row; see
// runners/sim/README.md for the model and EXPERIMENTS.md for the calibration.
type SimPolicy struct {
	Skills          int     `yaml:"skills" doc:"dimension of the skill space shared by all problems" min:"1" max:"64"`
	Ability         float64 `yaml:"ability" doc:"initial ability θ in every skill dimension"`
	DifficultyScale float64 `yaml:"difficulty_scale" doc:"how strongly observable features raise a problem's difficulty" min:"0"`
	DifficultyShift float64 `yaml:"difficulty_shift" doc:"offset added to every problem's difficulty"`
	HiddenSD        float64 `yaml:"hidden_sd" doc:"std of the part of a problem's difficulty its features do not reveal" min:"0"`
	Verbosity       float64 `yaml:"verbosity" doc:"initial verbosity λ: reasoning length is LogNormal(log ℓ + λ, length_sd)"`
	LengthSD        float64 `yaml:"length_sd" doc:"std of log reasoning length" xmin:"0"`
	TokensPerStep   float64 `yaml:"tokens_per_step" doc:"reasoning tokens per reasoning step: a problem's typical reasoning length is ℓ = tokens_per_step·(1 + steps)" xmin:"0"`
	Stop            float64 `yaml:"stop" doc:"initial stopping logit η: after boxing its answer a completion ends with probability σ(η)"`
	NoiseChoices    int     `yaml:"noise_choices" doc:"reward-irrelevant choices of each kind a completion makes besides its decisive ones (the wording of its reasoning); their log-probability gradients are GRPO's gradient noise" min:"0" max:"4096"`
	LRScale         float64 `yaml:"lr_scale" doc:"the sim's learning rate is train.grpo.lr × lr_scale (its parameters are few and O(1))" xmin:"0"`

	// The second model's mechanisms (runners/sim/README.md, "The second
	// model"). Each one absent is the first model's behaviour, so a spec
	// without them reproduces the first model's results byte for byte.
	Reach           *SimReach       `yaml:"reach,omitempty" doc:"reachability: a completion is right only if every reasoning step of its problem is, each step through one skill (absent: one correctness choice per completion over the problem's skill mix)"`
	Termination     *SimTermination `yaml:"termination,omitempty" doc:"termination that depends on the problem and on the answer: repetition loops, and a wrong answer that stops less often (absent: one global stop logit, no loops)"`
	Sharpen         bool            `yaml:"sharpen,omitempty" doc:"a trainable sharpness κ: every correctness logit is multiplied by e^κ, so training can concentrate probability within a problem (false: no such parameter)"`
	LevelDifficulty float64         `yaml:"level_difficulty,omitempty" json:"level_difficulty,omitempty" doc:"two pools: how much harder each generator difficulty level makes a problem (d grows by this per level above 3), so a pool's level mix is its difficulty distribution; 0: levels act only through the features they change"`
}

// SecondModel reports whether any of the sim's second-model mechanisms is
// on; with none the sim is its first model, byte for byte.
func (p SimPolicy) SecondModel() bool {
	return p.Reach != nil || p.Termination != nil || p.Sharpen || p.LevelDifficulty != 0
}

// SimReach configures the sim's reachability mechanism.
type SimReach struct {
	StepSD float64 `yaml:"step_sd" json:"step_sd" doc:"std of a reasoning step's own difficulty around its problem's: how unevenly a problem's steps are hard" min:"0"`
}

// SimTermination configures how a simulated completion ends.
type SimTermination struct {
	Loop           float64 `yaml:"loop" json:"loop" doc:"initial loop logit ρ: a completion falls into a repetition loop (no answer, runs to the cap) with probability σ((ρ + loop_wrong·[wrong] + loop_difficulty·d)/T)"`
	LoopWrong      float64 `yaml:"loop_wrong" json:"loop_wrong" doc:"how much more often reasoning that is going wrong loops (added to the loop logit)" min:"0"`
	LoopDifficulty float64 `yaml:"loop_difficulty" json:"loop_difficulty" doc:"how much more often a harder problem loops (loop logit per unit of problem difficulty d)" min:"0"`
	StopWrong      float64 `yaml:"stop_wrong" json:"stop_wrong" doc:"how much less often a completion stops after a wrong boxed answer (subtracted from the stop logit η)" min:"0"`
}

// Timeouts bound each worker request.
type Timeouts struct {
	Start    Duration `yaml:"start" doc:"worker start-up until hello"`
	Generate Duration `yaml:"generate" doc:"one generate request"`
	Step     Duration `yaml:"step" doc:"one training step"`
	Other    Duration `yaml:"other" doc:"hidden, save, load and shutdown requests"`
}

// Cluster selects where arm runs execute, independently of the runner.
type Cluster struct {
	Kind string `yaml:"kind" doc:"local (this machine) or slurm (one job array task per arm × seed)" enum:"local,slurm"`

	Jobs int `yaml:"jobs" doc:"arm runs at once: on this machine (0: the number of cores), or tasks of the Slurm array running at once (0: as many as Slurm schedules)" min:"0"`

	Partition   string   `yaml:"partition,omitempty" doc:"Slurm partition"`
	Gres        string   `yaml:"gres,omitempty" doc:"Slurm generic resources per task, e.g. gpu:1"`
	Time        string   `yaml:"time,omitempty" doc:"Slurm time limit per task, e.g. 04:00:00"`
	Account     string   `yaml:"account,omitempty" doc:"Slurm account"`
	SbatchFlags []string `yaml:"sbatch_flags,omitempty" doc:"extra sbatch flags, passed as given"`
	SharedDir   string   `yaml:"shared_dir,omitempty" doc:"results directory visible from every node (default: output.dir); --out overrides it"`
	Binary      string   `yaml:"binary,omitempty" doc:"the relix binary that Slurm tasks run, as the nodes see it (default: the driver's own executable, which must then be on a filesystem the nodes share)"`
	Poll        Duration `yaml:"poll" doc:"how often the driver polls squeue (0: every 5s)"`
}

// Train is the GRPO protocol shared by every arm.
type Train struct {
	Steps         int      `yaml:"steps" doc:"optimizer steps (windows) per arm" min:"1" max:"1000000"`
	GroupsPerStep int      `yaml:"groups_per_step" doc:"rollout groups per step (N)" min:"1" max:"4096"`
	GroupSize     int      `yaml:"group_size" doc:"completions per group (G)" min:"2" max:"1024"`
	SigmaMin      float64  `yaml:"sigma_min" doc:"in-zone gate: population std of a group's rewards must be at least this (0 admits any variance)" min:"0" xmax:"0.5"`
	Sampling      Sampling `yaml:"sampling" doc:"sampling for training rollouts"`
	GRPO          GRPO     `yaml:"grpo" doc:"the loss and optimizer"`
	PublishEvery  int      `yaml:"publish_every" doc:"publish a checkpoint every this many steps; miners generate with the last published one" min:"1"`
	Cooldown      Cooldown `yaml:"cooldown" doc:"steps before a prompt may be used again: a number, or 'forever' (each prompt at most once); the training pool must hold groups_per_step × (min(cooldown, steps − 1) + 1) problems, checked before any work"`
	Reward        Reward   `yaml:"reward" doc:"how training completions are rewarded"`
	ProbeEvery    int      `yaml:"probe_every" doc:"measure the pool's in-zone fraction every this many steps; with a runner that cannot report exact success probabilities (a GPU worker) each measurement costs probe × G completions; 0: never" min:"0"`
}

// Sampling controls generation.
type Sampling struct {
	Temperature float64 `yaml:"temperature" doc:"sampling temperature" xmin:"0" max:"10"`
	TopP        float64 `yaml:"top_p" doc:"nucleus sampling mass" xmin:"0" max:"1"`
	MaxTokens   int     `yaml:"max_tokens" doc:"new-token cap; a completion that reaches it without ending is truncated" min:"1" max:"1048576"`
}

// GRPO is the training function's loss and optimizer.
type GRPO struct {
	Advantage   string     `yaml:"advantage" doc:"std: (r − mean) / population std; mean: r − mean" enum:"std,mean"`
	ClipLow     float64    `yaml:"clip_low" doc:"PPO ratio clip below 1: ρ ≥ 1 − clip_low" min:"0" xmax:"1"`
	ClipHigh    float64    `yaml:"clip_high" doc:"PPO ratio clip above 1: ρ ≤ 1 + clip_high" min:"0" max:"10"`
	KLBeta      float64    `yaml:"kl_beta" doc:"weight of the k3 KL penalty to the reference (refreshed at each publish); 0 disables it" min:"0"`
	LR          float64    `yaml:"lr" doc:"peak learning rate" xmin:"0" max:"1"`
	Warmup      int        `yaml:"warmup" doc:"linear warm-up steps" min:"0"`
	Schedule    string     `yaml:"schedule" doc:"learning-rate schedule after warm-up" enum:"constant,linear,cosine"`
	Betas       [2]float64 `yaml:"betas,flow" doc:"AdamW β1, β2"`
	WeightDecay float64    `yaml:"weight_decay" doc:"AdamW decoupled weight decay" min:"0"`
	GradClip    float64    `yaml:"grad_clip" doc:"clip the global gradient norm to this (0: off)" min:"0"`
	Epochs      int        `yaml:"epochs" doc:"passes over each step's groups (PPO epochs)" min:"1" max:"100"`
	LossAgg     string     `yaml:"loss_agg" doc:"loss aggregation: per-token mean within a sequence then mean over sequences, or one mean over all tokens" enum:"seq-mean-token-mean,token-mean"`
	StdEpsilon  float64    `yaml:"std_epsilon" doc:"groups whose reward std is below this are skipped (no advantage)" min:"0"`
}

// Reward says how a completion is rewarded; the answer itself is always
// graded by eval's grader.
type Reward struct {
	Truncated string `yaml:"truncated" doc:"zero: a truncated completion scores 0; grade: it is graded on the answer it contains" enum:"zero,grade"`
}

// Arm is one training arm. Only Source and its settings differ between arms.
type Arm struct {
	Name         string  `yaml:"name" doc:"unique arm name" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" required:"true"`
	Source       string  `yaml:"source" doc:"none: the base model, evaluated only; uniform: one trainer samples prompts uniformly; market: miners compete to fill each window" enum:"none,uniform,market" required:"true"`
	Filter       string  `yaml:"filter,omitempty" doc:"uniform only. none: train on every drawn group; dynamic: DAPO's dynamic sampling, regenerate until N groups pass the σ gate" enum:",none,dynamic"`
	MaxGenRounds int     `yaml:"max_gen_rounds,omitempty" doc:"uniform with filter dynamic: rounds of N groups before the step trains on what passed (DAPO's max_num_gen_batches)" min:"0" max:"1000"`
	Market       *Market `yaml:"market,omitempty" doc:"market only: the miners and the window"`
}

// Market configures a market arm.
type Market struct {
	Miners     []MinerGroup `yaml:"miners" doc:"groups of identical miners" min:"1"`
	Candidates int          `yaml:"candidates" doc:"prompts a miner scores with its estimator before picking one" min:"1" max:"100000"`
	ProbeSize  int          `yaml:"probe_size" doc:"prompts in the fixed probe sample used to measure the pool's in-zone fraction" min:"1"`
	ProofBase  float64      `yaml:"proof_base" doc:"proof tolerance at position 0 (sketch units); the tolerance grows as base + 5·√position" min:"0"`
	Timing     string       `yaml:"timing,omitempty" doc:"how long a miner takes to generate a group: serial (its completions one after another: total tokens / throughput; the default) or batch (all at once, as real miners generate: the longest completion / throughput, throughput then being tokens per second per sequence)" enum:",serial,batch"`
	MaxRounds  int          `yaml:"max_rounds,omitempty" doc:"rounds of N groups the miners may start in a window that does not fill, before it closes with what was accepted (0: 1000); the market's counterpart of a filter's max_gen_rounds" min:"0" max:"100000"`
	Kind       string       `yaml:"kind,omitempty" doc:"the mechanism: race (the first N valid, distinct groups seal the window; the default) or auction (submissions collected to a fixed deadline, ranked by difficulty and proved top down until N win)" enum:",race,auction"`
	Auction    *Auction     `yaml:"auction,omitempty" doc:"kind auction only: the auction's parameters"`
}

// The market mechanisms (Market.Kind; "" is the race).
const (
	MarketRace    = "race"
	MarketAuction = "auction"
)

// Auction is the difficulty auction's parameters (harness/market/README.md,
// "The auction"). Its defaults are the public design's where it states one.
type Auction struct {
	Deadline    float64 `yaml:"deadline" doc:"seconds of virtual time a window collects submissions; a group still being generated or travelling then misses the window" xmin:"0"`
	SigmaMin    float64 `yaml:"sigma_min" doc:"the admission gate: the least population std of a group's rewards (the public design: 0.24, with 16 rollouts a group)" min:"0" max:"0.5"`
	ProofBudget int     `yaml:"proof_budget" doc:"proofs the validator checks in a window, top down in rank; a candidate below the budget is outranked (0: as many as filling the window takes)" min:"0"`
	PerPrompt   int     `yaml:"per_prompt" doc:"groups admitted for one prompt, first come; only the first-ranked of them that passes its proof can win" min:"1" max:"1000"`
	Value       string  `yaml:"value" doc:"what the ranking orders groups by: difficulty, std(r)·(1 − mean(r)), the public design's (2 of 8 right beats 4 of 8); std, std(r) alone (4 of 8 first, as a σ gate sees it)" enum:"difficulty,std"`
	Carry       bool    `yaml:"carry" doc:"hold a window's winners while fewer than N have won and train once N have, over windows at the same published checkpoint (the public design allows carrying clean partial batches); a change of checkpoint drops what is held. false: every window trains on its winners and burns the empty slots"`
	Memory      int     `yaml:"memory" doc:"windows whose clearing values (the lowest winning value of a window that filled; 0 for one that did not) a miner's chance of winning with a group's value is estimated from: the share of them the value would have cleared" min:"1" max:"10000"`
}

// The auction's values (Auction.Value).
const (
	ValueDifficulty = "difficulty"
	ValueStd        = "std"
)

// Auctioned reports whether the market runs the auction.
func (m *Market) Auctioned() bool { return m.Kind == MarketAuction }

// DefaultMarketRounds is a market window's cap in rounds of N groups when
// max_rounds is not set.
const DefaultMarketRounds = 1000

// Rounds is the window's cap in rounds of N groups started.
func (m *Market) Rounds() int {
	if m.MaxRounds == 0 {
		return DefaultMarketRounds
	}
	return m.MaxRounds
}

// The market's timing models (Market.Timing).
const (
	TimingSerial = "serial"
	TimingBatch  = "batch"
)

// MinerGroup is Count miners sharing an estimator, throughput and behaviour.
type MinerGroup struct {
	Count      int       `yaml:"count" doc:"number of miners in this group" min:"1" max:"10000"`
	Behaviour  string    `yaml:"behaviour" doc:"honest, or an adversary: stale (old checkpoint), forger (claims rewards it did not earn or edits tokens), copycat (resubmits others' prompts), padder (pads completions to the token cap after committing), withholder (holds groups until just before the auction deadline), sybil (the group is one operator's identities, all on the prompt the first picked)" enum:"honest,stale,forger,copycat,padder,withholder,sybil"`
	Estimator  Estimator `yaml:"estimator" doc:"how the miner predicts which prompts are in the zone"`
	Throughput float64   `yaml:"throughput" doc:"tokens per second of virtual time" xmin:"0"`
	Latency    float64   `yaml:"latency" doc:"mean network latency per submission, seconds of virtual time" min:"0"`
}

// Estimator is a miner's difficulty estimator.
type Estimator struct {
	Kind    string  `yaml:"kind" doc:"random; history (per-prompt and per-feature pass-rate memory); learned (online logistic regression on features plus history); oracle (true success probability plus noise: an upper bound)" enum:"random,history,learned,oracle"`
	Decay   float64 `yaml:"decay" doc:"history: weight kept per window by past observations (the frontier moves)" min:"0" max:"1"`
	LR      float64 `yaml:"lr" doc:"learned: online learning rate" min:"0"`
	L2      float64 `yaml:"l2" doc:"learned: L2 penalty" min:"0"`
	Noise   float64 `yaml:"noise" doc:"oracle: std of the noise added to the true success logit" min:"0"`
	Explore float64 `yaml:"explore" doc:"share of picks made at random to keep learning" min:"0" max:"1"`
}

// Eval scores checkpoints on the held-out set.
type Eval struct {
	Every     int      `yaml:"every" doc:"evaluate every this many steps (and always at the end); 0: only at the end" min:"0"`
	Samples   int      `yaml:"samples" doc:"samples per problem (n); every k must be ≤ n" min:"1" max:"4096"`
	K         []int    `yaml:"k,flow" doc:"pass@k values to report" min:"1"`
	Seed      uint64   `yaml:"seed" doc:"sampling seed, shared by every arm so comparisons are paired"`
	Problems  int      `yaml:"problems,omitempty" doc:"score only the first N held-out problems (0: all)" min:"0"`
	Sampling  Sampling `yaml:"sampling" doc:"sampling for evaluation"`
	Truncated string   `yaml:"truncated" doc:"grade: a truncated completion is graded on the answer it contains; zero: it scores 0" enum:"zero,grade"`
	Bootstrap int      `yaml:"bootstrap" doc:"paired bootstrap draws" min:"0" max:"10000000"`
	KeepText  bool     `yaml:"keep_text,omitempty" doc:"keep every held-out completion's text in eval.parquet's text column (zstd-compressed; relix validate's memory estimate counts it); false: the column is null"`
}

// Pair names two arms to compare: A minus B.
type Pair [2]string

// Sweep configures `relix sweep`.
type Sweep struct {
	Grid      []float64  `yaml:"grid,flow" doc:"target in-zone fractions" min:"1"`
	Selectors []Selector `yaml:"selectors" doc:"the reactive filter and the markets to compare"`
	Windows   int        `yaml:"windows" doc:"windows simulated per grid point, selector and seed" min:"1"`
	Warmup    int        `yaml:"warmup" doc:"labelled windows a learning estimator sees before it is measured" min:"0"`
	Seeds     []uint64   `yaml:"seeds,flow" doc:"seeds to repeat every point with" min:"1"`
	Miners    int        `yaml:"miners" doc:"miners per market" min:"1"`
}

// Selector is one line of the sweep plot.
type Selector struct {
	Name      string    `yaml:"name" doc:"label in tables and plots" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" required:"true"`
	Kind      string    `yaml:"kind" doc:"filter: uniform sampling with the reactive filter; market: miners with the given estimator racing to fill each window; auction: the same miners in the difficulty auction (the first auction arm's parameters, or the defaults)" enum:"filter,market,auction" required:"true"`
	Estimator Estimator `yaml:"estimator" doc:"market and auction only"`
}

// Output says where results go.
type Output struct {
	Dir   string   `yaml:"dir" doc:"results directory (default: results/<name>, relative to the working directory)"`
	Plots []string `yaml:"plots,flow" doc:"plot formats" enum:"png,svg"`
}
