package html_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/html"
	"github.com/vigilsec/vigil/report/internal/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(t *testing.T, r *report.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := (html.Encoder{}).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	sbom := reporttest.Sample()
	sbom.Vulnerabilities, sbom.Audit = nil, nil
	for name, r := range map[string]*report.Report{"scanned": reporttest.Scanned(), "sbom": sbom} {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".html"), []byte(render(t, r)), *update)
		})
	}
}

var (
	styleRe  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	scriptRe = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	cspRe    = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// unentity undoes the HTML escaping of an attribute value.
func unentity(s string) string {
	return strings.NewReplacer("&#39;", "'", "&#43;", "+", "&#34;", `"`, "&amp;", "&", "&#61;", "=").Replace(s)
}

// TestSelfContained checks that the page loads nothing and that its
// Content-Security-Policy admits exactly its own inline style and script.
func TestSelfContained(t *testing.T) {
	out := render(t, reporttest.Scanned())
	lower := strings.ToLower(out)
	for _, bad := range []string{" src=", "<link", "@import", "url(", "<iframe", "<object", "<embed", "<img"} {
		if strings.Contains(lower, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	styles, scripts := styleRe.FindAllStringSubmatch(out, -1), scriptRe.FindAllStringSubmatch(out, -1)
	if len(styles) != 1 || len(scripts) != 1 {
		t.Fatalf("%d style and %d script blocks, want one each", len(styles), len(scripts))
	}
	m := cspRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no Content-Security-Policy meta tag")
	}
	csp := unentity(m[1])
	for _, want := range []string{"default-src 'none'", "style-src " + cspHash(styles[0][1]), "script-src " + cspHash(scripts[0][1])} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if csp != html.CSP() {
		t.Errorf("CSP in the page %q differs from CSP() %q", csp, html.CSP())
	}
	if strings.Contains(out, " style=") {
		t.Error("a style attribute, which the CSP blocks")
	}
}

func TestContent(t *testing.T) {
	out := render(t, reporttest.Scanned())
	for _, want := range []string{
		"<title>vigil: docker.io/library/vigil-demo:1.0</title>",
		"<li>1 finding is fixed by rebuilding on the current base image packages</li>",
		// The chart: one row per layer, with its total.
		"<title>#0 FROM debian:12-slim: 1</title>",
		"<title>#1 RUN apt-get update &amp;&amp; apt-get install -y --no-install-recommends ca-certificates curl python3-yaml &amp;&amp; rm -rf /var/lib/apt/lists/*: 1</title>",
		"<title>#2 COPY . /app: 2</title>",
		"<rect x=\"330\" y=\"89\" width=\"170\" height=\"18\" fill=\"#8e0b1f\"><title>1 critical</title></rect>",
		// Remediation per finding.
		"<code>apt-get install --only-upgrade curl=7.88.1-10&#43;deb12u6 libcurl4=7.88.1-10&#43;deb12u6</code>",
		"<code>npm install minimist@1.2.6</code>",
		// CVE first, then the other IDs.
		`<a href="https://nvd.nist.gov/vuln/detail/CVE-2021-38561" rel="noreferrer">CVE-2021-38561</a><br><a href="https://osv.dev/vulnerability/GO-2021-0113" rel="noreferrer">GO-2021-0113</a>`,
		"<summary>Suppressed by the policy file or VEX (2)</summary>",
		"audience claims are not used",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The main table holds only unsuppressed findings.
	table := out[strings.Index(out, `id="findings"`):strings.Index(out, `id="hardening"`)]
	for _, id := range []string{"CVE-2020-26160", "CVE-2020-8203"} {
		if strings.Contains(table, id) {
			t.Errorf("suppressed %s is in the findings table", id)
		}
	}
	if n := strings.Count(table, "<tr><td data-sort="); n != 4 {
		t.Errorf("findings table has %d rows, want 4", n)
	}
}

func TestHostile(t *testing.T) {
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: evil},
		Inventory: &inventory.Inventory{
			Layers: []inventory.Layer{{Index: 0, CreatedBy: "RUN " + evil}},
			Packages: []inventory.Package{{Ecosystem: inventory.NPM, Name: evil, Version: evil,
				Locations: []inventory.Location{{Path: "node_modules/" + evil + "/package.json"}}}},
		},
		Vulnerabilities: []report.Finding{{ID: evil, Aliases: []string{"javascript:alert(3)"}, Title: evil, Severity: report.Severity(evil),
			References: []string{"javascript:alert(4)"}, FixedVersions: []string{evil}}},
		Audit: []report.Issue{{ID: evil, Title: evil, Severity: report.High, Category: report.CategorySecret, Path: evil, Evidence: evil, Reference: "javascript:alert(5)", Layer: 0}},
	}
	r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
	out := render(t, r)
	if n := strings.Count(out, "<script>"); n != 1 {
		t.Errorf("%d script tags, want only the page's own", n)
	}
	for _, bad := range []string{"<img", "<script>alert", `href="javascript:`} {
		if strings.Contains(out, bad) {
			t.Errorf("page carries %q", bad)
		}
	}
}

// TestSortScript runs the page's script under Node.js with a minimal DOM
// and clicks a column header: rows must sort ascending, then descending,
// by the cells' data-sort values.
func TestSortScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed (Debian package nodejs)")
	}
	out := render(t, reporttest.Scanned())
	script := scriptRe.FindStringSubmatch(out)[1]
	harness := `
function cell(sort, text) { return { getAttribute: function (n) { return n === "data-sort" ? sort : null; }, textContent: text }; }
function row(name, sev) { return { name: name, cells: [cell(String(sev), ""), cell(null, " " + name + " ")] }; }
var handlers = [];
function th(type) {
  var attrs = { "data-type": type };
  return { getAttribute: function (n) { return n in attrs ? attrs[n] : null; }, setAttribute: function (n, v) { attrs[n] = v; },
    removeAttribute: function (n) { delete attrs[n]; }, addEventListener: function (ev, f) { if (ev === "click") handlers.push(f); } };
}
var body = { rows: [row("b", 3), row("a", 5), row("c", 1), row("d", 10)],
  appendChild: function (r) { this.rows.splice(this.rows.indexOf(r), 1); this.rows.push(r); } };
var table = { tHead: { rows: [{ cells: [th("num"), th(null)] }] }, tBodies: [body] };
var document = { querySelectorAll: function (q) { return q === "table.sortable" ? [table] : []; } };
` + script + `
var names = function () { return body.rows.map(function (r) { return r.name; }).join(""); };
var out = [];
handlers[0](); out.push(names());
handlers[0](); out.push(names());
handlers[1](); out.push(names());
console.log(out.join(" "));
`
	f := filepath.Join(t.TempDir(), "harness.js")
	if err := os.WriteFile(f, []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(node, f).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, got)
	}
	// Numbers sort numerically (10 after 5), text case-insensitively.
	if diff := cmp.Diff("cbad dabc abcd", strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("sort order (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	if err := (html.Encoder{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	err := (html.Encoder{}).Encode(failWriter{}, reporttest.Sample())
	if err == nil || !strings.HasPrefix(err.Error(), "html: write report for docker.io/library/vigil-demo:1.0") {
		t.Errorf("write error = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
