package proof

import "math"

// Bucket maps a hidden-state value to its signed log-magnitude bucket:
// ⌊log2(|x|+1)·Buckets/10⌋ clamped to [0, Buckets−1], with x's sign; 0 for
// |x| < 1e-6 and for NaN, ±(Buckets−1) for ±Inf.
//
// The formula is evaluated without a logarithm. It is non-decreasing in
// |x|, so the bucket of x is the number of thresholds at or below |x|,
// where threshold k is the smallest float32 magnitude whose bucket by the
// formula (in float64, as GRAIL computes it) is k; the dead zone changes
// nothing, since every magnitude below the first threshold (0.54) is in
// bucket 0 anyway. Non-negative float32s order as their bit patterns do, so
// the comparisons are on bits. TestBucketMatchesFormula checks the result
// against the formula on every exponent with many mantissas and every
// threshold's neighbours (and, with -exhaustive, on all 2³² inputs).
func Bucket(x float32) int64 {
	bits := math.Float32bits(x)
	mag := bits &^ signBit
	if mag > infBits {
		return 0 // NaN
	}
	e := &binades[mag>>23]
	b := e.base
	if mag >= e.next[0] {
		b++
	}
	if mag >= e.next[1] {
		b++
	}
	neg := int64(int32(bits) >> 31) // −1 for a negative x, else 0
	return (b ^ neg) - neg
}

const (
	signBit = 1 << 31
	infBits = 0x7f800000 // +Inf; larger magnitudes are NaNs
)

// bucketThresholds[k−1] is the bit pattern of the smallest non-negative
// float32 in bucket k: 2^(10k/16) − 1 rounded as the float64 formula
// rounds it (TestBucketThresholds finds them again by bisection).
var bucketThresholds = [Buckets - 1]uint32{
	0x3f0ace55, // 1: 0.542210877
	0x3fb06fe1, // 2: 1.37841427
	0x402ac0c7, // 3: 2.6680162
	0x409504f4, // 4: 4.65685463
	0x40f72b84, // 5: 7.72406197
	0x414744fd, // 6: 12.4543428
	0x419dfed7, // 7: 19.7494335
	0x41f80000, // 8: 31
	0x4241672b, // 9: 48.35075
	0x429637f1, // 10: 75.1092606
	0x42e8c0c7, // 11: 116.376518
	0x433404f4, // 12: 180.019348
	0x438b15c2, // 13: 278.169983
	0x43d6c4fd, // 14: 429.538971
	0x4425bed7, // 15: 662.981873
}

// binade is what Bucket needs of one float32 exponent: the bucket of its
// smallest magnitude and the thresholds inside it (consecutive thresholds
// are at least a factor 2^0.625 apart, so a binade holds at most two;
// noThreshold fills the rest).
type binade struct {
	base int64
	next [2]uint32
}

const noThreshold = math.MaxUint32 // above every magnitude Bucket compares

var binades = func() (out [256]binade) {
	for e := range out {
		lo, hi := uint32(e)<<23, uint32(e+1)<<23
		out[e].next = [2]uint32{noThreshold, noThreshold}
		n := 0
		for _, t := range bucketThresholds {
			switch {
			case t <= lo:
				out[e].base++
			case t < hi:
				out[e].next[n] = t
				n++
			}
		}
	}
	return out
}()
