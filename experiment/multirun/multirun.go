// Package multirun expands a command line's --set overrides into the
// experiments of a multirun: an override whose value lists several values
// (key=a,b,c) is swept, and the sweeps combine as a cross product, as in
// Hydra. Each combination is one experiment with its own results
// directory, named by the values it takes.
package multirun

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// MaxCombinations bounds a multirun: beyond it a typo (a long list pasted
// twice) is likelier than an intended sweep, and every combination is a
// whole experiment.
const MaxCombinations = 1024

// Combination is one experiment of a multirun.
type Combination struct {
	// Name is its directory under the multirun's root: the swept
	// overrides in command-line order, key=value joined by commas
	// (Hydra's override_dirname), with characters a path cannot hold
	// escaped.
	Name string `json:"name"`
	// Sets are every override it loads the spec with, single-valued, in
	// command-line order.
	Sets []string `json:"sets"`
	// Swept are the overrides of Sets that vary across the multirun.
	Swept []string `json:"swept"`
}

// override is one --set: its key and the values it takes.
type override struct {
	key    string
	values []string
}

// Expand returns the combinations of sets, the last swept key varying
// fastest. A set of one value applies to every combination; at least one
// set must list two or more values, and a key may be swept only once.
func Expand(sets []string) ([]Combination, error) {
	var ovs []override
	swept := map[string]bool{}
	total := 1
	for _, s := range sets {
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--set %s: want PATH=VALUE", s)
		}
		values, err := Split(value)
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
		if len(values) > 1 {
			if swept[key] {
				return nil, fmt.Errorf("--set %s: %s is swept twice; list every value in one --set", s, key)
			}
			swept[key] = true
			if dup := firstDuplicate(values); dup != "" {
				return nil, fmt.Errorf("--set %s: value %q is listed twice", s, dup)
			}
			total *= len(values)
			if total > MaxCombinations {
				return nil, fmt.Errorf("--set %s: the multirun would have more than %d combinations", s, MaxCombinations)
			}
		}
		ovs = append(ovs, override{key, values})
	}
	if len(swept) == 0 {
		return nil, errors.New("--multirun: no --set lists several values (e.g. --set train.lr=1e-6,3e-6)")
	}
	combos := []Combination{{}}
	for _, ov := range ovs {
		var next []Combination
		for _, c := range combos {
			for _, v := range ov.values {
				set := ov.key + "=" + v
				n := Combination{Sets: append(slices.Clone(c.Sets), set), Swept: slices.Clone(c.Swept)}
				if len(ov.values) > 1 {
					n.Swept = append(n.Swept, set)
				}
				next = append(next, n)
			}
		}
		combos = next
	}
	names := map[string]bool{}
	for i := range combos {
		parts := make([]string, len(combos[i].Swept))
		for j, s := range combos[i].Swept {
			parts[j] = escapeName(s)
		}
		combos[i].Name = strings.Join(parts, ",")
		if names[combos[i].Name] {
			return nil, fmt.Errorf("--multirun: two combinations share the directory name %q", combos[i].Name)
		}
		names[combos[i].Name] = true
	}
	return combos, nil
}

// Split splits a value on the commas outside brackets, braces and quotes:
// "0.3,0.4" is two values, "[1,2]" and "'a,b'" one each. An empty value
// in the list (a,,b or a trailing comma) is refused: it is a typo more
// often than a YAML null.
func Split(value string) ([]string, error) {
	var (
		out   []string
		depth int
		quote rune
		start int
	)
	for i, r := range value {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case r == ',' && depth == 0:
			out = append(out, value[start:i])
			start = i + 1
		}
	}
	out = append(out, value[start:])
	if len(out) > 1 {
		for _, v := range out {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("an empty value in the list %q", value)
			}
		}
	}
	return out, nil
}

// Sweeps reports whether any of sets lists several values: what a command
// without --multirun can point out when such a set fails to load.
func Sweeps(sets []string) bool {
	for _, s := range sets {
		_, value, _ := strings.Cut(s, "=")
		if values, err := Split(value); err == nil && len(values) > 1 {
			return true
		}
	}
	return false
}

// escapeName keeps a directory name one path element that every file
// system holds: a slash, a backslash, a NUL, a percent sign and the other
// characters URL path escaping changes (but for = and ,) are written
// %XX.
func escapeName(s string) string {
	e := url.PathEscape(s)
	e = strings.NewReplacer("%3D", "=", "%2C", ",").Replace(e)
	if e == "." || e == ".." {
		e = strings.ReplaceAll(e, ".", "%2E")
	}
	return e
}

func firstDuplicate(values []string) string {
	seen := map[string]bool{}
	for _, v := range values {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return ""
}
