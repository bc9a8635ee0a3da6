package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// hit is what most tests compare: rule, layer and evidence.
type hit struct {
	ID       string
	Layer    int
	Evidence string
}

func hits(is []report.Issue) []hit {
	out := []hit{}
	for _, i := range is {
		out = append(out, hit{i.ID, i.Layer, i.Evidence})
	}
	return out
}

var day = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// hardened is an image config with nothing to report.
func hardened() *image.Config {
	return &image.Config{
		User:         "10001",
		Env:          []string{"PATH=/usr/local/bin:/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"},
		Entrypoint:   []string{"/app"},
		Healthcheck:  []string{"CMD", "/app", "health"},
		Labels:       map[string]string{"org.opencontainers.image.source": "https://example.com/app"},
		ExposedPorts: []string{"8080/tcp"},
	}
}

func imageReport(cfg *image.Config, layers ...string) *report.Report {
	r := &report.Report{
		Target:    report.Target{Kind: report.KindImage, Name: "registry.example.com/app:1.0", Config: cfg},
		Inventory: &inventory.Inventory{},
	}
	for i, cb := range layers {
		r.Inventory.Layers = append(r.Inventory.Layers, inventory.Layer{Index: i, CreatedBy: cb})
	}
	return r
}

func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*report.Report)
		want   []hit
	}{
		{"hardened", func(*report.Report) {}, []hit{}},
		{"no user", func(r *report.Report) { r.Target.Config.User = "" },
			[]hit{{catalog.ImgRootUser, -1, "no USER in the image config: containers run as root"}}},
		{"root uid", func(r *report.Report) { r.Target.Config.User = "0:0" }, []hit{{catalog.ImgRootUser, -1, "USER 0:0"}}},
		{"named user", func(r *report.Report) { r.Target.Config.User = "app:app" }, []hit{}},
		{"secret env", func(r *report.Report) {
			r.Target.Config.Env = append(r.Target.Config.Env, "DB_PASSWORD=correcthorse", "API_KEY=", "TOKEN_FILE=/run/secrets/t",
				"DATABASE_URL=postgres://app:s3cretpass@db:5432/app")
		}, []hit{
			{catalog.ImgSecretEnv, -1, "DATABASE_URL: postgres://app:s3cr******@db:5432"},
			{catalog.ImgSecretEnv, -1, "DB_PASSWORD=corr********"},
		}},
		{"secret label", func(r *report.Report) {
			r.Target.Config.Labels["deploy.token"] = "glpat-abcdefghijklmnopqrstu"
			r.Target.Config.Labels["maintainer"] = "ops@example.com"
		}, []hit{{catalog.ImgSecretLabel, -1, "deploy.token=glpa****************"}}},
		{"no healthcheck", func(r *report.Report) { r.Target.Config.Healthcheck = nil },
			[]hit{{catalog.ImgNoHealthcheck, -1, "no HEALTHCHECK in the image config"}}},
		{"healthcheck NONE is a choice", func(r *report.Report) { r.Target.Config.Healthcheck = []string{"NONE"} }, []hit{}},
		{"privileged ports", func(r *report.Report) {
			r.Target.Config.ExposedPorts = []string{"80/tcp", "443/tcp", "8443/tcp", "53/udp"}
		},
			[]hit{{catalog.ImgPrivilegedPort, -1, "EXPOSE 443/tcp"}, {catalog.ImgPrivilegedPort, -1, "EXPOSE 53/udp"}, {catalog.ImgPrivilegedPort, -1, "EXPOSE 80/tcp"}}},
		{"latest name", func(r *report.Report) { r.Target.Name = "docker.io/library/app:latest" },
			[]hit{{catalog.ImgMutableTag, -1, "image docker.io/library/app:latest (latest tag)"}}},
		{"untagged repo tag", func(r *report.Report) { r.Target.Name, r.Target.RepoTags = "", []string{"app"} },
			[]hit{{catalog.ImgMutableTag, -1, "image app (no tag)"}}},
		{"opened by digest", func(r *report.Report) {
			r.Target.Name, r.Target.Ref, r.Target.Digest = "app:latest", "app@sha256:abc", "sha256:abc"
		}, []hit{}},
		{"base image label", func(r *report.Report) { r.Target.Config.Labels[labelBaseName] = "docker.io/library/debian" },
			[]hit{{catalog.ImgMutableTag, -1, "base image docker.io/library/debian (no tag, from label org.opencontainers.image.base.name)"}}},
		{"base image label with digest", func(r *report.Report) {
			r.Target.Config.Labels[labelBaseName] = "debian:latest"
			r.Target.Config.Labels[labelBaseDigest] = "sha256:abc"
		}, []hit{}},
		{"root file system: no config checks", func(r *report.Report) {
			r.Target.Kind, r.Target.Config = report.KindRootFS, &image.Config{}
		}, []hit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := imageReport(hardened())
			tt.modify(r)
			if diff := cmp.Diff(tt.want, hits(Image(r, day))); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistoryChecks(t *testing.T) {
	r := imageReport(hardened(),
		"/bin/sh -c #(nop) ADD file:4f2b9d52a0c7b8d3 in / ",
		"RUN |2 NPM_TOKEN=npm_0123456789abcdef VERSION=1.2 /bin/sh -c npm ci # buildkit",
		"RUN /bin/sh -c curl -fsSL https://get.example.com/install.sh | bash # buildkit",
		"/bin/sh -c wget -qO- https://x.example/i.sh | sh",
		"ADD https://example.com/tool.tar.gz /opt/ # buildkit",
		"ADD --checksum=sha256:0123 https://example.com/pinned.tar.gz /opt/ # buildkit",
		"COPY --from=build /out/app /app # buildkit",
		"RUN /bin/bash -o pipefail -c curl -s https://x.example | python3 - # buildkit",
	)
	r.Target.Config.Env = append(r.Target.Config.Env, "NPM_TOKEN=npm_0123456789abcdef")
	want := []hit{
		{catalog.ImgSecretEnv, -1, "NPM_TOKEN=npm_****************"},
		// the history copy of the same value is reported once, with the config
		{catalog.ImgAddRemoteURL, 4, "ADD https://example.com/tool.tar.gz"},
		{catalog.ImgPipeToShell, 2, "curl -fsSL https://get.example.com/install.sh | bash"},
		{catalog.ImgPipeToShell, 3, "wget -qO- https://x.example/i.sh | sh"},
		{catalog.ImgPipeToShell, 7, "curl -s https://x.example | python3 -"},
	}
	if diff := cmp.Diff(want, hits(Image(r, day))); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	r.Target.Config.Env = r.Target.Config.Env[:len(r.Target.Config.Env)-1]
	got := hits(Image(r, day))
	if len(got) == 0 || got[0] != (hit{catalog.ImgSecretHistory, 1, "NPM_TOKEN=npm_****************"}) {
		t.Errorf("without the ENV, the build argument in the history is reported: got %v", got)
	}
}

func TestParseStep(t *testing.T) {
	tests := []struct {
		createdBy string
		want      step
	}{
		{"RUN |2 A=1 B=2 /bin/sh -c make all # buildkit", step{Cmd: "RUN", Text: "make all"}},
		{"RUN /bin/sh -c apt-get update # buildkit", step{Cmd: "RUN", Text: "apt-get update"}},
		{"/bin/sh -c apt-get update", step{Cmd: "RUN", Text: "apt-get update"}},
		{"|1 V=2 /bin/sh -c echo $V", step{Cmd: "RUN", Text: "echo $V"}},
		{"/bin/sh -c #(nop) COPY file:abc in /app ", step{Cmd: "COPY", Text: "file:abc in /app"}},
		{"/bin/sh -c #(nop)  CMD [\"sh\"]", step{Cmd: "CMD", Text: `["sh"]`}},
		{"COPY --from=build --chown=1:1 /out /app # buildkit", step{Cmd: "COPY", Text: "/out /app", Flags: []string{"--from=build", "--chown=1:1"}}},
		{"WORKDIR /app", step{Cmd: "WORKDIR", Text: "/app"}},
		{"# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'", step{Text: "# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'"}},
		{"RUN |99999999999 /bin/sh -c x", step{Cmd: "RUN", Text: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.createdBy, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseStep(tt.createdBy)); diff != "" {
				t.Errorf("parseStep (-want +got):\n%s", diff)
			}
		})
	}
}

func deb(name, version string, layer int) inventory.Package {
	return inventory.Package{Ecosystem: inventory.Deb, Name: name, Version: version, Layer: layer,
		Locations: []inventory.Location{{Path: "var/lib/dpkg/status", Layer: layer}}}
}

func TestContentChecks(t *testing.T) {
	base := func() *report.Report {
		r := imageReport(hardened(), "base", "RUN apt-get install gcc", "RUN apt-get install git")
		r.Inventory.Distro = &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm"}
		r.Inventory.Packages = []inventory.Package{
			deb("libc6", "2.36-9+deb12u9", 0), deb("gcc-12-base", "12.2.0-14", 0),
			deb("gcc", "4:12.2.0-3", 1), deb("gcc-12", "12.2.0-14", 1), deb("libc6-dev", "2.36-9+deb12u9", 1), deb("make", "4.3-4.1", 1),
			deb("git", "1:2.39.5-0+deb12u1", 2), deb("curl", "7.88.1-10+deb12u8", 2),
			{Ecosystem: inventory.NPM, Name: "make", Version: "1.0.0", Layer: 2},
		}
		return r
	}
	tests := []struct {
		name   string
		modify func(*report.Report)
		want   []hit
	}{
		{"build tools per layer", func(*report.Report) {}, []hit{
			{catalog.CntBuildTools, 1, "compiler: gcc, gcc-12; build system: make; development headers: libc6-dev"},
			{catalog.CntBuildTools, 2, "version control: git; download tool: curl"},
		}},
		{"shells and package managers", func(r *report.Report) {
			r.Inventory.Packages = []inventory.Package{deb("bash", "5.2.15-2+b7", 0), deb("dash", "0.5.12-2", 0), deb("apt", "2.6.1", 0), deb("dpkg", "1.21.22", 0)}
		}, []hit{{catalog.CntShellPkgManager, 0, "shells: bash, dash; package managers: apt, dpkg"}}},
		{"entrypoint script needs the shell", func(r *report.Report) {
			r.Inventory.Packages = []inventory.Package{deb("bash", "5.2.15-2+b7", 0), deb("apt", "2.6.1", 0)}
			r.Target.Config.Entrypoint = []string{"/docker-entrypoint.sh"}
		}, []hit{{catalog.CntShellPkgManager, 0, "package managers: apt"}}},
		{"stale OS packages", func(r *report.Report) {
			r.Inventory.Packages = r.Inventory.Packages[:2]
			p := &r.Inventory.Packages[0]
			for _, f := range []struct{ id, fixed string }{{"CVE-2025-0001", "2.36-9+deb12u10"}, {"CVE-2025-0002", "2.36-9+deb12u13"}, {"CVE-2025-0003", "2.36-9+deb12u11"}} {
				r.Vulnerabilities = append(r.Vulnerabilities, report.Finding{ID: f.id, Package: report.RefTo(p, 0),
					InstalledVersion: p.Version, FixedVersions: []string{f.fixed}, FixStatus: report.Fixed, Layer: 0})
			}
			r.Vulnerabilities = append(r.Vulnerabilities,
				report.Finding{ID: "CVE-2025-0004", Package: report.RefTo(p, 0), InstalledVersion: p.Version, FixStatus: report.NotFixed},
				report.Finding{ID: "CVE-2025-0005", Package: report.PackageRef{Key: "npm|x", Ecosystem: inventory.NPM, Name: "x"},
					FixedVersions: []string{"2.0.0"}, FixStatus: report.Fixed, Layer: 2})
		}, []hit{{catalog.CntStalePackages, 0, "1 OS packages have fixes for 3 vulnerabilities: libc6 2.36-9+deb12u9 -> 2.36-9+deb12u13"}}},
		{"oversized", func(r *report.Report) {
			r.Inventory.Packages = nil
			for i := 0; i < 200; i++ {
				r.Inventory.Packages = append(r.Inventory.Packages, deb("lib"+itoa3(i), "1.0", 0))
			}
			r.Target.Size = 420_000_000
		}, []hit{{catalog.CntOversized, -1, "200 OS packages, 420 MB of layers; debian:bookworm-slim has about 88 packages (~75 MB); " +
			"smaller still: gcr.io/distroless/base-debian12 (~20 MB, no shell or package manager)"}}},
		{"not oversized", func(r *report.Report) {
			r.Inventory.Packages = nil
			for i := 0; i < 130; i++ {
				r.Inventory.Packages = append(r.Inventory.Packages, deb("lib"+itoa3(i), "1.0", 0))
			}
			r.Target.Size = 150_000_000
		}, []hit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.modify(r)
			if diff := cmp.Diff(tt.want, hits(Image(r, day))); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa3(i int) string {
	return string([]byte{byte('a' + i/100), byte('a' + i/10%10), byte('a' + i%10)})
}

func TestFileFindings(t *testing.T) {
	r := imageReport(hardened())
	r.Inventory.Files = []inventory.FileFinding{
		{Rule: "secret-aws-access-key", Path: "app/.env", Layer: 3, Line: 2, Evidence: "AWS_ACCESS_KEY_ID=AKIA****************", Deleted: true},
		{Rule: "secret-private-key", Path: "root/.ssh/id_rsa", Layer: 1, Line: 1, Evidence: "-----BEGIN RSA PRIVATE KEY-----"},
		{Rule: "secret-brand-new", Path: "etc/x", Layer: 1, Evidence: "x****"},
		{Rule: "setuid-binary", Path: "usr/bin/passwd", Layer: 0, Evidence: "4755 -rwsr-xr-x"},
		{Rule: "world-writable", Path: "app/data", Layer: 2, Evidence: "0777 drwxrwxrwx"},
		{Rule: "apt-cache-left", Path: "var/cache/apt/archives/curl.deb", Layer: 2, Evidence: "1048576 bytes"},
		{Rule: "apt-cache-left", Path: "var/cache/apt/archives/git.deb", Layer: 2, Evidence: "2097152 bytes"},
		{Rule: "apt-cache-left", Path: "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", Layer: 2, Evidence: "151000 bytes"},
		{Rule: "pip-cache-left", Path: "root/.cache/pip", Layer: 4, Evidence: "12 entries, 3.0 MiB"}, // already folded
		{Rule: "core-dump", Path: "core", Layer: 4},
	}
	got := Image(r, day)
	want := []hit{
		{catalog.CntPackageCache, 2, "2 entries, 3.0 MiB (apt-cache-left)"},
		{catalog.CntPackageCache, 2, "1 entry, 0.1 MiB (apt-cache-left)"},
		{catalog.CntPackageCache, 4, "12 entries, 3.0 MiB"},
		{catalog.CntSetuid, 0, "4755 -rwsr-xr-x"},
		{catalog.CntWorldWritable, 2, "0777 drwxrwxrwx"},
		{catalog.CntOtherFile, 4, "[core-dump]"},
		{catalog.SecPrivateKey, 1, "-----BEGIN RSA PRIVATE KEY-----"},
		{catalog.SecAWS, 3, "AWS_ACCESS_KEY_ID=AKIA****************"},
		{catalog.SecOther, 1, "[secret-brand-new] x****"},
	}
	if diff := cmp.Diff(want, hits(got)); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
	for _, i := range got {
		switch i.ID {
		case catalog.SecAWS:
			if i.Category != report.CategorySecret || i.Severity != report.Critical || i.Path != "app/.env" || i.Line != 2 ||
				!strings.Contains(i.Description, "deleted in a later layer but still ships in layer 3") {
				t.Errorf("deleted secret: %+v", i)
			}
		case catalog.SecPrivateKey:
			if strings.Contains(i.Description, "deleted") {
				t.Errorf("live secret described as deleted: %+v", i)
			}
		case catalog.CntPackageCache:
			if i.Path != "var/cache/apt/archives" && i.Path != "var/lib/apt/lists" && i.Path != "root/.cache/pip" {
				t.Errorf("cache issue path %q", i.Path)
			}
		}
	}
}
