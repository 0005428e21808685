package results

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// laptops are the screens the page's first screen is checked at: the two
// commonest laptop viewports.
var laptops = []struct{ width, height int }{{1366, 768}, {1280, 800}}

// TestIndexHTMLFirstScreenInChromium lays out index.html in headless
// Chromium at laptop sizes and checks that the headline table is on the
// first screen, whole, and that no table (provenance opened) is wider than
// the screen: the synthetic runs' pages, and the pages of the committed
// experiments where `make results` (or a run) has built them. It saves a
// screenshot of each first screen under $RELIX_SCREENSHOT_DIR (a temporary
// directory when unset). The last cases move the headline table down and
// add a table wider than the screen, and check that the check says so.
func TestIndexHTMLFirstScreenInChromium(t *testing.T) {
	browser := os.Getenv("RELIX_CHROMIUM")
	if browser == "" {
		t.Skip("set RELIX_CHROMIUM to the chromium binary to run")
	}
	shots := os.Getenv("RELIX_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	root := t.TempDir()
	type page struct{ name, path string }
	var pages []page
	for _, src := range []string{pairedData, sweepData} {
		dir := filepath.Join(root, filepath.Base(src))
		resultstest.CopyDir(t, src, dir)
		_, err := Build(dir, RenderOptions{})
		require.NoError(t, err)
		pages = append(pages, page{"synthetic-" + filepath.Base(src), filepath.Join(dir, IndexFile)})
	}
	built, err := filepath.Glob("*/" + IndexFile)
	require.NoError(t, err)
	nested, err := filepath.Glob("*/*/" + IndexFile)
	require.NoError(t, err)
	for _, path := range append(built, nested...) {
		abs, err := filepath.Abs(path)
		require.NoError(t, err)
		pages = append(pages, page{strings.ReplaceAll(filepath.Dir(path), string(filepath.Separator), "-"), abs})
	}
	for _, p := range pages {
		for _, screen := range laptops {
			l := measureLayout(t, browser, root, p.path, screen.width, screen.height)
			t.Logf("%s at %dx%d (viewport %.0fx%.0f): headline table %.0f–%.0f px down, to %.0f px across",
				p.name, screen.width, screen.height, l.width, l.height, l.headline.top, l.headline.bottom, l.headline.right)
			assert.NoError(t, l.firstScreen(), "%s at %dx%d", p.path, screen.width, screen.height)
			shot := filepath.Join(shots, fmt.Sprintf("%s-%dx%d.png", p.name, screen.width, screen.height))
			screenshot(t, browser, root, p.path, shot, screen.width, screen.height)
			t.Logf("screenshot: %s", shot)
		}
	}

	// A page that hides its answer or scrolls sideways fails: the check is
	// shown to catch what it is for.
	for _, c := range []struct {
		name, before, insert, want string
	}{
		{"moved-down", `<div id="headline">`, `<div style="height: 700px">a long preamble</div>`, "headline table ends at"},
		{"too-wide", `<section id="provenance">`, `<table id="wide"><tr><td style="min-width: 1500px">a wide table</td></tr></table>`, "tables wider than the screen"},
	} {
		t.Run(c.name, func(t *testing.T) {
			html, err := os.ReadFile(pages[0].path)
			require.NoError(t, err)
			require.Contains(t, string(html), c.before)
			html = bytes.Replace(html, []byte(c.before), []byte(c.insert+"\n"+c.before), 1)
			edited := filepath.Join(root, c.name+".html")
			require.NoError(t, os.WriteFile(edited, html, 0o644))
			screen := laptops[0]
			l := measureLayout(t, browser, root, edited, screen.width, screen.height)
			assert.ErrorContains(t, l.firstScreen(), c.want)
			screenshot(t, browser, root, edited, filepath.Join(shots, c.name+".png"), screen.width, screen.height)
		})
	}
}

// rect is an element's box in CSS pixels, relative to the first screen.
type rect struct{ top, bottom, left, right float64 }

// pageLayout is what the measuring script reports of a laid-out page.
type pageLayout struct {
	width, height float64  // the viewport, scrollbars excluded
	headline      rect     // the headline table; zero when the page has none
	found         bool     // the page has a headline table
	overflow      []string // tables whose right edge passes the viewport: "id:right"
	scrollWidth   float64  // the document's width: more than the viewport scrolls sideways
}

// firstScreen says what keeps the page from showing its answer on the
// first screen: no headline table, one that starts or ends off the screen,
// or any table that would need sideways scrolling.
func (l pageLayout) firstScreen() error {
	var errs []error
	switch {
	case !l.found:
		errs = append(errs, errors.New("the page has no headline table"))
	case l.headline.top < 0 || l.headline.bottom > l.height:
		errs = append(errs, fmt.Errorf("headline table ends at %.0f px, below the first screen (%.0f px)", l.headline.bottom, l.height))
	case l.headline.right > l.width:
		errs = append(errs, fmt.Errorf("headline table is %.0f px wide, wider than the screen (%.0f px)", l.headline.right, l.width))
	}
	if len(l.overflow) > 0 {
		errs = append(errs, fmt.Errorf("tables wider than the screen (%.0f px): %s", l.width, strings.Join(l.overflow, ", ")))
	}
	if l.scrollWidth > l.width {
		errs = append(errs, fmt.Errorf("the page scrolls sideways: %.0f px wide in a %.0f px screen", l.scrollWidth, l.width))
	}
	return errors.Join(errs...)
}

// measureScript runs once the page has loaded: it writes the viewport and
// the headline table's box onto <html> for --dump-dom, then opens every
// collapsed section and lists the tables that reach past the viewport.
const measureScript = `<script>
window.addEventListener("load", function () {
  var root = document.documentElement, w = root.clientWidth, h = root.clientHeight;
  root.setAttribute("data-viewport", w + " " + h);
  var head = document.querySelector("#headline table");
  if (head) {
    var r = head.getBoundingClientRect();
    root.setAttribute("data-headline", [r.top, r.bottom, r.left, r.right].join(" "));
  }
  var details = document.querySelectorAll("details");
  for (var i = 0; i < details.length; i++) { details[i].open = true; }
  var wide = [], tables = document.querySelectorAll("table");
  for (var j = 0; j < tables.length; j++) {
    var right = tables[j].getBoundingClientRect().right;
    if (right > w + 0.5) { wide.push((tables[j].id || "table " + j) + ":" + Math.round(right)); }
  }
  root.setAttribute("data-overflow", wide.join(" "));
  root.setAttribute("data-scroll-width", root.scrollWidth);
});
</script>
`

// measureLayout lays out a copy of page, with the measuring script, at a
// width × height window and reads back what the script wrote. The copy is
// written under tmp, never next to the page: a results directory holds only
// what relix writes there. The page embeds everything it shows, so the copy
// renders as the page does.
func measureLayout(t *testing.T, browser, tmp, page string, width, height int) pageLayout {
	t.Helper()
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	measured, err := os.CreateTemp(tmp, "measured-*.html")
	require.NoError(t, err)
	_, err = measured.Write(bytes.Replace(html, []byte("</body>"), []byte(measureScript+"</body>"), 1))
	require.NoError(t, err)
	require.NoError(t, measured.Close())
	dom, stderr := chromium(t, browser, tmp, fmt.Sprintf("--window-size=%d,%d", width, height), "--dump-dom", "file://"+measured.Name())
	viewport := numbers(t, attr(dom, "data-viewport"))
	require.Len(t, viewport, 2, "the measuring script did not run:\n%s", stderr)
	l := pageLayout{width: viewport[0], height: viewport[1], scrollWidth: numbers(t, attr(dom, "data-scroll-width"))[0]}
	// Headless Chromium lays the page out in the window less the room a
	// browser's own bars take (139 px of 768 in Chromium 148, as on a real
	// laptop), and less any scrollbar: the check holds against what the
	// page sees, and a viewport far from the laptop's would check nothing.
	require.InDelta(t, float64(width), l.width, 20, "viewport width")
	require.LessOrEqual(t, l.height, float64(height), "viewport height")
	require.Greater(t, l.height, 0.75*float64(height), "viewport height")
	if box := numbers(t, attr(dom, "data-headline")); len(box) == 4 {
		l.found = true
		l.headline = rect{top: box[0], bottom: box[1], left: box[2], right: box[3]}
	}
	l.overflow = strings.Fields(attr(dom, "data-overflow"))
	return l
}

func numbers(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		require.NoError(t, err, "%q", s)
		out = append(out, v)
	}
	return out
}

// screenshot saves the first screen of page at width × height as a PNG.
func screenshot(t *testing.T, browser, tmp, page, path string, width, height int) {
	t.Helper()
	_, stderr := chromium(t, browser, tmp, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", width, height), "file://"+page)
	f, err := os.Open(path)
	require.NoError(t, err, "no screenshot:\n%s", stderr)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, width, img.Bounds().Dx())
}
