package audit_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit"
	"github.com/vigilsec/vigil/audit/dockerfile"
	"github.com/vigilsec/vigil/ecosystem/dpkg"
	"github.com/vigilsec/vigil/ecosystem/osrelease"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/resolve"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/scan"
)

var clock = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

// service scans with the OS release and dpkg extractors only, so the
// expectations below do not move when other ecosystems are added.
func service(t *testing.T) *scan.Service {
	reg := extract.NewRegistry(osrelease.New(), dpkg.New())
	return &scan.Service{Open: resolve.Open, ImageExtractors: reg, RootFSExtractors: reg, TempDir: t.TempDir(),
		Now: func() time.Time { return clock }}
}

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (required under CI=true)", args...)
	}
	t.Skipf(format, args...)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestImageEndToEnd builds an image on the local Docker Engine from a base
// holding a real Debian 12 package database (720 packages, compilers
// included) and a Dockerfile with known problems, scans it through the
// scan service, audits it and maps the issues to the Dockerfile's lines.
func TestImageEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		unavailable(t, "docker CLI not installed: %v", err)
	}
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		unavailable(t, "docker engine unreachable: %v: %s", err, out)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		unavailable(t, "busybox-static not installed: %v", err)
	}
	status, err := os.ReadFile(testutil.Fixtures(t, "vulndata", "Debian", "bookworm-installed", "dpkg-status"))
	if err != nil {
		t.Fatal(err)
	}
	var rnd [5]byte
	rand.Read(rnd[:])
	suffix := hex.EncodeToString(rnd[:])
	base, app := "vigil-audit-base-"+suffix+":1", "vigil-audit-app-"+suffix+":1"
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", app, base).Run() })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	for _, d := range []string{"bin/", "etc/", "var/", "var/lib/", "var/lib/dpkg/"} {
		add(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755}, bb)
	for _, l := range []string{"sh", "mkdir", "echo", "true", "false"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	add(&tar.Header{Name: "etc/os-release", Typeflag: tar.TypeReg, Mode: 0o644}, []byte(
		"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"+
			"VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"))
	add(&tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Mode: 0o644}, status)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := os.WriteFile(rootfs, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "docker", "import", rootfs, base)

	src := "FROM " + base + `
ENV API_TOKEN=tok_0123456789abcdef
RUN mkdir -p /app && echo built > /app/version
COPY app.conf /app/app.conf
RUN if false; then wget -qO- https://example.com/install.sh | sh; fi; echo ok > /app/installed
EXPOSE 80
`
	ctxDir := filepath.Join(dir, "ctx")
	if err := os.Mkdir(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"Dockerfile": src, "app.conf": "port=80\n", ".dockerignore": ".git\n"} {
		if err := os.WriteFile(filepath.Join(ctxDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "docker", "build", "-q", "-t", app, ctxDir)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := service(t).Inventory(ctx, "docker:"+app, scan.Options{Image: image.Options{TempDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	debs := r.Inventory.CountByEcosystem()[inventory.Deb]
	if debs < 700 {
		t.Fatalf("scan found %d deb packages, want the fixture's ~720", debs)
	}
	pipeLayer := -1
	for _, l := range r.Inventory.Layers {
		if strings.Contains(l.CreatedBy, "wget -qO-") {
			pipeLayer = l.Index
		}
	}

	issues := audit.Image(r, clock)
	df, err := dockerfile.Load(filepath.Join(ctxDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	audit.MapToDockerfile(issues, r.Inventory.Layers, df)

	type placed struct {
		ID    string
		Layer int
		Line  int
	}
	var got []placed
	evidence := map[string]string{}
	for _, i := range issues {
		got = append(got, placed{i.ID, i.Layer, i.Line})
		evidence[i.ID] = i.Evidence
		if i.Path != filepath.Join(ctxDir, "Dockerfile") {
			t.Errorf("%s: path %q, want the Dockerfile", i.ID, i.Path)
		}
	}
	want := []placed{
		{"VGL-CNT-001", 0, 1}, // compilers, make, git, curl, -dev packages from the base: its FROM
		{"VGL-CNT-003", 0, 1}, // bash, dash, apt, dpkg
		{"VGL-CNT-006", -1, 1},
		{"VGL-IMG-001", -1, 1}, // no USER: the final FROM
		{"VGL-IMG-002", -1, 2},
		{"VGL-IMG-005", -1, 1},
		{"VGL-IMG-006", -1, 6},
		{"VGL-IMG-008", pipeLayer, 5},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	for id, sub := range map[string][]string{
		"VGL-CNT-001": {"compiler: cpp, cpp-12, g++, g++-12, gcc, gcc-12", "version control: git", "download tool: curl, wget", "build system: "},
		"VGL-CNT-003": {"shells: bash, dash; package managers: apt, dpkg"},
		"VGL-CNT-006": {"debian:bookworm-slim has about 88 packages"},
		"VGL-IMG-002": {"API_TOKEN=tok_****************"},
		"VGL-IMG-006": {"EXPOSE 80/tcp"},
		"VGL-IMG-008": {"wget -qO- https://example.com/install.sh | sh"},
	} {
		for _, s := range sub {
			if !strings.Contains(evidence[id], s) {
				t.Errorf("%s evidence %q lacks %q", id, evidence[id], s)
			}
		}
	}
	if strings.Contains(evidence["VGL-IMG-002"], "0123456789abcdef") {
		t.Error("secret value leaked into the evidence")
	}
}

// TestRealDebianRoot audits a real debootstrap'd Debian 12 minbase root
// file system: it has no build tools and a supported release, so nothing
// may be reported (a false-positive guard for the package classifier).
func TestRealDebianRoot(t *testing.T) {
	root := debroot.Minbase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := service(t).Inventory(ctx, "dir:"+root, scan.Options{Image: image.Options{TempDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Inventory.Packages); n < 80 || r.Inventory.Distro == nil || r.Inventory.Distro.Version != "12" {
		t.Fatalf("scan of the minbase root: %d packages, distro %+v", n, r.Inventory.Distro)
	}
	if got := audit.Image(r, clock); len(got) != 0 {
		t.Errorf("issues on a clean Debian root: %+v", got)
	}
	// Past Debian 12's LTS end the same root is end of life.
	got := audit.Image(r, time.Date(2028, 7, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 1 || got[0].ID != "VGL-CNT-004" || got[0].Evidence != "Debian 12 (bookworm): vendor security support ended 2028-06-30" {
		t.Errorf("after 2028-06-30: %+v", got)
	}
	_ = report.KindRootFS
}
