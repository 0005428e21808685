package results

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"time"

	"gonum.org/v1/plot/vg"
)

// index.html is one static page per results directory: the manifest
// summary, every table and every plot, with the plots embedded as base64
// PNG so the page needs no server and no other file. A small inline script
// marks on <html> how many plots decoded (data-plots-loaded) and how many
// resources failed (data-errors); the headless-browser test reads them.
var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en" data-plots-total="{{len .Figures}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="relix report">
<title>{{.Name}} · relix results</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 0.3rem; }
p.note, figcaption { color: #555; font-size: 0.9rem; margin: 0.2rem 0 0.6rem; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.4rem 0 1rem; }
th, td { border: 1px solid #d0d0d0; padding: 0.25rem 0.6rem; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
th.l, td.l { text-align: left; }
dl.manifest { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; font-size: 0.9rem; }
dl.manifest dt { font-weight: bold; }
dl.manifest dd { margin: 0; font-family: "Liberation Mono", monospace; overflow-wrap: anywhere; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
.wide { overflow-x: auto; }
</style>
</head>
<body>
<h1>{{.Name}}</h1>
<p class="note">Results of the relix experiment <strong>{{.Name}}</strong>, rebuilt by <code>relix report</code> from the Parquet files of this directory.</p>
{{with .Manifest}}
<h2 id="run">Run</h2>
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
{{if .Files}}<h3>Data files</h3>
<div class="wide"><table>
<tr><th class="l">file</th><th>bytes</th><th class="l">sha256</th></tr>
{{range .Files}}<tr><td class="l">{{.Path}}</td><td>{{.Size}}</td><td class="l">{{.SHA256}}</td></tr>
{{end}}</table></div>{{end}}
{{if .Spec}}<details><summary>Resolved spec</summary>
<pre>{{.Spec}}</pre>
</details>{{end}}
{{end}}
{{if .Tables}}<h2 id="tables">Tables</h2>
{{range .Tables}}{{$labels := .LabelColumns}}<h3 id="table-{{.Kind}}">{{.Title}}</h3>
<p class="note">{{.Note}}</p>
<div class="wide"><table>
<tr>{{range $i, $h := .Header}}<th{{if lt $i $labels}} class="l"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if lt $i $labels}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table></div>
{{end}}{{end}}
{{if .Figures}}<h2 id="plots">Plots</h2>
{{range .Figures}}{{$name := .Name}}<figure id="plot-{{.Name}}">
<img class="plot" {{.Src}} alt="{{.Title}}" width="{{.Width}}" height="{{.Height}}">
<figcaption>{{.Caption}}{{range $i, $f := .Formats}}{{if $i}} ·{{end}} <a href="plots/{{$name}}.{{$f}}">{{$f}}</a>{{end}}</figcaption>
</figure>
{{end}}{{end}}
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
`))

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
	Tables     []Table
	Figures    []htmlFigure
}

func indexHTML(r *Run, tables []Table, figs []Figure, formats []string) ([]byte, error) {
	page := htmlPage{Name: r.Name, Manifest: r.Manifest, Tables: tables}
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
