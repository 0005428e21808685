package spec

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// JSONSchema returns a JSON Schema (draft 2020-12) of a spec file, generated
// from the same struct tags the decoder and validator use, so editors can
// complete and check specs. Fields tagged required:"true" — a spec's name,
// an arm's name and source, a sweep selector's name and kind — are required,
// since no default can stand for them; every other field has a default. An
// included file that holds only overrides has no name, so point an editor's
// schema at whole specs only. Cross-field rules are checked by
// `relix validate`.
func JSONSchema() []byte {
	root := schemaOf(reflect.TypeFor[Spec](), "")
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/relix-lab/relix/spec.schema.json"
	root["title"] = "relix experiment spec"
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("spec: schema: " + err.Error())
	}
	return append(out, '\n')
}

var scalarType = reflect.TypeFor[scalar]()

func schemaOf(t reflect.Type, tag reflect.StructTag) map[string]any {
	s := map[string]any{}
	if reflect.PointerTo(t).Implements(scalarType) {
		s = reflect.New(t).Interface().(scalar).schema()
	} else {
		switch t.Kind() {
		case reflect.Pointer:
			s = schemaOf(t.Elem(), "")
			s["type"] = []any{s["type"], "null"}
		case reflect.Struct:
			props := map[string]any{}
			var required []string
			for i := range t.NumField() {
				f := t.Field(i)
				name := yamlName(f)
				if name == "" {
					continue
				}
				props[name] = schemaOf(f.Type, f.Tag)
				if f.Tag.Get("required") == "true" {
					required = append(required, name)
				}
			}
			s["type"] = "object"
			s["properties"] = props
			if len(required) > 0 {
				s["required"] = required
			}
			s["additionalProperties"] = false
		case reflect.Map:
			s["type"] = []any{"object", "null"}
			s["additionalProperties"] = schemaOf(t.Elem(), "")
		case reflect.Slice:
			item := schemaOf(t.Elem(), "")
			if enum, ok := tag.Lookup("enum"); ok {
				item["enum"] = enumValues(enum)
			}
			s["type"] = []any{"array", "null"}
			s["items"] = item
			if v, ok := tagNumber(tag, "min"); ok {
				s["minItems"] = v
			}
		case reflect.Array:
			s["type"] = "array"
			s["items"] = schemaOf(t.Elem(), "")
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		case reflect.String:
			s["type"] = "string"
		case reflect.Bool:
			s["type"] = "boolean"
		case reflect.Int, reflect.Int64, reflect.Int32:
			s["type"] = "integer"
		case reflect.Uint64, reflect.Uint:
			s["type"] = "integer"
			s["minimum"] = 0
		case reflect.Float64:
			s["type"] = "number"
		}
	}
	if doc := tag.Get("doc"); doc != "" {
		s["description"] = doc
	}
	if t.Kind() == reflect.String {
		if enum, ok := tag.Lookup("enum"); ok {
			s["enum"] = enumValues(enum)
		}
		if p, ok := tag.Lookup("pattern"); ok {
			s["pattern"] = p
		}
	}
	if t.Kind() == reflect.Int || t.Kind() == reflect.Float64 || t.Kind() == reflect.Uint64 {
		for key, prop := range map[string]string{"min": "minimum", "max": "maximum", "xmin": "exclusiveMinimum", "xmax": "exclusiveMaximum"} {
			if v, ok := tagNumber(tag, key); ok {
				s[prop] = v
			}
		}
	}
	return s
}

func enumValues(enum string) []any {
	var out []any
	for _, v := range strings.Split(enum, ",") {
		out = append(out, v)
	}
	return out
}

func tagNumber(tag reflect.StructTag, key string) (float64, bool) {
	s, ok := tag.Lookup(key)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
