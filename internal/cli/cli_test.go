package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
)

// run executes the CLI with its own cache dir and returns stdout, stderr
// and the exit code.
func run(t *testing.T, cache string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--cache-dir", cache)
	err := Execute(context.Background(), Env{Stdout: &out, Stderr: &errb, Version: "test"}, args)
	return out.String(), errb.String(), Code(err)
}

func sample(t *testing.T) string {
	return "oci-dir:" + filepath.Join(testutil.RepoRoot(t), "examples", "sample", "image")
}

func TestInspectJSON(t *testing.T) {
	out, stderr, code := run(t, t.TempDir(), "inspect", sample(t), "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v inspectView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Layers) != 2 || !strings.HasPrefix(v.Layers[0].DiffID, "sha256:") || v.Layers[1].CreatedBy == "" {
		t.Errorf("layers = %+v", v.Layers)
	}
	var hl []int
	for _, h := range v.History {
		hl = append(hl, h.Layer)
	}
	if diff := cmp.Diff([]int{0, 1, -1, -1, -1}, hl); diff != "" {
		t.Errorf("history lined up with layers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PATH", "DB_PASSWORD"}, v.EnvNames); diff != "" {
		t.Errorf("env names (-want +got):\n%s", diff)
	}
	// Values stay out of the config view (history shows build steps as the
	// image recorded them, like docker history does).
	for _, n := range v.EnvNames {
		if strings.Contains(n, "=") {
			t.Errorf("inspect printed an environment value: %q", n)
		}
	}
	if v.User != "" || v.Platform.OS != "linux" {
		t.Errorf("user %q platform %+v", v.User, v.Platform)
	}
	table, _, code := run(t, t.TempDir(), "inspect", sample(t))
	if code != 0 || !strings.Contains(table, "(not set: runs as root)") || !strings.Contains(table, "COPY app /app") {
		t.Errorf("table inspect (exit %d):\n%s", code, table)
	}
}

func TestExitCodes(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"unknown flag", []string{"sbom", "--nope", sample(t)}, ExitUsage, "unknown flag"},
		{"bad format", []string{"sbom", "--format", "pdf", sample(t)}, ExitUsage, "--format"},
		{"bad platform", []string{"inspect", "--platform", "linux", sample(t)}, ExitUsage, "os/arch"},
		{"bad scanners", []string{"image", "--scanners", "vuln,magic", sample(t)}, ExitUsage, "magic"},
		{"missing image file", []string{"sbom", "oci-dir:" + filepath.Join(cache, "nope")}, ExitError, "nope"},
		{"no database", []string{"image", sample(t)}, ExitError, "vigil db update"},
		{"sbom ok", []string{"sbom", sample(t)}, ExitOK, ""},
		{"image without vuln scanner", []string{"image", "--scanners", "secret", sample(t)}, ExitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, cache, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.message != "" && !strings.Contains(stderr, tc.message) {
				t.Errorf("stderr does not mention %q:\n%s", tc.message, stderr)
			}
		})
	}
}

func TestImageFindsSampleVulnerabilities(t *testing.T) {
	cache := t.TempDir()
	adv := filepath.Join(testutil.RepoRoot(t), "examples", "sample", "advisories")
	if _, stderr, code := run(t, cache, "db", "import", adv); code != 0 {
		t.Fatalf("db import: exit %d\n%s", code, stderr)
	}
	out, stderr, code := run(t, cache, "image", sample(t), "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var r struct {
		Vulnerabilities []struct {
			ID      string `json:"id"`
			Package struct{ Name string }
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Vulnerabilities {
		got = append(got, f.Package.Name+" "+f.ID)
	}
	want := []string{
		"axios CVE-2023-45857", "dpkg CVE-2025-6297", "express CVE-2024-29041", "libcap2 CVE-2026-4878",
		"libgcrypt20 CVE-2026-41989", "lodash CVE-2020-8203", "lodash CVE-2021-23337", "minimist CVE-2021-44906",
	}
	if diff := cmp.Diff(want, sorted(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestDBImportNamesBadInput: a malformed record is named, not only counted,
// and a file that is no advisory data at all is named in the error.
func TestDBImportNamesBadInput(t *testing.T) {
	cache, dir := t.TempDir(), t.TempDir()
	good := `{"id":"GO-2099-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"example.com/x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`
	for name, body := range map[string]string{"GO-2099-1.json": good, "GO-2099-2.json": `{"id": "GO-2099-2", "affected": [`, "notes.json": "just words"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code := run(t, cache, "db", "import", filepath.Join(dir, "GO-2099-1.json"), filepath.Join(dir, "GO-2099-2.json"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "1 added") || !strings.Contains(stderr, "1 malformed") || !strings.Contains(stderr, "GO-2099-2.json") {
		t.Errorf("stderr does not count and name the malformed record:\n%s", stderr)
	}
	_, stderr, code = run(t, cache, "db", "import", filepath.Join(dir, "notes.json"))
	if code == 0 || !strings.Contains(stderr, "notes.json") || !strings.Contains(stderr, "unchanged") {
		t.Errorf("import of a file that is no advisory data: exit %d, stderr:\n%s", code, stderr)
	}
}
