package format_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/format"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/table"
)

func TestNew(t *testing.T) {
	// Each name yields an encoder whose output carries its format's marker.
	tests := []struct {
		name, marker string
	}{
		{"table", "OS packages: Debian GNU/Linux 12 (bookworm)"},
		{"TABLE", "OS packages: Debian GNU/Linux 12 (bookworm)"},
		{"json", `"schemaVersion": "1"`},
		{"cyclonedx", `"bomFormat": "CycloneDX"`},
		{"cyclonedx-json", `"specVersion": "1.6"`},
		{"spdx", `"spdxVersion": "SPDX-2.3"`},
		{"spdx-json", `"SPDXID": "SPDXRef-DOCUMENT"`},
		{"sarif", `"version": "2.1.0"`},
		{"junit", `<testsuites name="vigil docker.io/library/vigil-demo:1.0"`},
		{"markdown", "## vigil: `docker.io/library/vigil-demo:1.0`"},
		{"md", "| Vulnerabilities |"},
		{"html", "<!DOCTYPE html>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := format.New(tc.name, format.Options{})
			if err != nil {
				t.Fatalf("New(%q): %v", tc.name, err)
			}
			var buf bytes.Buffer
			if err := enc.Encode(&buf, reporttest.Sample()); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !strings.Contains(buf.String(), tc.marker) {
				t.Errorf("format %s output lacks %q", tc.name, tc.marker)
			}
		})
	}
}

func TestNewPassesTableOptions(t *testing.T) {
	enc, err := format.New("table", format.Options{Table: table.Options{Color: true}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := enc.Encode(&buf, reporttest.Sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Error("table options did not reach the encoder: no colour")
	}
}

func TestNewUnknown(t *testing.T) {
	_, err := format.New("xml", format.Options{})
	if !errors.Is(err, format.ErrUnknown) {
		t.Fatalf("New(sarif) error = %v, want ErrUnknown", err)
	}
	for _, n := range format.Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list format %s", err, n)
		}
	}
}

func TestNamesAllWork(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "t.tmpl")
	if err := os.WriteFile(tmpl, []byte("{{.target.name}}: {{len .vulnerabilities}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range format.Names() {
		if _, err := format.New(n, format.Options{Template: tmpl}); err != nil {
			t.Errorf("listed format %s: %v", n, err)
		}
	}
}

func TestTemplate(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "t.tmpl")
	if err := os.WriteFile(tmpl, []byte("{{.target.name}}: {{len .vulnerabilities}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	enc, err := format.New("template", format.Options{Template: "@" + tmpl})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := enc.Encode(&buf, reporttest.Sample()); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "docker.io/library/vigil-demo:1.0: 6\n"; got != want {
		t.Errorf("template output %q, want %q", got, want)
	}
	if _, err := format.New("template", format.Options{}); !errors.Is(err, format.ErrNoTemplate) {
		t.Errorf("template without a file: %v, want ErrNoTemplate", err)
	}
	if _, err := format.New("template", format.Options{Template: filepath.Join(t.TempDir(), "nope.tmpl")}); err == nil || !strings.Contains(err.Error(), "nope.tmpl") {
		t.Errorf("missing template file: %v", err)
	}
}

// FuzzEncodeDecoded feeds every encoder reports decoded from untrusted
// JSON: whatever Decode accepts, each format must render without error or
// panic (references out of range, missing inventory, odd strings).
func FuzzEncodeDecoded(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("..", "testdata", "report.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schemaVersion":"1","inventory":{"layers":[{"index":-3,"createdBy":"|9 /bin/sh -c"}],"packages":[{"ecosystem":"npm","name":"@","locations":[]},{"ecosystem":"rpm","name":"x","version":"a:b:c","ownedBy":"rpm:x"}]},"vulnerabilities":[{"id":"","package":{"index":5,"key":"npm||@|||"},"cvss":[{"version":"9","score":-1}]}]}`))
	f.Add([]byte(`{"schemaVersion":"1","target":{"kind":"image","digest":"sha256:zz","name":"::@@"},"inventory":null,"audit":[{"layer":-1}]}`))
	tmpl := filepath.Join(f.TempDir(), "all.tmpl")
	if err := os.WriteFile(tmpl, []byte("{{toJSON .}}{{range sortBySeverity .vulnerabilities}}{{with layer .layer}}{{shortStep .createdBy}}{{end}}{{end}}"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, name := range format.Names() {
			enc, err := format.New(name, format.Options{Table: table.Options{Width: 40}, Template: tmpl})
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(io.Discard, r); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}
