// Package html writes a report as one self-contained HTML file to open in
// a browser or attach to a CI run: a summary (target, OS, counts per
// severity, what to do), a chart of findings per severity in each layer
// drawn as inline SVG, a sortable table of the findings with the fix for
// each (a few lines of inline JavaScript), hardening and secret findings,
// the suppressed findings with their reasons, and the package inventory.
//
// The file loads nothing: no external scripts, styles, fonts or images. A
// Content-Security-Policy meta tag allows only the page's own inline style
// and script, by hash. All text from the report goes through html/template,
// which escapes it for its context (element text, attributes, URLs).
package html

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/view"
)

//go:embed page.tmpl
var pageTemplate string

//go:embed style.css
var style string

//go:embed sort.js
var script string

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// Encoder writes the HTML page.
type Encoder struct{}

// Encode implements report.Encoder.
func (Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("html: encode: nil report")
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, newPage(view.New(r))); err != nil {
		return fmt.Errorf("html: render report for %s: %w", r.Target.DisplayName(), err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("html: write report for %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

// hash is the CSP source of an inline block.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// CSP is the Content-Security-Policy of every page: nothing but the page's
// own inline style and script.
func CSP() string {
	return "default-src 'none'; style-src " + hash(style) + "; script-src " + hash(script) + "; img-src data:; base-uri 'none'; form-action 'none'"
}

type page struct {
	Title        string
	Target       string
	Digest       string
	OS           string
	Dockerfile   string
	Created      string
	Tool         string
	Scan         bool
	Matched      bool
	Summary      report.Summary
	PackagesText string
	Severities   []sevCount
	Audit        []sevCount
	SummaryLines []string
	Chart        *chart
	Findings     []row
	Suppressed   []row
	Hardening    []issueRow
	Secrets      []issueRow
	SuppIssues   []issueRow
	// SuppressedTotal counts the suppressed findings and issues.
	SuppressedTotal int
	Groups          []group
	Clean           int
	CSP             string
	Style           template.CSS
	Script          template.JS
}

type sevCount struct {
	Name  string
	Count int
}

type id struct {
	ID, URL string
}

type row struct {
	Severity  string
	Rank      int
	Package   string
	Installed string
	Fixed     string
	HasFix    bool
	Target    string
	IDs       []id
	Title     string
	Layer     string
	LayerN    int
	Where     string
	Fix       string
	Command   string
	Reason    string
	Source    string
	KEV       bool
	EPSS      string
}

type issueRow struct {
	Severity, ID, Title, Where, Layer, Evidence, Fix, Reference, Reason, Source string
	Rank                                                                        int
}

type group struct {
	Title    string
	Packages []pkg
}

type pkg struct {
	Name, Version, Layer, Path string
}

func newPage(v *view.View) *page {
	r := v.R
	p := &page{
		Title:        "vigil: " + cmp.Or(r.Target.DisplayName(), "scan"),
		Target:       cmp.Or(r.Target.DisplayName(), "unknown"),
		Digest:       cmp.Or(r.Target.Digest, r.Target.ID),
		Dockerfile:   r.Target.Dockerfile,
		Tool:         strings.TrimSpace(cmp.Or(r.Tool.Name, "vigil") + " " + r.Tool.Version),
		Scan:         v.Scan,
		Matched:      v.Matched,
		Summary:      v.Summary,
		PackagesText: view.Plural(v.Summary.Packages, "package", "packages"),
		Clean:        v.Clean,
		CSP:          CSP(),
		Style:        template.CSS(style),
		Script:       template.JS(script),
	}
	if !r.CreatedAt.IsZero() {
		p.Created = r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	if r.Inventory != nil && r.Inventory.Distro != nil {
		p.OS = view.DistroName(r.Inventory.Distro)
	}
	var audit report.SeverityCounts
	for _, is := range append(append([]*report.Issue{}, v.Hardening...), v.Secrets...) {
		audit.Add(is.Severity)
	}
	for _, s := range report.Severities() {
		p.Severities = append(p.Severities, sevCount{string(s), v.Summary.Vulnerabilities.Of(s)})
		p.Audit = append(p.Audit, sevCount{string(s), audit.Of(s)})
	}
	p.SummaryLines = remediation.SummaryLines(v.Summary)
	for _, s := range v.Sections {
		for _, f := range s.Findings {
			p.Findings = append(p.Findings, newRow(r, f, s.Title))
		}
	}
	for _, f := range v.Suppressed {
		p.Suppressed = append(p.Suppressed, newRow(r, f, ""))
	}
	for _, is := range v.Hardening {
		p.Hardening = append(p.Hardening, newIssueRow(r, is))
	}
	for _, is := range v.Secrets {
		p.Secrets = append(p.Secrets, newIssueRow(r, is))
	}
	for _, is := range v.SuppressedIssues {
		p.SuppIssues = append(p.SuppIssues, newIssueRow(r, is))
	}
	p.SuppressedTotal = len(p.Suppressed) + len(p.SuppIssues)
	p.Chart = newChart(r, v)
	if r.Inventory != nil {
		for _, g := range report.Groups(r.Inventory) {
			gr := group{Title: view.GroupTitle(r.Inventory, g)}
			for _, pk := range g.Packages {
				path := ""
				if len(pk.Locations) > 0 {
					path = pk.Locations[0].Path
				}
				gr.Packages = append(gr.Packages, pkg{Name: pk.Name, Version: pk.Version, Layer: view.LayerLabel(r, pk.Layer), Path: path})
			}
			p.Groups = append(p.Groups, gr)
		}
	}
	return p
}

func newRow(r *report.Report, f *report.Finding, target string) row {
	rw := row{
		Severity:  string(f.Severity),
		Rank:      f.Severity.Rank(),
		Package:   f.Package.Name,
		Installed: f.InstalledVersion,
		Fixed:     view.FixedIn(f),
		HasFix:    len(f.FixedVersions) > 0,
		Target:    target,
		Title:     f.Title,
		Layer:     view.LayerLabel(r, f.Layer),
		LayerN:    f.Layer,
		Where:     view.DockerfileLine(r, f.Layer),
		KEV:       f.KEV,
	}
	for _, x := range view.IDs(f) {
		u := view.IDURL(x)
		if x == f.ID {
			u = view.URL(f)
		}
		rw.IDs = append(rw.IDs, id{x, u})
	}
	if f.EPSS != nil {
		rw.EPSS = strconv.FormatFloat(f.EPSS.Score*100, 'f', 2, 64) + "%"
	}
	if rem := f.Remediation; rem != nil {
		rw.Fix, rw.Command = rem.Text, rem.Command
	}
	if s := f.Suppressed; s != nil {
		rw.Reason, rw.Source = s.Reason, s.Source
	}
	return rw
}

func newIssueRow(r *report.Report, is *report.Issue) issueRow {
	ir := issueRow{Severity: string(is.Severity), Rank: is.Severity.Rank(), ID: is.ID, Title: is.Title, Where: view.Where(is),
		Evidence: is.Evidence, Fix: is.Fix, Reference: is.Reference}
	if is.Layer >= 0 {
		ir.Layer = view.LayerLabel(r, is.Layer)
	}
	if s := is.Suppressed; s != nil {
		ir.Reason, ir.Source = s.Reason, s.Source
	}
	return ir
}

// chart is the severity-per-layer bar chart.
type chart struct {
	Width, Height int
	Rows          []chartRow
	Legend        []legendItem
}

type chartRow struct {
	Y, TextY  int
	Label     string
	FullLabel string
	Total     int
	TotalX    int
	Segments  []segment
}

type segment struct {
	X, Y, Width int
	Color       string
	Severity    string
	Count       int
}

type legendItem struct {
	X     int
	Color string
	Name  string
}

// Colors per severity, most severe first.
var colors = map[report.Severity]string{
	report.Critical:   "#8e0b1f",
	report.High:       "#d9480f",
	report.Medium:     "#e8a200",
	report.Low:        "#1c6fb8",
	report.Negligible: "#8a8f98",
	report.Unknown:    "#b8bcc4",
}

const (
	chartLabelW = 330
	chartBarW   = 340
	chartRowH   = 26
	chartTop    = 34
)

func newChart(r *report.Report, v *view.View) *chart {
	counts := map[int]*report.SeverityCounts{}
	var layers []int
	add := func(layer int, s report.Severity) {
		c, ok := counts[layer]
		if !ok {
			c = &report.SeverityCounts{}
			counts[layer] = c
			layers = append(layers, layer)
		}
		c.Add(s)
	}
	if r.Inventory != nil {
		for _, l := range r.Inventory.Layers {
			if _, ok := counts[l.Index]; !ok {
				counts[l.Index] = &report.SeverityCounts{}
				layers = append(layers, l.Index)
			}
		}
	}
	for _, s := range v.Sections {
		for _, f := range s.Findings {
			add(f.Layer, f.Severity)
		}
	}
	if len(layers) == 0 {
		return nil
	}
	slices.Sort(layers)
	most := 1
	for _, c := range counts {
		most = max(most, c.Total)
	}
	ch := &chart{Width: chartLabelW + chartBarW + 50, Height: chartTop + len(layers)*chartRowH + 8}
	x := 0
	for _, s := range report.Severities() {
		ch.Legend = append(ch.Legend, legendItem{X: x, Color: colors[s], Name: string(s)})
		x += 14 + 7*len(s) + 18
	}
	for i, l := range layers {
		c := counts[l]
		label := view.LayerLabel(r, l)
		y := chartTop + i*chartRowH
		cr := chartRow{Y: y, TextY: y + 15, Label: shorten(label, 46), FullLabel: label, Total: c.Total}
		x := chartLabelW
		for _, s := range report.Severities() {
			n := c.Of(s)
			if n == 0 {
				continue
			}
			w := max(2, n*chartBarW/most)
			cr.Segments = append(cr.Segments, segment{X: x, Y: y + 3, Width: w, Color: colors[s], Severity: string(s), Count: n})
			x += w
		}
		cr.TotalX = x + 6
		ch.Rows = append(ch.Rows, cr)
	}
	return ch
}

func shorten(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
