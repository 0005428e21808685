package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"
)

// scalar is implemented by field types that decode from one YAML scalar with
// their own syntax. schemaType describes that syntax for the JSON Schema.
type scalar interface {
	parseScalar(text string) error
	schema() map[string]any
}

// Duration is a time.Duration written as Go writes it ("90s", "5m", "1h30m").
type Duration time.Duration

func (d *Duration) parseScalar(text string) error {
	v, err := time.ParseDuration(text)
	if err != nil || v < 0 {
		return fmt.Errorf("not a duration (got %q; want e.g. 30s, 5m, 1h30m)", text)
	}
	*d = Duration(v)
	return nil
}

func (Duration) schema() map[string]any {
	return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
}

// MarshalYAML writes the duration as Go writes it.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalText makes the canonical JSON form use the same spelling.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Command is a command line: a YAML list of arguments, or one string split
// like a shell would (quotes respected, no expansion).
type Command []string

func (c *Command) parseScalar(text string) error {
	args, err := shlex.Split(text)
	if err != nil {
		return fmt.Errorf("cannot split command line %q: %v", text, err)
	}
	*c = args
	return nil
}

func (Command) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
}

// Cooldown is the number of steps before a prompt may be drawn again;
// Forever means each prompt is used at most once.
type Cooldown int

// Forever is the cooldown of a prompt that may be used only once.
const Forever Cooldown = math.MaxInt32

func (c *Cooldown) parseScalar(text string) error {
	if text == "forever" {
		*c = Forever
		return nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 || Cooldown(n) >= Forever {
		return fmt.Errorf("not a cooldown (got %q; want a number of steps ≥ 0 or forever)", text)
	}
	*c = Cooldown(n)
	return nil
}

func (Cooldown) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "integer", "minimum": 0},
		map[string]any{"const": "forever"},
	}}
}

// MarshalYAML writes forever by name.
func (c Cooldown) MarshalYAML() (any, error) {
	if c == Forever {
		return "forever", nil
	}
	return int(c), nil
}

// MarshalText makes the canonical JSON form use the same spelling.
func (c Cooldown) MarshalText() ([]byte, error) {
	if c == Forever {
		return []byte("forever"), nil
	}
	return []byte(strconv.Itoa(int(c))), nil
}

// String is the cooldown as it is written in a spec.
func (c Cooldown) String() string {
	b, _ := c.MarshalText()
	return string(b)
}

// Pair is decoded from a two-element list, or the string "A vs B".
func (p *Pair) parseScalar(text string) error {
	a, b, ok := strings.Cut(text, " vs ")
	if !ok {
		return fmt.Errorf("not a pair of arms (got %q; want [A, B] or \"A vs B\")", text)
	}
	*p = Pair{strings.TrimSpace(a), strings.TrimSpace(b)}
	return nil
}

func (Pair) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 2, "maxItems": 2},
		map[string]any{"type": "string", "pattern": "^.+ vs .+$"},
	}}
}

// String writes the pair as "A vs B".
func (p Pair) String() string { return p[0] + " vs " + p[1] }

// Includes names the files a spec includes: one name or a list. Includes are
// read by the loader before decoding; the type exists for the schema.
type Includes []string

func (in *Includes) parseScalar(text string) error {
	*in = Includes{text}
	return nil
}

func (Includes) schema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}}
}
