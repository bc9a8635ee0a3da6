package update

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/vulndb"
)

// perFolder is how many fixture records each export folder holds, counted
// from the fixture files (see fixtureRecords).
var perFolder = map[string]int{"Debian": 291, "Go": 240, "PyPI": 36, "crates.io": 17, "npm": 8, "Maven": 6, "AlmaLinux": 5, "Rocky Linux": 3, "Ubuntu": 2}

func openDB(t *testing.T, cacheDir string) *vulndb.DB {
	t.Helper()
	db, err := vulndb.Open(vulndb.DefaultPath(cacheDir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ids(t *testing.T, db *vulndb.DB, eco, pkg string) []string {
	t.Helper()
	as, err := db.Advisories(context.Background(), eco, pkg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func fixedIn(t *testing.T, db *vulndb.DB, eco, pkg, id string) string {
	t.Helper()
	as, err := db.Advisories(context.Background(), eco, pkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			for _, r := range a.Ranges {
				for _, e := range r.Events {
					if e.Fixed != "" {
						return e.Fixed
					}
				}
			}
			return a.Status
		}
	}
	return "absent"
}

func TestRunFullThenDelta(t *testing.T) {
	recs := fixtureRecords(t)
	ex := newExport(t, recs)
	cache := t.TempDir()
	ctx := context.Background()

	prog := &recorder{started: map[string]int64{}, advanced: map[string]int64{}, done: map[string]error{}}
	opts := ex.options(cache)
	opts.Progress = prog
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	zipURL := ex.srv.URL + "/Go/all.zip"
	if prog.started[zipURL] != int64(len(ex.files["/Go/all.zip"])) || prog.advanced[zipURL] != prog.started[zipURL] || prog.done[zipURL] != nil {
		t.Errorf("progress of %s: started %d, advanced %d, done %v", zipURL, prog.started[zipURL], prog.advanced[zipURL], prog.done[zipURL])
	}
	if len(prog.started) != len(prog.done) {
		t.Errorf("%d downloads started, %d done", len(prog.started), len(prog.done))
	}
	for folder, n := range perFolder {
		c := rep.Ecosystems[folder]
		if c == nil || c.Added != n || c.Malformed != 0 || c.Failed != 0 {
			t.Errorf("%s: %+v, want %d added", folder, c, n)
		}
	}
	if tot := rep.Total(); tot.Failed != 0 || tot.Malformed != 0 {
		t.Errorf("total %+v; failures %v", tot, rep.Failures())
	}
	if c := rep.Sources[vulndb.SourceAlpineSecdb]; c == nil || c.Added < 3000 {
		t.Errorf("alpine-secdb: %+v", c)
	}
	if c := rep.Sources[vulndb.SourceKEV]; c == nil || c.Added != 1404 {
		t.Errorf("kev: %+v", c)
	}
	db := openDB(t, cache)
	// The README's hand-checked expectations, as far as the database can
	// tell them (the version comparison is the matcher's).
	for _, tt := range []struct {
		eco, pkg, id, fixed string
	}{
		{"npm", "lodash", "GHSA-p6mc-m468-83gw", "4.17.20"},
		{"npm", "lodash", "GHSA-35jh-r3h4-6jhm", "4.17.21"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "GHSA-jfh8-c2jp-5v3q", "2.15.0"},
		{"PyPI", "Requests", "PYSEC-2023-74", "2.31.0"},
		{"Ubuntu:22.04:LTS", "openssl", "CVE-2023-0286", "3.0.2-0ubuntu1.8"},
		{"Alpine:v3.11", "openssl", "CVE-2019-1551", "1.1.1d-r3"},
		{"Alpine:v3.11", "musl", "CVE-2019-14697", "1.1.23-r2"},
		{"Debian:12", "util-linux", "DEBIAN-CVE-2099-0101", "2.38.1-5+deb12u4"},
		{"Debian:12", "apparmor", "CVE-2016-1585", "unimportant"},
		{"Debian:sid", "apparmor", "CVE-2016-1585", "3.0.12-1"},
	} {
		if got := fixedIn(t, db, tt.eco, tt.pkg, tt.id); got != tt.fixed {
			t.Errorf("%s %s %s: fixed %q, want %q", tt.eco, tt.pkg, tt.id, got, tt.fixed)
		}
	}
	det, err := db.Details(ctx, "GHSA-jfh8-c2jp-5v3q")
	if err != nil {
		t.Fatal(err)
	}
	if det.KEV == nil || det.KEV.CVE != "CVE-2021-44228" || len(det.CVSS) == 0 || det.CVSS[0].Score != 10 {
		t.Errorf("Log4Shell details: KEV %+v CVSS %+v", det.KEV, det.CVSS)
	}
	if e, err := db.EPSS(ctx, "CVE-1999-0001"); err != nil || e.Score != 0.03351 {
		t.Errorf("EPSS: %+v, %v", e, err)
	}
	meta := db.Meta()
	if meta.Feeds["osv/Go"].Watermark.IsZero() || meta.Feeds["osv/Go"].Docs != 240 {
		t.Errorf("Go feed state: %+v", meta.Feeds["osv/Go"])
	}
	ex.requests()

	// A changed record and a withdrawn one.
	var lodash, log4j fixtureRecord
	for _, r := range recs {
		switch r.ID {
		case "GHSA-35jh-r3h4-6jhm":
			lodash = r
		case "GHSA-8489-44mv-ggj8":
			log4j = r
		}
	}
	later := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	lodash.Data = bytes.Replace(lodash.Data, []byte(`"fixed": "4.17.21"`), []byte(`"fixed": "4.17.22"`), 1)
	lodash.Data = bytes.Replace(lodash.Data, []byte(`"modified": "`), []byte(`"modified": "2026-06-01T00:00:00Z", "old_modified": "`), 1)
	lodash.Modified = later
	ex.update("npm", lodash)
	log4j.Data = bytes.Replace(log4j.Data, []byte(`"modified": "`), []byte(`"withdrawn": "2026-06-01T00:00:00Z", "modified": "2026-06-01T00:00:00Z", "old_modified": "`), 1)
	log4j.Modified = later
	ex.update("Maven", log4j)

	rep, err = Run(ctx, ex.options(cache))
	if err != nil {
		t.Fatal(err)
	}
	reqs := ex.requests()
	for _, p := range reqs {
		if strings.HasSuffix(p, "/all.zip") {
			t.Errorf("delta update fetched %s", p)
		}
	}
	var records []string
	for _, p := range reqs {
		if strings.HasSuffix(p, ".json") && strings.Count(p, "/") == 2 && !strings.HasPrefix(p, "/alpine/") && p != "/kev.json" {
			records = append(records, p)
		}
	}
	slices.Sort(records)
	// Besides the two changes, each folder refetches the records modified
	// at its watermark (the newest it had), which are unchanged.
	for _, want := range []string{"/Maven/GHSA-8489-44mv-ggj8.json", "/npm/GHSA-35jh-r3h4-6jhm.json"} {
		if !slices.Contains(records, want) {
			t.Errorf("delta did not fetch %s (fetched %v)", want, records)
		}
	}
	if len(records) > 2+len(perFolder)+3 {
		t.Errorf("delta fetched %d records: %v", len(records), records)
	}
	if c := rep.Ecosystems["npm"]; c.Updated != 1 || c.Added != 0 {
		t.Errorf("npm: %+v", c)
	}
	if c := rep.Ecosystems["Maven"]; c.Removed != 1 {
		t.Errorf("Maven: %+v", c)
	}
	if rep.Total().Failed != 0 {
		t.Errorf("failures: %v", rep.Failures())
	}
	db2 := openDB(t, cache)
	if got := fixedIn(t, db2, "npm", "lodash", "GHSA-35jh-r3h4-6jhm"); got != "4.17.22" {
		t.Errorf("changed record: fixed %q", got)
	}
	// GHSA-jfh8-c2jp-5v3q lists log4j-core three times (three ranges).
	if got := slices.Compact(ids(t, db2, "Maven", "org.apache.logging.log4j:log4j-core")); !slices.Equal(got, []string{"GHSA-jfh8-c2jp-5v3q"}) {
		t.Errorf("log4j-core after withdrawal: %v", got)
	}
	if det, err := db2.Details(ctx, "GHSA-8489-44mv-ggj8"); err != nil || det.Withdrawn.IsZero() {
		t.Errorf("withdrawn details: %+v, %v", det, err)
	}
	// The feeds did not change: conditional requests, nothing rewritten.
	if c := rep.Sources[vulndb.SourceKEV]; c.Added != 0 {
		t.Errorf("KEV re-imported: %+v", c)
	}
	// The first reader still sees the old database.
	if got := fixedIn(t, db, "npm", "lodash", "GHSA-35jh-r3h4-6jhm"); got != "4.17.21" {
		t.Errorf("old reader: fixed %q", got)
	}
}

type recorder struct {
	mu       sync.Mutex
	started  map[string]int64
	advanced map[string]int64
	done     map[string]error
}

func (r *recorder) Start(id, label string, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started[id] = total
}

func (r *recorder) Advance(id string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanced[id] += n
}

func (r *recorder) Done(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[id] = err
}

// TestRunFaults: network faults are retried; what keeps failing is
// counted for its source and does not stop the others.
func TestRunFaults(t *testing.T) {
	recs := fixtureRecords(t)
	tests := []struct {
		name      string
		path      string
		f         *fault
		client    time.Duration // client timeout, when set
		wantFail  string        // folder or source that must fail ("" for none)
		wantInMsg string
	}{
		{name: "truncated body once", path: "/Go/all.zip", f: &fault{truncate: 1}},
		{name: "two 500s", path: "/PyPI/all.zip", f: &fault{statuses: []int{500, 503}}},
		{name: "429 then ok", path: "/kev.json", f: &fault{statuses: []int{429}}},
		{name: "always 500", path: "/Go/all.zip", f: &fault{statuses: []int{500, 500, 500, 500}}, wantFail: "Go", wantInMsg: "HTTP 500"},
		{name: "always truncated", path: "/Debian/all.zip", f: &fault{truncate: 10}, wantFail: "Debian", wantInMsg: "unexpected EOF"},
		{name: "slow response, client timeout", path: "/npm/all.zip", f: &fault{delay: 3 * time.Second}, client: 300 * time.Millisecond, wantFail: "npm", wantInMsg: "Timeout"},
		{name: "checksum mismatch (crc32c)", path: "/Maven/all.zip", f: &fault{badHash: true}, wantFail: "Maven", wantInMsg: "crc32c is"},
		{name: "checksum mismatch (md5)", path: "/kev.json", f: &fault{badHash: true}, wantFail: vulndb.SourceKEV, wantInMsg: "md5 is"},
		{name: "missing folder", path: "/Ubuntu/all.zip", f: &fault{gone: true}, wantFail: "Ubuntu", wantInMsg: "HTTP 404"},
		{name: "feed down", path: "/debian/json", f: &fault{statuses: []int{502, 502, 502}}, wantFail: vulndb.SourceDebianTracker, wantInMsg: "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := newExport(t, recs)
			ex.fault(tt.path, tt.f)
			cache := t.TempDir()
			opts := ex.options(cache)
			if tt.client > 0 {
				opts.HTTP = &http.Client{Timeout: tt.client}
			}
			// The folder or feed under test, and two small folders that
			// must arrive whatever happens to it.
			opts.Ecosystems, opts.Feeds = []string{"npm", "Ubuntu"}, []string{}
			switch tt.path {
			case "/kev.json":
				opts.Feeds = []string{vulndb.SourceKEV}
			case "/debian/json":
				opts.Feeds = []string{vulndb.SourceDebianTracker}
				opts.Ecosystems = append(opts.Ecosystems, "Debian")
			default:
				folder, _, _ := strings.Cut(strings.TrimPrefix(tt.path, "/"), "/")
				if !slices.Contains(opts.Ecosystems, folder) {
					opts.Ecosystems = append(opts.Ecosystems, folder)
				}
			}
			rep, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]bool{}
			for k, c := range rep.Ecosystems {
				if c.Failed > 0 {
					failed[k] = true
				}
			}
			for k, c := range rep.Sources {
				if c.Failed > 0 && k != vulndb.SourceOSV {
					failed[k] = true
				}
			}
			want := map[string]bool{}
			if tt.wantFail != "" {
				want[tt.wantFail] = true
			}
			if d := cmp.Diff(want, failed); d != "" {
				t.Errorf("failed sources (-want +got):\n%s\n%v", d, rep.Failures())
			}
			if tt.wantInMsg != "" && !strings.Contains(strings.Join(rep.Failures(), "\n"), tt.wantInMsg) {
				t.Errorf("failures %v do not mention %q", rep.Failures(), tt.wantInMsg)
			}
			if tt.wantFail == "" && rep.Retries == 0 {
				t.Error("no retry counted")
			}
			// Everything else arrived.
			db := openDB(t, cache)
			for _, folder := range opts.Ecosystems {
				n := perFolder[folder]
				if folder == tt.wantFail {
					continue
				}
				if got := db.Meta().Feeds["osv/"+folder].Docs; got != n {
					t.Errorf("%s: %d documents, want %d", folder, got, n)
				}
			}
		})
	}
}

func TestRunEverythingFails(t *testing.T) {
	ex := newExport(t, fixtureRecords(t))
	cache := t.TempDir()
	opts := ex.options(cache)
	opts.Ecosystems, opts.Feeds = []string{"npm", "Go"}, []string{vulndb.SourceKEV}
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	path := vulndb.DefaultPath(cache)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex.srv.Close() // every request now fails
	opts.Retries = 1
	rep, err := Run(context.Background(), opts)
	if !errors.Is(err, ErrNothingUpdated) {
		t.Fatalf("err = %v, want ErrNothingUpdated", err)
	}
	if rep.Total().Failed == 0 || rep.Written {
		t.Errorf("report: %+v", rep.Total())
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a failed update changed the database")
	}
	leftovers, _ := filepath.Glob(filepath.Join(cache, "db", "vigil.db.*-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestRunBadArchives: a corrupt all.zip fails its folder; a member that
// inflates past the record limit is one malformed record; an archive that
// inflates past the total limit fails its folder.
func TestRunBadArchives(t *testing.T) {
	recs := fixtureRecords(t)
	ex := newExport(t, recs)
	good := ex.files["/Go/all.zip"]
	ex.files["/Go/all.zip"] = good[:len(good)-300] // central directory cut off, length consistent
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, r := range ex.recs["npm"] {
		w, _ := zw.Create(r.ID + ".json")
		w.Write(r.Data)
	}
	w, _ := zw.Create("BOMB-1.json")
	w.Write(bytes.Repeat([]byte(" "), 17<<20)) // deflates to a few KiB
	zw.Close()
	ex.files["/npm/all.zip"] = zbuf.Bytes()
	cache := t.TempDir()
	opts := ex.options(cache)
	opts.Ecosystems, opts.Feeds = []string{"npm", "Go"}, []string{}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Ecosystems["Go"]; c.Failed != 1 || !strings.Contains(c.Messages[0], "zip") {
		t.Errorf("Go: %+v", c)
	}
	if c := rep.Ecosystems["npm"]; c.Added != perFolder["npm"] || c.Malformed != 1 || !strings.Contains(c.Messages[0], "limit") {
		t.Errorf("npm: %+v", c)
	}
	opts = ex.options(t.TempDir())
	opts.Ecosystems, opts.Feeds = []string{"npm", "PyPI"}, []string{}
	opts.MaxUncompressed = 16 << 10 // either folder's records inflate to more
	rep, err = Run(context.Background(), opts)
	if !errors.Is(err, ErrNothingUpdated) {
		t.Fatalf("err = %v, want ErrNothingUpdated", err)
	}
	if c := rep.Ecosystems["npm"]; c.Failed != 1 || !strings.Contains(strings.Join(c.Messages, " "), "zip bomb") {
		t.Errorf("npm with a 16 KiB inflate limit: %+v", c)
	}
}

// TestDeltaRecordMissing: a changed record that cannot be fetched is
// retried on the next update: the watermark stays before it.
func TestDeltaRecordMissing(t *testing.T) {
	recs := fixtureRecords(t)
	ex := newExport(t, recs)
	cache := t.TempDir()
	opts := ex.options(cache)
	opts.Ecosystems = []string{"npm", "crates.io"}
	opts.Feeds = []string{}
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	later := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var changed []fixtureRecord
	for _, r := range ex.recs["npm"][:3] {
		r.Data = bytes.Replace(r.Data, []byte(`"modified": "`), []byte(`"modified": "2026-06-0`+string(rune('1'+len(changed)))+`T00:00:00Z", "old_modified": "`), 1)
		r.Modified = later.Add(time.Duration(len(changed)) * 24 * time.Hour)
		changed = append(changed, r)
		ex.update("npm", r)
	}
	ex.fault("/npm/"+changed[1].ID+".json", &fault{gone: true})
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Ecosystems["npm"]; c.Failed != 1 || c.Updated != 2 {
		t.Errorf("npm: %+v", c)
	}
	wm := openDB(t, cache).Meta().Feeds["osv/npm"].Watermark
	if !wm.Equal(changed[1].Modified) {
		t.Errorf("watermark %v, want %v (the missing record's)", wm, changed[1].Modified)
	}
	ex.fault("/npm/"+changed[1].ID+".json", nil)
	ex.requests()
	rep, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Ecosystems["npm"]; c.Failed != 0 || c.Updated != 1 {
		t.Errorf("npm, second try: %+v", c)
	}
	det, err := openDB(t, cache).Details(context.Background(), changed[1].ID)
	if err != nil || !det.Modified.Equal(changed[1].Modified) {
		t.Errorf("%s: %+v, %v", changed[1].ID, det, err)
	}
}

// TestReaderDuringUpdates: a scan holding the database keeps getting
// answers while updates replace the file under it.
func TestReaderDuringUpdates(t *testing.T) {
	recs := fixtureRecords(t)
	ex := newExport(t, recs)
	cache := t.TempDir()
	opts := ex.options(cache)
	opts.Ecosystems, opts.Feeds = []string{"npm", "Go"}, []string{}
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, cache)
	stop := make(chan struct{})
	var lookups atomic.Int64
	var readErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := ids(t, db, "npm", "lodash")
			if len(got) != 2 {
				readErr.Store(errors.New("lodash: " + strings.Join(got, ",")))
				return
			}
			if _, err := db.Details(context.Background(), "GHSA-p6mc-m468-83gw"); err != nil {
				readErr.Store(err)
				return
			}
			lookups.Add(1)
		}
	}()
	for i := range 3 {
		r := ex.recs["npm"][0]
		r.Data = bytes.Replace(r.Data, []byte(`"modified": "`), []byte(`"modified": "2026-07-0`+string(rune('1'+i))+`T00:00:00Z", "old_modified": "`), 1)
		r.Modified = time.Date(2026, 7, 1+i, 0, 0, 0, 0, time.UTC)
		ex.update("npm", r)
		if _, err := Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := readErr.Load(); err != nil {
		t.Fatalf("reader failed during updates: %v", err)
	}
	if lookups.Load() == 0 {
		t.Fatal("the reader made no lookups")
	}
}

// TestConcurrentUpdates: two updates at once both finish (one waits for
// the other) and leave a valid database; with no time to wait, the second
// fails cleanly.
func TestConcurrentUpdates(t *testing.T) {
	ex := newExport(t, fixtureRecords(t))
	cache := t.TempDir()
	opts := ex.options(cache)
	opts.Ecosystems, opts.Feeds = []string{"Debian", "npm"}, []string{vulndb.SourceKEV}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Run(context.Background(), opts)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	db := openDB(t, cache)
	if n := db.Meta().Feeds["osv/Debian"].Docs; n != perFolder["Debian"] {
		t.Errorf("Debian documents: %d", n)
	}
	unlock, err := lock(context.Background(), vulndb.DefaultPath(cache)+".lock", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	opts.LockTimeout = 200 * time.Millisecond
	if _, err := Run(context.Background(), opts); !errors.Is(err, ErrLocked) {
		t.Errorf("update while locked: %v, want ErrLocked", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	opts.LockTimeout = time.Minute
	if _, err := Run(ctx, opts); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("update while locked, context deadline: %v", err)
	}
}

func TestImport(t *testing.T) {
	recs := fixtureRecords(t)
	ex := newExport(t, recs)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goZip := write("go-all.zip", ex.files["/Go/all.zip"])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ex.files["/kev.json"])
	zw.Close()
	kevGz := write("kev.json.gz", gz.Bytes())
	broken := write("broken.zip", ex.files["/npm/all.zip"][:100])
	unknown := write("nvd.json", []byte(`{"resultsPerPage": 1, "vulnerabilities": []}`))
	path := filepath.Join(dir, "db", "vigil.db")
	rep, err := Import(context.Background(), path,
		goZip,
		testutil.Fixtures(t, "vulndata", "PyPI"),
		testutil.Fixtures(t, "vulndata", "Ubuntu", "USN-5570-1.json"),
		testutil.Fixtures(t, "vulndata", "Debian", "security-tracker", "tracker-json-sample.json"),
		testutil.Fixtures(t, "vulndata", "Alpine", "alpine-secdb", "v3.11"),
		testutil.Fixtures(t, "peer-suites", "vunnel", "epss", "example-1.csv"),
		kevGz, broken, unknown,
		filepath.Join(dir, "does-not-exist"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"Go": 240, "PyPI": 36, "Ubuntu": 1}
	for folder, n := range want {
		if c := rep.Ecosystems[folder]; c == nil || c.Added != n {
			t.Errorf("%s: %+v, want %d added", folder, c, n)
		}
	}
	if c := rep.Sources[vulndb.SourceOSV]; c.Failed != 1 || !strings.Contains(c.Messages[0], "broken.zip") {
		t.Errorf("osv: %+v", c)
	}
	if c := rep.Sources["import"]; c.Skipped != 1 || c.Failed != 1 {
		t.Errorf("import: %+v", c)
	}
	db, err := vulndb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := db.Meta()
	if m.KEV != 1404 || m.EPSS != 5 || m.Ecosystems["Alpine:v3.11"] == 0 || m.Ecosystems["Debian:12"] == 0 {
		t.Errorf("meta: KEV %d EPSS %d ecosystems %v", m.KEV, m.EPSS, m.Ecosystems)
	}
	if got := fixedIn(t, db, "Ubuntu:18.04:LTS", "zlib", "USN-5570-1"); got != "1:1.2.11.dfsg-0ubuntu2.2" {
		t.Errorf("USN-5570-1: %q", got)
	}
	// Importing the same files again changes nothing.
	rep, err = Import(context.Background(), path, goZip, testutil.Fixtures(t, "vulndata", "PyPI"))
	if err != nil {
		t.Fatal(err)
	}
	if tot := rep.Total(); tot.Added != 0 || tot.Updated != 0 || tot.Unchanged != 276 {
		t.Errorf("re-import: %+v", tot)
	}
	// Nothing importable: the database stays as it is.
	if _, err := Import(context.Background(), path, broken); err == nil {
		t.Error("import of nothing usable succeeded")
	}
}

func TestInstall(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "vigil.db")
	if _, err := Import(context.Background(), src, testutil.Fixtures(t, "vulndata", "npm")); err != nil {
		t.Fatal(err)
	}
	dst := vulndb.DefaultPath(filepath.Join(dir, "cache"))
	if err := Install(context.Background(), dst, src); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, db, "npm", "lodash"); len(got) != 2 {
		t.Errorf("installed database: lodash %v", got)
	}
	db.Close()
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, []byte("not a database"), 0o644)
	if err := Install(context.Background(), dst, bad); err == nil {
		t.Error("installed a file that is not a database")
	}
	if db, err := vulndb.Open(dst); err != nil {
		t.Errorf("database after a refused install: %v", err)
	} else {
		db.Close()
	}
}

func TestParseModifiedIndex(t *testing.T) {
	in := "2024-05-01T10:00:00Z,GHSA-new\n\n2024-04-01T00:00:00.123Z,PYSEC-1\nnot a line\n2024-13-01T00:00:00Z,X-1\n2024-01-01T00:00:00Z,../etc\n2023-01-01T00:00:00Z,GO-2023-1\n"
	got, bad := parseModifiedIndex([]byte(in), time.Time{})
	want := []modEntry{
		{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "GHSA-new"},
		{time.Date(2024, 4, 1, 0, 0, 0, 123e6, time.UTC), "PYSEC-1"},
		{time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), "GO-2023-1"},
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(modEntry{})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(bad) != 3 {
		t.Errorf("bad lines: %v", bad)
	}
	// Reading stops at the first line older than the cut-off.
	got, _ = parseModifiedIndex([]byte(in), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 2 {
		t.Errorf("with a cut-off: %v", got)
	}
}

// TestImportOverDamagedDatabase: an import over a database cut short does
// not crash; it rebuilds the file from what it reads, and says so.
func TestImportOverDamagedDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "db", "vigil.db")
	adv := filepath.Join(testutil.RepoRoot(t), "examples", "sample", "advisories")
	if _, err := Import(context.Background(), dbPath, adv); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(dbPath, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(context.Background(), dbPath, adv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Problems(), "\n"), "rebuilt") {
		t.Errorf("the rebuild is not reported: %q", rep.Problems())
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatalf("the rebuilt database does not open: %v", err)
	}
	defer db.Close()
	if db.Meta().Docs == 0 {
		t.Error("the rebuilt database is empty")
	}
}
