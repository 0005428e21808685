package spec

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/relix-lab/relix/experiment/dataset"
)

// validator checks a decoded, resolved spec: the bounds declared in struct
// tags, then the rules that relate fields to each other.
type validator struct {
	pos  map[string]position
	file string
	errs Errors
}

// at returns where field was written, or where its nearest written parent
// was, so that a problem with a defaulted value still points somewhere useful.
func (v *validator) at(field string) position {
	for p := field; p != ""; p = parent(p) {
		if pos, ok := v.pos[p]; ok {
			return pos
		}
	}
	return position{file: v.file}
}

func parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func (v *validator) failf(field, format string, args ...any) {
	v.errs = append(v.errs, v.at(field).errorf(field, format, args...))
}

func (v *validator) check(s *Spec) {
	v.bounds(reflect.ValueOf(s).Elem(), "")
	v.rules(s)
}

// bounds enforces the enum, pattern, min, max, xmin and xmax tags everywhere.
func (v *validator) bounds(val reflect.Value, path string) {
	switch val.Kind() {
	case reflect.Pointer:
		if !val.IsNil() {
			v.bounds(val.Elem(), path)
		}
	case reflect.Struct:
		t := val.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			fv := val.Field(i)
			fp := join(path, name)
			v.checkTags(f.Tag, fv, fp)
			v.bounds(fv, fp)
		}
	case reflect.Slice, reflect.Array:
		for i := range val.Len() {
			v.bounds(val.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		keys := val.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.bounds(val.MapIndex(k), join(path, k.String()))
		}
	}
}

func (v *validator) checkTags(tag reflect.StructTag, val reflect.Value, path string) {
	if enum, ok := tag.Lookup("enum"); ok {
		allowed := strings.Split(enum, ",")
		check := func(s, p string) {
			if !slices.Contains(allowed, s) {
				v.failf(p, "invalid value (got %q; want %s)", s, oneOfList(allowed))
			}
		}
		switch val.Kind() {
		case reflect.String:
			check(val.String(), path)
		case reflect.Slice:
			for i := range val.Len() {
				check(val.Index(i).String(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	if pattern, ok := tag.Lookup("pattern"); ok && val.Kind() == reflect.String && val.String() != "" {
		if !regexp.MustCompile(pattern).MatchString(val.String()) {
			v.failf(path, "invalid name (got %q; want letters, digits, '.', '_' and '-', starting with a letter or digit)", val.String())
		}
	}
	var x float64
	var what string
	switch val.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		x, what = float64(val.Int()), strconv.FormatInt(val.Int(), 10)
	case reflect.Uint64:
		x, what = float64(val.Uint()), strconv.FormatUint(val.Uint(), 10)
	case reflect.Float64:
		x, what = val.Float(), strconv.FormatFloat(val.Float(), 'g', -1, 64)
	case reflect.Slice, reflect.Map:
		x, what = float64(val.Len()), fmt.Sprintf("%d items", val.Len())
	default:
		return
	}
	bound := func(key string) (float64, string, bool) {
		s, ok := tag.Lookup(key)
		if !ok {
			return 0, "", false
		}
		b, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(fmt.Sprintf("spec: bad %s tag %q on %s", key, s, path))
		}
		return b, s, true
	}
	if b, s, ok := bound("min"); ok && x < b {
		v.failf(path, "out of range (got %s; want ≥ %s)", what, s)
	}
	if b, s, ok := bound("xmin"); ok && x <= b {
		v.failf(path, "out of range (got %s; want > %s)", what, s)
	}
	if b, s, ok := bound("max"); ok && x > b {
		v.failf(path, "out of range (got %s; want ≤ %s)", what, s)
	}
	if b, s, ok := bound("xmax"); ok && x >= b {
		v.failf(path, "out of range (got %s; want < %s)", what, s)
	}
}

func oneOfList(allowed []string) string {
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	if len(shown) == 1 {
		return shown[0]
	}
	return "one of " + strings.Join(shown, ", ")
}

// rules are the checks that involve more than one field.
func (v *validator) rules(s *Spec) {
	if s.Name == "" {
		v.failf("name", "missing (every experiment needs a name; it names the results directory)")
	} else if why := badPathName(s.Name); why != "" {
		v.failf("name", "%s: the name names the results directory", why)
	}
	v.problemSet(s.Dataset.Train, "dataset.train")
	v.problemSet(s.Dataset.Heldout, "dataset.heldout")
	v.runner(s.Runner)
	v.cluster(s.Cluster)
	v.arms(s)
	v.eval(s)
	v.sweep(s.Sweep)
	v.limits(s)
	if len(s.Seeds) > 0 {
		seen := map[uint64]bool{}
		for i, seed := range s.Seeds {
			if seen[seed] {
				v.failf(fmt.Sprintf("seeds[%d]", i), "duplicate seed %d", seed)
			}
			seen[seed] = true
		}
	}
}

func (v *validator) problemSet(p ProblemSet, path string) {
	n := 0
	for _, set := range []bool{p.Generated != nil, p.JSONL != nil, p.Parquet != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.failf(path, "want exactly one of generated, jsonl, parquet (got %d)", n)
	}
	if g := p.Generated; g != nil && g.Levels != nil {
		if err := dataset.CheckLevels(g.Levels); err != nil {
			v.failf(path+".generated.levels", "%v", err)
		}
	}
	for _, alt := range []struct {
		kind string
		file *ProblemFile
	}{{"jsonl", p.JSONL}, {"parquet", p.Parquet}} {
		f := alt.file
		if f == nil {
			continue
		}
		fp := path + "." + alt.kind
		if f.Path == "" {
			v.failf(fp+".path", "missing (want the problem file's path)")
		}
	}
}

func (v *validator) runner(r Runner) {
	if r.Kind == "sim" {
		for _, f := range []setField{
			{"command", len(r.Command) > 0}, {"model", r.Model != ""}, {"dtype", r.Dtype != ""},
			{"device", r.Device != ""}, {"env", len(r.Env) > 0},
		} {
			if f.set {
				v.failf("runner."+f.name, "only used with runner.kind worker (got kind sim)")
			}
		}
	}
	if r.Kind == "worker" && len(r.Command) == 0 {
		v.failf("runner.command", "missing (runner.kind worker needs the worker's command line, e.g. \"relix worker --runner sim\")")
	}
}

// setField says whether a kind-specific field was given.
type setField struct {
	name string
	set  bool
}

func (v *validator) cluster(c Cluster) {
	if c.Kind != "local" {
		return
	}
	for _, f := range []setField{
		{"partition", c.Partition != ""}, {"gres", c.Gres != ""}, {"time", c.Time != ""},
		{"account", c.Account != ""}, {"sbatch_flags", len(c.SbatchFlags) > 0}, {"shared_dir", c.SharedDir != ""},
		{"binary", c.Binary != ""},
	} {
		if f.set {
			v.failf("cluster."+f.name, "only used with cluster.kind slurm (got kind local)")
		}
	}
}

// maxNameBytes bounds an experiment's or an arm's name, which become
// directory names (at most 255 bytes on common file systems, with room for
// what relix adds).
const maxNameBytes = 100

// badPathName says why name cannot name a directory of relix's, or "".
func badPathName(name string) string {
	switch {
	case len(name) > maxNameBytes:
		return fmt.Sprintf("%d bytes, longer than %d", len(name), maxNameBytes)
	case name == "." || name == "..":
		return fmt.Sprintf("%q is not a name", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Sprintf("%q holds a path separator or NUL", name)
	}
	return ""
}

func (v *validator) arms(s *Spec) {
	first := map[string]int{}
	for i, a := range s.Arms {
		path := fmt.Sprintf("arms[%d]", i)
		if a.Name == "" {
			v.failf(path+".name", "missing (every arm needs a unique name)")
		} else if why := badPathName(a.Name); why != "" {
			v.failf(path+".name", "%s: an arm's name names its runs' directories", why)
		} else if j, dup := first[a.Name]; dup {
			v.failf(path+".name", "duplicate arm name %q (arms[%d] has it too)", a.Name, j)
		} else {
			first[a.Name] = i
		}
		if a.Source != "uniform" {
			if a.Filter != "" {
				v.failf(path+".filter", "only used with source uniform (got source %s)", a.Source)
			}
		}
		if a.MaxGenRounds != 0 && a.Filter != "dynamic" {
			v.failf(path+".max_gen_rounds", "only used with filter dynamic")
		}
		if a.Source != "market" && a.Market != nil {
			v.failf(path+".market", "only used with source market (got source %s)", a.Source)
		}
		if a.Market != nil && a.Source == "market" {
			if a.Market.Auction != nil && !a.Market.Auctioned() {
				v.failf(path+".market.auction", "only used with market.kind auction")
			}
			if a.Market.Auctioned() && a.Market.MaxRounds != 0 {
				v.failf(path+".market.max_rounds", "only used by the race (an auction window ends at its deadline)")
			}
			honest := 0
			for _, g := range a.Market.Miners {
				if g.Behaviour == "honest" {
					honest += g.Count
				}
			}
			if honest == 0 {
				v.failf(path+".market.miners", "no honest miner: no window could ever fill")
			}
		}
	}
	for i, p := range s.Compare {
		path := fmt.Sprintf("compare[%d]", i)
		for j, name := range p {
			if _, ok := first[name]; !ok {
				msg := fmt.Sprintf("no arm named %q", name)
				if sug := Suggest(name, armNames(s)); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				} else {
					msg += fmt.Sprintf(" (arms: %s)", strings.Join(armNames(s), ", "))
				}
				v.failf(fmt.Sprintf("%s[%d]", path, j), "%s", msg)
			}
		}
		if p[0] == p[1] {
			v.failf(path, "compares arm %q with itself", p[0])
		}
		for j := range i {
			if s.Compare[j] == p {
				v.failf(path, "duplicate pair %s (compare[%d])", p, j)
			}
		}
	}
}

func armNames(s *Spec) []string {
	var names []string
	for _, a := range s.Arms {
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	return names
}

func (v *validator) eval(s *Spec) {
	seen := map[int]bool{}
	for i, k := range s.Eval.K {
		path := fmt.Sprintf("eval.k[%d]", i)
		if k < 1 {
			v.failf(path, "out of range (got %d; want ≥ 1)", k)
		}
		if k > s.Eval.Samples {
			v.failf(path, "pass@%d needs at least %d samples per problem (got eval.samples %d)", k, k, s.Eval.Samples)
		}
		if seen[k] {
			v.failf(path, "duplicate k %d", k)
		}
		seen[k] = true
	}
}

func (v *validator) sweep(sw Sweep) {
	for i, f := range sw.Grid {
		path := fmt.Sprintf("sweep.grid[%d]", i)
		if f <= 0 || f >= 1 {
			v.failf(path, "out of range (got %g; want an in-zone fraction in (0, 1))", f)
		}
		if i > 0 && f <= sw.Grid[i-1] {
			v.failf(path, "grid must increase (got %g after %g)", f, sw.Grid[i-1])
		}
	}
	names := map[string]int{}
	for i, sel := range sw.Selectors {
		if j, dup := names[sel.Name]; dup {
			v.failf(fmt.Sprintf("sweep.selectors[%d].name", i), "duplicate selector name %q (sweep.selectors[%d] has it too)", sel.Name, j)
		}
		names[sel.Name] = i
	}
}
