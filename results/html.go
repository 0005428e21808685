package results

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"
)

// index.html is one static page per results directory, in the order a
// reader asks: what was the question (the spec's description), what is the
// answer (one line, then the headline table), what it looks like (the
// plots), the detail (waste, every metric, every sweep point) and last,
// collapsed, where it came from (manifest, file hashes, spec). The tables
// fit a laptop screen: headers wrap, and a "value ± error" cell may wrap
// between the two. Plots are embedded as base64 PNG so the page needs no
// server and no other file. A small inline script marks on <html> how many
// plots decoded (data-plots-loaded) and how many resources failed
// (data-errors); the headless-browser test reads them.
var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{"cell": cellHTML}).Parse(`<!DOCTYPE html>
<html lang="en" data-plots-total="{{len .Figures}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="relix report">
<title>{{.Name}} · relix results</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 1rem auto 2rem; max-width: 84rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.4rem; border-bottom: 1px solid #ddd; padding-bottom: 0.15rem; }
h3 { font-size: 1.02rem; margin: 1.4rem 0 0.3rem; }
p { max-width: 60rem; }
p.question { font-size: 1.08rem; margin: 0 0 0.4rem; }
p.answer { font-size: 1.08rem; margin: 0 0 0.8rem; padding: 0.35rem 0.7rem; background: #eef5fb; border-left: 4px solid #0072b2; }
p.note, figcaption { color: #555; font-size: 0.85rem; margin: 0.2rem 0 0.6rem; }
table { border-collapse: collapse; font-size: 0.8rem; line-height: 1.3; margin: 0.3rem 0 0.4rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d0d0; padding: 0.15rem 0.32rem; text-align: right; }
th { background: #f4f4f4; vertical-align: bottom; font-weight: bold; }
td { white-space: nowrap; }
td .pm { white-space: normal; color: #444; }
td .br { white-space: normal; }
th.l, td.l { text-align: left; }
tr.answer td { background: #eef5fb; font-weight: bold; }
.wide { overflow-x: auto; max-width: 100%; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 34rem), 1fr)); gap: 0.5rem 1.2rem; }
figure { margin: 0.6rem 0 1.2rem; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; font-weight: bold; }
dl.manifest { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; font-size: 0.85rem; }
dl.manifest dt { font-weight: bold; }
dl.manifest dd { margin: 0; font-family: "Liberation Mono", monospace; overflow-wrap: anywhere; }
table.files td { white-space: normal; overflow-wrap: anywhere; }
table.files td.hash { font-family: "Liberation Mono", monospace; font-size: 0.8rem; }
pre { background: #f7f7f7; padding: 0.8rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8rem; }
</style>
</head>
<body>
<header>
<h1>{{.Name}}</h1>
{{with .Lead.Question}}<p class="question" id="question">{{.}}</p>
{{end}}{{with .Lead.Answer}}<p class="answer" id="answer">{{.Subject}}: <strong>{{.Value}}</strong>{{with .Rest}}, {{.}}{{end}}</p>
{{end}}</header>
{{with .Lead.Headline}}{{if .Rows}}<section id="results">
<div id="headline">
{{template "table" .}}</div>
{{range $.Lead.With}}{{template "table" .}}{{end}}</section>
{{end}}{{end}}
{{if .Figures}}<section id="plots">
<h2>Plots</h2>
<div class="plots">
{{range .Figures}}{{$name := .Name}}<figure id="plot-{{.Name}}">
<img class="plot" {{.Src}} alt="{{.Title}}" width="{{.Width}}" height="{{.Height}}">
<figcaption>{{.Caption}}{{range $i, $f := .Formats}}{{if $i}} ·{{end}} <a href="plots/{{$name}}.{{$f}}">{{$f}}</a>{{end}}</figcaption>
</figure>
{{end}}</div>
</section>
{{end}}
{{if .Lead.Detail}}<section id="detail">
<h2>Detail</h2>
{{range .Lead.Detail}}{{template "table" .}}{{end}}</section>
{{end}}
<section id="provenance">
<h2>Provenance</h2>
<p class="note">Rebuilt by <code>relix report</code> from the Parquet files of this directory{{with .Manifest}}, which the manifest lists with their SHA-256; spec hash <code>{{.SpecHash}}</code>{{end}}.</p>
{{with .Manifest}}<details id="manifest"><summary>Manifest</summary>
<dl class="manifest">
<dt>spec hash</dt><dd>{{.SpecHash}}</dd>
<dt>relix</dt><dd>{{.Relix.Version}} (commit {{.Relix.Commit}})</dd>
<dt>Go</dt><dd>{{.GoVersion}}</dd>
<dt>runner</dt><dd>{{.Runner.Name}} {{.Runner.Version}}</dd>
{{range .Datasets}}<dt>dataset {{.Name}}</dt><dd>{{.Source}}, {{.Problems}} problems, sha256 {{.SHA256}}</dd>
{{end}}<dt>arms</dt><dd>{{range $i, $a := .Arms}}{{if $i}}, {{end}}{{$a}}{{end}}</dd>
<dt>seeds</dt><dd>{{range $i, $s := .Seeds}}{{if $i}}, {{end}}{{$s}}{{end}}</dd>
<dt>started</dt><dd>{{$.Start}}</dd>
<dt>ended</dt><dd>{{$.End}} ({{$.Duration}})</dd>
{{range .Notes}}<dt>note</dt><dd>{{.}}</dd>
{{end}}</dl>
</details>
{{if .Files}}<details id="files"><summary>Data files ({{len .Files}}) and their SHA-256</summary>
<table class="files">
<tr><th class="l">file</th><th>bytes</th><th class="l">sha256</th></tr>
{{range .Files}}<tr><td class="l">{{.Path}}</td><td>{{.Size}}</td><td class="l hash">{{.SHA256}}</td></tr>
{{end}}</table>
</details>{{end}}
{{if .Spec}}<details id="spec"><summary>Resolved spec</summary>
<pre>{{.Spec}}</pre>
</details>{{end}}
{{end}}</section>
<script>
(function () {
  var root = document.documentElement, errors = 0;
  window.addEventListener("error", function () { errors++; root.setAttribute("data-errors", errors); }, true);
  root.setAttribute("data-errors", errors);
  window.addEventListener("load", function () {
    var loaded = 0, imgs = document.querySelectorAll("img.plot");
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth > 0) { loaded++; }
    }
    root.setAttribute("data-plots-loaded", loaded);
  });
})();
</script>
</body>
</html>
{{define "table"}}{{$labels := .LabelColumns}}{{$answer := eq .Kind "headline"}}<h3 id="table-{{.Kind}}">{{.Title}}</h3>
<div class="wide"><table id="{{.Kind}}">
<tr>{{range $i, $h := .Header}}<th{{if lt $i $labels}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range $r, $row := .Rows}}<tr{{if and $answer (eq $r 0)}} class="answer"{{end}}>{{range $i, $c := $row}}<td{{if lt $i $labels}} class="l"{{end}}>{{cell $c}}</td>{{end}}</tr>
{{end}}</table></div>
<p class="note">{{.Note}}</p>
{{end}}`))

type htmlFigure struct {
	Figure
	Src           template.HTMLAttr
	Width, Height int
	Formats       []string // the plot files written, linked under the figure
}

type htmlPage struct {
	Name       string
	Manifest   *Manifest
	Start, End string
	Duration   string
	Lead       lead
	Figures    []htmlFigure
}

func indexHTML(r *Run, tables []Table, figs []Figure, formats []string) ([]byte, error) {
	page := htmlPage{Name: r.Name, Manifest: r.Manifest, Lead: r.pageLead(tables)}
	if m := r.Manifest; m != nil {
		page.Start = m.Start.UTC().Format(time.RFC3339)
		page.End = m.End.UTC().Format(time.RFC3339)
		page.Duration = m.End.Sub(m.Start).Round(time.Second).String()
	}
	w, h := int(figWidth/vg.Inch*pngDPI), int(figHeight/vg.Inch*pngDPI)
	for _, f := range figs {
		// The attribute is built here from base64 (no quotes, no markup), so
		// marking it safe is sound; the template would otherwise escape
		// every + of the data URL.
		src := template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(f.PNG) + `"`)
		page.Figures = append(page.Figures, htmlFigure{Figure: f, Src: src, Width: w, Height: h, Formats: formats})
	}
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cellHTML lets a "value ± error" cell wrap between the value and its
// error, and a "[low, high]" interval after its comma, and nowhere else, so
// that a narrow screen stacks the two halves rather than scrolling the
// table sideways or parting a number from its unit; every other cell stays
// on one line. The space that may break is inside the span, whose
// white-space allows it.
func cellHTML(c string) template.HTML {
	if lo, hi, ok := strings.Cut(c, ", "); ok && strings.HasPrefix(lo, "[") && strings.HasSuffix(hi, "]") {
		return template.HTML(template.HTMLEscapeString(lo) + `,<span class="br"> ` + template.HTMLEscapeString(strings.ReplaceAll(hi, " ", "\u00a0")) + `</span>`)
	}
	value, pm, ok := strings.Cut(c, " ± ")
	if !ok {
		return template.HTML(template.HTMLEscapeString(c))
	}
	pm = strings.ReplaceAll("± "+pm, " ", "\u00a0")
	return template.HTML(template.HTMLEscapeString(value) + `<span class="pm"> ` + template.HTMLEscapeString(pm) + `</span>`)
}
