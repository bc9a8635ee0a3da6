package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/audit"
	"github.com/vigilsec/vigil/audit/content"
	"github.com/vigilsec/vigil/audit/secrets"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/scan"
)

func docker(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// auditIDs scans an engine image with the secret and audit scanners and
// returns the IDs of the issues found.
func auditIDs(t *testing.T, ref string) map[string]bool {
	t.Helper()
	svc := service(t)
	r, err := svc.Inventory(context.Background(), "docker:"+ref, scan.Options{NoCache: true, Extra: []extract.Extractor{secrets.New(), content.New()}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, is := range audit.Image(r, time.Now()) {
		ids[is.ID] = true
	}
	return ids
}

// TestHardeningBadAndGoodBuilds builds two images on the local engine from
// one real Debian base: one that repeats the reference image's mistakes
// (root, a password in ENV, an AWS key file) and a multi-stage, non-root
// rebuild that avoids them. The first must yield those findings, the second
// none of them.
func TestHardeningBadAndGoodBuilds(t *testing.T) {
	need(t, "docker")
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Docker Engine must be running in CI: %v\n%s", err, out)
		}
		t.Skip("no Docker Engine")
	}
	root := debroot.Minbase(t)
	tarball, err := exec.Command("tar", "-C", root, "--exclude=./proc", "--exclude=./sys", "--exclude=./dev", "-cf", "-", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	tag := "vigil-e2e-base:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	docker(t, tarball, "import", "-", tag)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag, "vigil-e2e-bad:1", "vigil-e2e-good:1").Run() })

	ctxDir := t.TempDir()
	os.WriteFile(filepath.Join(ctxDir, "credentials"), []byte("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"), 0o600)
	os.WriteFile(filepath.Join(ctxDir, "app.sh"), []byte("#!/bin/sh\necho ok\n"), 0o755)
	os.WriteFile(filepath.Join(ctxDir, ".dockerignore"), []byte("Dockerfile*\n"), 0o644)
	bad := "FROM " + tag + "\nENV DB_PASSWORD=hunter2-not-a-real-password\nCOPY credentials /root/.aws/credentials\nCOPY app.sh /app/app.sh\nCMD [\"/app/app.sh\"]\n"
	good := "FROM " + tag + " AS build\nCOPY app.sh /src/app.sh\nRUN chmod 0755 /src/app.sh\n\n" +
		"FROM " + tag + "\nCOPY --from=build /src/app.sh /app/app.sh\nUSER 10001\nHEALTHCHECK CMD [\"/app/app.sh\"]\nCMD [\"/app/app.sh\"]\n"
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile.bad"), []byte(bad), 0o644)
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile.good"), []byte(good), 0o644)
	docker(t, nil, "build", "-q", "-f", filepath.Join(ctxDir, "Dockerfile.bad"), "-t", "vigil-e2e-bad:1", ctxDir)
	docker(t, nil, "build", "-q", "-f", filepath.Join(ctxDir, "Dockerfile.good"), "-t", "vigil-e2e-good:1", ctxDir)

	expected := []string{"VGL-IMG-001", "VGL-IMG-002", "VGL-SEC-002"}
	badIDs := auditIDs(t, "vigil-e2e-bad:1")
	for _, id := range expected {
		if !badIDs[id] {
			t.Errorf("bad build: %s not reported (got %v)", id, badIDs)
		}
	}
	goodIDs := auditIDs(t, "vigil-e2e-good:1")
	for _, id := range append(expected, "VGL-IMG-005", "VGL-CNT-001") {
		if goodIDs[id] {
			t.Errorf("good build: %s reported", id)
		}
	}
}
