package match_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/version"
	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/osv"
)

// Trivy's integration tests scan test images and repositories against a
// fixture vulnerability database (YAML dumps of its bolt buckets) and keep
// the JSON reports as goldens. TestTrivyGoldens loads that database into
// vigil's, feeds each golden's packages (name, installed version, OS
// release) to the matcher and compares per package the vulnerability IDs,
// fixed versions and statuses, and that Trivy's vendor IDs (DSA-..., RHSA-...)
// are among the finding's advisories. The goldens do not record source
// packages; trivySource names them (facts of the distributions' archives).
//
// Every difference is listed in trivyExceptions with the value each tool
// gives and why; an exception that no longer occurs fails the test too.

// trivySource maps the binary packages of the goldens to their source (deb)
// or origin (apk) package.
var trivySource = map[string]string{
	"debian/e2fslibs": "e2fsprogs", "debian/libcomerr2": "e2fsprogs", "debian/libss2": "e2fsprogs",
	"debian/libidn2-0": "libidn2", "debian/libssl1.1": "openssl",
	"ubuntu/libcom-err2": "e2fsprogs", "ubuntu/libext2fs2": "e2fsprogs", "ubuntu/libss2": "e2fsprogs",
	"alpine/libcrypto1.1": "openssl", "alpine/libssl1.1": "openssl", "alpine/musl-utils": "musl",
}

// trivyException is a known difference: field is "fixed" or "status".
type trivyException struct {
	field, trivy, vigil, why string
}

// trivyExceptions are keyed "golden|target|package@version|vulnerability".
var trivyExceptions = map[string]trivyException{
	// Trivy's RustSec data has only patched ranges, and Trivy prints them
	// as the fixed version; vigil turns them into OSV ranges and reports
	// the lowest fixed version above the installed one.
	"busybox-with-lockfile|Cargo.lock|ammonia@1.9.0|CVE-2019-15542": {
		field: "fixed", trivy: ">= 2.1.0", vigil: "2.1.0",
		why: "patched constraint printed verbatim by Trivy; vigil names the version"},
	"busybox-with-lockfile|Cargo.lock|ammonia@1.9.0|CVE-2021-38193": {
		field: "fixed", trivy: ">= 3.1.0, >= 2.1.3, < 3.0.0", vigil: "2.1.3",
		why: "patched constraints printed verbatim by Trivy; 2.1.3 is the lowest patched version above 1.9.0"},
	// Go module versions carry a "v" (golang.org/x/mod/semver); Trivy
	// prints the advisory's string, vigil the version as Go writes it.
	"gomod|go.mod|golang.org/x/text@v0.3.6|CVE-2021-38561": {
		field: "fixed", trivy: "0.3.7", vigil: "v0.3.7", why: "Go module versions are written with their v"},
	"gomod|go.mod|github.com/open-policy-agent/opa@v0.35.0|CVE-2022-23628": {
		field: "fixed", trivy: "0.37.0", vigil: "v0.37.0", why: "Go module versions are written with their v"},
}

func TestTrivyGoldens(t *testing.T) {
	dir := testutil.Fixtures(t, "peer-suites", "trivy-integration")
	db := trivyDB(t, filepath.Join(dir, "fixtures", "db"))
	goldens, err := filepath.Glob(filepath.Join(dir, "*.json.golden"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no goldens in %s: %v", dir, err)
	}
	used := map[string]bool{}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".json.golden")
		t.Run(name, func(t *testing.T) {
			replayGolden(t, db, g, name, used)
		})
	}
	for k := range trivyExceptions {
		if !used[k] {
			t.Errorf("exception %s no longer occurs: remove it", k)
		}
	}
}

type trivyReport struct {
	Metadata struct {
		OS *struct{ Family, Name string }
	}
	Results []struct {
		Target, Class, Type string
		Packages            []struct{ Name, Version string }
		Vulnerabilities     []struct {
			VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Status string
			VendorIDs                                                        []string
		}
	}
}

// trivyRow is what the comparison looks at for one vulnerability of one
// package.
type trivyRow struct{ Fixed, Status string }

func replayGolden(t *testing.T, db vulndb.Store, path, name string, used map[string]bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr trivyReport
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{}
	family := ""
	if os := tr.Metadata.OS; os != nil {
		family = os.Family
		inv.Distro = &inventory.Distro{Family: map[string]string{"alma": "almalinux"}[os.Family], Version: os.Name}
		if inv.Distro.Family == "" {
			inv.Distro.Family = os.Family
		}
	}
	want := map[string]trivyRow{}
	vendorIDs := map[string][]string{}
	index := map[string]int{} // target|name@version -> package index
	for _, res := range tr.Results {
		eco := trivyEcosystem(res.Type)
		if eco == "" {
			t.Fatalf("result type %q has no vigil ecosystem", res.Type)
		}
		add := func(pkgName, ver string) string {
			key := res.Target + "|" + pkgName + "@" + ver
			if _, ok := index[key]; ok {
				return key
			}
			p := inventory.Package{Ecosystem: eco, Name: pkgName, Version: ver,
				Locations: []inventory.Location{{Path: res.Target}}}
			if eco == inventory.Maven {
				p.Group, p.Name, _ = strings.Cut(pkgName, ":")
			}
			if src := trivySource[family+"/"+pkgName]; src != "" {
				p.SourceName = src
			}
			index[key] = len(inv.Packages)
			inv.Packages = append(inv.Packages, p)
			return key
		}
		for _, p := range res.Packages {
			add(p.Name, p.Version)
		}
		for _, v := range res.Vulnerabilities {
			key := add(v.PkgName, v.InstalledVersion) + "|" + v.VulnerabilityID
			want[key] = trivyRow{Fixed: v.FixedVersion, Status: v.Status}
			vendorIDs[key] = v.VendorIDs
		}
	}
	if len(want) == 0 {
		t.Fatal("the golden lists no vulnerabilities")
	}
	fs, warns, err := (&match.Matcher{Store: db}).Match(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	got := map[string]trivyRow{}
	advisories := map[string][]string{}
	for _, f := range fs {
		p := &inv.Packages[f.Package.Index]
		pkgName := p.Name
		if p.Group != "" {
			pkgName = p.Group + ":" + p.Name
		}
		key := p.Locations[0].Path + "|" + pkgName + "@" + p.Version + "|" + f.ID
		got[key] = trivyRow{Fixed: strings.Join(f.FixedVersions, ", "), Status: trivyStatus(f.FixStatus)}
		advisories[key] = f.AdvisoryIDs
	}
	for key, ex := range trivyExceptions {
		gk, rest, _ := strings.Cut(key, "|")
		if gk != name {
			continue
		}
		w, g := want[rest], got[rest]
		var tv, vv *string
		switch ex.field {
		case "fixed":
			tv, vv = &w.Fixed, &g.Fixed
		case "status":
			tv, vv = &w.Status, &g.Status
		default:
			t.Fatalf("exception %s: unknown field %q", key, ex.field)
		}
		if *tv == ex.trivy && *vv == ex.vigil {
			used[key] = true
			*vv = *tv // explained: compare the rest
			got[rest] = g
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target|package@version|vulnerability -> fixed, status (-trivy +vigil):\n%s", diff)
	}
	for key, ids := range vendorIDs {
		for _, id := range ids {
			if !slices.Contains(advisories[key], id) {
				t.Errorf("%s: Trivy's vendor ID %s is not among the finding's advisories %v", key, id, advisories[key])
			}
		}
	}
}

func trivyEcosystem(typ string) inventory.Ecosystem {
	switch typ {
	case "debian", "ubuntu":
		return inventory.Deb
	case "alpine":
		return inventory.APK
	case "alma", "rocky", "centos", "redhat":
		return inventory.RPM
	case "gomod":
		return inventory.Go
	case "npm":
		return inventory.NPM
	case "pip":
		return inventory.PyPI
	case "pom":
		return inventory.Maven
	case "cargo":
		return inventory.Cargo
	}
	return ""
}

// trivyStatus names a fix status as Trivy's reports do.
func trivyStatus(s report.FixStatus) string {
	switch s {
	case report.Fixed:
		return "fixed"
	case report.NotFixed:
		return "affected"
	case report.WontFix:
		return "will_not_fix"
	case report.EndOfLife:
		return "end_of_life"
	}
	return string(s)
}

// A trivy fixture file is a list of buckets; a bucket holds buckets or
// key/value pairs.
type trivyBucket struct {
	Bucket string        `yaml:"bucket"`
	Key    string        `yaml:"key"`
	Value  yaml.Node     `yaml:"value"`
	Pairs  []trivyBucket `yaml:"pairs"`
}

// trivyAdvisory is a value of an advisory bucket (trivy-db's
// types.Advisory): OS buckets give a fixed version or a status, language
// buckets version constraints, Red Hat's per-CPE entries.
type trivyAdvisory struct {
	FixedVersion       string   `yaml:"FixedVersion"`
	Status             int      `yaml:"Status"`
	State              string   `yaml:"State"`
	Severity           float64  `yaml:"Severity"`
	VendorIDs          []string `yaml:"VendorIDs"`
	PatchedVersions    []string `yaml:"PatchedVersions"`
	VulnerableVersions []string `yaml:"VulnerableVersions"`
	Entries            []struct {
		FixedVersion string `yaml:"FixedVersion"`
		Status       int    `yaml:"Status"`
		Affected     []int  `yaml:"Affected"`
		Cves         []struct {
			ID string `yaml:"ID"`
		} `yaml:"Cves"`
	} `yaml:"Entries"`
}

// trivyDetail is a value of the "vulnerability" bucket.
type trivyDetail struct {
	Title, Description, Severity string
	References                   []string
	CVSS                         map[string]struct {
		V2Vector string `yaml:"V2Vector"`
		V3Vector string `yaml:"V3Vector"`
	}
}

// trivyDB loads Trivy's fixture database into a vigil database: one
// document per (bucket, advisory) of source "trivy-fixture", one more per
// vendor ID (DSA-..., as real DSA records alias their CVEs), and the
// vulnerability bucket as details. Buckets of ecosystems vigil has no OSV
// mapping for (Amazon, Oracle, SUSE, Photon, Mariner, CocoaPods, ...) are not
// loaded: no golden uses them.
func trivyDB(t *testing.T, dir string) *vulndb.DB {
	t.Helper()
	read := func(name string) []trivyBucket {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var bs []trivyBucket
		if err := yaml.Unmarshal(data, &bs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return bs
	}
	cpes := map[int]string{}
	for _, b := range read("cpe.yaml") {
		for _, sub := range b.Pairs {
			if sub.Bucket != "cpe" {
				continue
			}
			for _, kv := range sub.Pairs {
				n, err := strconv.Atoi(kv.Key)
				if err != nil {
					t.Fatalf("cpe.yaml: key %q", kv.Key)
				}
				cpes[n] = kv.Value.Value
			}
		}
	}
	details := map[string]*vulndb.Details{}
	for _, b := range read("vulnerability.yaml") {
		for _, kv := range b.Pairs {
			var d trivyDetail
			if err := kv.Value.Decode(&d); err != nil {
				t.Fatalf("vulnerability %s: %v", kv.Key, err)
			}
			det := &vulndb.Details{ID: kv.Key, Summary: d.Title, Details: d.Description, References: d.References, Severity: d.Severity}
			for _, src := range slices.Sorted(maps.Keys(d.CVSS)) {
				c := d.CVSS[src]
				for _, v := range []struct{ typ, vec string }{{"CVSS_V3", c.V3Vector}, {"CVSS_V2", c.V2Vector}} {
					if v.vec == "" {
						continue
					}
					cv, err := osv.ParseCVSS(v.typ, v.vec)
					if err != nil {
						t.Fatalf("vulnerability %s: %v", kv.Key, err)
					}
					if !slices.Contains(det.CVSS, *cv) {
						det.CVSS = append(det.CVSS, *cv)
					}
				}
			}
			details[kv.Key] = det
		}
	}

	docs := map[string]*vulndb.Doc{} // scope \0 id
	put := func(scope, id string, aliases []string, a vulndb.Affected) {
		k := scope + "\x00" + id
		d := docs[k]
		if d == nil {
			det := &vulndb.Details{ID: id}
			if src := details[id]; src != nil {
				cp := *src
				det = &cp
			}
			det.Aliases = aliases
			d = &vulndb.Doc{Source: "trivy-fixture", Scope: scope, ID: id, Feed: "trivy-fixture/" + scope,
				Modified: time.Unix(0, 0).UTC(), Details: det}
			docs[k] = d
		}
		a.ID, a.Aliases, a.Source = id, aliases, "trivy-fixture"
		d.Affected = append(d.Affected, a)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, b := range read(filepath.Base(f)) {
			eco, scheme, ok := trivyBucketEcosystem(b.Bucket)
			if !ok {
				continue
			}
			for _, pkg := range b.Pairs {
				for _, kv := range pkg.Pairs {
					var adv trivyAdvisory
					if err := kv.Value.Decode(&adv); err != nil {
						t.Fatalf("%s %s %s: %v", b.Bucket, pkg.Bucket, kv.Key, err)
					}
					for _, e := range trivyEntries(t, eco, scheme, cpes, kv.Key, &adv) {
						a := e.a
						a.Package = pkg.Bucket
						put(b.Bucket, e.id, e.aliases, a)
						for _, vid := range adv.VendorIDs {
							put(b.Bucket, vid, []string{kv.Key}, a)
						}
					}
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "trivy.db")
	bld, err := vulndb.NewBuilder(path, vulndb.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range slices.Sorted(maps.Keys(docs)) {
		if _, err := bld.Put(docs[k]); err != nil {
			bld.Abort()
			t.Fatalf("%s: %v", k, err)
		}
	}
	if _, err := bld.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// trivyBucketEcosystem maps a Trivy bucket name to an OSV ecosystem and the
// version scheme of its constraints.
func trivyBucketEcosystem(bucket string) (string, version.Scheme, bool) {
	if src, _, ok := strings.Cut(bucket, "::"); ok {
		switch src {
		case "go":
			return "Go", version.Go(), true
		case "npm":
			return "npm", version.SemVer(), true
		case "pip":
			return "PyPI", version.PEP440(), true
		case "maven":
			return "Maven", version.Maven(), true
		case "cargo":
			return "crates.io", version.SemVer(), true
		}
		return "", nil, false
	}
	fam, rel, _ := strings.Cut(bucket, " ")
	switch fam {
	case "debian":
		return "Debian:" + rel, version.Dpkg(), true
	case "ubuntu":
		return "Ubuntu:" + rel + ":LTS", version.Dpkg(), true
	case "alpine":
		if rel == "edge" {
			return "Alpine:edge", version.APK(), true
		}
		return "Alpine:v" + rel, version.APK(), true
	case "alma":
		return "AlmaLinux:" + rel, version.RPM(), true
	case "rocky":
		return "Rocky Linux:" + rel, version.RPM(), true
	case "Red":
		if bucket == "Red Hat" {
			return "Red Hat", version.RPM(), true
		}
	}
	return "", nil, false
}

type trivyEntry struct {
	id      string
	aliases []string
	a       vulndb.Affected
}

// trivyStatusOf maps trivy-db's status numbers (types.Status: 1 not
// affected, 2 affected, 3 fixed, 4 under investigation, 5 will not fix, 6
// fix deferred, 7 end of life) and Debian's State strings to vulndb's.
func trivyStatusOf(status int, state string) string {
	switch {
	case status == 1:
		return vulndb.StatusNotAffected
	case status == 5:
		return vulndb.StatusIgnored
	case status == 6 || state == "postponed":
		return vulndb.StatusPostponed
	case status == 7:
		return vulndb.StatusEndOfLife
	case state == "no-dsa":
		return vulndb.StatusNoDSA
	}
	return ""
}

func trivyEntries(t *testing.T, eco string, scheme version.Scheme, cpes map[int]string, key string, adv *trivyAdvisory) []trivyEntry {
	t.Helper()
	all := []vulndb.Event{{Introduced: "0"}}
	switch {
	case eco == "Red Hat":
		var out []trivyEntry
		for _, e := range adv.Entries {
			var aliases []string
			for _, c := range e.Cves {
				if c.ID != "" {
					aliases = append(aliases, c.ID)
				}
			}
			evs := all
			if e.FixedVersion != "" {
				evs = []vulndb.Event{{Introduced: "0"}, {Fixed: e.FixedVersion}}
			}
			for _, n := range e.Affected {
				cpe, ok := cpes[n]
				if !ok {
					continue // the fixture's CPE table names only 857 and 869
				}
				// cpe:/o:redhat:enterprise_linux:7::server -> Red Hat:enterprise_linux:7::server
				parts := strings.SplitN(strings.TrimPrefix(cpe, "cpe:/"), ":", 3)
				out = append(out, trivyEntry{id: key, aliases: aliases, a: vulndb.Affected{
					Ecosystem: "Red Hat:" + parts[2],
					Ranges:    []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: evs}},
					Status:    trivyStatusOf(e.Status, ""),
				}})
			}
		}
		return out
	case len(adv.VulnerableVersions) > 0 || len(adv.PatchedVersions) > 0:
		return []trivyEntry{{id: key, a: vulndb.Affected{Ecosystem: eco, Ranges: trivyRanges(t, scheme, adv)}}}
	}
	a := vulndb.Affected{Ecosystem: eco, Status: trivyStatusOf(adv.Status, adv.State),
		Severity: [...]string{"", "low", "medium", "high", "critical"}[min(max(int(adv.Severity), 0), 4)]}
	if a.Status != vulndb.StatusNotAffected {
		evs := all
		if adv.FixedVersion != "" {
			evs = []vulndb.Event{{Introduced: "0"}, {Fixed: adv.FixedVersion}}
		}
		a.Ranges = []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: evs}}
	}
	return []trivyEntry{{id: key, a: a}}
}

// bound is one side of a version interval; v == "" is unbounded.
type bound struct {
	v         string
	inclusive bool
}

// trivyRanges turns version constraints into OSV ranges. Each vulnerable
// constraint (">= 0, < 0.3.7", "< v2.8.0", "[2.9.0,2.9.10.7)") is one range;
// an upper bound "<= X" becomes a fixed event at the lowest patched version
// above X when there is one (as GHSA's OSV export does), else last_affected
// X. With only patched constraints (RustSec), the ranges are the gaps
// between the patched intervals.
func trivyRanges(t *testing.T, s version.Scheme, adv *trivyAdvisory) []vulndb.Range {
	t.Helper()
	parse := func(c string) (lo, hi bound) {
		c = strings.TrimSpace(c)
		if strings.HasPrefix(c, "[") || strings.HasPrefix(c, "(") {
			inner := c[1 : len(c)-1]
			l, h, _ := strings.Cut(inner, ",")
			return bound{strings.TrimSpace(l), c[0] == '['}, bound{strings.TrimSpace(h), c[len(c)-1] == ']'}
		}
		if !strings.ContainsAny(c, "<>=") {
			return bound{c, true}, bound{} // a bare patched version
		}
		for _, part := range strings.Split(c, ",") {
			part = strings.TrimSpace(part)
			for _, op := range []string{">=", "<=", ">", "<", "="} {
				if v, ok := strings.CutPrefix(part, op); ok {
					v = strings.TrimSpace(v)
					switch op {
					case ">=", ">":
						lo = bound{v, op == ">="}
					case "<=", "<":
						hi = bound{v, op == "<="}
					case "=":
						lo, hi = bound{v, true}, bound{v, true}
					}
					break
				}
			}
		}
		return lo, hi
	}
	norm := func(v string) string {
		if s.Name() == "go" {
			return strings.TrimPrefix(v, "v")
		}
		return v
	}
	cmpV := func(a, b string) int {
		if s.Name() == "go" {
			a, b = "v"+norm(a), "v"+norm(b)
		}
		c, err := s.Compare(a, b)
		if err != nil {
			t.Fatalf("compare %q %q: %v", a, b, err)
		}
		return c
	}
	var out []vulndb.Range
	if len(adv.VulnerableVersions) > 0 {
		for _, c := range adv.VulnerableVersions {
			lo, hi := parse(c)
			if lo.v != "" && !lo.inclusive {
				t.Fatalf("constraint %q: exclusive lower bound", c)
			}
			evs := []vulndb.Event{{Introduced: cmpOr(norm(lo.v), "0")}}
			switch {
			case hi.v == "":
			case !hi.inclusive:
				evs = append(evs, vulndb.Event{Fixed: norm(hi.v)})
			default:
				fix := ""
				for _, p := range adv.PatchedVersions {
					if pl, _ := parse(p); pl.v != "" && cmpV(pl.v, hi.v) > 0 && (fix == "" || cmpV(pl.v, fix) < 0) {
						fix = pl.v
					}
				}
				if fix != "" {
					evs = append(evs, vulndb.Event{Fixed: norm(fix)})
				} else {
					evs = append(evs, vulndb.Event{LastAffected: norm(hi.v)})
				}
			}
			out = append(out, vulndb.Range{Type: vulndb.RangeEcosystem, Events: evs})
		}
		return out
	}
	type interval struct{ lo, hi bound }
	var patched []interval
	for _, c := range adv.PatchedVersions {
		lo, hi := parse(c)
		if lo.v == "" || !lo.inclusive || (hi.v != "" && hi.inclusive) {
			t.Fatalf("patched constraint %q: want >= X[, < Y]", c)
		}
		patched = append(patched, interval{lo, hi})
	}
	slices.SortFunc(patched, func(a, b interval) int { return cmpV(a.lo.v, b.lo.v) })
	cur := "0"
	for _, p := range patched {
		out = append(out, vulndb.Range{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: cur}, {Fixed: norm(p.lo.v)}}})
		if p.hi.v == "" {
			return out
		}
		cur = norm(p.hi.v)
	}
	return append(out, vulndb.Range{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: cur}}})
}
