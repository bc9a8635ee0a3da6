package match_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
)

// memStore is an in-memory vulndb.Store of one advisory.
type memStore struct {
	ecosystems []string
	entries    map[string][]vulndb.Affected // eco \0 normalized name
}

// EachAdvisory hands out a copy of each entry and clobbers it when the
// callback returns, as the database's scratch memory is reused: a matcher
// that keeps the view instead of a Clone shows the clobbered values.
func (s *memStore) EachAdvisory(_ context.Context, eco, name string, fn func(*vulndb.Affected) error) error {
	for _, a := range s.entries[eco+"\x00"+vulndb.NormalizeName(eco, name)] {
		view := a.Clone()
		err := fn(&view)
		for i := range view.Ranges {
			for j := range view.Ranges[i].Events {
				view.Ranges[i].Events[j] = vulndb.Event{Introduced: "999"}
			}
			view.Ranges[i].Type = "CLOBBERED"
		}
		view.ID, view.Package, view.Status = "CLOBBERED", "clobbered", "clobbered"
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Details(_ context.Context, id string) (*vulndb.Details, error) {
	return nil, vulndb.ErrNotFound
}

func (s *memStore) KEV(_ context.Context, cve string) (*vulndb.KEV, error) {
	return nil, vulndb.ErrNotFound
}

func (s *memStore) EPSS(_ context.Context, cve string) (*vulndb.EPSS, error) {
	return nil, vulndb.ErrNotFound
}

func (s *memStore) Ecosystems() []string { return s.ecosystems }

// fuzzTargets are the package kinds the fuzzer picks from: an inventory
// package, the distro it needs and the OSV ecosystem of its advisories.
var fuzzTargets = []struct {
	pkg    inventory.Package
	distro *inventory.Distro
	eco    string
}{
	{inventory.Package{Ecosystem: inventory.Deb, Name: "bsdutils", SourceName: "util-linux"}, &inventory.Distro{Family: "debian", Version: "12"}, "Debian:12"},
	{inventory.Package{Ecosystem: inventory.RPM, Name: "openssl-libs"}, &inventory.Distro{Family: "almalinux", Version: "9.3"}, "AlmaLinux:9"},
	{inventory.Package{Ecosystem: inventory.APK, Name: "libssl3", SourceName: "openssl"}, &inventory.Distro{Family: "alpine", Version: "3.20.1"}, "Alpine:v3.20"},
	{inventory.Package{Ecosystem: inventory.Go, Name: "golang.org/x/net"}, nil, "Go"},
	{inventory.Package{Ecosystem: inventory.Go, Name: "stdlib", Toolchain: true}, nil, "Go"},
	{inventory.Package{Ecosystem: inventory.NPM, Name: "lodash"}, nil, "npm"},
	{inventory.Package{Ecosystem: inventory.PyPI, Name: "requests"}, nil, "PyPI"},
	{inventory.Package{Ecosystem: inventory.Maven, Group: "org.example", Name: "lib"}, nil, "Maven"},
	{inventory.Package{Ecosystem: inventory.Cargo, Name: "tokio"}, nil, "crates.io"},
	{inventory.Package{Ecosystem: inventory.Gem, Name: "rack"}, nil, "RubyGems"},
	{inventory.Package{Ecosystem: inventory.Composer, Name: "vendor/pkg"}, nil, "Packagist"},
	{inventory.Package{Ecosystem: inventory.NuGet, Name: "Newtonsoft.Json"}, nil, "NuGet"},
}

// FuzzMatch feeds arbitrary installed versions and advisory ranges (both
// untrusted: one from the image, one from a feed) through the matcher. It
// must never panic or fail, and what it reports must hold together: a
// finding has a fix exactly when its status is fixed, the fix lies above
// the installed version, and a version exactly at the only fixed event of
// an [introduced 0, fixed X) range is not affected.
func FuzzMatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, tf := range ar.Files {
			if tf.Name != "inventory" {
				continue
			}
			for _, line := range lines(tf.Data) {
				fs := strings.Fields(line)
				if fs[0] == "distro" || len(fs) < 3 {
					continue
				}
				for i, t := range fuzzTargets {
					if string(t.pkg.Ecosystem) == fs[0] {
						f.Add(uint8(i), fs[2], "0", fs[2], "", "", "")
						f.Add(uint8(i), fs[2], fs[2], "", fs[2], "", "open")
						break
					}
				}
			}
		}
	}
	f.Add(uint8(0), "1:2.38.1-5+deb12u3", "0", "2.38.1-5+deb12u4", "", "*", "")
	f.Add(uint8(1), "1:1.1.1k-4.el8", "0", "1.1.1k-5.el8_5", "", "", "")
	f.Add(uint8(3), "v0.0.0-20210405180319-a5a99cb37ef4", "0", "0.7.0", "", "", "")
	f.Add(uint8(4), "v1.20.0", "1.20.0-0", "1.20.1", "", "", "")
	f.Add(uint8(5), "4.17.15", "not a version", "4.17.20", "", "5.0.0", "")
	f.Fuzz(func(t *testing.T, which uint8, installed, introduced, fixed, lastAffected, limit, status string) {
		tg := fuzzTargets[int(which)%len(fuzzTargets)]
		p := tg.pkg
		p.Version = installed
		p.Locations = []inventory.Location{{Path: "fuzz"}}
		var evs []vulndb.Event
		for _, e := range []vulndb.Event{{Introduced: introduced}, {Fixed: fixed}, {LastAffected: lastAffected}, {Limit: limit}} {
			if e != (vulndb.Event{}) {
				evs = append(evs, e)
			}
		}
		name := p.Name
		switch {
		case p.SourceName != "":
			name = p.SourceName
		case p.Group != "":
			name = p.Group + ":" + p.Name
		}
		a := vulndb.Affected{ID: "FUZZ-1", Aliases: []string{"CVE-2099-9999"}, Ecosystem: tg.eco, Package: name,
			Ranges: []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: evs}}, Versions: []string{installed}, Status: status, Source: "fuzz"}
		if len(evs) == 0 {
			a.Ranges = nil
		}
		store := &memStore{ecosystems: []string{tg.eco},
			entries: map[string][]vulndb.Affected{tg.eco + "\x00" + vulndb.NormalizeName(tg.eco, name): {a}}}
		inv := &inventory.Inventory{Distro: tg.distro, Packages: []inventory.Package{p}}
		fs, _, err := (&match.Matcher{Store: store}).Match(context.Background(), inv)
		if err != nil {
			t.Fatalf("Match: %v", err)
		}
		if len(fs) > 1 {
			t.Fatalf("one advisory gave %d findings", len(fs))
		}
		for _, fd := range fs {
			if fd.Package.Index != 0 || fd.ID != "CVE-2099-9999" {
				t.Fatalf("finding %s refers to package %d", fd.ID, fd.Package.Index)
			}
			if (len(fd.FixedVersions) > 0) != (fd.FixStatus == report.Fixed) {
				t.Fatalf("fixed versions %q with status %q", fd.FixedVersions, fd.FixStatus)
			}
		}
		// The boundary: exactly at the fix of [0, fixed) is not affected,
		// when nothing else (a versions list, a status) says otherwise.
		if introduced == "0" && fixed != "" && lastAffected == "" && limit == "" && status == "" {
			a.Versions = nil
			a.Ranges = []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}
			store.entries[tg.eco+"\x00"+vulndb.NormalizeName(tg.eco, name)] = []vulndb.Affected{a}
			q := p
			q.Version = fixed
			if p.Ecosystem == inventory.Go && !strings.HasPrefix(fixed, "v") {
				q.Version = "v" + fixed
			}
			inv.Packages = []inventory.Package{q}
			fs, _, err := (&match.Matcher{Store: store}).Match(context.Background(), inv)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if len(fs) != 0 {
				t.Fatalf("version %q exactly at the fix %q is reported affected: %+v", q.Version, fixed, fs[0])
			}
		}
	})
}

// TestMatchErrors checks what Match refuses and that a failing store fails
// the stage.
func TestMatchErrors(t *testing.T) {
	ctx := context.Background()
	inv := &inventory.Inventory{Packages: []inventory.Package{{Ecosystem: inventory.NPM, Name: "lodash", Version: "4.17.15"}}}
	if _, _, err := (&match.Matcher{}).Match(ctx, inv); err == nil {
		t.Error("Match without a store: no error")
	}
	if _, _, err := (&match.Matcher{Store: &memStore{}}).Match(ctx, nil); err == nil {
		t.Error("Match of a nil inventory: no error")
	}
	boom := errors.New("disk on fire")
	_, _, err := (&match.Matcher{Store: failingStore{boom}}).Match(ctx, inv)
	if !errors.Is(err, boom) {
		t.Errorf("Match with a failing store: %v, want it to wrap %v", err, boom)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = (&match.Matcher{Store: &memStore{}}).Match(cctx, inv)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Match with a cancelled context: %v", err)
	}
}

type failingStore struct{ err error }

func (s failingStore) EachAdvisory(context.Context, string, string, func(*vulndb.Affected) error) error {
	return s.err
}
func (s failingStore) Details(context.Context, string) (*vulndb.Details, error) { return nil, s.err }
func (s failingStore) KEV(context.Context, string) (*vulndb.KEV, error)         { return nil, s.err }
func (s failingStore) EPSS(context.Context, string) (*vulndb.EPSS, error)       { return nil, s.err }

// TestWarningCap: an image full of broken versions gives MaxWarnings
// warnings and one that counts the rest.
func TestWarningCap(t *testing.T) {
	store := &memStore{ecosystems: []string{"npm"}, entries: map[string][]vulndb.Affected{
		"npm\x00lodash": {{ID: "GHSA-x", Ecosystem: "npm", Package: "lodash", Source: "test",
			Ranges: []vulndb.Range{{Type: vulndb.RangeSemver, Events: []vulndb.Event{{Introduced: "0"}}}}}},
	}}
	inv := &inventory.Inventory{}
	for i := 0; i < match.MaxWarnings+5; i++ {
		inv.Packages = append(inv.Packages, inventory.Package{Ecosystem: inventory.NPM, Name: "lodash", Version: "bad",
			Locations: []inventory.Location{{Path: fmt.Sprintf("n%d/node_modules/lodash/package.json", i)}}})
	}
	fs, warns, err := (&match.Matcher{Store: store}).Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("%d findings for invalid versions", len(fs))
	}
	if len(warns) != match.MaxWarnings+1 {
		t.Fatalf("%d warnings, want %d", len(warns), match.MaxWarnings+1)
	}
	if want := fmt.Sprintf("5 more matcher warnings were left out (the first %d are listed)", match.MaxWarnings); warns[0].Message != want {
		t.Errorf("first warning %q, want %q", warns[0].Message, want)
	}
}
