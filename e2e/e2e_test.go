package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/ecosystem/builtin"
	"github.com/vigilsec/vigil/image/resolve"
	"github.com/vigilsec/vigil/internal/ocibuild"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/layerfs"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/scan"
)

// removeStanza drops one package's stanza from a dpkg status file, as
// `dpkg --purge` does.
func removeStanza(status []byte, pkg string) []byte {
	var out [][]byte
	for _, st := range bytes.Split(status, []byte("\n\n")) {
		if bytes.HasPrefix(st, []byte("Package: "+pkg+"\n")) {
			continue
		}
		out = append(out, st)
	}
	return bytes.Join(out, []byte("\n\n"))
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (installed by .ci/run): %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
	return p
}

// dpkgQuery runs the real dpkg-query over an admin dir holding status and
// returns "name version" for every installed package.
func dpkgQuery(t *testing.T, status []byte) []string {
	t.Helper()
	need(t, "dpkg-query")
	admin := t.TempDir()
	for _, d := range []string{"info", "updates"} {
		if err := os.MkdirAll(filepath.Join(admin, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(admin, "status"), status, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dpkg-query", "--admindir", admin, "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[2], "ii") {
			rows = append(rows, f[0]+" "+f[1])
		}
	}
	sort.Strings(rows)
	return rows
}

// buildAppImage builds, in the style of the reference image: a real
// debootstrap'd Debian root, the Node app, the Go binary, and a last layer
// that deletes the top-level minimist and purges a package.
func buildAppImage(t *testing.T) (dir string, finalStatus []byte) {
	root := debroot.Minbase(t)
	apps := testutil.Fixtures(t, "apps")
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	finalStatus = removeStanza(status, "hostname")
	bin, err := os.ReadFile(filepath.Join(apps, "go-demo-worker", "demo-worker.bin"))
	if err != nil {
		t.Fatal(err)
	}
	layers := []ocibuild.Layer{
		{CreatedBy: "debootstrap --variant=minbase bookworm", Trees: [][2]string{{root, ""}}},
		{CreatedBy: "COPY node-demo-api /app", Trees: [][2]string{{filepath.Join(apps, "node-demo-api"), "app"}}},
		{CreatedBy: "COPY demo-worker.bin /usr/local/bin/demo-worker", Files: map[string][]byte{"usr/local/bin/demo-worker": bin}, Modes: map[string]int64{"usr/local/bin/demo-worker": 0o755}},
		{
			CreatedBy: "/bin/sh -c rm -rf /app/node_modules/minimist && dpkg --purge hostname",
			Files:     map[string][]byte{"var/lib/dpkg/status": finalStatus},
			Whiteouts: []string{"app/node_modules/minimist", "var/lib/dpkg/info/hostname.list", "var/lib/dpkg/info/hostname.md5sums", "bin/hostname"},
		},
	}
	dir = t.TempDir()
	err = ocibuild.WriteLayout(dir, "e2e", layers, map[string]any{
		"Env": []string{"PATH=/usr/bin:/bin", "DB_PASSWORD=x"}, "Cmd": []string{"node", "server.js"},
		"ExposedPorts": map[string]any{"8080/tcp": map[string]any{}},
	}, `CMD ["node","server.js"]`)
	if err != nil {
		t.Fatal(err)
	}
	return dir, finalStatus
}

func service(t *testing.T) *scan.Service {
	return &scan.Service{
		Open:            resolve.Open,
		ImageExtractors: builtin.ImageRegistry(),
		TempDir:         t.TempDir(),
		Tool:            report.Tool{Name: "vigil", Version: "test"},
	}
}

func TestDebianAppImage(t *testing.T) {
	dir, finalStatus := buildAppImage(t)
	r, err := service(t).Inventory(context.Background(), "oci-dir:"+dir+"#e2e", scan.Options{Verify: layerfs.VerifyAll})
	if err != nil {
		t.Fatal(err)
	}
	inv := r.Inventory
	if inv.Distro == nil || inv.Distro.Family != "debian" || inv.Distro.Version != "12" {
		t.Errorf("distro = %+v, want debian 12", inv.Distro)
	}

	// dpkg: exactly what the real dpkg-query lists for the final status.
	var debs []string
	for _, p := range inv.Packages {
		if p.Ecosystem == inventory.Deb {
			debs = append(debs, p.Name+" "+p.Version)
			if p.Layer != 0 {
				t.Errorf("deb %s attributed to layer %d; the status rewrite in layer 3 kept it unchanged, so layer 0 installed it", p.Name, p.Layer)
			}
		}
	}
	sort.Strings(debs)
	want := dpkgQuery(t, finalStatus)
	if diff := cmp.Diff(want, debs); diff != "" {
		t.Errorf("deb packages differ from dpkg-query (-want +got):\n%s", diff)
	}
	for _, d := range debs {
		if strings.HasPrefix(d, "hostname ") {
			t.Errorf("purged package still listed: %s", d)
		}
	}

	// npm: the deleted top-level minimist is gone, the nested one remains.
	var minimist []string
	npm := 0
	for _, p := range inv.Packages {
		if p.Ecosystem != inventory.NPM {
			continue
		}
		npm++
		if p.Layer != 1 {
			t.Errorf("npm %s attributed to layer %d, want 1", p.Name, p.Layer)
		}
		if p.Name == "minimist" {
			minimist = append(minimist, p.Version+" "+p.Locations[0].Path)
		}
	}
	if diff := cmp.Diff([]string{"0.0.10 app/node_modules/optimist/node_modules/minimist/package.json"}, minimist); diff != "" {
		t.Errorf("minimist (-want +got):\n%s", diff)
	}
	if npm != 75 {
		t.Errorf("npm packages = %d, want 75 (76 installed, top-level minimist deleted)", npm)
	}

	// Go: the binary's modules and toolchain, from layer 2.
	var gomods []string
	for _, p := range inv.Packages {
		if p.Ecosystem == inventory.Go && p.Version != "" {
			gomods = append(gomods, p.Name+"@"+p.Version)
			if p.Layer != 2 || p.Locations[0].Path != "usr/local/bin/demo-worker" {
				t.Errorf("go %s at %+v layer %d", p.Name, p.Locations, p.Layer)
			}
		}
	}
	sort.Strings(gomods)
	wantGo := []string{
		"github.com/dgrijalva/jwt-go@v3.2.0+incompatible",
		"golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4",
		"golang.org/x/text@v0.3.5",
		"gopkg.in/yaml.v2@v2.2.2",
		"stdlib@v1.26.8",
	}
	if diff := cmp.Diff(wantGo, gomods); diff != "" {
		t.Errorf("go modules (-want +got):\n%s", diff)
	}

	// Every package has a PURL and names a layer whose step is known.
	for _, p := range inv.Packages {
		if p.PURL == "" {
			t.Errorf("%s %s has no PURL", p.Ecosystem, p.Name)
		}
		if p.Layer < 0 || p.Layer >= len(inv.Layers) || inv.Layers[p.Layer].CreatedBy == "" {
			t.Errorf("%s %s: layer %d has no history step", p.Ecosystem, p.Name, p.Layer)
		}
	}
}

// TestSourcesAgree scans the same image as an OCI layout and as a
// docker-archive written by skopeo: the inventories must be identical.
func TestSourcesAgree(t *testing.T) {
	skopeo := need(t, "skopeo")
	dir, _ := buildAppImage(t)
	archive := filepath.Join(t.TempDir(), "img.tar")
	if out, err := exec.Command(skopeo, "copy", "--quiet", "oci:"+dir+":e2e", "docker-archive:"+archive+":e2e:latest").CombinedOutput(); err != nil {
		t.Fatalf("skopeo: %v\n%s", err, out)
	}
	svc := service(t)
	a, err := svc.Inventory(context.Background(), "oci-dir:"+dir+"#e2e", scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Inventory(context.Background(), "docker-archive:"+archive, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Inventory.Packages) < 150 { // 87 deb + 75 npm + 6 go
		t.Fatalf("only %d packages", len(a.Inventory.Packages))
	}
	if diff := cmp.Diff(a.Inventory, b.Inventory); diff != "" {
		t.Errorf("oci-dir and docker-archive inventories differ (-oci +archive):\n%s", diff)
	}
}
