// Package reporttest builds the realistic report the encoders' golden tests
// render, and compares output with golden files. It is imported only from
// _test files.
package reporttest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
)

// Created returns the injected creation time of Sample.
func Created() time.Time { return time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC) }

func hex64(c string) string { return strings.Repeat(c, 64) }

// Sample returns a report of a Debian 12 image built in three steps: the
// base root file system, an apt-get layer (curl, ca-certificates,
// python3-yaml, whose files include the PyYAML Python package), and a COPY
// of an application holding a Node.js project (with nested node_modules) and
// a Go binary. It has vulnerability findings on OS, npm and Go packages
// (one wont-fix, one suppressed) and two audit issues. Packages are listed
// out of order on purpose: encoders must sort.
func Sample() *report.Report {
	debian := &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)", Source: "etc/os-release"}
	layers := []inventory.Layer{
		{Index: 0, DiffID: "sha256:" + hex64("a"), Digest: "sha256:" + hex64("1"), Size: 29_150_000,
			CreatedBy: "/bin/sh -c #(nop) ADD file:5d6b639e8b6bcc01149b7ec6c5ea7ae5db1d0c9b2d2a6e3b0a5c9f1e8d7c6b5a in / "},
		{Index: 1, DiffID: "sha256:" + hex64("b"), Digest: "sha256:" + hex64("2"), Size: 18_400_000,
			CreatedBy: "RUN /bin/sh -c apt-get update &&     apt-get install -y --no-install-recommends ca-certificates curl python3-yaml &&     rm -rf /var/lib/apt/lists/* # buildkit"},
		{Index: 2, DiffID: "sha256:" + hex64("c"), Digest: "sha256:" + hex64("3"), Size: 9_800_000,
			CreatedBy: "COPY . /app # buildkit"},
	}
	status := []inventory.Location{{Path: "var/lib/dpkg/status", Layer: 1}}
	deb := func(name, version, src, srcVersion string, layer int, licenses ...string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: version, Arch: "amd64",
			SourceName: src, SourceVersion: srcVersion, Licenses: licenses, Locations: status, Layer: layer}
	}
	npm := func(name, version, dir string, licenses ...string) inventory.Package {
		return inventory.Package{Ecosystem: inventory.NPM, Name: name, Version: version, Licenses: licenses,
			Locations: []inventory.Location{{Path: "app/" + dir + "/package.json", Layer: 2}}, Layer: 2}
	}
	bin := []inventory.Location{{Path: "app/bin/demo-worker", Layer: 2}}
	gomod := func(name, version string, indirect bool) inventory.Package {
		return inventory.Package{Ecosystem: inventory.Go, Name: name, Version: version, Locations: bin, Layer: 2, Indirect: indirect}
	}
	pkgs := []inventory.Package{
		npm("express", "4.17.1", "node_modules/express", "MIT"),
		gomod("golang.org/x/text", "v0.3.5", false),
		deb("curl", "7.88.1-10+deb12u5", "curl", "7.88.1-10+deb12u5", 1, "curl"),
		deb("libcurl4", "7.88.1-10+deb12u5", "curl", "7.88.1-10+deb12u5", 1, "curl"),
		deb("base-files", "12.4+deb12u5", "base-files", "", 0, "GPL-2+"),
		deb("libc6", "2.36-9+deb12u7", "glibc", "", 0, "GPL-2+", "LGPL-2.1+"),
		deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "", 0, "Zlib"),
		deb("ca-certificates", "20230311", "ca-certificates", "", 1, "GPL-2+", "MPL-2.0"),
		deb("python3-yaml", "6.0-3+b2", "pyyaml", "6.0-3", 1, "Expat"),
		{Ecosystem: inventory.PyPI, Name: "PyYAML", Version: "6.0", Licenses: []string{"MIT"},
			Locations: []inventory.Location{{Path: "usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO", Layer: 1}},
			Layer:     1, OwnedBy: "deb:python3-yaml"},
		{Ecosystem: inventory.Go, Name: "stdlib", Version: "go1.26.8", Locations: bin, Layer: 2, Toolchain: true},
		gomod("github.com/dgrijalva/jwt-go", "v3.2.0+incompatible", false),
		gomod("golang.org/x/net", "v0.0.0-20210405180319-a5a99cb37ef4", false),
		gomod("gopkg.in/yaml.v2", "v2.2.2", false),
		npm("debug", "2.6.9", "node_modules/debug", "MIT"),
		npm("ms", "2.0.0", "node_modules/ms", "MIT"),
		npm("send", "0.17.1", "node_modules/send", "MIT"),
		npm("ms", "2.1.1", "node_modules/send/node_modules/ms", "MIT"),
		npm("lodash", "4.17.15", "node_modules/lodash", "MIT"),
		npm("minimist", "1.2.0", "node_modules/minimist", "MIT"),
		npm("optimist", "0.6.1", "node_modules/optimist", "MIT/X11"),
		npm("minimist", "0.0.10", "node_modules/optimist/node_modules/minimist", "MIT"),
	}
	for i := range pkgs {
		pkgs[i].PURL = purl.For(&pkgs[i], debian)
	}
	find := func(eco inventory.Ecosystem, name, version string) report.PackageRef {
		for i := range pkgs {
			if p := &pkgs[i]; p.Ecosystem == eco && p.Name == name && p.Version == version {
				return report.RefTo(p, i)
			}
		}
		panic("reporttest: no package " + name + " " + version)
	}
	findings := []report.Finding{
		{
			ID: "CVE-2021-44906", Aliases: []string{"GHSA-xvch-5gv4-984h"},
			Package: find(inventory.NPM, "minimist", "1.2.0"), InstalledVersion: "1.2.0",
			FixedVersions: []string{"1.2.6"}, FixStatus: report.Fixed,
			Severity: report.Critical, SeveritySource: "ghsa",
			CVSS:  []report.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"}},
			EPSS:  &report.EPSS{Score: 0.0117, Percentile: 0.8421, Date: "2026-01-14"},
			Title: "Prototype Pollution in minimist", Layer: 2,
			References: []string{"https://nvd.nist.gov/vuln/detail/CVE-2021-44906", "https://github.com/minimistjs/minimist/issues/11"},
		},
		{
			ID: "CVE-2020-8203", Aliases: []string{"GHSA-p6mc-m468-83gw"},
			Package: find(inventory.NPM, "lodash", "4.17.15"), InstalledVersion: "4.17.15",
			FixedVersions: []string{"4.17.20"}, FixStatus: report.Fixed,
			Severity: report.High, SeveritySource: "ghsa",
			CVSS:  []report.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", Score: 7.4, Source: "nvd"}},
			Title: "Prototype Pollution in lodash", Layer: 2,
			References: []string{"https://nvd.nist.gov/vuln/detail/CVE-2020-8203"},
		},
		{
			ID: "CVE-2021-38561", Aliases: []string{"GO-2021-0113", "GHSA-ppp9-7jff-5vj2"},
			Package: find(inventory.Go, "golang.org/x/text", "v0.3.5"), InstalledVersion: "v0.3.5",
			FixedVersions: []string{"v0.3.7"}, FixStatus: report.Fixed,
			Severity: report.High, SeveritySource: "nvd",
			CVSS:  []report.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5, Source: "nvd"}},
			Title: "Out-of-bounds read in golang.org/x/text/language", Layer: 2,
		},
		{
			ID: "CVE-2020-26160", Aliases: []string{"GHSA-w73w-5m7g-f7qc"},
			Package: find(inventory.Go, "github.com/dgrijalva/jwt-go", "v3.2.0+incompatible"), InstalledVersion: "v3.2.0+incompatible",
			FixStatus: report.NotFixed, Severity: report.High, SeveritySource: "ghsa",
			Title: "Access restriction bypass in jwt-go", Layer: 2,
			Suppressed: &report.Suppression{Reason: "audience claims are not used", Source: ".vigilignore:3", Expires: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)},
		},
		{
			ID: "CVE-2024-2398", AdvisoryIDs: []string{"DSA-5650-1"},
			Package: find(inventory.Deb, "libcurl4", "7.88.1-10+deb12u5"), InstalledVersion: "7.88.1-10+deb12u5",
			FixedVersions: []string{"7.88.1-10+deb12u6"}, FixStatus: report.Fixed,
			Severity: report.Medium, SeveritySource: "debian",
			Title: "curl: HTTP/2 push headers memory leak", Layer: 1,
			References: []string{"https://security-tracker.debian.org/tracker/CVE-2024-2398"},
		},
		{
			ID:      "CVE-2010-4756",
			Package: find(inventory.Deb, "libc6", "2.36-9+deb12u7"), InstalledVersion: "2.36-9+deb12u7",
			FixStatus: report.WontFix, Severity: report.Negligible, SeveritySource: "debian",
			Title: "glibc: glob implementation can cause excessive CPU and memory consumption", Layer: 0,
		},
	}
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "vigil", Version: "0.1.0-test"},
		CreatedAt:     Created(),
		Target: report.Target{
			Kind:     report.KindImage,
			Source:   "docker-archive",
			Ref:      "vigil-demo.tar",
			Name:     "docker.io/library/vigil-demo:1.0",
			Digest:   "sha256:" + hex64("d"),
			ID:       "sha256:" + hex64("e"),
			Platform: &image.Platform{OS: "linux", Architecture: "amd64"},
			RepoTags: []string{"vigil-demo:1.0"},
			Created:  time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC),
			Config: &image.Config{
				Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Entrypoint:   []string{"/app/bin/demo-worker"},
				WorkingDir:   "/app",
				ExposedPorts: []string{"8080/tcp"},
				Labels:       map[string]string{"org.opencontainers.image.version": "1.0", "org.opencontainers.image.source": "https://example.com/vigil-demo"},
			},
			Size: 57_350_000,
		},
		Inventory: &inventory.Inventory{
			Distro:   debian,
			Layers:   []inventory.Layer{layers[2], layers[0], layers[1]},
			Packages: pkgs,
			Warnings: []inventory.Warning{{Path: "app/node_modules/broken/package.json", Layer: 2, Component: "npm", Message: "invalid JSON: unexpected end of input"}},
		},
		Vulnerabilities: findings,
		Audit: []report.Issue{
			{ID: "VGL-SEC-001", Title: "AWS access key ID", Severity: report.Critical, Category: report.CategorySecret,
				Description: "An AWS access key ID is stored in the image.", Fix: "Remove the file in the same layer that adds it, and rotate the key.",
				Path: "app/config/credentials", Line: 2, Layer: 2, Evidence: "aws_access_key_id = AKIA************MPLE"},
			{ID: "VGL-CFG-001", Title: "Image runs as root", Severity: report.High, Category: report.CategoryConfig,
				Description: "The image config sets no USER, so containers run as root.", Fix: "Add a USER instruction with a non-root user.",
				Reference: "https://docs.docker.com/build/building/best-practices/#user", Layer: -1},
		},
	}
}

// Scanned returns Sample as a vulnerability scan of a Dockerfile build
// reports it: the target carries the Dockerfile path and the line of the
// instruction that made each layer (the base layer maps to FROM), the
// lodash finding is suppressed by a VEX statement (besides the jwt-go one
// an ignore rule suppresses) and the summary is set. Findings carry no
// remediation: encoders that show one compute it.
func Scanned() *report.Report {
	r := Sample()
	r.Target.Dockerfile = "build/Dockerfile"
	r.Target.DockerfileSteps = []report.DockerfileStep{
		{Layer: 2, Line: 9, Instruction: "COPY . /app"},
		{Layer: 0, Line: 1, Instruction: "FROM debian:12-slim"},
		{Layer: 1, Line: 3, EndLine: 6, Instruction: "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl python3-yaml && rm -rf /var/lib/apt/lists/*"},
	}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		switch f.ID {
		case "CVE-2020-26160":
			f.Suppressed.Kind, f.Suppressed.Status = report.SuppressedByIgnore, report.StatusNotAffected
		case "CVE-2020-8203":
			f.Suppressed = &report.Suppression{Reason: "VEX: not affected (vulnerable code not in execute path): only the build scripts use lodash",
				Source: "vex/app.openvex.json:25", Kind: report.SuppressedByVEX, Status: report.StatusNotAffected,
				Justification: "vulnerable_code_not_in_execute_path"}
		}
	}
	r.Summary = &report.Summary{}
	return r
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is set.
func Golden(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test with -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (-want +got; rerun with -update if the change is intended):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}
