package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/report"
)

// runAudit runs one of the audit commands on its own (root.go wires them
// under the root command) and returns stdout, stderr and the exit code.
func runAudit(t *testing.T, newCmd func(*globals) *cobra.Command, stdin string, format string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{env: Env{Stdout: &out, Stderr: &errb, Version: "test"}, format: format, cacheDir: t.TempDir(),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cmd := newCmd(g)
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: ExitUsage, err: err} })
	err := cmd.ExecuteContext(context.Background())
	if err != nil && !isReported(err) {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), Code(err)
}

func auditIDs(t *testing.T, out string) []string {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	ids := []string{}
	for _, i := range r.Audit {
		ids = append(ids, i.ID)
	}
	return ids
}

func TestDockerfileCommand(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	src := "FROM debian:12.8-slim@sha256:" + strings.Repeat("1", 64) + "\nENV API_TOKEN=abcdef0123456789\nUSER 10001\nHEALTHCHECK CMD [\"/app\"]\n"
	if err := os.WriteFile(df, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runAudit(t, newDockerfileCommand, "", "json", df)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if diff := cmp.Diff([]string{"VGL-DKF-008"}, auditIDs(t, out)); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	if strings.Contains(out, "abcdef0123456789") || !strings.Contains(out, `"kind": "dockerfile"`) {
		t.Errorf("report leaks the secret or lacks the target kind:\n%s", out)
	}

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"fail-on high", []string{"--fail-on", "high", df}, "", ExitPolicyFailed, "1 finding(s) at or above high"},
		{"fail-on critical passes", []string{"--fail-on", "critical", df}, "", ExitOK, ""},
		{"bad fail-on", []string{"--fail-on", "urgent", df}, "", ExitUsage, "--fail-on"},
		{"missing file", []string{filepath.Join(dir, "nope")}, "", ExitError, "nope"},
		{"not a Dockerfile", []string{"-"}, "just text\n", ExitError, "no FROM"},
		{"stdin", []string{"--fail-on", "medium", "-"}, "FROM alpine\nUSER 1\nHEALTHCHECK NONE\n", ExitPolicyFailed, "at or above medium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runAudit(t, newDockerfileCommand, tt.stdin, "json", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if _, stderr, code := runAudit(t, newDockerfileCommand, "", "cyclonedx", df); code != ExitUsage || !strings.Contains(stderr, "--format") {
		t.Errorf("SBOM format for an audit: exit %d, %s", code, stderr)
	}
}

func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	bad := "services:\n  web:\n    image: nginx\n    privileged: true\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte("a: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runAudit(t, newConfigCommand, "", "json", "--fail-on", "high", dir)
	if code != ExitPolicyFailed {
		t.Fatalf("exit %d, want %d: %s", code, ExitPolicyFailed, stderr)
	}
	want := []string{"VGL-MAN-001", "VGL-MAN-002", "VGL-MAN-004", "VGL-MAN-005", "VGL-MAN-006", "VGL-MAN-009", "VGL-MAN-010"}
	got := auditIDs(t, out)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	if _, stderr, code := runAudit(t, newConfigCommand, "", "json", filepath.Join(dir, "broken.yml")); code != ExitError || !strings.Contains(stderr, "broken.yml") {
		t.Errorf("single unparsable file: exit %d, %s", code, stderr)
	}
}

func TestContainersCommandUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, stderr, code := runAudit(t, newContainersCommand, "", "json", "--docker-host", "unix://"+sock)
	if code != ExitError || !strings.Contains(stderr, "unreachable") {
		t.Errorf("exit %d, stderr %q; want %d and an unreachable engine", code, stderr, ExitError)
	}
	_, stderr, code = runAudit(t, newContainersCommand, "", "json", "--docker-host", "ssh://host")
	if code != ExitUsage {
		t.Errorf("ssh host: exit %d, %s", code, stderr)
	}
}
