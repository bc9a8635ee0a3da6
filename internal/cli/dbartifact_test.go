package cli

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// startRegistry runs Debian's docker-registry (the CNCF distribution
// registry) on a free loopback port and returns host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-registry is required in CI (.ci/run installs it)")
		}
		t.Skip("docker-registry not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("registry did not start")
	return ""
}

func TestDBPushPullThroughARegistry(t *testing.T) {
	addr := startRegistry(t)
	src, dst := t.TempDir(), t.TempDir()
	adv := filepath.Join(testutil.RepoRoot(t), "examples", "sample", "advisories")
	if _, stderr, code := run(t, src, "db", "import", adv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	ref := addr + "/vigil/db:1"
	out, stderr, code := run(t, src, "db", "push", "--insecure", ref)
	if code != 0 || !strings.Contains(out, "@sha256:") {
		t.Fatalf("push: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := run(t, dst, "db", "pull", "--insecure", ref); code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	status, _, code := run(t, dst, "db", "status", "--format", "json")
	if code != 0 || !strings.Contains(status, `"docs": 8`) {
		t.Errorf("pulled database status (exit %d):\n%s", code, status)
	}
	// A reference that is not a database is refused and leaves nothing.
	if _, stderr, code := run(t, t.TempDir(), "db", "pull", "--insecure", addr+"/nothing:here"); code != ExitError || stderr == "" {
		t.Errorf("pull of a missing artifact: exit %d %s", code, stderr)
	}
}
