package dataset

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// ---- combinatorics ----

var (
	shelfItems = []string{"books", "trophies", "plants", "photos", "vases", "candles", "mugs", "clocks"}
	lineItems  = []string{"students", "runners", "dogs", "cars", "singers", "children"}
	groupNames = []string{"club", "class", "team", "choir", "band", "staff"}
	mealPairs  = [][2]string{{"sandwiches", "drinks"}, {"shirts", "pairs of pants"}, {"appetizers", "main courses"},
		{"flavors of ice cream", "toppings"}, {"routes to the bridge", "routes from the bridge to town"}}
	letterPool = "ABCDEFGHKMNPRST"
)

func genCombinatorics(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	switch level {
	case 1: // the multiplication principle, handshakes
		if r.IntN(2) == 0 {
			pair := pick(r, mealPairs...)
			a, b := between(r, 2, 20), between(r, 2, 20)
			d.statement = fmt.Sprintf("There are %d %s and %d %s to choose from. In how many ways can you choose one of each?", a, pair[0], b, pair[1])
			d.answer = itoa(a * b)
		} else {
			n := between(r, 3, 40)
			d.statement = fmt.Sprintf("At a party, each of %d guests shakes hands exactly once with every other guest. How many handshakes take place?", n)
			d.answer = itoa(choose(n, 2))
			d.operations, d.steps = 2, 2
		}
	case 2: // n!, n choose k
		d.operations, d.steps = 2, 2
		if r.IntN(2) == 0 {
			n := between(r, 4, 10)
			if r.IntN(2) == 0 {
				d.statement = fmt.Sprintf("In how many different orders can %d different %s be arranged on a shelf?", n, pick(r, shelfItems...))
			} else {
				d.statement = fmt.Sprintf("In how many different ways can %d %s stand in a line?", n, pick(r, lineItems...))
			}
			d.answer = itoa(factorial(n))
			d.operations = int(n - 2)
		} else {
			n, k := between(r, 6, 25), between(r, 2, 4)
			d.statement = fmt.Sprintf("In how many ways can a group of %d be chosen from %d %s?", k, n, pick(r, lineItems...))
			d.answer = itoa(choose(n, k))
		}
	case 3: // ordered selections, words with repeated letters
		d.steps = 3
		if r.IntN(2) == 0 {
			n, k := between(r, 6, 25), between(r, 2, 4)
			roles := []string{"a president", "a vice-president", "a treasurer", "a secretary"}[:k]
			d.statement = fmt.Sprintf("A %s of %d members elects %s, no one holding two offices. In how many ways can this be done?",
				pick(r, groupNames...), n, strings.Join(roles[:k-1], ", ")+" and "+roles[k-1])
			d.answer = itoa(perm(n, k))
			d.operations = int(k - 1)
		} else {
			word, counts := letterWord(r, between(r, 5, 9))
			v := factorial(int64(len(word)))
			for _, c := range counts {
				v /= factorial(c)
			}
			d.statement = fmt.Sprintf("How many distinct arrangements of the letters in the word %s are there?", word)
			d.answer = itoa(v)
			d.operations = len(counts) + 1
		}
	case 4: // committees with a constraint
		m, w := between(r, 4, 12), between(r, 4, 12)
		k := between(r, 3, 5)
		j := between(r, 1, min(k-1, w))
		d.statement = fmt.Sprintf("A %s has %d men and %d women. In how many ways can a committee of %d be formed that has exactly %s?",
			pick(r, groupNames...), m, w, k, plural(j, "woman", "women"))
		d.answer = itoa(choose(w, j) * choose(m, k-j))
		d.operations, d.steps = 3, 4
	default: // the complement, seats together, round tables
		d.steps = 5
		switch r.IntN(3) {
		case 0:
			n, w, k := between(r, 8, 16), between(r, 2, 6), between(r, 3, 5)
			if n-w < k {
				return genCombinatorics(r, level)
			}
			d.statement = fmt.Sprintf("A box holds %d light bulbs, %d of which are broken. In how many ways can %d bulbs be chosen so that at least one of them is broken?", n, w, k)
			d.answer = itoa(choose(n, k) - choose(n-w, k))
			d.operations = 3
		case 1:
			n := between(r, 4, 9)
			d.statement = fmt.Sprintf("In how many ways can %d people sit in a row of %d chairs if two of them, Ana and Ben, must sit next to each other?", n, n)
			d.answer = itoa(2 * factorial(n-1))
			d.operations = 3
		default:
			n := between(r, 4, 10)
			d.statement = fmt.Sprintf("In how many ways can %d people be seated around a round table, if seatings that differ only by a rotation are the same?", n)
			d.answer = itoa(factorial(n - 1))
			d.operations, d.steps = 2, 4
		}
	}
	return d
}

// letterWord makes an n-letter "word" with at least one repeated letter,
// returning it and the multiplicity of each distinct letter.
func letterWord(r *rand.Rand, n int64) (string, []int64) {
	var counts []int64
	for left := n; left > 0; {
		c := min(left, between(r, 1, 3))
		counts = append(counts, c)
		left -= c
	}
	if len(counts) == int(n) { // all distinct: make the first letter double
		counts = append([]int64{2}, counts[2:]...)
	}
	perm := r.Perm(len(letterPool))
	var b []byte
	for i, c := range counts {
		for range c {
			b = append(b, letterPool[perm[i]])
		}
	}
	r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	return string(b), counts
}

// ---- modular arithmetic ----

func modpow(b, e, m int64) int64 {
	res, b := int64(1)%m, (b%m+m)%m
	for e > 0 {
		if e&1 == 1 {
			res = res * b % m
		}
		b = b * b % m
		e >>= 1
	}
	return res
}

var smallPrimes = []int64{7, 11, 13, 17, 19, 23, 29, 31}

func genModular(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	switch level {
	case 1:
		a, m := between(r, 20, 300), between(r, 3, 12)
		d.statement = fmt.Sprintf("What is the remainder when $%d$ is divided by $%d$?", a, m)
		d.answer = itoa(a % m)
	case 2:
		d.operations, d.steps = 2, 2
		if r.IntN(2) == 0 {
			a, m := between(r, 1000, 999999), between(r, 3, 13)
			d.statement = fmt.Sprintf("What is the remainder when $%d$ is divided by $%d$?", a, m)
			d.answer = itoa(a % m)
		} else {
			a, b, m := between(r, 20, 999), between(r, 20, 999), between(r, 5, 13)
			d.statement = fmt.Sprintf(`What is $%d \times %d \bmod %d$, the remainder when the product is divided by $%d$?`, a, b, m, m)
			d.answer = itoa(a * b % m)
			d.steps = 3
		}
	case 3: // powers
		d.operations = 2
		if r.IntN(2) == 0 {
			a, e, m := between(r, 2, 12), between(r, 10, 60), between(r, 5, 13)
			if a%m == 0 {
				a++
			}
			d.statement = fmt.Sprintf("What is the remainder when $%d^{%d}$ is divided by $%d$?", a, e, m)
			d.answer = itoa(modpow(a, e, m))
			d.steps = 4
		} else {
			a, e := between(r, 2, 99), between(r, 20, 999)
			d.statement = fmt.Sprintf("What is the units digit of $%d^{%d}$?", a, e)
			d.answer = itoa(modpow(a, e, 10))
			d.steps = 3
		}
	case 4: // a linear congruence
		m := pick(r, smallPrimes...)
		a, b := between(r, 2, m-1), between(r, 1, m-1)
		var x int64
		for x = 1; a*x%m != b; x++ {
		}
		d.statement = fmt.Sprintf(`What is the smallest positive integer $x$ such that $%dx \equiv %d \pmod{%d}$?`, a, b, m)
		d.answer = itoa(x)
		d.unknowns, d.operations, d.steps = 1, 3, 4
	default: // the Chinese remainder theorem
		mods := pick(r, [3]int64{3, 5, 7}, [3]int64{3, 4, 5}, [3]int64{4, 5, 7}, [3]int64{5, 7, 9}, [3]int64{3, 7, 8}, [3]int64{5, 8, 9}, [3]int64{7, 9, 11})
		r1, r2, r3 := between(r, 0, mods[0]-1), between(r, 0, mods[1]-1), between(r, 0, mods[2]-1)
		var n int64
		for n = 1; n%mods[0] != r1 || n%mods[1] != r2 || n%mods[2] != r3; n++ {
		}
		d.statement = fmt.Sprintf("What is the smallest positive integer that leaves a remainder of %d when divided by %d, "+
			"a remainder of %d when divided by %d, and a remainder of %d when divided by %d?", r1, mods[0], r2, mods[1], r3, mods[2])
		d.answer = itoa(n)
		d.unknowns, d.operations, d.steps = 1, 6, 6
	}
	return d
}

// ---- greatest common divisors and least common multiples ----

// euclidSteps counts the divisions Euclid's algorithm takes on a and b.
func euclidSteps(a, b int64) int {
	n := 0
	for b != 0 {
		a, b = b, a%b
		n++
	}
	return n
}

func genGCD(r *rand.Rand, level int) draft {
	d := draft{operations: 1}
	switch level {
	case 1:
		g := between(r, 2, 12)
		a, b := g*between(r, 1, 8), g*between(r, 1, 8)
		if a == b {
			b += g
		}
		d.statement = fmt.Sprintf("What is the greatest common divisor of $%d$ and $%d$?", a, b)
		d.answer, d.steps = itoa(gcd(a, b)), 1+euclidSteps(max(a, b), min(a, b))/2
	case 2:
		a, b := between(r, 4, 30), between(r, 4, 30)
		if a == b {
			b++
		}
		d.statement = fmt.Sprintf("What is the least common multiple of $%d$ and $%d$?", a, b)
		d.answer, d.steps = itoa(lcm(a, b)), 2
	case 3:
		g := between(r, 5, 60)
		a, b := g*between(r, 3, 30), g*between(r, 3, 30)
		if a == b {
			b += g
		}
		d.statement = fmt.Sprintf("What is the greatest common divisor of $%d$ and $%d$?", a, b)
		d.answer, d.steps = itoa(gcd(a, b)), euclidSteps(max(a, b), min(a, b))
	case 4:
		a, b, c := between(r, 4, 40), between(r, 4, 40), between(r, 4, 40)
		if r.IntN(2) == 0 {
			g := between(r, 2, 15)
			a, b, c = a*g, b*g, c*g
			d.statement = fmt.Sprintf("What is the greatest common divisor of $%d$, $%d$ and $%d$?", a, b, c)
			d.answer = itoa(gcd(gcd(a, b), c))
		} else {
			d.statement = fmt.Sprintf("What is the least common multiple of $%d$, $%d$ and $%d$?", a, b, c)
			d.answer = itoa(lcm(lcm(a, b), c))
		}
		d.operations, d.steps = 2, 4
	default:
		if r.IntN(2) == 0 {
			a, b, c := between(r, 4, 30), between(r, 4, 30), between(r, 4, 30)
			d.statement = fmt.Sprintf("Three lights blink every %d, %d and %d seconds. They blink together now. After how many seconds will they next blink together?", a, b, c)
			d.answer = itoa(lcm(lcm(a, b), c))
			d.operations, d.steps = 2, 5
		} else {
			g := between(r, 3, 30)
			a, b := g*between(r, 2, 20), g*between(r, 2, 20)
			if a == b {
				b += g
			}
			d.statement = fmt.Sprintf("What is the sum of the greatest common divisor and the least common multiple of $%d$ and $%d$?", a, b)
			d.answer = itoa(gcd(a, b) + lcm(a, b))
			d.operations, d.steps = 3, 2+euclidSteps(max(a, b), min(a, b))
		}
	}
	return d
}

// ---- probability ----

var colors = []string{"red", "blue", "green", "white", "black", "yellow"}

const probSuffix = " Express your answer as a common fraction."

func genProbability(r *rand.Rand, level int) draft {
	d := draft{operations: 1, steps: 1}
	var p rat
	switch level {
	case 1: // one draw
		c := r.Perm(len(colors))
		x, y, z := between(r, 1, 15), between(r, 1, 15), between(r, 0, 10)
		bag := fmt.Sprintf("%d %s, %d %s", x, colors[c[0]], y, colors[c[1]])
		if z > 0 {
			bag += fmt.Sprintf(" and %d %s", z, colors[c[2]])
		}
		d.statement = fmt.Sprintf("A bag contains %s marbles. One marble is drawn at random. What is the probability that it is %s?", bag, colors[c[0]])
		p = newRat(x, x+y+z)
	case 2: // dice
		d.steps = 2
		if r.IntN(2) == 0 {
			s := between(r, 3, 11)
			d.statement = fmt.Sprintf("Two fair six-sided dice are rolled. What is the probability that the sum of the numbers shown is %d?", s)
			p = newRat(6-abs(s-7), 36)
		} else {
			sides := pick(r, int64(6), 8, 10, 12, 20)
			k := between(r, 1, sides-2)
			d.statement = fmt.Sprintf("A fair %d-sided die numbered 1 to %d is rolled. What is the probability that the number shown is greater than %d?", sides, sides, k)
			p = newRat(sides-k, sides)
		}
	case 3: // coins
		n := between(r, 3, 10)
		k := between(r, 1, n-1)
		d.statement = fmt.Sprintf("A fair coin is flipped %d times. What is the probability of getting exactly %s?", n, plural(k, "head", "heads"))
		p = newRat(choose(n, k), ipow(2, n))
		d.operations, d.steps = 2, 3
	case 4: // two draws without replacement
		a, b := between(r, 2, 12), between(r, 2, 12)
		c := r.Perm(len(colors))
		if r.IntN(2) == 0 {
			d.statement = fmt.Sprintf("A box holds %d %s and %d %s balls. Two balls are drawn at random without replacement. What is the probability that both are %s?",
				a, colors[c[0]], b, colors[c[1]], colors[c[0]])
			p = newRat(a*(a-1), (a+b)*(a+b-1))
		} else {
			d.statement = fmt.Sprintf("A box holds %d %s and %d %s balls. Two balls are drawn at random without replacement. What is the probability that they are different colors?",
				a, colors[c[0]], b, colors[c[1]])
			p = newRat(2*a*b, (a+b)*(a+b-1))
		}
		d.operations, d.steps = 3, 4
	default:
		d.steps = 5
		if r.IntN(2) == 0 {
			n := between(r, 2, 5)
			d.statement = fmt.Sprintf("A fair six-sided die is rolled %d times. What is the probability of rolling at least one six?", n)
			p = ratInt(1).sub(newRat(ipow(5, n), ipow(6, n)))
			d.operations = 3
		} else {
			a, b := between(r, 3, 10), between(r, 3, 10)
			c := r.Perm(len(colors))
			d.statement = fmt.Sprintf("A jar holds %d %s and %d %s candies. Three candies are taken at random without replacement. What is the probability that exactly two of them are %s?",
				a, colors[c[0]], b, colors[c[1]], colors[c[0]])
			p = newRat(choose(a, 2)*b, choose(a+b, 3))
			d.operations = 4
		}
	}
	if p.isZero() || p.isInt() {
		return genProbability(r, level)
	}
	d.statement += probSuffix
	d.answer = p.latex()
	return d
}
