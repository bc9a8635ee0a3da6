package report_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const golden = "testdata/report.json"

func encode(t testing.TB, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.EncodeJSON(&buf, r); err != nil {
		t.Fatalf("EncodeJSON: %v", err)
	}
	return buf.Bytes()
}

func TestEncodeJSONGolden(t *testing.T) {
	reporttest.Golden(t, golden, encode(t, reporttest.Sample()), *update)
}

func TestEncodeJSONLeavesReportAlone(t *testing.T) {
	r := reporttest.Sample()
	before := reporttest.Sample()
	encode(t, r)
	if diff := cmp.Diff(before, r); diff != "" {
		t.Errorf("EncodeJSON modified its input (-before +after):\n%s", diff)
	}
}

func TestEncodeJSONOrderIndependent(t *testing.T) {
	r := reporttest.Sample()
	want := encode(t, r)
	// Reverse every list: the output must not change.
	rev := reporttest.Sample()
	reverse(rev.Inventory.Packages)
	reverse(rev.Inventory.Layers)
	reverse(rev.Vulnerabilities)
	reverse(rev.Audit)
	if diff := cmp.Diff(string(want), string(encode(t, rev))); diff != "" {
		t.Errorf("output depends on input order (-sorted +reversed):\n%s", diff)
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func TestEncodeJSONEmpty(t *testing.T) {
	got := string(encode(t, &report.Report{Target: report.Target{Kind: report.KindImage, Ref: "x"}}))
	for _, want := range []string{`"schemaVersion": "1"`, `"layers": []`, `"packages": []`, `"vulnerabilities": []`, `"audit": []`} {
		if !strings.Contains(got, want) {
			t.Errorf("empty report lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "null") {
		t.Errorf("empty report has a null:\n%s", got)
	}
	if err := report.EncodeJSON(&bytes.Buffer{}, nil); err == nil {
		t.Error("EncodeJSON(nil) succeeded")
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	data := encode(t, reporttest.Sample())
	got, err := report.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := reporttest.Sample().Sorted()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(inventory.Package{}, "Files")); diff != "" {
		t.Errorf("decoded report differs (-want +got):\n%s", diff)
	}
	if again := encode(t, got); !bytes.Equal(again, data) {
		t.Errorf("re-encoding the decoded report changed it:\n%s", cmp.Diff(string(data), string(again)))
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := string(encode(t, reporttest.Sample()))
	tests := []struct {
		name, in string
		is       error
	}{
		{"not json", "Target: x", nil},
		{"empty", "", nil},
		{"other schema version", strings.Replace(valid, `"schemaVersion": "1"`, `"schemaVersion": "2"`, 1), report.ErrSchemaVersion},
		{"no schema version", `{"tool": {"name": "vigil"}}`, report.ErrSchemaVersion},
		{"trailing data", valid + "{}", nil},
		{"wrong type", `{"schemaVersion": "1", "vulnerabilities": {}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.Decode(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			if !strings.HasPrefix(err.Error(), "report: decode") {
				t.Errorf("error %q lacks the report: decode prefix", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestDecodeSizeCap(t *testing.T) {
	valid := encode(t, reporttest.Sample())
	limit := int64(len(valid))
	if _, err := report.DecodeLimit(bytes.NewReader(valid), limit); err != nil {
		t.Fatalf("a document of exactly the limit: %v", err)
	}
	// One byte more (white space, so still valid JSON) is refused.
	r := io.MultiReader(bytes.NewReader(valid), &repeatReader{b: ' ', n: 1 << 20})
	if _, err := report.DecodeLimit(r, limit); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Decode of an oversized document: err = %v, want the size error", err)
	}
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, os.ErrClosed
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestSortedResolvesFindings(t *testing.T) {
	r := reporttest.Sample()
	// A finding whose package is not in the inventory sorts last, with
	// index -1; every other finding points at its package.
	r.Vulnerabilities = append(r.Vulnerabilities, report.Finding{ID: "CVE-0000-0001", Package: report.PackageRef{Key: "npm||gone|1.0||x", Index: 3, Name: "gone"}})
	s := r.Sorted()
	last := s.Vulnerabilities[len(s.Vulnerabilities)-1]
	if last.ID != "CVE-0000-0001" || last.Package.Index != -1 {
		t.Errorf("unresolved finding = %s at index %d, want CVE-0000-0001 last with index -1", last.ID, last.Package.Index)
	}
	if p := s.PackageOf(&last); p != nil {
		t.Errorf("PackageOf(unresolved) = %s, want nil", p.Name)
	}
	prev := -1
	for _, f := range s.Vulnerabilities[:len(s.Vulnerabilities)-1] {
		p := s.PackageOf(&f)
		if p == nil || p.Key() != f.Package.Key || &s.Inventory.Packages[f.Package.Index] != p {
			t.Errorf("finding %s does not resolve to its package at index %d", f.ID, f.Package.Index)
		}
		if f.Package.Index < prev {
			t.Errorf("findings not in package order at %s", f.ID)
		}
		prev = f.Package.Index
	}
	// OS packages come first in the inventory, so the first finding is an OS one.
	if got := s.Vulnerabilities[0].Package.Ecosystem; !got.IsOS() {
		t.Errorf("first finding is on a %s package, want an OS package first", got)
	}
}

func TestPackageOfUntrustedIndex(t *testing.T) {
	r := reporttest.Sample().Sorted()
	f := r.Vulnerabilities[0]
	want := r.PackageOf(&f)
	for _, idx := range []int{-5, 0, 1 << 30} {
		f.Package.Index = idx
		if got := r.PackageOf(&f); got != want {
			t.Errorf("PackageOf with index %d = %v, want the package with the key", idx, got)
		}
	}
	if got := (&report.Report{}).PackageOf(&f); got != nil {
		t.Errorf("PackageOf without inventory = %v", got)
	}
}

func TestTargetFromImage(t *testing.T) {
	img := &image.Image{
		Source: "registry", Ref: "debian:12", Name: "index.docker.io/library/debian:12",
		Digest: "sha256:1", ID: "sha256:2", RepoTags: []string{"debian:12"},
		Platform: image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Config:   image.Config{User: "app"},
		Layers:   []image.Layer{{Size: 10}, {Size: 32}},
	}
	got := report.TargetFromImage(img)
	want := report.Target{
		Kind: report.KindImage, Source: "registry", Ref: "debian:12", Name: "index.docker.io/library/debian:12",
		Digest: "sha256:1", ID: "sha256:2", RepoTags: []string{"debian:12"},
		Platform: &image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Config:   &image.Config{User: "app"}, Size: 42,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TargetFromImage (-want +got):\n%s", diff)
	}
	got = report.TargetFromImage(&image.Image{Source: "dir", Ref: "/srv/root", RootDir: "/srv/root"})
	if got.Kind != report.KindRootFS || got.Platform != nil {
		t.Errorf("rootfs target = %+v, want kind rootfs without platform", got)
	}
}

func TestSeverityRank(t *testing.T) {
	order := []report.Severity{report.Critical, report.High, report.Medium, report.Low, report.Negligible, report.Unknown}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() <= order[i].Rank() {
			t.Errorf("%s (rank %d) does not outrank %s (rank %d)", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	if got := report.Severity("CRITICAL").Rank(); got != 0 {
		t.Errorf("uppercase severity ranks %d, want 0 (severities are lowercase)", got)
	}
}

func TestShortStep(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/bin/sh -c #(nop) ADD file:5d6b639e8b6b in / ", "ADD file:5d6b639e8b6b in /"},
		{`/bin/sh -c #(nop)  CMD ["bash"]`, `CMD ["bash"]`},
		{"/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin", "ENV PATH=/usr/local/bin:/usr/bin"},
		{"/bin/sh -c apt-get update && apt-get install -y curl", "RUN apt-get update && apt-get install -y curl"},
		{"|1 VERSION=1.2 /bin/sh -c make install", "RUN make install"},
		{"|2 A=1 B=x y /bin/sh -c make", "|2 A=1 B=x y /bin/sh -c make"},
		{"RUN /bin/sh -c apt-get update # buildkit", "RUN apt-get update"},
		{"RUN |2 A=1 B=2 /bin/bash -o pipefail -c make   all # buildkit", "RUN make all"},
		{"RUN /bin/sh -ec set -x # buildkit", "RUN set -x"},
		{"COPY . /app # buildkit", "COPY . /app"},
		{"COPY --from=build /out/app /usr/local/bin/app # buildkit", "COPY --from=build /out/app /usr/local/bin/app"},
		{"WORKDIR /app", "WORKDIR /app"},
		{"RUN apt-get\n\tinstall -y curl", "RUN apt-get install -y curl"},
		{"RUN [\"/bin/app\", \"--init\"] # buildkit", `RUN ["/bin/app", "--init"]`},
		{"/usr/bin/bash -x", "/usr/bin/bash -x"},
		{"", ""},
		{"|", "|"},
		{"|99999999999999999999 a=b /bin/sh -c x", "|99999999999999999999 a=b /bin/sh -c x"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := report.ShortStep(tc.in); got != tc.want {
				t.Errorf("ShortStep(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTargetPath(t *testing.T) {
	loc := func(eco inventory.Ecosystem, path string) *inventory.Package {
		return &inventory.Package{Ecosystem: eco, Name: "x", Locations: []inventory.Location{{Path: path}}}
	}
	tests := []struct {
		p    *inventory.Package
		want string
	}{
		{loc(inventory.NPM, "app/node_modules/express/package.json"), "app/node_modules"},
		{loc(inventory.NPM, "app/node_modules/send/node_modules/ms/package.json"), "app/node_modules"},
		{loc(inventory.NPM, "usr/local/lib/node_modules/npm/node_modules/semver/package.json"), "usr/local/lib/node_modules"},
		{loc(inventory.NPM, "app/package-lock.json"), "app/package-lock.json"},
		{loc(inventory.PyPI, "usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO"), "usr/lib/python3/dist-packages"},
		{loc(inventory.PyPI, "opt/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA"), "opt/venv/lib/python3.11/site-packages"},
		{loc(inventory.PyPI, "app/poetry.lock"), "app/poetry.lock"},
		{loc(inventory.Gem, "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec"), "usr/lib/ruby/gems/3.1.0"},
		{loc(inventory.Go, "app/bin/demo-worker"), "app/bin/demo-worker"},
		{loc(inventory.Maven, "app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar"), "app/app.jar"},
		{&inventory.Package{Ecosystem: inventory.Cargo, Name: "rand"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := report.TargetPath(tc.p); got != tc.want {
				t.Errorf("TargetPath(%v) = %q, want %q", tc.p.Locations, got, tc.want)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	r := reporttest.Sample().Sorted()
	type group struct {
		OS        bool
		Ecosystem inventory.Ecosystem
		Path      string
		Names     []string
	}
	var got []group
	for _, g := range report.Groups(r.Inventory) {
		gg := group{OS: g.OS, Ecosystem: g.Ecosystem, Path: g.Path}
		for _, p := range g.Packages {
			gg.Names = append(gg.Names, p.Name+"@"+p.Version)
		}
		got = append(got, gg)
	}
	want := []group{
		{OS: true, Names: []string{"base-files@12.4+deb12u5", "ca-certificates@20230311", "curl@7.88.1-10+deb12u5", "libc6@2.36-9+deb12u7", "libcurl4@7.88.1-10+deb12u5", "python3-yaml@6.0-3+b2", "zlib1g@1:1.2.13.dfsg-1"}},
		{Ecosystem: inventory.Go, Path: "app/bin/demo-worker", Names: []string{"github.com/dgrijalva/jwt-go@v3.2.0+incompatible", "golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4", "golang.org/x/text@v0.3.5", "gopkg.in/yaml.v2@v2.2.2", "stdlib@go1.26.8"}},
		{Ecosystem: inventory.NPM, Path: "app/node_modules", Names: []string{"debug@2.6.9", "express@4.17.1", "lodash@4.17.15", "minimist@0.0.10", "minimist@1.2.0", "ms@2.0.0", "ms@2.1.1", "optimist@0.6.1", "send@0.17.1"}},
		{Ecosystem: inventory.PyPI, Path: "usr/lib/python3/dist-packages", Names: []string{"PyYAML@6.0"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	if report.Groups(nil) != nil {
		t.Error("Groups(nil) is not nil")
	}
}

func TestDocumentUUID(t *testing.T) {
	// Expected values from Python's uuid.uuid5 with vigil's namespace and
	// the length-prefixed name DocumentUUID hashes ("4:spdx11:sha256:dddd").
	tests := []struct {
		parts []string
		want  string
	}{
		{nil, "8b5b9ea1-e0ca-5e52-a77b-ffda26f922fe"},
		{[]string{""}, "2044371d-6219-5dd5-acf3-7fb292d842c1"},
		{[]string{"spdx", "sha256:dddd"}, "2947461d-e3e9-588f-b4b2-c47563b3975d"},
		{[]string{"ab", "c"}, "0f1f5fef-787b-592b-8b4e-cbf39142518c"},
		{[]string{"a", "bc"}, "b3349d10-9e3e-5a54-aa4c-7e45b18518e8"},
	}
	for _, tc := range tests {
		if got := report.DocumentUUID(tc.parts...); got != tc.want {
			t.Errorf("DocumentUUID(%q) = %s, want %s", tc.parts, got, tc.want)
		}
	}
}

func TestPackageID(t *testing.T) {
	a := &inventory.Package{Ecosystem: inventory.NPM, Name: "ms", Version: "2.0.0", Locations: []inventory.Location{{Path: "app/node_modules/ms/package.json"}}}
	b := &inventory.Package{Ecosystem: inventory.NPM, Name: "ms", Version: "2.0.0", Locations: []inventory.Location{{Path: "app/node_modules/send/node_modules/ms/package.json"}}}
	if report.PackageID(a) == report.PackageID(b) {
		t.Error("two instances of one package at different paths share an ID")
	}
	if got := report.PackageID(a); len(got) != 16 || got != report.PackageID(a) {
		t.Errorf("PackageID = %q, want 16 stable hex digits", got)
	}
}

func FuzzDecode(f *testing.F) {
	seed, err := os.ReadFile(golden)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schemaVersion":"1","inventory":{"packages":[{"ecosystem":"npm","name":"a","locations":[]}]},"vulnerabilities":[{"id":"x","package":{"index":99,"key":"k"}}]}`))
	f.Add([]byte(`{"schemaVersion":"1","inventory":null,"vulnerabilities":[{"package":{"index":-1}}],"createdAt":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever decodes must encode, and encoding is a fixed point.
		var a, b bytes.Buffer
		if err := report.EncodeJSON(&a, r); err != nil {
			t.Fatalf("EncodeJSON of a decoded report: %v", err)
		}
		r2, err := report.Decode(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("Decode of EncodeJSON output: %v\n%s", err, a.Bytes())
		}
		if err := report.EncodeJSON(&b, r2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("encoding is not a fixed point:\n%s", cmp.Diff(a.String(), b.String()))
		}
		for i := range r.Vulnerabilities {
			r.PackageOf(&r.Vulnerabilities[i])
		}
	})
}
