package markdown_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/markdown"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(t *testing.T, o markdown.Options, r *report.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := markdown.New(o).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	clean := reporttest.Scanned()
	clean.Vulnerabilities, clean.Audit = nil, nil
	sbom := reporttest.Sample()
	sbom.Vulnerabilities, sbom.Audit = nil, nil
	for name, r := range map[string]*report.Report{"scanned": reporttest.Scanned(), "clean": clean, "sbom": sbom} {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".md"), []byte(render(t, markdown.Options{}, r)), *update)
		})
	}
}

func TestContent(t *testing.T) {
	out := render(t, markdown.Options{}, reporttest.Scanned())
	for _, want := range []string{
		"| Vulnerabilities | 1 | 1 | 1 | 0 | 1 | 0 | **4** |",
		"| Secrets | 1 | 0 | 0 | 0 | 0 | 0 | **1** |",
		"**3 of 4 vulnerabilities have a fixed version.** What to do:",
		"- 1 finding is fixed by rebuilding on the current base image packages",
		"- 2 findings need application dependency bumps",
		"- 1 finding has no fix yet",
		// CVE first, other IDs after; layer as the Dockerfile step.
		"| **high** | `golang.org/x/text` | `v0.3.5` | `v0.3.7` | [CVE-2021-38561](https://nvd.nist.gov/vuln/detail/CVE-2021-38561) `GO-2021-0113` `GHSA-ppp9-7jff-5vj2` | `#2 COPY . /app` |",
		"<details>\n<summary>Details and fixes for 4 vulnerabilities</summary>\n\n",
		"```sh\napt-get install --only-upgrade curl=7.88.1-10+deb12u6 libcurl4=7.88.1-10+deb12u6\n```",
		"(`build/Dockerfile:3-6`)",
		"_2 findings suppressed by the policy file or VEX are not shown",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Suppressed findings are not in the tables.
	for _, id := range []string{"CVE-2020-26160", "CVE-2020-8203"} {
		if strings.Contains(out, id) {
			t.Errorf("suppressed %s is listed", id)
		}
	}
	// The critical finding comes before the others in its section.
	if i, j := strings.Index(out, "CVE-2021-44906"), strings.Index(out, "CVE-2021-38561"); i < 0 || j < 0 {
		t.Error("findings missing")
	}
}

func TestSizeCap(t *testing.T) {
	r := reporttest.Scanned()
	// 300 findings on minimist make a comment far over the cap.
	base := r.Vulnerabilities[0]
	for _, f := range r.Vulnerabilities {
		if f.ID == "CVE-2021-44906" {
			base = f
		}
	}
	for i := range 300 {
		f := base
		f.ID = fmt.Sprintf("CVE-2099-%05d", i)
		f.Title = strings.Repeat("long title ", 20)
		r.Vulnerabilities = append(r.Vulnerabilities, f)
	}
	full := render(t, markdown.Options{MaxBytes: -1}, r)
	for _, limit := range []int{60000, 20000, 8000} {
		out := render(t, markdown.Options{MaxBytes: limit}, r)
		if len(out) > limit {
			t.Errorf("limit %d: output is %d bytes", limit, len(out))
		}
		if !strings.Contains(out, "_Shortened to fit a comment") {
			t.Errorf("limit %d: no note that the output was shortened", limit)
		}
		if !strings.Contains(out, "| Vulnerabilities |") {
			t.Errorf("limit %d: the summary table was dropped", limit)
		}
	}
	if len(full) <= 60000 || strings.Contains(full, "Shortened") {
		t.Errorf("uncapped output is %d bytes and says shortened: %v", len(full), strings.Contains(full, "Shortened"))
	}
}

// TestHostile renders names that try to break out of table cells, code
// spans, links and HTML, or to mention people.
func TestHostile(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "img`|<b>"},
		Inventory: &inventory.Inventory{Packages: []inventory.Package{
			{Ecosystem: inventory.NPM, Name: "@evil-org/team", Version: "1|2`3", Locations: []inventory.Location{{Path: "node_modules/@evil-org/team/package.json"}}},
		}},
		Vulnerabilities: []report.Finding{{
			ID: "CVE-2024-0001", Aliases: []string{"X|`y`"}, Title: "<script>alert(1)</script> @octocat [x](javascript:alert(1)) | cell\nnew line",
			Severity: report.High, FixedVersions: []string{"9``9"}, References: []string{"https://e.com/a b)(c"},
		}},
		Audit: []report.Issue{{ID: "R|1", Title: "*bold* <img src=x>", Severity: report.Low, Category: report.CategorySecret, Path: "a|b", Evidence: "```", Layer: -1}},
	}
	r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
	out := render(t, markdown.Options{}, r)
	prose := stripCode(out)
	for _, bad := range []string{"<script>", "<img", "<b>", "@octocat", "a b)(c"} {
		if strings.Contains(prose, bad) {
			t.Errorf("output carries %q outside code:\n%s", bad, out)
		}
	}
	if regexp.MustCompile(`(^|[^\\])\]\(javascript:`).MatchString(prose) {
		t.Errorf("output carries a javascript: link:\n%s", out)
	}
	// Every table row keeps its column count: no unescaped pipe splits a
	// cell.
	unescaped := regexp.MustCompile(`(^|[^\\])\|`)
	var cols int
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := len(unescaped.FindAllString(line, -1))
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row has %d cell separators, header has %d: %s", n, cols, line)
		}
	}
}

// stripCode removes code spans and fenced blocks (where nothing is
// interpreted) from Markdown.
func stripCode(md string) string {
	var b strings.Builder
	inFence := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for i := 0; i < len(line); {
			if line[i] != '`' || i > 0 && line[i-1] == '\\' {
				b.WriteByte(line[i])
				i++
				continue
			}
			n := 0
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			fence := strings.Repeat("`", n)
			end := -1
			for j := i + n; j+n <= len(line); j++ {
				if line[j:j+n] == fence && (j+n == len(line) || line[j+n] != '`') && line[j-1] != '`' {
					end = j
					break
				}
			}
			if end < 0 {
				b.WriteString(fence)
				i += n
				continue
			}
			i = end + n
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestErrors(t *testing.T) {
	if err := markdown.New(markdown.Options{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	err := markdown.New(markdown.Options{}).Encode(failWriter{}, reporttest.Sample())
	if err == nil || !strings.HasPrefix(err.Error(), "markdown: write report for docker.io/library/vigil-demo:1.0") {
		t.Errorf("write error = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func FuzzText(f *testing.F) {
	for _, s := range []string{"a|b", "`x`", "<b>", "@user", "a\nb", "[x](y)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &report.Report{
			Inventory:       &inventory.Inventory{Packages: []inventory.Package{{Ecosystem: inventory.NPM, Name: s, Version: s, Locations: []inventory.Location{{Path: "node_modules/x/package.json"}}}}},
			Vulnerabilities: []report.Finding{{ID: s, Title: s, Severity: report.High}},
		}
		r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
		var buf bytes.Buffer
		if err := markdown.New(markdown.Options{}).Encode(&buf, r); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "| **high** |") {
				if n := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1)); n != 7 {
					t.Fatalf("row splits into %d cells: %q", n-1, line)
				}
			}
		}
		prose := stripCode(out)
		for _, tag := range []string{"<details>", "</details>", "<summary>", "</summary>"} {
			prose = strings.ReplaceAll(prose, tag, "")
		}
		if strings.Contains(prose, "<") {
			t.Fatalf("raw < outside code spans for input %q:\n%s", s, out)
		}
	})
}
