package audit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite docs/audit-rules.md")

var areas = []struct{ prefix, title, intro string }{
	{"VGL-IMG", "Image configuration", "Checked by `audit.Image` on the image config and the history step of each layer."},
	{"VGL-CNT", "Image content", "Checked by `audit.Image` on the inventory: OS packages, the OS release, vulnerabilities with fixes, and the file findings of the content observer."},
	{"VGL-SEC", "Secrets in image files", "Reported by `audit.Image` from the secret findings of the layer walk. A secret deleted by a later layer is still reported, with the layer that ships it."},
	{"VGL-DKF", "Dockerfile", "Checked by `vigil dockerfile FILE` (package `audit/dockerfile`); findings point at Dockerfile lines."},
	{"VGL-MAN", "Compose and Kubernetes manifests", "Checked by `vigil config PATH` (package `audit/manifest`) on docker compose files and Kubernetes workloads; findings point at the offending key, or at the container or service when the key is missing."},
	{"VGL-CTR", "Running containers", "Checked by `vigil containers` (package `audit/container`) on what the Docker Engine API reports for each container."},
}

// rulesMarkdown renders the catalogue as docs/audit-rules.md.
func rulesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString("# Audit rules\n\n")
	b.WriteString("<!-- Generated from the rule catalogue (audit/internal/catalog) by\n" +
		"     go test ./audit -run TestRulesDoc -update\n     Do not edit by hand: the test fails when this file and the code differ. -->\n\n")
	b.WriteString("Every hardening check vigil runs, with its stable ID. IDs never change meaning and are never reused;\n" +
		"use them in ignore files and policies. Severity is the default; policy may override it.\n\n")
	b.WriteString("| ID | Name | Severity | Title |\n| --- | --- | --- | --- |\n")
	rules := Rules()
	for _, r := range rules {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Name, r.Severity, mdEscape(r.Title))
	}
	for _, a := range areas {
		fmt.Fprintf(&b, "\n## %s (%s)\n\n%s\n", a.title, a.prefix, a.intro)
		for _, r := range rules {
			if !strings.HasPrefix(r.ID, a.prefix+"-") {
				continue
			}
			fmt.Fprintf(&b, "\n### %s\n\n**%s** (`%s`): severity **%s**, category `%s`", r.ID, mdEscape(r.Title), r.Name, r.Severity, r.Category)
			if r.Standard != "" {
				fmt.Fprintf(&b, "; %s", r.Standard)
			}
			fmt.Fprintf(&b, ".\n\n%s\n\n**Fix:** %s\n\n**Reference:** <%s>\n", r.Description, r.Fix, r.Reference)
			if len(r.FileRules) > 0 {
				fmt.Fprintf(&b, "\n**Reports content findings:** `%s`\n", strings.Join(r.FileRules, "`, `"))
			}
		}
	}
	return b.Bytes()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// TestRulesDoc keeps docs/audit-rules.md equal to the catalogue; -update
// rewrites it.
func TestRulesDoc(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(t), "docs", "audit-rules.md")
	got := rulesMarkdown()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test ./audit -run TestRulesDoc -update to create it): %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/audit-rules.md is stale; run go test ./audit -run TestRulesDoc -update (-file +catalogue):\n%s", diff)
	}
	for _, a := range areas {
		if !bytes.Contains(got, []byte("## "+a.title)) {
			t.Errorf("section %s missing", a.title)
		}
	}
	for _, r := range Rules() {
		if !bytes.Contains(got, []byte("### "+r.ID+"\n")) {
			t.Errorf("%s has no section", r.ID)
		}
	}
}
