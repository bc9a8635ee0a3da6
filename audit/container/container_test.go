package container

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/report"
)

func ids(is []report.Issue) []string {
	out := []string{}
	for _, i := range is {
		out = append(out, i.ID)
	}
	return out
}

// TestCheck runs the rules on inspect documents shaped like the Engine's.
func TestCheck(t *testing.T) {
	good := func() *Inspect {
		in := &Inspect{ID: "0123456789ab", Name: "/web"}
		in.Config.User = "1000"
		in.Config.Image = "registry.example.com/web:1.2.3"
		in.HostConfig.CapDrop = []string{"ALL"}
		in.HostConfig.ReadonlyRootfs = true
		in.HostConfig.SecurityOpt = []string{"no-new-privileges"}
		in.HostConfig.NetworkMode = "bridge"
		in.HostConfig.PidMode = ""
		in.HostConfig.IpcMode = "private"
		in.HostConfig.Memory = 64 << 20
		in.HostConfig.NanoCpus = 500_000_000
		return in
	}
	tests := []struct {
		name   string
		modify func(*Inspect)
		want   []string
	}{
		{"hardened", func(*Inspect) {}, []string{}},
		{"privileged", func(in *Inspect) { in.HostConfig.Privileged = true }, []string{catalog.CtrPrivileged}},
		{"caps kept", func(in *Inspect) { in.HostConfig.CapDrop = []string{"NET_RAW"} }, []string{catalog.CtrCapsNotDropped}},
		{"dangerous caps", func(in *Inspect) { in.HostConfig.CapAdd = []string{"CAP_SYS_ADMIN", "NET_BIND_SERVICE", "sys_ptrace"} },
			[]string{catalog.CtrDangerousCap, catalog.CtrDangerousCap}},
		{"writable root", func(in *Inspect) { in.HostConfig.ReadonlyRootfs = false }, []string{catalog.CtrWritableRoot}},
		{"no user", func(in *Inspect) { in.Config.User = "" }, []string{catalog.CtrRunAsRoot}},
		{"root user", func(in *Inspect) { in.Config.User = "0:0" }, []string{catalog.CtrRunAsRoot}},
		{"named user", func(in *Inspect) { in.Config.User = "app" }, []string{}},
		{"no-new-privileges=true spelling", func(in *Inspect) { in.HostConfig.SecurityOpt = []string{"no-new-privileges=true"} }, []string{}},
		{"no-new-privileges off", func(in *Inspect) { in.HostConfig.SecurityOpt = []string{"no-new-privileges=false"} },
			[]string{catalog.CtrNoNewPrivileges}},
		{"unconfined", func(in *Inspect) {
			in.HostConfig.SecurityOpt = append(in.HostConfig.SecurityOpt, "seccomp=unconfined", "apparmor:unconfined")
		}, []string{catalog.CtrUnconfined, catalog.CtrUnconfined}},
		{"host namespaces", func(in *Inspect) {
			in.HostConfig.NetworkMode, in.HostConfig.PidMode, in.HostConfig.IpcMode = "host", "host", "host"
		}, []string{catalog.CtrHostNamespace, catalog.CtrHostNamespace, catalog.CtrHostNamespace}},
		{"docker socket", func(in *Inspect) {
			in.Mounts = append(in.Mounts, struct {
				Type        string `json:"Type"`
				Source      string `json:"Source"`
				Destination string `json:"Destination"`
				RW          bool   `json:"RW"`
			}{"bind", "/var/run/docker.sock", "/var/run/docker.sock", true})
		}, []string{catalog.CtrDockerSocket}},
		{"no memory limit", func(in *Inspect) { in.HostConfig.Memory = 0 }, []string{catalog.CtrNoLimits}},
		{"cpu quota counts", func(in *Inspect) { in.HostConfig.NanoCpus, in.HostConfig.CPUQuota = 0, 50000 }, []string{}},
		{"latest", func(in *Inspect) { in.Config.Image = "nginx:latest" }, []string{catalog.CtrMutableImage}},
		{"untagged", func(in *Inspect) { in.Config.Image = "nginx" }, []string{catalog.CtrMutableImage}},
		{"by image ID", func(in *Inspect) { in.Config.Image = "2950188400f7" }, []string{}},
		{"by digest", func(in *Inspect) { in.Config.Image = "nginx@sha256:" + strings.Repeat("a", 64) }, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.modify(in)
			got := Check(in)
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, i := range got {
				if i.Path != "web" || i.Category != report.CategoryContainer || i.Layer != -1 || i.Evidence == "" {
					t.Errorf("malformed issue %+v", i)
				}
			}
		})
	}
}

// TestClientErrors runs the client against a fake Engine on a unix socket.
func TestClientErrors(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/containers/json":
			if r.URL.Query().Get("all") != "1" || r.URL.Query().Get("filters") != `{"label":["a=b"]}` {
				http.Error(w, `{"message":"bad query"}`, http.StatusBadRequest)
				return
			}
			w.Write([]byte(`[{"Id":"gone"},{"Id":"big"}]`))
		case r.URL.Path == "/containers/gone/json":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"No such container: gone"}`))
		case r.URL.Path == "/containers/big/json":
			w.Write(bytes.Repeat([]byte(" "), maxInspectBytes+10))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	c, err := NewClient("unix://" + sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Inspect(ctx, "gone"); err == nil || !strings.Contains(err.Error(), "No such container: gone") {
		t.Errorf("404: err = %v, want the engine's message", err)
	}
	_, err = Audit(ctx, c, ListOptions{All: true, Labels: []string{"a=b"}})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized inspect: err = %v, want a size error (and the vanished container skipped)", err)
	}
	if _, err := c.List(ctx, ListOptions{}); err == nil || !strings.Contains(err.Error(), "bad query") {
		t.Errorf("400: err = %v, want the engine's message", err)
	}

	dead, err := NewClient("unix://" + filepath.Join(t.TempDir(), "none.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Ping(ctx); !errors.Is(err, ErrUnreachable) {
		t.Errorf("dead socket: err = %v, want ErrUnreachable", err)
	}
	for _, h := range []string{"ssh://host", "npipe:////./pipe/docker_engine", "tcp://", "::bad"} {
		if _, err := NewClient(h); err == nil {
			t.Errorf("NewClient(%q): no error", h)
		}
	}
}

// engine returns a client for the local Docker Engine. Without one the
// test is skipped, except under CI=true where it fails: CI must provide it.
func engine(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(os.Getenv("DOCKER_HOST"))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = c.Ping(ctx)
	}
	if err == nil {
		_, err = exec.LookPath("docker")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker engine needed under CI: %v", err)
		}
		t.Skipf("no docker engine: %v", err)
	}
	return c
}

func docker(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// sleeperImage imports a one-file image holding a static Go program that
// sleeps, and removes it when the test ends.
func sleeperImage(t *testing.T, tag string) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nimport \"time\"\n\nfunc main() { time.Sleep(time.Hour) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module sleeper\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool needed to build the test image: %v", err)
	}
	build := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", "sleeper", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sleeper: %v: %s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "sleeper"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "sleeper", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(bin)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	id := docker(t, buf.Bytes(), "import", "-c", `ENTRYPOINT ["/sleeper"]`, "-", tag)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	return id
}

// TestEngine starts real containers with hardened and with dangerous
// settings on the local engine and checks exactly what is reported.
func TestEngine(t *testing.T) {
	c := engine(t)
	var rnd [6]byte
	rand.Read(rnd[:])
	run := hex.EncodeToString(rnd[:])
	tag := "vigil-audit-test:" + run
	label := "vigil.test.run=" + run
	imageID := sleeperImage(t, tag)

	var started []string
	t.Cleanup(func() {
		if len(started) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, started...)...).Run()
		}
	})
	start := func(verb, name string, flags ...string) {
		args := append([]string{verb, "--name", name, "--label", label}, flags...)
		if verb == "run" {
			args = append(args[:1], append([]string{"-d"}, args[1:]...)...)
		}
		started = append(started, docker(t, nil, append(args, tag)...))
	}
	start("run", "vigil-good-"+run, "--read-only", "--cap-drop", "ALL", "--user", "1000",
		"--security-opt", "no-new-privileges", "--memory", "64m", "--cpus", "0.5")
	start("run", "vigil-bad-"+run, "--pid", "host", "-v", "/var/run/docker.sock:/var/run/docker.sock")
	// Created, not started: nested test environments may not grant the
	// capabilities a privileged container needs to start.
	start("create", "vigil-priv-"+run, "--privileged")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := map[string][]string{
		"vigil-good-" + run: {},
		"vigil-bad-" + run: {catalog.CtrCapsNotDropped, catalog.CtrWritableRoot, catalog.CtrRunAsRoot,
			catalog.CtrNoNewPrivileges, catalog.CtrHostNamespace, catalog.CtrDockerSocket, catalog.CtrNoLimits},
		"vigil-priv-" + run: {catalog.CtrPrivileged, catalog.CtrCapsNotDropped, catalog.CtrWritableRoot, catalog.CtrRunAsRoot,
			catalog.CtrNoNewPrivileges, catalog.CtrNoLimits},
	}
	for _, all := range []bool{false, true} {
		res, err := Audit(ctx, c, ListOptions{All: all, Labels: []string{label}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, r := range res {
			got[r.Name] = ids(r.Issues)
			if r.ImageID != imageID || r.Image != tag {
				t.Errorf("%s: image %q %q, want %q %q", r.Name, r.Image, r.ImageID, tag, imageID)
			}
		}
		w := map[string][]string{}
		for name, rules := range want {
			if all || !strings.HasPrefix(name, "vigil-priv-") {
				w[name] = rules
			}
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("all=%v: findings per container (-want +got):\n%s", all, diff)
		}
	}
	in, err := c.Inspect(ctx, "vigil-bad-"+run)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(Check(in))
	if !strings.Contains(string(b), `"evidence":"mount /var/run/docker.sock -\u003e /var/run/docker.sock"`) ||
		!strings.Contains(string(b), `"evidence":"HostConfig.PidMode: host"`) {
		t.Errorf("evidence missing from %s", b)
	}
}
