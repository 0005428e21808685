package results

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// columnsMarkdown is the column reference of one table as README.md shows it.
func columnsMarkdown(ti TableInfo) string {
	var b strings.Builder
	b.WriteString("| column | type | null | unit | meaning |\n|---|---|---|---|---|\n")
	for _, c := range ti.Columns {
		null := ""
		if c.Nullable {
			null = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", c.Name, c.Type, null, c.Unit, strings.ReplaceAll(c.Doc, "|", `\|`))
	}
	return b.String()
}

var columnsSection = regexp.MustCompile(`(?s)<!-- columns:begin (\w+) -->\n.*?<!-- columns:end -->\n`)

// TestReadmeDocumentsEveryColumn keeps the column tables of README.md equal
// to the declared schemas (-update rewrites them).
func TestReadmeDocumentsEveryColumn(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	tables := map[string]TableInfo{}
	for _, ti := range Schemas() {
		tables[ti.Name] = ti
	}
	seen := map[string]bool{}
	out := columnsSection.ReplaceAllStringFunc(string(readme), func(m string) string {
		name := columnsSection.FindStringSubmatch(m)[1]
		seen[name] = true
		ti, ok := tables[name]
		if !ok {
			t.Errorf("README.md documents a table %q that schema.go does not declare", name)
			return m
		}
		return "<!-- columns:begin " + name + " -->\n" + columnsMarkdown(ti) + "<!-- columns:end -->\n"
	})
	for name := range tables {
		assert.True(t, seen[name], "README.md has no column section for %s", name)
	}
	if *update {
		require.NoError(t, os.WriteFile("README.md", []byte(out), 0o644))
		return
	}
	assert.Equal(t, string(readme), out, "README.md's column tables differ from schema.go (go test ./results -run Readme -update)")
}
