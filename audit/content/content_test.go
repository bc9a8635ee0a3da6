package content

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

type info struct {
	mode fs.FileMode
	size int64
}

func (i info) Name() string       { return "" }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.mode.IsDir() }
func (i info) Sys() any           { return nil }

type finding struct {
	Rule, Evidence string
	Persistent     bool
}

func summarize(ff []extract.FileFinding) []finding {
	var out []finding
	for _, f := range ff {
		out = append(out, finding{f.Rule, f.Evidence, f.Persistent})
	}
	return out
}

func TestObserve(t *testing.T) {
	dir := fs.ModeDir
	tests := []struct {
		name string
		path string
		fi   info
		want []finding
	}{
		{"setuid root binary", "usr/bin/su", info{0o755 | fs.ModeSetuid, 70000}, []finding{{RuleSetuid, "4755 -rwsr-xr-x", false}}},
		{"setgid binary", "usr/bin/chage", info{0o755 | fs.ModeSetgid, 80000}, []finding{{RuleSetuid, "2755 -rwxr-sr-x", false}}},
		{"setuid without execute", "opt/x", info{0o644 | fs.ModeSetuid, 1}, []finding{{RuleSetuid, "4644 -rwSr--r--", false}}},
		{"setuid and world-writable", "opt/bad", info{0o777 | fs.ModeSetuid, 1}, []finding{
			{RuleSetuid, "4777 -rwsrwxrwx", false}, {RuleWorldWritable, "4777 -rwsrwxrwx", false}}},
		{"world-writable file", "app/config.json", info{0o666, 10}, []finding{{RuleWorldWritable, "0666 -rw-rw-rw-", false}}},
		{"world-writable directory", "app/uploads", info{dir | 0o777, 0}, []finding{{RuleWorldWritable, "0777 drwxrwxrwx", false}}},
		{"negative: sticky tmp", "tmp", info{dir | 0o777 | fs.ModeSticky, 0}, nil},
		{"negative: setgid directory (var/mail, var/local)", "var/mail", info{dir | 0o775 | fs.ModeSetgid, 0}, nil},
		{"negative: symlink 0777", "usr/bin/awk", info{fs.ModeSymlink | 0o777, 0}, nil},
		{"negative: device 0666", "dev/null", info{fs.ModeDevice | fs.ModeCharDevice | 0o666, 0}, nil},
		{"negative: ordinary file", "usr/bin/ls", info{0o755, 1000}, nil},
		{"negative: group-writable", "srv/x", info{0o775, 1}, nil},

		{"apt archive", "var/cache/apt/archives/curl_7.88.1-10_amd64.deb", info{0o644, 3456}, []finding{{RuleAptCache, "3456 bytes", true}}},
		{"negative: apt archives lock and partial", "var/cache/apt/archives/lock", info{0o640, 0}, nil},
		{"negative: apt archives partial dir", "var/cache/apt/archives/partial", info{dir | 0o700, 0}, nil},
		{"negative: apt archives dir itself", "var/cache/apt/archives", info{dir | 0o755, 0}, nil},
		{"apt list", "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", info{0o644, 9_000_000},
			[]finding{{RuleAptCache, "9000000 bytes", true}}},
		{"negative: apt lists lock", "var/lib/apt/lists/lock", info{0o640, 0}, nil},
		{"negative: apt lists partial", "var/lib/apt/lists/partial", info{dir | 0o700, 0}, nil},
		{"negative: apt lists auxfiles deeper", "var/lib/apt/lists/auxfiles/x", info{0o644, 1}, nil},
		{"apk cache", "var/cache/apk/APKINDEX.5022a8a2.tar.gz", info{0o644, 700}, []finding{{RuleApkCache, "700 bytes", true}}},
		{"pip cache first level", "root/.cache/pip/http-v2", info{dir | 0o700, 0}, []finding{{RulePipCache, "directory", true}}},
		{"pip cache of a user", "home/app/.cache/pip/selfcheck.json", info{0o600, 50}, []finding{{RulePipCache, "50 bytes", true}}},
		{"negative: pip cache deeper", "root/.cache/pip/http-v2/a/b", info{0o600, 50}, nil},
		{"negative: pip cache dir itself", "root/.cache/pip", info{dir | 0o700, 0}, nil},
		{"npm cache first level", "root/.npm/_cacache/index-v5", info{dir | 0o755, 0}, []finding{{RuleNpmCache, "directory", true}}},
		{"npm cache of a user", "home/node/.npm/_cacache/content-v2", info{dir | 0o755, 0}, []finding{{RuleNpmCache, "directory", true}}},
		{"negative: npm logs", "root/.npm/_logs/debug.log", info{0o644, 10}, nil},
		{"negative: home without user", "home/.npm/_cacache/x", info{0o644, 10}, nil},
	}
	o := New().(extract.Observer)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarize(o.Observe(tc.path, tc.fi))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Observe(%s, %v) (-want +got):\n%s", tc.path, tc.fi.mode, diff)
			}
		})
	}
}

func TestExtractorShape(t *testing.T) {
	e := New()
	if e.Name() != "content" || e.Version() < 1 {
		t.Errorf("Name %q Version %d", e.Name(), e.Version())
	}
	if e.Wants("etc/passwd", info{0o644, 10}) {
		t.Error("Wants: the observer reads no file")
	}
	if _, ok := e.(extract.Observer); !ok {
		t.Error("not an extract.Observer")
	}
	// The registry must see it as an observer.
	if !extract.NewRegistry(e).HasObservers() {
		t.Error("registry has no observer")
	}
}

// TestModeEvidenceAgreesWithStat compares the rendered mode with GNU stat's
// %a and %A on real files and directories carrying every special bit.
func TestModeEvidenceAgreesWithStat(t *testing.T) {
	if _, err := exec.LookPath("stat"); err != nil {
		t.Skip("stat not installed")
	}
	dir := t.TempDir()
	modes := []fs.FileMode{0o755, 0o644, 0o777, 0o600, 0o4755, 0o2755, 0o6755, 0o4644, 0o1777, 0o3777, 0o2775, 0o7000, 0o000, 0o4711}
	for i, m := range modes {
		for _, isDir := range []bool{false, true} {
			p := filepath.Join(dir, fmt.Sprintf("file%d", i))
			if isDir {
				p = filepath.Join(dir, fmt.Sprintf("dir%d", i))
			}
			if isDir {
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			// os.Chmod takes the special bits as Go mode bits.
			gm := m.Perm()
			if m&0o4000 != 0 {
				gm |= fs.ModeSetuid
			}
			if m&0o2000 != 0 {
				gm |= fs.ModeSetgid
			}
			if m&0o1000 != 0 {
				gm |= fs.ModeSticky
			}
			if err := os.Chmod(p, gm); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("stat", "-c", "%a %A", p).Output()
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(string(out))
			want := strings.Repeat("0", 4-len(f[0])) + f[0] + " " + f[1]
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := modeEvidence(fi.Mode()); got != want {
				t.Errorf("%s (%o): modeEvidence = %q, stat says %q", p, m, got, want)
			}
		}
	}
}

func TestAggregate(t *testing.T) {
	in := []inventory.FileFinding{
		{Rule: RuleSetuid, Path: "usr/bin/su", Layer: 0, Evidence: "4755 -rwsr-xr-x"},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists/a_Packages", Layer: 1, Evidence: "1048576 bytes", Deleted: true},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists/a_InRelease", Layer: 1, Evidence: "524288 bytes", Deleted: true},
		{Rule: RuleAptCache, Path: "var/cache/apt/archives/x.deb", Layer: 1, Evidence: "100 bytes", Deleted: true},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists/b_Packages", Layer: 3, Evidence: "2048 bytes"},
		{Rule: RulePipCache, Path: "root/.cache/pip/http-v2", Layer: 2, Evidence: "directory"},
		{Rule: RulePipCache, Path: "root/.cache/pip/wheels", Layer: 2, Evidence: "directory"},
		{Rule: RuleWorldWritable, Path: "app/uploads", Layer: 2, Evidence: "0777 drwxrwxrwx"},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists/c", Layer: 1, Evidence: "garbage", Deleted: true},
	}
	orig := append([]inventory.FileFinding(nil), in...)
	want := []inventory.FileFinding{
		{Rule: RuleSetuid, Path: "usr/bin/su", Layer: 0, Evidence: "4755 -rwsr-xr-x"},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists", Layer: 1, Evidence: "3 entries, 1.5 MiB", Deleted: true},
		{Rule: RuleAptCache, Path: "var/cache/apt/archives", Layer: 1, Evidence: "1 entry, 100 B", Deleted: true},
		{Rule: RuleAptCache, Path: "var/lib/apt/lists", Layer: 3, Evidence: "1 entry, 2.0 KiB"},
		{Rule: RulePipCache, Path: "root/.cache/pip", Layer: 2, Evidence: "2 entries"},
		{Rule: RuleWorldWritable, Path: "app/uploads", Layer: 2, Evidence: "0777 drwxrwxrwx"},
	}
	if diff := cmp.Diff(want, Aggregate(in)); diff != "" {
		t.Errorf("Aggregate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orig, in); diff != "" {
		t.Errorf("Aggregate modified its input:\n%s", diff)
	}
}

func TestRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || r.Title == "" {
			t.Errorf("rule %+v duplicate or untitled", r)
		}
		seen[r.ID] = true
		if r.Persistent != isCacheRule(r.ID) {
			t.Errorf("rule %s: Persistent %v, but the observer emits %v", r.ID, r.Persistent, isCacheRule(r.ID))
		}
	}
	for _, id := range []string{RuleSetuid, RuleWorldWritable, RuleAptCache, RuleApkCache, RulePipCache, RuleNpmCache} {
		if !seen[id] {
			t.Errorf("rule %s not listed by Rules", id)
		}
	}
}

// FuzzObserve checks that any path and mode gives findings of known rules,
// with evidence, and never panics.
func FuzzObserve(f *testing.F) {
	f.Add("var/cache/apt/archives/a.deb", uint32(0o644), int64(10))
	f.Add("home/u/.npm/_cacache/x", uint32(fs.ModeDir|0o777), int64(0))
	f.Add("usr/bin/su", uint32(fs.ModeSetuid|0o755), int64(1))
	f.Add("home//.cache/pip/", uint32(0), int64(-1))
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	o := New().(extract.Observer)
	f.Fuzz(func(t *testing.T, p string, mode uint32, size int64) {
		for _, ff := range o.Observe(p, info{fs.FileMode(mode), size}) {
			if !known[ff.Rule] || ff.Evidence == "" || ff.Persistent != isCacheRule(ff.Rule) {
				t.Fatalf("Observe(%q, %o): finding %+v", p, mode, ff)
			}
		}
	})
}
