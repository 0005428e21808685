package multirun

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
		err   string
	}{
		{value: "0.3", want: []string{"0.3"}},
		{value: "0.3,0.43", want: []string{"0.3", "0.43"}},
		{value: "[1,2]", want: []string{"[1,2]"}},
		{value: "[1,2],[3]", want: []string{"[1,2]", "[3]"}},
		{value: "{a: 1, b: 2},{a: 3}", want: []string{"{a: 1, b: 2}", "{a: 3}"}},
		{value: "'a,b'", want: []string{"'a,b'"}},
		{value: `"a,b",c`, want: []string{`"a,b"`, "c"}},
		{value: "", want: []string{""}},
		{value: "a,,b", err: "empty value"},
		{value: "a,", err: "empty value"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			got, err := Split(tc.value)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExpand(t *testing.T) {
	combos, err := Expand([]string{"train.sigma_min=0.3,0.43", "seeds=[1,2]", "arms[1].name=a,b/c"})
	require.NoError(t, err)
	var names [][]string
	for _, c := range combos {
		names = append(names, []string{c.Name})
		assert.Contains(t, c.Sets, "seeds=[1,2]", "a single value applies to every combination")
	}
	assert.Equal(t, [][]string{
		{"train.sigma_min=0.3,arms%5B1%5D.name=a"},
		{"train.sigma_min=0.3,arms%5B1%5D.name=b%2Fc"},
		{"train.sigma_min=0.43,arms%5B1%5D.name=a"},
		{"train.sigma_min=0.43,arms%5B1%5D.name=b%2Fc"},
	}, names, "the last swept key varies fastest; a slash never makes a subdirectory")
	assert.Equal(t, []string{"train.sigma_min=0.43", "seeds=[1,2]", "arms[1].name=b/c"}, combos[3].Sets)
	assert.Equal(t, []string{"train.sigma_min=0.43", "arms[1].name=b/c"}, combos[3].Swept)
}

func TestExpandRefuses(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		err  string
	}{
		{[]string{"train.steps=5"}, "no --set lists several values"},
		{nil, "no --set lists several values"},
		{[]string{"train.steps"}, "want PATH=VALUE"},
		{[]string{"train.steps=1,2", "train.steps=3,4"}, "swept twice"},
		{[]string{"train.steps=1,2,1"}, `"1" is listed twice`},
		{[]string{"a=1,2,3,4,5,6,7,8", "b=1,2,3,4,5,6,7,8", "c=1,2,3,4,5,6,7,8", "d=1,2,3"}, "more than 1024"},
	} {
		_, err := Expand(tc.sets)
		require.ErrorContains(t, err, tc.err, "%v", tc.sets)
	}
}

func TestSweeps(t *testing.T) {
	assert.True(t, Sweeps([]string{"train.steps=5", "train.lr=1e-6,2e-6"}))
	assert.False(t, Sweeps([]string{"seeds=[1,2]", "name='a,b'"}))
}

func FuzzExpand(f *testing.F) {
	f.Add("train.lr=1e-6,2e-6", "seeds=[1,2]")
	f.Add("a='x,y',z", "b={c: [1,2]},{d: 3}")
	f.Fuzz(func(t *testing.T, a, b string) {
		combos, err := Expand([]string{a, b})
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, c := range combos {
			require.NotContains(t, c.Name, "/")
			require.False(t, names[c.Name], "duplicate name %q", c.Name)
			names[c.Name] = true
			require.Len(t, c.Sets, 2)
		}
	})
}
