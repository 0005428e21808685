package source

import (
	"strings"

	"github.com/relix-lab/relix/runners"
)

// The fate of a generated group (Rollout.Reason). Every completion of a
// group shares its group's fate.
const (
	// ReasonAccepted: the group is trained on.
	ReasonAccepted = "accepted"
	// ReasonDiscarded (uniform, filter dynamic): the group failed the σ gate
	// and was dropped.
	ReasonDiscarded = "discarded"
	// ReasonMissed (market): the group failed its miner's own σ check and
	// was never submitted.
	ReasonMissed = "missed"
	// ReasonInFlight (market): the group was still being generated when the
	// window sealed. It is counted in full as generated and wasted.
	ReasonInFlight = "in-flight"
	// ReasonLate (market): the group was submitted but reached the
	// validator after the window sealed (the window check, failed by time).
	ReasonLate = "late"
	// ReasonOutranked (auction): the group was admitted, but did not win:
	// N groups ranked above it won first, a higher-ranked group won its
	// prompt, or the proof budget ran out before its turn.
	ReasonOutranked = "outranked"
	// ReasonCarried (auction with carry): the group won, but its window
	// filled fewer than N slots, so it is held for a later window at the
	// same checkpoint and trained when N have won (Account.CarriedIn of
	// that window), or dropped if the checkpoint changes first
	// (Account.Dropped).
	ReasonCarried = "carried"
	// ReasonDuplicate (market): the group passed every check, but its prompt
	// had already been accepted in the window (it lost the race).
	ReasonDuplicate = "duplicate"
	// RejectedPrefix starts the reason of a group that failed a check:
	// "rejected:" and the check (CheckWindow ... CheckProof).
	RejectedPrefix = "rejected:"
)

// The market validator's checks, in the order they are applied
// (harness/market/README.md, "Verification"). They are named here, not in
// the market, because Rejections counts by them and every Account has one.
// Distinctness comes last, so a duplicate is always a valid group that lost
// the race, never an invalid one.
const (
	CheckWindow     = "window"     // the submission names the open window (arriving after the seal is "late")
	CheckCheckpoint = "checkpoint" // it declares the published checkpoint
	CheckDataset    = "dataset"    // its prompt is a training problem
	CheckCooldown   = "cooldown"   // its prompt is not cooling down
	CheckRewards    = "rewards"    // its rewards equal the harness's, within 1e-6
	CheckSigma      = "sigma"      // its rewards pass the σ gate
	CheckProof      = "proof"      // every completion's GRAIL-style proof holds against the published checkpoint
)

// Checks lists the checks in order.
func Checks() []string {
	return []string{CheckWindow, CheckCheckpoint, CheckDataset, CheckCooldown, CheckRewards, CheckSigma, CheckProof}
}

// IsRejection reports whether a reason names a failed check, and which.
func IsRejection(reason string) (check string, ok bool) {
	return strings.CutPrefix(reason, RejectedPrefix)
}

// In-zone measurement methods (Account.InZoneMethod).
const (
	// InZoneOracle: exact on the probe, from the runner's true success
	// probabilities (runners.Oracle).
	InZoneOracle = "oracle"
	// InZoneSampled: estimated on the probe from one sampled group per probe
	// prompt (seeded by the checkpoint, so the same for every arm).
	InZoneSampled = "sampled"
)

// Account is the exact compute accounting of one step. It becomes a row of
// the steps table. Group counts are groups; "rollouts" are completions.
type Account struct {
	Step   int    // 0-based step (the market's window)
	Source string // "uniform" or "market"
	Filter string // uniform: "none" or "dynamic"; "" for the market
	// Checkpoint generated the step's groups: the current checkpoint for
	// uniform, the published one for the market.
	Checkpoint string

	GeneratedGroups   int   // groups generated for the step by anyone, whatever their fate
	GeneratedRollouts int   // their completions
	GeneratedTokens   int64 // their completion tokens
	UsefulGroups      int   // groups trained on (len(Batch.Groups)): Accepted + CarriedIn
	UsefulRollouts    int   // their completions
	UsefulTokens      int64 // their tokens

	// InZoneGroups counts generated groups whose true rewards pass the σ
	// gate (whatever their fate); HitRate = InZoneGroups / GeneratedGroups.
	InZoneGroups      int
	ZeroStdGroups     int // generated groups whose rewards are all equal
	TruncatedRollouts int // generated completions that hit the token cap

	// Fates of the generated groups; they sum to GeneratedGroups.
	Accepted   int
	Discarded  int // uniform filter
	Missed     int // market
	InFlight   int // market
	Late       int // market
	Duplicate  int // market
	Outranked  int // auction
	Carried    int // auction with carry: won, held for a later window
	Rejected   int // market: failed a check; by check in Rejections
	Rejections Rejections

	// CarriedIn counts the groups of the batch that earlier windows at the
	// same checkpoint won and carried (auction with carry); they count as
	// useful here and were generated there. Dropped counts the carried
	// groups let go at this window's opening because the published
	// checkpoint had changed: won, never trained on.
	CarriedIn, Dropped int

	// InFlightTokens is how many of the in-flight groups' tokens had been
	// generated when the window sealed ((seal − start)·throughput each). The
	// in-flight groups count in full in Generated* and Waste (their miners
	// finish them, and learn from them); this lets a token-based waste count
	// them pro rata instead, as for miners that abort at the seal.
	InFlightTokens int64

	// Waste is 1 − UsefulRollouts / GeneratedRollouts (results/README.md, "Metrics, defined once"): every
	// generated completion not trained on, in flight at the seal included.
	Waste   float64
	HitRate float64

	// Rounds is how many generation rounds the uniform source ran (a market
	// window runs one race). Capped reports that the step stopped at its cap
	// (uniform filter: arm.max_gen_rounds rounds' worth of groups; market:
	// MaxWindowRounds·N groups started) with fewer than N groups to train
	// on; the step trains on what it has.
	Rounds int
	Capped bool
	// SealTime is the market window's length in virtual seconds: the
	// arrival of its N-th accepted group (or its last event when capped).
	SealTime float64

	// InZoneFraction is the in-zone fraction of the training pool at
	// Checkpoint under the training reward, measured on a fixed probe sample
	// of ProbeSize prompts (the same sample for every arm of a run) by
	// InZoneMethod.
	InZoneFraction float64
	InZoneMethod   string
	ProbeSize      int

	// UpperBound is set when a market miner used the oracle estimator (the
	// runner's true success probabilities): such an arm is an upper bound,
	// not a market that could exist.
	UpperBound bool

	Miners []MinerAccount // market: one per miner, in miner order
}

// Rejections counts rejected groups by the check they failed.
type Rejections struct {
	Window     int
	Checkpoint int
	Dataset    int
	Cooldown   int
	Rewards    int
	Sigma      int
	Proof      int
}

func (r *Rejections) add(check string) {
	switch check {
	case CheckWindow:
		r.Window++
	case CheckCheckpoint:
		r.Checkpoint++
	case CheckDataset:
		r.Dataset++
	case CheckCooldown:
		r.Cooldown++
	case CheckRewards:
		r.Rewards++
	case CheckSigma:
		r.Sigma++
	case CheckProof:
		r.Proof++
	}
}

// MinerAccount is one market miner's share of a window.
type MinerAccount struct {
	Name      string // "honest-03", "forger-12", ...
	Behaviour string // honest, stale, forger, copycat
	Estimator string // random, history, learned, oracle; "" for copycats (they copy, they do not pick)

	GeneratedGroups   int
	GeneratedRollouts int
	GeneratedTokens   int64
	InZoneGroups      int
	Submitted         int // groups sent to the validator
	Accepted          int
	Missed            int
	InFlight          int
	Late              int
	Duplicate         int
	Outranked         int
	Carried           int
	Rejected          int
	// Busy is the virtual time the miner spent generating in the window.
	Busy float64
}

// Rollout is one generated completion and its group's fate. It becomes a
// row of the rollouts table.
type Rollout struct {
	Window int    // 0-based step: the market's window, the uniform source's step
	Miner  string // market miner name; "" for uniform
	Round  int    // uniform: generation round; market: the miner's group number in the window
	Group  int    // index of the group among those generated for the step, in generation order
	Prompt string // problem id
	// Checkpoint really generated the completion (a stale miner's is older
	// than the one it declared).
	Checkpoint string
	Completion int     // index in the group, 0..G−1
	Reward     float64 // the harness's reward of the completion as generated
	// Claimed is the reward submitted for it: Reward, except for a forger.
	Claimed   float64
	Tokens    int  // completion tokens
	Truncated bool // hit the token cap without ending
	InZone    bool // the group's true rewards pass the σ gate
	Accepted  bool
	Reason    string // ReasonAccepted, ReasonDiscarded, ..., "rejected:<check>"
	// Arrival is when the group reached the validator, in virtual seconds
	// since the window opened; NaN when it was never submitted (and for
	// uniform).
	Arrival float64
}

// Finish computes the derived figures (Waste, HitRate) from the counts; a
// source calls it once its step's counts are complete.
func (a *Account) Finish() {
	a.Waste, a.HitRate = 0, 0
	if a.GeneratedRollouts > 0 {
		a.Waste = 1 - float64(a.UsefulRollouts)/float64(a.GeneratedRollouts)
	}
	if a.GeneratedGroups > 0 {
		a.HitRate = float64(a.InZoneGroups) / float64(a.GeneratedGroups)
	}
}

// AddGroup counts one generated group and its fate. Every source counts
// through it, so that the fates always sum to GeneratedGroups and the
// sources' accounts compare like with like.
func (a *Account) AddGroup(comps []runners.Completion, rewards []float64, in bool, reason string) {
	a.GeneratedGroups++
	a.GeneratedRollouts += len(comps)
	for _, c := range comps {
		a.GeneratedTokens += int64(c.NumTokens)
		if c.Truncated() {
			a.TruncatedRollouts++
		}
	}
	if in {
		a.InZoneGroups++
	}
	if zeroStd(rewards) {
		a.ZeroStdGroups++
	}
	switch reason {
	case ReasonAccepted:
		a.Accepted++
	case ReasonDiscarded:
		a.Discarded++
	case ReasonMissed:
		a.Missed++
	case ReasonInFlight:
		a.InFlight++
	case ReasonLate:
		a.Late++
	case ReasonDuplicate:
		a.Duplicate++
	case ReasonOutranked:
		a.Outranked++
	case ReasonCarried:
		a.Carried++
	default:
		a.Rejected++
		a.Rejections.add(reason[len(RejectedPrefix):])
	}
}

// AddUseful counts a group that is trained on.
func (a *Account) AddUseful(comps []runners.Completion) {
	a.UsefulGroups++
	a.UsefulRollouts += len(comps)
	for _, c := range comps {
		a.UsefulTokens += int64(c.NumTokens)
	}
}

func zeroStd(r []float64) bool {
	for _, x := range r {
		if x != r[0] {
			return false
		}
	}
	return true
}
