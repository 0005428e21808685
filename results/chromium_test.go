package results

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/relix-lab/relix/results/resultstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIndexHTMLInChromium opens the generated index.html of each synthetic
// run in headless Chromium (Debian's chromium package) and checks from the
// rendered DOM that the page's script ran, every plot decoded, and no
// resource failed. It runs when RELIX_CHROMIUM names the browser binary:
//
//	RELIX_CHROMIUM=$(command -v chromium) go test ./results -run Chromium -v
func TestIndexHTMLInChromium(t *testing.T) {
	browser := os.Getenv("RELIX_CHROMIUM")
	if browser == "" {
		t.Skip("set RELIX_CHROMIUM to the chromium binary to run")
	}
	root := t.TempDir()
	for _, src := range []string{pairedData, sweepData} {
		dir := filepath.Join(root, filepath.Base(src))
		resultstest.CopyDir(t, src, dir)
		rd, err := Build(dir, RenderOptions{})
		require.NoError(t, err)

		page := "file://" + filepath.Join(dir, IndexFile)
		dom, stderr := chromium(t, browser, root, "--dump-dom", page)
		t.Logf("%s: %d bytes of DOM", page, len(dom))

		total := attr(dom, "data-plots-total")
		require.NotEmpty(t, total, "the page did not render:\n%s", stderr)
		assert.Equal(t, strconv.Itoa(len(rd.Figures)), total)
		assert.Equal(t, total, attr(dom, "data-plots-loaded"), "every plot decodes")
		assert.Equal(t, "0", attr(dom, "data-errors"), "no resource failed to load")
		for _, f := range rd.Figures {
			assert.Contains(t, dom, `id="plot-`+f.Name+`"`)
		}
		for _, tb := range rd.Tables {
			assert.Contains(t, dom, `id="table-`+tb.Kind+`"`)
		}

		// A screenshot: the page paints (not blank) at the window's size.
		shot := filepath.Join(root, filepath.Base(src)+".png")
		_, stderr = chromium(t, browser, root, "--screenshot="+shot, "--window-size=1200,2400", "--hide-scrollbars", page)
		f, err := os.Open(shot)
		require.NoError(t, err, "no screenshot:\n%s", stderr)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, 1200, img.Bounds().Dx())
		colours := map[uint32]bool{}
		for y := 0; y < img.Bounds().Dy(); y += 7 {
			for x := 0; x < img.Bounds().Dx(); x += 7 {
				r, g, b, _ := img.At(x, y).RGBA()
				colours[r>>8<<16|g>>8<<8|b>>8] = true
			}
		}
		assert.Greater(t, len(colours), 20, "the screenshot shows plots, not a blank page")
	}
}

func chromium(t *testing.T, browser, tmp string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp(tmp, "chromium-profile-")
	require.NoError(t, err)
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--virtual-time-budget=10000"}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "chromium failed:\n%s", errOut.String())
	return out.String(), errOut.String()
}

// attr returns the value of the first attribute name="..." in html.
func attr(html, name string) string {
	m := regexp.MustCompile(regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(html)
	if m == nil {
		return ""
	}
	return m[1]
}
