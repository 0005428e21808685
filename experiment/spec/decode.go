package spec

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// decoder fills Go values from a YAML node tree, strictly: unknown keys,
// duplicate keys and values of the wrong type are errors, and decoding goes on
// after an error so that every problem is reported at once.
type decoder struct {
	where  func(*yaml.Node) position
	pos    map[string]position // field path → where its value was written
	errs   Errors
	visits int // nodes decoded so far, bounded by maxDecodeVisits
}

// maxDecodeVisits bounds decoding work: YAML aliases can make a small file
// expand exponentially ("billion laughs"), and no real spec comes close.
const maxDecodeVisits = 200_000

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, d.where(n).errorf(field, format, args...))
}

// defaulter is implemented by list elements and optional blocks whose fields
// have defaults of their own; it runs before the element is decoded.
type defaulter interface{ setDefaults() }

// oneOf is implemented by blocks that hold exactly one of several
// alternatives: a file that writes the block replaces the default
// alternative instead of adding to it.
type oneOf interface{ clearAlternatives() }

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if d.visits++; d.visits > maxDecodeVisits {
		if d.visits == maxDecodeVisits+1 {
			d.fail(n, path, "spec too large once aliases are expanded (more than %d values)", maxDecodeVisits)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if path != "" {
		d.pos[path] = d.where(n)
	}
	if s, ok := v.Addr().Interface().(scalar); ok && n.Kind == yaml.ScalarNode && !isNull(n) {
		if err := s.parseScalar(n.Value); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	if isNull(n) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		default:
			d.fail(n, path, "missing value (want %s)", describe(v.Type()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			if def, ok := v.Interface().(defaulter); ok {
				def.setDefaults()
			}
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Array:
		d.decodeArray(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "wrong type (got %s; want a mapping)", nodeKind(n))
		return
	}
	if alt, ok := v.Addr().Interface().(oneOf); ok {
		alt.clearAlternatives()
	}
	fields := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		if !fieldLike(name) {
			// Not a field name at all: an included file that is not a spec
			// (a password file) has its lines for keys; they stay out of
			// the message.
			d.fail(key, path, "a key of %d bytes that is no field name (want one of %s)", len(name), strings.Join(fields.names, ", "))
			continue
		}
		fieldPath := join(path, name)
		if first, dup := seen[name]; dup {
			d.fail(key, fieldPath, "duplicate key (first set at line %d)", first.Line)
			continue
		}
		seen[name] = key
		idx, ok := fields.index[name]
		if !ok {
			msg := fmt.Sprintf("unknown field %q", name)
			if s := Suggest(name, fields.names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (want one of %s)", strings.Join(fields.names, ", "))
			}
			d.fail(key, join(path, name), "%s", msg)
			continue
		}
		d.decode(val, v.Field(idx), fieldPath)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "wrong type (got %s; want a mapping)", nodeKind(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		keyPath := join(path, key.Value)
		if line, dup := seen[key.Value]; dup {
			d.fail(key, keyPath, "duplicate key (first set at line %d)", line)
			continue
		}
		seen[key.Value] = key.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, keyPath)
		v.SetMapIndex(reflect.ValueOf(key.Value).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "wrong type (got %s; want a list)", nodeKind(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		elem := out.Index(i)
		if def, ok := elem.Addr().Interface().(defaulter); ok {
			def.setDefaults()
		}
		d.decode(item, elem, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func (d *decoder) decodeArray(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
		d.fail(n, path, "wrong type (got %s; want a list of %d)", nodeKind(n), v.Len())
		return
	}
	for i, item := range n.Content {
		d.decode(item, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "wrong type (got %s; want %s)", nodeKind(n), describe(v.Type()))
		return
	}
	text := n.Value
	bad := func() { d.fail(n, path, "wrong type (got %q; want %s)", text, describe(v.Type())) }
	switch v.Kind() {
	case reflect.String:
		if n.Tag == "!!bool" {
			// A bare yes/true where text was meant is almost always a mistake.
			bad()
			return
		}
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil || n.Tag != "!!bool" {
			bad()
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, v.Type().Bits())
		if err != nil || n.Tag != "!!int" {
			bad()
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(strings.ReplaceAll(text, "_", ""), 0, v.Type().Bits())
		if err != nil || n.Tag != "!!int" {
			bad()
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		if n.Tag != "!!int" && n.Tag != "!!float" {
			bad()
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil {
			// YAML spells infinities and NaN its own way; all are refused.
			d.fail(n, path, "not a finite number (got %q)", text)
			return
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			d.fail(n, path, "not a finite number (got %q)", text)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, path, "unsupported field type %s", v.Type())
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldLike reports whether a key could be a (misspelled) field name:
// letters, digits and underscores, at most 40 of them.
func fieldLike(key string) bool {
	if key == "" || len(key) > 40 {
		return false
	}
	for _, c := range key {
		if !(c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		// An included file that is not YAML (a password file, a key) is one
		// long scalar: its contents stay out of the message.
		if len(n.Value) > 40 || strings.ContainsAny(n.Value, "\n\r") {
			return fmt.Sprintf("a text of %d bytes", len(n.Value))
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// describe names what a value of type t looks like in YAML.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return t.String()
}

// Suggest returns the known name closest to a misspelled one, if any is
// close: for spec fields, and for the command line's commands.
func Suggest(name string, known []string) string {
	best, bestDist := "", math.MaxInt
	for _, k := range known {
		dist := levenshtein.ComputeDistance(strings.ToLower(name), k)
		if dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if bestDist <= max(2, len(name)/3) {
		return best
	}
	return ""
}

// structFields indexes a struct type's YAML keys.
type structFields struct {
	names []string       // YAML keys in declaration order
	index map[string]int // YAML key → field index
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		f.names = append(f.names, name)
		f.index[name] = i
	}
	fieldCache.Store(t, f)
	return f
}

// yamlName is the key of a struct field, or "" for a field that is not in YAML.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}
