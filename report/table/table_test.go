package table_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mattn/go-runewidth"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/table"
)

var update = flag.Bool("update", false, "rewrite golden files")

func render(t *testing.T, o table.Options, r *report.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := table.New(o).Encode(&buf, r); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.String()
}

// sbom is the sample without findings: what "vigil sbom" reports, which
// the table shows as a package listing.
func sbom() *report.Report {
	r := reporttest.Sample()
	r.Vulnerabilities, r.Audit = nil, nil
	return r
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts table.Options
		r    func() *report.Report
	}{
		{"wide", table.Options{}, sbom},
		{"80-columns", table.Options{Width: 80}, sbom},
		{"60-columns", table.Options{Width: 60}, sbom},
		{"color", table.Options{Width: 120, Color: true}, sbom},
		{"vuln-wide", table.Options{}, reporttest.Scanned},
		{"vuln-132-columns", table.Options{Width: 132}, reporttest.Scanned},
		{"vuln-80-columns", table.Options{Width: 80}, reporttest.Scanned},
		{"vuln-60-columns", table.Options{Width: 60}, reporttest.Scanned},
		{"vuln-color", table.Options{Width: 160, Color: true}, reporttest.Scanned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.opts, tc.r())
			reporttest.Golden(t, filepath.Join("testdata", tc.name+".txt"), []byte(got), *update)
		})
	}
}

func TestFitsWidth(t *testing.T) {
	cond := &runewidth.Condition{}
	for _, r := range []*report.Report{sbom(), reporttest.Scanned()} {
		for _, width := range []int{60, 80, 100, 132} {
			out := render(t, table.Options{Width: width}, r)
			for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if i == 0 {
					continue // the summary line may wrap
				}
				if w := cond.StringWidth(line); w > width {
					t.Errorf("width %d: line %d is %d columns: %q", width, i, w, line)
				}
			}
		}
	}
}

func TestContent(t *testing.T) {
	out := render(t, table.Options{}, sbom())
	lines := strings.Split(out, "\n")
	if want := "Target: docker.io/library/vigil-demo:1.0 (sha256:dddddddddddd)  OS: Debian GNU/Linux 12 (bookworm)  Packages: 22 (deb 7, golang 5, npm 9, pypi 1)"; lines[0] != want {
		t.Errorf("summary line\n got %q\nwant %q", lines[0], want)
	}
	// Groups come OS first, then language targets by path.
	var headings []string
	for _, l := range lines {
		if strings.HasSuffix(l, "]") {
			headings = append(headings, l)
		}
	}
	wantHeadings := []string{
		"OS packages: Debian GNU/Linux 12 (bookworm) [7]",
		"app/bin/demo-worker (golang) [5]",
		"app/node_modules (npm) [9]",
		"usr/lib/python3/dist-packages (pypi) [1]",
	}
	if strings.Join(headings, "\n") != strings.Join(wantHeadings, "\n") {
		t.Errorf("group headings:\n%s\nwant:\n%s", strings.Join(headings, "\n"), strings.Join(wantHeadings, "\n"))
	}
	for _, want := range []string{
		// LAYER is the index and the instruction, cut at MaxStepWidth.
		"  #1 RUN apt-get update && apt-get install -y --no-install-re…\n",
		"  #0 ADD file:5d6b639e8b6bcc01149b7ec6c5ea7ae5db1d0c9b2d2a6e3…\n",
		"  #2 COPY . /app\n",
		"  pypi (in deb:python3-yaml)  ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Options.Color")
	}
}

func TestHostileNames(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "evil\x1b]0;pwned\x07"},
		Inventory: &inventory.Inventory{
			Layers: []inventory.Layer{{Index: 0, CreatedBy: "RUN echo \x1b[2J # buildkit"}},
			Packages: []inventory.Package{
				{Ecosystem: inventory.NPM, Name: "x\x1b[31mred", Version: "1.0\r\n2", Locations: []inventory.Location{{Path: "node_modules/x\x00/package.json"}}},
				{Ecosystem: inventory.NPM, Name: "bad\xffutf8", Version: "1", Locations: []inventory.Location{{Path: "node_modules/y/package.json"}}},
			},
		},
	}
	out := render(t, table.Options{Width: 80}, r)
	for _, c := range []string{"\x1b", "\x07", "\x00", "\r"} {
		if strings.Contains(out, c) {
			t.Errorf("output carries control character %q:\n%q", c, out)
		}
	}
	if !strings.Contains(out, "x\uFFFD[31mred") || !strings.Contains(out, "bad\uFFFDutf8") {
		t.Errorf("hostile names not shown with replacement characters:\n%s", out)
	}
}

func TestNoLayerHistory(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindRootFS, Ref: "/srv/root"},
		Inventory: &inventory.Inventory{
			Layers: []inventory.Layer{{Index: 0, DiffID: "sha256:" + strings.Repeat("9", 64)}},
			Packages: []inventory.Package{
				{Ecosystem: inventory.Cargo, Name: "rand", Version: "0.8.5", Locations: []inventory.Location{{Path: "Cargo.lock"}}, Layer: 0},
				{Ecosystem: inventory.Cargo, Name: "libc", Version: "0.2.150", Locations: []inventory.Location{{Path: "Cargo.lock"}}, Layer: 3},
			},
		},
	}
	out := render(t, table.Options{}, r)
	for _, want := range []string{"#0 sha256:999999999999", "#3\n", "OS: unknown", "Target: /srv/root  "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestEmpty(t *testing.T) {
	out := render(t, table.Options{}, &report.Report{})
	if want := "Target: unknown  OS: unknown  Packages: 0\n"; out != want {
		t.Errorf("empty report = %q, want %q", out, want)
	}
	if err := table.New(table.Options{}).Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}

func TestWriteError(t *testing.T) {
	err := table.New(table.Options{}).Encode(failWriter{}, sbom())
	if err == nil || !strings.HasPrefix(err.Error(), "table: write report for docker.io/library/vigil-demo:1.0") {
		t.Errorf("err = %v, want a table: write error naming the target", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestTerminalOptionsNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := table.TerminalOptions(f); got != (table.Options{}) {
		t.Errorf("TerminalOptions(file) = %+v, want no width and no colour", got)
	}
}

func TestVulnContent(t *testing.T) {
	out := render(t, table.Options{}, reporttest.Scanned())
	lines := strings.Split(out, "\n")
	if want := "Target: docker.io/library/vigil-demo:1.0 (sha256:dddddddddddd)  OS: Debian GNU/Linux 12 (bookworm)  Packages: 22  Vulnerabilities: 4 (1 critical, 1 high, 1 medium, 1 negligible)  Fixable: 3"; lines[0] != want {
		t.Errorf("summary line\n got %q\nwant %q", lines[0], want)
	}
	var headings []string
	for _, l := range lines {
		if strings.HasSuffix(l, "]") {
			headings = append(headings, l)
		}
	}
	wantHeadings := []string{
		"OS packages: Debian GNU/Linux 12 (bookworm) [2 vulnerabilities]",
		"app/bin/demo-worker (golang) [1 vulnerability]",
		"app/node_modules (npm) [1 vulnerability]",
		"Hardening [1]",
		"Secrets [1]",
	}
	if diff := cmp.Diff(wantHeadings, headings); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		// CVE first, other IDs on the lines below, in the VULNERABILITY column.
		"golang.org/x/text  v0.3.5     v0.3.7    CVE-2021-38561       high      #2 COPY . /app  Out-of-bounds read in golang.org/x/text/language\n" +
			"                                        GO-2021-0113\n" +
			"                                        GHSA-ppp9-7jff-5vj2\n",
		// LAYER is the Dockerfile step, TITLE in full without a width.
		"libc6     2.36-9+deb12u7     won't fix          CVE-2010-4756  negligible  #0 FROM debian:12-slim                    glibc: glob implementation can cause excessive CPU and memory consumption\n",
		"    apt-get install --only-upgrade curl=7.88.1-10+deb12u6 libcurl4=7.88.1-10+deb12u6\n",
		"2 findings suppressed by the policy file or VEX are not shown",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, id := range []string{"CVE-2020-26160", "CVE-2020-8203"} {
		if strings.Contains(out, id) {
			t.Errorf("suppressed %s is listed", id)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without Options.Color")
	}
	if !strings.Contains(render(t, table.Options{Color: true}, reporttest.Scanned()), "\x1b[1m\x1b[31mcritical\x1b[0m") {
		t.Error("critical is not bold red with colour")
	}
}

func TestVulnClean(t *testing.T) {
	r := reporttest.Scanned()
	r.Vulnerabilities, r.Audit = nil, nil
	out := render(t, table.Options{Width: 80}, r)
	if !strings.Contains(out, "Vulnerabilities: 0  Fixable: 0\n\nNo known vulnerabilities.\n") {
		t.Errorf("a clean scan does not say so:\n%s", out)
	}
	if strings.Contains(out, "What to do") || strings.Contains(out, "NAME") {
		t.Errorf("a clean scan prints a remediation or package listing:\n%s", out)
	}
}

func TestVulnHostile(t *testing.T) {
	r := &report.Report{
		Target: report.Target{Kind: report.KindImage, Ref: "evil\x1b]0;pwned\x07"},
		Inventory: &inventory.Inventory{
			Layers: []inventory.Layer{{Index: 0, CreatedBy: "RUN echo \x1b[2J # buildkit"}},
			Packages: []inventory.Package{
				{Ecosystem: inventory.NPM, Name: "x\x1b[31mred", Version: "1.0\r\n2", Locations: []inventory.Location{{Path: "node_modules/x/package.json"}}},
			},
		},
		Vulnerabilities: []report.Finding{{ID: "CVE-1\x1b[5m", Aliases: []string{"A\x00"}, Title: "t\x1b[2Jt", Severity: report.High, FixedVersions: []string{"2\x1b"}}},
		Audit:           []report.Issue{{ID: "R\x07", Title: "\x1b[H", Severity: report.Low, Category: report.CategorySecret, Evidence: "\x1b]52;c;ZXZpbA==\x07", Layer: 0}},
	}
	r.Vulnerabilities[0].Package = report.RefTo(&r.Inventory.Packages[0], 0)
	r.Vulnerabilities[0].InstalledVersion = "1.0\r\n2"
	for _, o := range []table.Options{{}, {Width: 60}} {
		out := render(t, o, r)
		for _, c := range []string{"\x1b", "\x07", "\x00", "\r"} {
			if strings.Contains(out, c) {
				t.Errorf("output carries control character %q:\n%q", c, out)
			}
		}
	}
}

// TestAuditOnly renders a report of an audit without vulnerability
// matching: no claim about vulnerabilities.
func TestAuditOnly(t *testing.T) {
	r := reporttest.Sample()
	r.Vulnerabilities = nil
	out := render(t, table.Options{Width: 100}, r)
	if !strings.HasPrefix(out, "Target: docker.io/library/vigil-demo:1.0 (sha256:dddddddddddd)  OS: Debian GNU/Linux 12 (bookworm)  Packages: 22  Audit findings: 2\n") {
		t.Errorf("summary line of an audit-only report:\n%s", out)
	}
	for _, bad := range []string{"Vulnerabilities", "No known vulnerabilities", "What to do"} {
		if strings.Contains(out, bad) {
			t.Errorf("an audit-only report says %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "Hardening [1]") || !strings.Contains(out, "Secrets [1]") {
		t.Errorf("audit sections missing:\n%s", out)
	}
}
