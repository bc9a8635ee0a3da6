package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// summary is one package as matching sees it.
func summary(inv *inventory.Inventory) []string {
	var out []string
	for _, p := range inv.Packages {
		s := fmt.Sprintf("%s %s %s", p.Ecosystem, p.Name, p.Version)
		if p.Group != "" {
			s = fmt.Sprintf("%s %s:%s %s", p.Ecosystem, p.Group, p.Name, p.Version)
		}
		if p.SourceName != "" || p.SourceVersion != "" {
			s += fmt.Sprintf(" src=%s@%s", p.SourceName, p.SourceVersion)
		}
		if p.OwnedBy != "" {
			s += " owner=" + p.OwnedBy
		}
		if p.Toolchain {
			s += " toolchain"
		}
		if p.Layer != 0 {
			s += fmt.Sprintf(" layer=%d", p.Layer)
		}
		out = append(out, s)
	}
	return out
}

func decodeFile(t *testing.T, path string) *report.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Decode(f, path)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return r
}

func TestDecodeOtherTools(t *testing.T) {
	libcap := "deb libcap2 1:2.66-4+deb12u2+b2 src=libcap2@1:2.66-4+deb12u2"
	libssl := "deb libssl3 3.0.15-1~deb12u1 src=openssl@"
	tests := []struct {
		file   string
		format string
		distro inventory.Distro
		layers int
		want   []string
	}{
		{
			file: "syft.cdx.json", format: FormatCycloneDX,
			distro: inventory.Distro{Family: "debian", Version: "12", Name: "Debian GNU/Linux 12 (bookworm)", Source: "sbom"},
			want: []string{libcap, libssl, "golang golang.org/x/net v0.23.0", "golang stdlib v1.22.1 toolchain",
				"maven org.apache.logging.log4j:log4j-core 2.14.1", "npm lodash 4.17.15", "pypi pyyaml 6.0.1"},
		},
		{
			file: "trivy.cdx.json", format: FormatCycloneDX, layers: 2,
			distro: inventory.Distro{Family: "debian", Version: "12.4", Source: "sbom"},
			want: []string{libcap, libssl, "golang golang.org/x/net v0.23.0", "golang stdlib v1.22.1 toolchain",
				"maven org.apache.logging.log4j:log4j-core 2.14.1", "npm lodash 4.17.15 layer=1", "pypi pyyaml 6.0.1"},
		},
		{
			file: "syft.spdx.json", format: FormatSPDX,
			distro: inventory.Distro{Family: "debian", Version: "12", Source: "sbom"},
			want: []string{libcap, libssl, "deb python3-yaml 6.0-3+b2 src=pyyaml@6.0-3", "golang stdlib v1.22.1 toolchain",
				"maven org.apache.logging.log4j:log4j-core 2.14.1", "npm lodash 4.17.15", "pypi pyyaml 6.0 owner=deb:python3-yaml"},
		},
		{
			file: "trivy.spdx.json", format: FormatSPDX, layers: 2,
			distro: inventory.Distro{Family: "debian", Version: "12.4", Source: "sbom"},
			want:   []string{libcap, libssl, "golang stdlib v1.22.1 toolchain", "npm lodash 4.17.15 layer=1"},
		},
		{
			file: "syft.spdx", format: FormatSPDXTag,
			distro: inventory.Distro{Family: "debian", Version: "12", Source: "sbom"},
			want:   []string{libcap, "golang stdlib v1.22.1 toolchain"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r := decodeFile(t, filepath.Join("testdata", tc.file))
			if r.Target.Kind != report.KindSBOM || r.Target.Source != tc.format || r.Target.Name != "registry.example/shop/api:1.4" {
				t.Errorf("target = %+v", r.Target)
			}
			if diff := cmp.Diff(&tc.distro, r.Inventory.Distro); diff != "" {
				t.Errorf("distro (-want +got):\n%s", diff)
			}
			if len(r.Inventory.Layers) != tc.layers {
				t.Errorf("layers = %+v, want %d", r.Inventory.Layers, tc.layers)
			}
			if diff := cmp.Diff(tc.want, summary(r.Inventory)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeWarnings: components vigil cannot match become warnings, not
// errors; grouping components (files, applications) are not counted.
func TestDecodeWarnings(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.4","components":[
		{"type":"library","name":"a","purl":"pkg:npm/a@1.0.0"},
		{"type":"library","name":"noid"},
		{"type":"library","name":"gh","purl":"pkg:github/acme/gh@1"},
		{"type":"library","name":"broken","purl":"pkg:deb/debian/x@1?distro=debian--12"},
		{"type":"file","name":"/bin/x"},
		{"type":"library","name":"outer","purl":"pkg:deb/debian/python3-six@1.16.0-4","components":[
			{"type":"library","name":"six","purl":"pkg:pypi/six@1.16.0"}]}]}`
	r, err := Decode(strings.NewReader(doc), "w.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"deb python3-six 1.16.0-4", "npm a 1.0.0", "pypi six 1.16.0 owner=deb:python3-six"}, summary(r.Inventory)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, w := range r.Inventory.Warnings {
		msgs = append(msgs, w.Message)
	}
	want := []string{
		"skipped 1 components with no package URL (nothing vigil can match)",
		`skipped 1 components with package URL type "github" (nothing vigil can match)`,
		`skipped component "broken": purl: parse "pkg:deb/debian/x@1?distro=debian--12": distro qualifier "debian--12" has an empty part`,
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestDecodeInvalid(t *testing.T) {
	huge := bytes.Repeat([]byte(" "), MaxSize+1)
	tests := []struct {
		name  string
		input []byte
		is    error
		msg   string
	}{
		{"empty", nil, ErrUnknownFormat, "empty file"},
		{"not json", []byte("hello world"), ErrUnknownFormat, "does not start with"},
		{"json, unknown format", []byte(`{"hello":"world"}`), ErrUnknownFormat, "without bomFormat"},
		{"json array", []byte(`[1,2]`), ErrUnknownFormat, "does not start with"},
		{"truncated cyclonedx", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"purl":"pkg:npm/a@1"`), nil, "truncated"},
		{"cyclonedx xml", []byte(`<?xml version="1.0"?><bom/>`), ErrUnknownFormat, "XML"},
		{"cyclonedx 2.0", []byte(`{"bomFormat":"CycloneDX","specVersion":"2.0"}`), nil, "1.2 to 1.6"},
		{"spdx 3", []byte(`{"spdxVersion":"SPDX-3.0"}`), nil, "SPDX 2.x"},
		{"wrong types", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","components":{"a":1}}`), nil, "CycloneDX 1.5"},
		{"vigil other schema", []byte(`{"schemaVersion":"9","inventory":{}}`), report.ErrSchemaVersion, "vigil JSON"},
		{"tag-value unterminated text", []byte("SPDXVersion: SPDX-2.3\nPackageComment: <text>abc\n"), nil, "truncated"},
		{"deep nesting", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat(`{"components":[`, 70) + strings.Repeat(`]}`, 70) + `]}`), nil, "nested"},
		{"huge", huge, ErrTooLarge, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.input), "in.json")
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), "in.json") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not name the file and say %q", err, tc.msg)
			}
		})
	}
}

func TestTooManyComponents(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`)
	for i := 0; i <= MaxComponents; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{}`)
	}
	sb.WriteString(`]}`)
	_, err := Decode(strings.NewReader(sb.String()), "many.json")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// seeds are the test SBOMs plus vigil's own encoder goldens.
func seeds(t testing.TB) [][]byte {
	var out [][]byte
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	paths = append(paths, filepath.Join("testdata", "syft.spdx"),
		filepath.Join("..", "report", "cyclonedx", "testdata", "image.cdx.json"),
		filepath.Join("..", "report", "spdx", "testdata", "image.spdx.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"schemaVersion":"1","inventory":{"packages":[{"ecosystem":"golang","name":"stdlib","version":"go1.2"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if r.Inventory == nil || r.Target.Kind != report.KindSBOM {
			t.Fatalf("decoded report without inventory or with kind %q", r.Target.Kind)
		}
	})
}
