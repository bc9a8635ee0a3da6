package osrelease

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/internal/testutil/debroot"
	"github.com/vigilsec/vigil/inventory"
)

func run(t testing.TB, path string, data []byte) *extract.Result {
	t.Helper()
	ex := New()
	if !ex.Wants(path, nil) {
		t.Fatalf("Wants(%q) = false", path)
	}
	res, err := ex.Extract(context.Background(), &extract.Input{
		Path: path, Reader: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err != nil {
		t.Fatalf("Extract(%s): %v", path, err)
	}
	return res
}

// TestTrivyFixtures reads the 27 real os-release files of Trivy's test
// suite as etc/os-release. The wanted values were written by reading each
// file: Family is ID (normalised), Version is VERSION_ID, Codename is
// VERSION_CODENAME, Name is PRETTY_NAME.
func TestTrivyFixtures(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "pkgdb", "trivy-fanal", "os", "release", "testdata")
	d := func(family, version, name string) *inventory.Distro {
		return &inventory.Distro{Family: family, Version: version, Name: name, Source: "etc/os-release"}
	}
	tests := []struct {
		file string
		want *inventory.Distro
		rank int
	}{
		{"activestate", d("activestate", "1.0", ""), 0},
		{"alma", d("almalinux", "9.4", "AlmaLinux 9.4 (Seafoam Ocelot)"), 0},
		{"alpine", d("alpine", "3.15.4", "Alpine Linux v3.15"), 0},
		{"azurelinux-3.0", d("azurelinux", "3.0", "Microsoft Azure Linux 3.0"), 0},
		{"bottlerocket", d("bottlerocket", "1.34.0", "Bottlerocket OS 1.34.0 (aws-ecs-2)"), 0},
		{"centos", d("centos", "7", "CentOS Linux 7 (Core)"), 0},
		{"centos-stream", d("centos", "8", "CentOS Stream 8"), 0},
		{"coreos", d("coreos", "3.15.4", ""), 0},
		{"echo", d("echo", "1", ""), 0},
		{"fedora", d("fedora", "42", "Fedora Linux 42 (Container Image)"), 0},
		{"mariner-1.0", d("mariner", "1.0", "CBL-Mariner/Linux"), 0},
		{"mariner-2.0", d("mariner", "2.0", "CBL-Mariner/Linux"), 0},
		{"minimos", d("minimos", "20241031", "MinimOS"), 0},
		{"no-id", nil, 0},
		// No VERSION_ID: reported, but ranked after the fallbacks.
		{"no-version", d("alpine", "", "Alpine Linux v3.15"), RankOSReleaseNoVer},
		{"opensuseleap-15.2.1", d("opensuse-leap", "15.2.1", "openSUSE Leap 15.2.1 Beta"), 0},
		{"opensuseleap-42.3", d("opensuse-leap", "42.3", "openSUSE Leap 42.3"), 0},
		{"opensusetumbleweed", d("opensuse-tumbleweed", "20220412", "openSUSE Tumbleweed"), 0},
		{"oracle", d("oracle", "8.10", "Oracle Linux Server 8.10"), 0},
		{"photon", d("photon", "4.0", "VMware Photon OS/Linux"), 0},
		{"rhel", d("rhel", "9.4", "Red Hat Enterprise Linux 9.4 (Plow)"), 0},
		{"rocky", d("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)"), 0},
		{"slemicro", d("sle-micro", "5.3", "SUSE Linux Enterprise Micro 5.3"), 0},
		{"slemicro-rancher", d("sle-micro", "5.4", "SUSE Linux Enterprise Micro for Rancher 5.4"), 0},
		{"slemicro6.0", d("sl-micro", "6.0", "SUSE Linux Micro 6.0"), 0},
		{"sles", d("sles", "15.3", "SUSE Linux Enterprise Server 15 SP3"), 0},
		{"unknown", d("unknown", "4.3.2", ""), 0},
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(tests) {
		t.Errorf("fixture folder has %d files, table covers %d", len(entries), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, "etc/os-release", data)
			if diff := cmp.Diff(tc.want, res.Distro); diff != "" {
				t.Errorf("distro (-want +got):\n%s", diff)
			}
			if res.DistroRank != tc.rank {
				t.Errorf("rank = %d, want %d", res.DistroRank, tc.rank)
			}
			if (tc.want == nil) != (len(res.Warnings) == 1) {
				t.Errorf("warnings = %q; want one exactly when no distro is found", res.Warnings)
			}
		})
	}
}

// TestFallbackFiles covers the one-line release files, one case per
// format quirk.
func TestFallbackFiles(t *testing.T) {
	tests := []struct {
		path, data string
		want       *inventory.Distro
		rank       int
	}{
		{"etc/debian_version", "12.5\n", &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12.5"}, 6},
		{"etc/debian_version", "6.0.10\n", &inventory.Distro{Family: "debian", Version: "6", Codename: "squeeze", Name: "Debian GNU/Linux 6.0.10"}, 6},
		{"etc/debian_version", "bookworm/sid\n", &inventory.Distro{Family: "debian", Version: "12", Codename: "bookworm", Name: "Debian GNU/Linux bookworm/sid"}, 6},
		{"etc/debian_version", "unknown/sid\n", nil, 0},
		{"etc/debian_version", "", nil, 0},
		{"etc/debian_version", "12.5 \x00\n", nil, 0},
		{"etc/alpine-release", "3.21_alpha20240807\n", &inventory.Distro{Family: "alpine", Version: "3.21_alpha20240807", Name: "Alpine Linux 3.21_alpha20240807"}, 2},
		{"etc/alpine-release", "edge\n", nil, 0},
		{"etc/redhat-release", "Red Hat Enterprise Linux release 8.9 (Ootpa)\n", &inventory.Distro{Family: "rhel", Version: "8.9", Name: "Red Hat Enterprise Linux release 8.9 (Ootpa)"}, 4},
		{"etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n", &inventory.Distro{Family: "rocky", Version: "9.3", Name: "Rocky Linux release 9.3 (Blue Onyx)"}, 2},
		{"etc/almalinux-release", "AlmaLinux release 9.4 (Seafoam Ocelot)\n", &inventory.Distro{Family: "almalinux", Version: "9.4", Name: "AlmaLinux release 9.4 (Seafoam Ocelot)"}, 2},
		{"etc/centos-release", "CentOS Stream release 9\n", &inventory.Distro{Family: "centos", Version: "9", Name: "CentOS Stream release 9"}, 2},
		{"etc/fedora-release", "Fedora release 39 (Thirty Nine)\n", &inventory.Distro{Family: "fedora", Version: "39", Name: "Fedora release 39 (Thirty Nine)"}, 2},
		{"etc/system-release", "Amazon Linux release 2 (Karoo)\n", &inventory.Distro{Family: "amazon", Version: "2", Name: "Amazon Linux release 2 (Karoo)"}, 3},
		{"etc/system-release", "Amazon Linux AMI release 2018.03\n", &inventory.Distro{Family: "amazon", Version: "2018.03", Name: "Amazon Linux AMI release 2018.03"}, 3},
		{"etc/redhat-release", "Scientific Linux release 7.9 (Nitrogen)\n", nil, 0},
		{"etc/redhat-release", "Red Hat Enterprise Linux release (Ootpa)\n", nil, 0},
		{"etc/SuSE-release", "openSUSE 42.3 (x86_64)\nVERSION = 42.3\nCODENAME = Malachite\n", &inventory.Distro{Family: "opensuse-leap", Version: "42.3", Name: "openSUSE 42.3"}, 2},
		{"etc/SuSE-release", "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 0\n", &inventory.Distro{Family: "sles", Version: "12", Name: "SUSE Linux Enterprise Server 12"}, 2},
		{"etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION=\"Ubuntu 20.04.6 LTS\"\n", &inventory.Distro{Family: "ubuntu", Version: "20.04", Codename: "focal", Name: "Ubuntu 20.04.6 LTS"}, 5},
		{"usr/lib/os-release", "ID=debian\nVERSION_CODENAME=trixie\n", &inventory.Distro{Family: "debian", Codename: "trixie", Name: ""}, RankUsrLibNoVer},
		// Quoting: escapes in double quotes, single quotes, later lines win.
		{"etc/os-release", "ID=\"ubuntu\"\nID='ubuntu'\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"say \\\"hi\\\" \\$x\"\n", &inventory.Distro{Family: "ubuntu", Version: "22.04", Name: `say "hi" $x`}, 0},
		// An ID with shell metacharacters or spaces is not an ID.
		{"etc/os-release", "ID=\"deb ian\"\nVERSION_ID=12\n", nil, 0},
		{"etc/os-release", "ID=wolfi\nVERSION_ID=20230201\nPRETTY_NAME=\"Wolfi\"\n", &inventory.Distro{Family: "wolfi", Version: "20230201", Name: "Wolfi"}, 0},
		{"etc/os-release", "ID=sles_sap\nVERSION_ID=\"15.5\"\n", &inventory.Distro{Family: "sles", Version: "15.5"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.path+"/"+strings.Fields(tc.data + " empty")[0], func(t *testing.T) {
			res := run(t, tc.path, []byte(tc.data))
			if tc.want != nil {
				tc.want.Source = tc.path
			}
			if diff := cmp.Diff(tc.want, res.Distro); diff != "" {
				t.Errorf("distro (-want +got):\n%s", diff)
			}
			if res.DistroRank != tc.rank {
				t.Errorf("rank = %d, want %d", res.DistroRank, tc.rank)
			}
			if tc.want == nil && len(res.Warnings) != 1 {
				t.Errorf("warnings = %q, want one", res.Warnings)
			}
		})
	}
}

type want struct {
	Distro *inventory.Distro `json:"distro"`
	Rank   int               `json:"rank"`
}

// pick does what the walk does: offer every file, keep the lowest rank.
func pick(t *testing.T, files fstest.MapFS) want {
	t.Helper()
	var best want
	for path, f := range files {
		ex := New()
		if !ex.Wants(path, nil) {
			continue
		}
		res := run(t, path, f.Data)
		if res.Distro != nil && (best.Distro == nil || res.DistroRank < best.Rank) {
			best = want{res.Distro, res.DistroRank}
		}
	}
	return best
}

// TestScenarios offers every release file of a mini root file system
// (testdata/*.txtar) and checks which release wins.
func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files := fstest.MapFS{}
			var w want
			for _, f := range ar.Files {
				if f.Name == "want" {
					if err := json.Unmarshal(f.Data, &w); err != nil {
						t.Fatalf("want: %v", err)
					}
					continue
				}
				files[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			if diff := cmp.Diff(w, pick(t, files)); diff != "" {
				t.Errorf("winner (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMinbaseRoot reads the release files of a real debootstrap'd Debian
// root: os-release names the release, and debian_version's point release
// must map to the same major version and code name.
func TestMinbaseRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the debootstrap'd root")
	}
	root := debroot.Minbase(t)
	files := fstest.MapFS{}
	for _, p := range []string{"usr/lib/os-release", "etc/debian_version"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = &fstest.MapFile{Data: data}
	}
	osr := run(t, "usr/lib/os-release", files["usr/lib/os-release"].Data)
	dv := run(t, "etc/debian_version", files["etc/debian_version"].Data)
	if osr.Distro == nil || dv.Distro == nil {
		t.Fatalf("os-release -> %+v, debian_version -> %+v", osr, dv)
	}
	want := &inventory.Distro{Family: "debian", Version: "12", Codename: debroot.Suite,
		Name: "Debian GNU/Linux 12 (bookworm)", Source: "usr/lib/os-release"}
	if diff := cmp.Diff(want, osr.Distro); diff != "" {
		t.Errorf("os-release (-want +got):\n%s", diff)
	}
	got := [2]string{dv.Distro.Version, dv.Distro.Codename}
	if got != [2]string{osr.Distro.Version, osr.Distro.Codename} {
		t.Errorf("debian_version gives %v, os-release %s/%s", got, osr.Distro.Version, osr.Distro.Codename)
	}
	if w := pick(t, files); w.Rank != RankUsrLibOSRelease {
		t.Errorf("winner rank %d, want usr/lib/os-release", w.Rank)
	}
}

func TestWants(t *testing.T) {
	ex := New()
	for path, want := range map[string]bool{
		"etc/os-release":         true,
		"usr/lib/os-release":     true,
		"etc/debian_version":     true,
		"etc/SuSE-release":       true,
		"etc/system-release":     true,
		"etc/system-release-cpe": false,
		"/etc/os-release":        false,
		"usr/etc/os-release":     false,
		"etc/os-release.d":       false,
	} {
		if got := ex.Wants(path, nil); got != want {
			t.Errorf("Wants(%q) = %v, want %v", path, got, want)
		}
	}
	dir := fstest.MapFS{"etc/os-release": &fstest.MapFile{Mode: os.ModeDir}}
	fi, err := dir.Stat("etc/os-release")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Wants("etc/os-release", fi) {
		t.Error("Wants a directory named etc/os-release")
	}
}

func TestOversizeAndCancel(t *testing.T) {
	ex := New()
	big := bytes.Repeat([]byte("ID=debian\n"), MaxFileSize/10+1)
	res, err := ex.Extract(context.Background(), &extract.Input{
		Path: "etc/os-release", Reader: bytes.NewReader(big), Size: int64(len(big)),
	})
	if err != nil || res.Distro != nil || len(res.Warnings) != 1 {
		t.Errorf("oversize file: res %+v, err %v; want one warning and no distro", res, err)
	}
	// A reader shorter than the size it claims is an error, not a distro.
	if _, err := ex.Extract(context.Background(), &extract.Input{
		Path: "etc/os-release", Reader: bytes.NewReader([]byte("ID=x")), Size: 100,
	}); err == nil {
		t.Error("short read: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ex.Extract(ctx, &extract.Input{Path: "etc/os-release", Reader: bytes.NewReader(nil)}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestDebianCodenames(t *testing.T) {
	for n := 4; n <= 15; n++ {
		major := strconv.Itoa(n)
		code := DebianCodename(major)
		if code == "" || DebianMajor(code) != major {
			t.Errorf("release %s: codename %q maps back to %q", major, code, DebianMajor(code))
		}
	}
	if DebianMajor("sid") != "" || DebianCodename("3") != "" {
		t.Error("unknown names must map to empty")
	}
}

var fuzzPaths = []string{
	"etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/alpine-release",
	"etc/redhat-release", "etc/system-release", "etc/lsb-release", "etc/SuSE-release",
}

func FuzzParse(f *testing.F) {
	dir := testutil.Fixtures(f, "peer-suites", "pkgdb", "trivy-fanal", "os", "release", "testdata")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), data)
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			for i, fp := range fuzzPaths {
				if fp == file.Name || (fp == "etc/os-release" && file.Name == "usr/lib/os-release") {
					f.Add(uint8(i), file.Data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		d, rank, warn := Parse(path, data)
		if d == nil {
			if warn == "" {
				t.Fatal("no distro and no warning")
			}
			return
		}
		if d.Family == "" || token(d.Family, maxIDLen) != d.Family || d.Source != path {
			t.Fatalf("bad distro %+v", d)
		}
		if d.Version != "" && tokenWith(d.Version, maxVersionLen, "") != d.Version {
			t.Fatalf("bad version %q", d.Version)
		}
		if rank < 0 || rank > RankUsrLibNoVer {
			t.Fatalf("rank %d", rank)
		}
	})
}
