package template_test

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/reporttest"
	"github.com/vigilsec/vigil/report/template"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGolden(t *testing.T) {
	for _, name := range []string{"csv", "summary"} {
		t.Run(name, func(t *testing.T) {
			enc, err := template.Load("@" + filepath.Join("testdata", name+".tmpl"))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := enc.Encode(&buf, reporttest.Scanned()); err != nil {
				t.Fatal(err)
			}
			reporttest.Golden(t, filepath.Join("testdata", name+".golden"), buf.Bytes(), *update)
		})
	}
}

func run(t *testing.T, text string, r *report.Report) (string, error) {
	t.Helper()
	enc, err := template.New("t", text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = enc.Encode(&buf, r)
	return buf.String(), err
}

func TestFuncs(t *testing.T) {
	tests := []struct{ name, tmpl, want string }{
		{"numbers are integers", `{{.target.size}} {{(index .inventory.layers 0).index}}`, "57350000 0"},
		{"floats stay floats", `{{range .vulnerabilities}}{{with .epss}}{{.score}}{{end}}{{end}}`, "0.0117"},
		{"join", `{{join "," (index .vulnerabilities 3).aliases}}`, "GO-2021-0113,GHSA-ppp9-7jff-5vj2"},
		{"upper lower", `{{upper "ab"}}{{lower "CD"}}`, "ABcd"},
		{"truncate", `{{truncate 4 "abcdef"}}|{{truncate 10 "abc"}}`, "abc…|abc"},
		{"toJSON", `{{toJSON .summary.actions}}`, `{"noFix":1,"rebuild":1,"upgrade":2}`},
		{"escapeCSV", `{{escapeCSV "a,b"}}|{{escapeCSV "say \"hi\""}}|{{escapeCSV "plain"}}`, `"a,b"|"say ""hi"""|plain`},
		{"escapeXML", `{{escapeXML "<a & 'b'>"}}`, "&lt;a &amp; &#39;b&#39;&gt;"},
		{"severityRank", `{{severityRank "critical"}}{{severityRank "low"}}{{severityRank "bogus"}}`, "520"},
		{"sortBySeverity", `{{range sortBySeverity .vulnerabilities}}{{.severity}} {{end}}`, "critical high high high medium negligible "},
		{"shortStep", `{{shortStep "/bin/sh -c #(nop)  CMD [\"bash\"]"}}`, `CMD ["bash"]`},
		{"layer", `{{with layer 2}}{{.createdBy}}{{end}}|{{layer 9}}`, "COPY . /app # buildkit|<no value>"},
		{"default", `{{default "none" .nothing}}|{{default "none" .target.kind}}`, "none|image"},
		{"remediation present", `{{range .vulnerabilities}}{{if eq .id "CVE-2021-44906"}}{{.remediation.command}}{{end}}{{end}}`, "npm install minimist@1.2.6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, tc.tmpl, reporttest.Scanned())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := template.Load(filepath.Join(dir, "missing.tmpl")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.tmpl") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := template.Load("@"); err == nil || !strings.Contains(err.Error(), "--template FILE") {
		t.Errorf("empty spec: %v", err)
	}
	big := filepath.Join(dir, "big.tmpl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), template.MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := template.Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
	bad := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(bad, []byte("line one\n{{range .vulnerabilities}}\n{{.id}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := template.Load(bad); err == nil || !strings.Contains(err.Error(), "bad.tmpl:3") {
		t.Errorf("parse error does not name file and line: %v", err)
	}
	_, err := run(t, `{{index .vulnerabilities 99}}`, reporttest.Sample())
	if err == nil || !strings.HasPrefix(err.Error(), "template: execute template: t:1:2:") || !strings.Contains(err.Error(), "docker.io/library/vigil-demo:1.0") {
		t.Errorf("execution error = %v", err)
	}
	if _, err := run(t, `{{undefinedFunc}}`, reporttest.Sample()); err == nil {
		t.Error("undefined function parsed")
	}
	enc, _ := template.New("t", "x")
	if err := enc.Encode(&bytes.Buffer{}, nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}
