package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxSpecBytes bounds a spec file: specs are small, and a huge or endless
// input must not exhaust memory before it is rejected.
const maxSpecBytes = 4 << 20

// Loader reads specs. The zero value reads from the file system.
type Loader struct {
	// ReadFile reads a spec or an included file; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Load reads, merges, overrides, decodes, defaults and validates the spec at
// path. sets are --set overrides ("train.steps=50"), applied after includes.
// A returned error is an Errors listing every problem found.
func Load(path string, sets ...string) (*Spec, error) {
	return Loader{}.Load(path, sets...)
}

// Load is the package-level Load with this loader's file access.
func (l Loader) Load(path string, sets ...string) (*Spec, error) {
	st := &loadState{loader: l, files: map[*yaml.Node]string{}}
	root := st.readTree(path, nil, position{file: path})
	if len(st.errs) > 0 {
		return nil, st.errs.sorted()
	}
	if root == nil {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		st.files[root] = path
	}
	for _, arg := range sets {
		st.applySet(root, arg)
	}

	s := Default()
	dec := &decoder{where: st.where, pos: map[string]position{}}
	dec.decode(root, reflect.ValueOf(s).Elem(), "")
	s.Include = nil
	s.resolve()
	v := &validator{pos: dec.pos, file: path}
	v.check(s)
	// A field that failed to decode kept its default, so rule checks about it
	// would only repeat the decoding error in other words.
	errs := append(st.errs, dec.errs...)
	for _, e := range v.errs {
		if !underAny(e.Field, dec.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return s, nil
}

func underAny(field string, errs Errors) bool {
	for _, e := range errs {
		if e.Field != "" && (field == e.Field || strings.HasPrefix(field, e.Field+".") || strings.HasPrefix(field, e.Field+"[")) {
			return true
		}
	}
	return false
}

type loadState struct {
	loader Loader
	files  map[*yaml.Node]string // every node → the file (or --set) it came from
	errs   Errors
}

func (st *loadState) where(n *yaml.Node) position {
	file := st.files[n]
	if strings.HasPrefix(file, "--set ") {
		return position{file: file} // a line within a one-line value says nothing
	}
	return position{file: file, line: n.Line, col: n.Column}
}

func (st *loadState) read(name string) ([]byte, error) {
	if st.loader.ReadFile != nil {
		return st.loader.ReadFile(name)
	}
	// A FIFO or a device would block the open or never end: only a regular
	// file is read (a symlink to one is fine).
	info, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxSpecBytes)
	}
	return data, nil
}

// readTree parses path and the files it includes into one merged mapping
// node: includes first, in order, then the file itself on top. chain holds
// the files being read, to reject include cycles; at is where path was named.
func (st *loadState) readTree(path string, chain []string, at position) *yaml.Node {
	for _, p := range chain {
		if filepath.Clean(p) == filepath.Clean(path) {
			cycle := strings.Join(append(chain, path), " → ")
			st.errs = append(st.errs, at.errorf("include", "include cycle: %s", cycle))
			return nil
		}
	}
	data, err := st.read(path)
	if err != nil {
		if len(chain) == 0 {
			st.errs = append(st.errs, Error{File: path, Msg: "cannot read spec: " + describeReadError(err)})
		} else {
			st.errs = append(st.errs, at.errorf("include", "cannot read %q: %s", path, describeReadError(err)))
		}
		return nil
	}
	if e, bad := notText(path, data); bad {
		st.errs = append(st.errs, e)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		st.errs = append(st.errs, yamlSyntaxError(path, err))
		return nil
	}
	var root *yaml.Node
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if root == nil || isNull(root) {
		return nil // an empty file is an empty spec
	}
	st.label(root, path)
	if root.Kind != yaml.MappingNode {
		st.errs = append(st.errs, st.where(root).errorf("", "a spec is a mapping of fields (got %s)", nodeKind(root)))
		return nil
	}

	includes, includeNodes := st.takeIncludes(root)
	var merged *yaml.Node
	for i, inc := range includes {
		incPath := inc
		if !filepath.IsAbs(incPath) {
			incPath = filepath.Join(filepath.Dir(path), inc)
		}
		sub := st.readTree(incPath, append(chain, path), st.where(includeNodes[i]))
		if sub != nil {
			merged = mergeNodes(merged, sub)
		}
	}
	return mergeNodes(merged, root)
}

// takeIncludes removes the include key from a file's root mapping and returns
// the named files with the nodes that named them.
func (st *loadState) takeIncludes(root *yaml.Node) ([]string, []*yaml.Node) {
	var names []string
	var nodes []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "include" {
			continue
		}
		val := root.Content[i+1]
		switch val.Kind {
		case yaml.ScalarNode:
			if !isNull(val) {
				names, nodes = append(names, val.Value), append(nodes, val)
			}
		case yaml.SequenceNode:
			for _, item := range val.Content {
				if item.Kind != yaml.ScalarNode {
					st.errs = append(st.errs, st.where(item).errorf("include", "wrong type (got %s; want a file name)", nodeKind(item)))
					continue
				}
				names, nodes = append(names, item.Value), append(nodes, item)
			}
		default:
			st.errs = append(st.errs, st.where(val).errorf("include", "wrong type (got %s; want a file name or a list of them)", nodeKind(val)))
		}
		root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
		i -= 2
	}
	return names, nodes
}

func (st *loadState) label(n *yaml.Node, file string) {
	if n == nil {
		return
	}
	if _, done := st.files[n]; done {
		return // aliases share nodes
	}
	st.files[n] = file
	for _, c := range n.Content {
		st.label(c, file)
	}
	st.label(n.Alias, file)
}

// mergeNodes deep-merges over onto base: mappings merge key by key, anything
// else in over replaces what base had. Nodes keep their origin so errors
// point at the file that set the value.
func mergeNodes(base, over *yaml.Node) *yaml.Node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := *base
	out.Content = append([]*yaml.Node(nil), base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		key, val := over.Content[i], over.Content[i+1]
		j := mappingIndex(&out, key.Value)
		if j < 0 {
			out.Content = append(out.Content, key, val)
			continue
		}
		out.Content[j] = key
		out.Content[j+1] = mergeNodes(out.Content[j+1], val)
	}
	return &out
}

func mappingIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// applySet applies one --set PATH=VALUE override to the merged tree. The
// value is parsed as YAML, so lists and numbers keep their types; the path is
// checked by the decoder like any key in a file.
func (st *loadState) applySet(root *yaml.Node, arg string) {
	origin := "--set " + arg
	fail := func(format string, args ...any) {
		st.errs = append(st.errs, Error{File: origin, Msg: fmt.Sprintf(format, args...)})
	}
	path, value, ok := strings.Cut(arg, "=")
	if !ok {
		fail("want PATH=VALUE, e.g. train.steps=50")
		return
	}
	segments, err := splitPath(path)
	if err != nil {
		fail("bad path %q: %v", path, err)
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		fail("value %q is not valid YAML: %v", value, cleanYAMLError(err))
		return
	}
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	if len(doc.Content) > 0 {
		val = doc.Content[0]
	}
	st.label(val, origin)

	cur := root
	for i, seg := range segments {
		last := i == len(segments)-1
		if idx, isIndex := seg.index(); isIndex {
			if cur.Kind != yaml.SequenceNode {
				fail("%s: not a list, so %q cannot index it", joinSegments(segments[:i]), seg)
				return
			}
			if idx >= len(cur.Content) {
				fail("%s: index %d out of range (the list has %s)", joinSegments(segments[:i]), idx, plural(len(cur.Content), "item"))
				return
			}
			if last {
				cur.Content[idx] = val
				return
			}
			cur = cur.Content[idx]
			continue
		}
		if cur.Kind != yaml.MappingNode {
			fail("%s: not a mapping, so it has no field %q", joinSegments(segments[:i]), seg)
			return
		}
		j := mappingIndex(cur, string(seg))
		if j < 0 {
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(seg)}
			st.files[key] = origin
			next := val
			if !last {
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				st.files[next] = origin
			}
			cur.Content = append(cur.Content, key, next)
			cur = next
			continue
		}
		st.files[cur.Content[j]] = origin
		if last {
			cur.Content[j+1] = val
			return
		}
		cur = cur.Content[j+1]
	}
}

type segment string

func (s segment) index() (int, bool) {
	i, err := strconv.Atoi(string(s))
	return i, err == nil && i >= 0
}

// splitPath splits a dotted override path; list items are addressed as
// arms[1] or arms.1.
func splitPath(path string) ([]segment, error) {
	if path == "" {
		return nil, errors.New("empty")
	}
	var out []segment
	for _, part := range strings.Split(path, ".") {
		name, rest, hasIndex := strings.Cut(part, "[")
		if name == "" && !hasIndex {
			return nil, errors.New("empty field name")
		}
		if name != "" {
			out = append(out, segment(name))
		}
		for hasIndex {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			if _, err := strconv.Atoi(idx); err != nil {
				return nil, fmt.Errorf("list index %q is not a number", idx)
			}
			out = append(out, segment(idx))
			_, rest, hasIndex = strings.Cut(rest, "[")
		}
	}
	return out, nil
}

func joinSegments(segs []segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = string(s)
	}
	if len(parts) == 0 {
		return "the spec"
	}
	return strings.Join(parts, ".")
}

func describeReadError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// notText finds the first byte of data that YAML text cannot hold —
// invalid UTF-8, or a control character other than tab, newline and
// carriage return — and says where it is: yaml.v3 reports those without a
// line, which for a binary file named by mistake says nothing.
func notText(file string, data []byte) (Error, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf("not UTF-8 text (byte 0x%02x): a spec is a YAML text file", data[i])}, true
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf("control character U+%04X: a spec is a YAML text file", r)}, true
		case r == '\n':
			line, col = line+1, 1
		default:
			col++
		}
		i += size
	}
	return Error{}, false
}

// yamlSyntaxError turns yaml.v3's "yaml: line N: msg" into a located Error.
func yamlSyntaxError(file string, err error) Error {
	msg := cleanYAMLError(err)
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = n, tail
			}
		}
	}
	e := Error{File: file, Line: line, Msg: "YAML syntax: " + msg}
	if line > 0 {
		e.Col = 1
	}
	return e
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
