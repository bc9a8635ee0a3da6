package update

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
	"github.com/vigilsec/vigil/vulndb/osv"
)

// fixtureRecord is one OSV record of the shared fixtures as the export
// would serve it.
type fixtureRecord struct {
	ID       string
	Folder   string
	Modified time.Time
	Data     []byte
}

// fixtureRecords reads every OSV record of vulndata and the derived
// Debian records, and files each under the export folder of its first
// ecosystem.
func fixtureRecords(t testing.TB) []fixtureRecord {
	t.Helper()
	var out []fixtureRecord
	for _, root := range []string{testutil.Fixtures(t, "vulndata"), testutil.Fixtures(t, "derived-debian", "Debian")} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "feeds", "security-tracker", "Alpine", "bookworm-installed":
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(p); ext != ".json" && ext != ".yaml" {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			r, err := osv.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			m, _ := osv.ParseTime(r.Modified)
			folder, _, _ := strings.Cut(r.Affected[0].Package.Ecosystem, ":")
			out = append(out, fixtureRecord{ID: r.ID, Folder: folder, Modified: m, Data: data})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fault makes the server misbehave on one path.
type fault struct {
	statuses []int         // returned (and consumed) before serving normally
	truncate int           // this many responses stop half way
	delay    time.Duration // every response waits this long first
	badHash  bool          // every response carries a wrong X-Goog-Hash
	gone     bool          // 404
}

// export is an httptest server with the upstream layouts of the OSV export
// (<folder>/all.zip, <folder>/modified_id.csv, <folder>/<ID>.json) and of
// the feeds.
type export struct {
	t      testing.TB
	mu     sync.Mutex
	files  map[string][]byte
	recs   map[string][]fixtureRecord // folder -> records
	faults map[string]*fault
	log    []string
	srv    *httptest.Server
}

func newExport(t testing.TB, recs []fixtureRecord) *export {
	e := &export{t: t, files: map[string][]byte{}, recs: map[string][]fixtureRecord{}, faults: map[string]*fault{}}
	for _, r := range recs {
		e.recs[r.Folder] = append(e.recs[r.Folder], r)
	}
	// The fixtures have no ALPINE-CVE records: an empty folder, as a
	// mirror may well have.
	if _, ok := e.recs["Alpine"]; !ok {
		e.recs["Alpine"] = nil
	}
	for folder := range e.recs {
		e.rebuild(folder)
	}
	read := func(elem ...string) []byte {
		b, err := os.ReadFile(testutil.Fixtures(t, elem...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	e.files["/debian/json"] = read("vulndata", "Debian", "security-tracker", "tracker-json-sample.json")
	e.files["/alpine/"] = []byte(`<html><body><a href="../">../</a> <a href="v3.10/">v3.10/</a> <a href="v3.11/">v3.11/</a> <a href="last-update">last-update</a></body></html>`)
	for _, rel := range []string{"v3.10", "v3.11"} {
		for _, repo := range []string{"main", "community"} {
			// The secdb serves JSON; these fixtures are the YAML edition,
			// which the parser reads as well.
			e.files["/alpine/"+rel+"/"+repo+".json"] = read("vulndata", "Alpine", "alpine-secdb", rel, repo+".yaml")
		}
	}
	e.files["/kev.json"] = read("vulndata", "feeds", "CISA-KEV", "known_exploited_vulnerabilities.json")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(read("vulndata", "feeds", "EPSS", "epss_scores-current.head.csv"))
	zw.Close()
	e.files["/epss.csv.gz"] = gz.Bytes()
	e.srv = httptest.NewServer(e)
	t.Cleanup(e.srv.Close)
	return e
}

// rebuild writes a folder's all.zip and modified_id.csv from its records.
func (e *export) rebuild(folder string) {
	recs := e.recs[folder]
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Modified.After(recs[j].Modified) })
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	var csv strings.Builder
	for _, r := range recs {
		w, err := zw.Create(r.ID + ".json")
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(r.Data)
		fmt.Fprintf(&csv, "%s,%s\n", r.Modified.Format(time.RFC3339Nano), r.ID)
		e.files["/"+folder+"/"+r.ID+".json"] = r.Data
	}
	if err := zw.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.files["/"+folder+"/all.zip"] = zbuf.Bytes()
	e.files["/"+folder+"/modified_id.csv"] = []byte(csv.String())
}

// update replaces (or adds) a record and rewrites its folder's index.
func (e *export) update(folder string, r fixtureRecord) {
	e.mu.Lock()
	defer e.mu.Unlock()
	recs := e.recs[folder]
	for i := range recs {
		if recs[i].ID == r.ID {
			recs[i] = r
			e.rebuild(folder)
			return
		}
	}
	e.recs[folder] = append(recs, r)
	e.rebuild(folder)
}

func (e *export) fault(path string, f *fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[path] = f
}

func (e *export) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.log
	e.log = nil
	return out
}

func (e *export) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.log = append(e.log, r.URL.Path)
	body, ok := e.files[r.URL.Path]
	f := e.faults[r.URL.Path]
	status := 0
	truncate := false
	var delay time.Duration
	badHash, gone := false, false
	if f != nil {
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		if f.truncate > 0 {
			f.truncate--
			truncate = true
		}
		delay, badHash, gone = f.delay, f.badHash, f.gone
	}
	e.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !ok || gone {
		http.NotFound(w, r)
		return
	}
	if status != 0 {
		http.Error(w, "injected failure", status)
		return
	}
	sum := md5.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hash := base64.StdEncoding.EncodeToString(sum[:])
	crc := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	crcHash := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc))
	if badHash {
		hash = base64.StdEncoding.EncodeToString(make([]byte, 16))
		crcHash = base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc+1))
	}
	// Like Google Cloud Storage: both digests for archives; MD5 alone for
	// the rest, so that both checks are exercised.
	if strings.HasSuffix(r.URL.Path, ".zip") {
		w.Header().Set("X-Goog-Hash", "crc32c="+crcHash+",md5="+hash)
	} else {
		w.Header().Set("X-Goog-Hash", "md5="+hash)
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	if truncate {
		w.Write(body[:len(body)/2])
		return // the server closes the connection: the client sees a short body
	}
	w.Write(body)
}

// options returns update options pointing at the server, with fast
// retries.
func (e *export) options(cacheDir string) Options {
	return Options{
		CacheDir:         cacheDir,
		BaseURL:          e.srv.URL,
		DebianTrackerURL: e.srv.URL + "/debian/json",
		AlpineSecdbURL:   e.srv.URL + "/alpine",
		KEVURL:           e.srv.URL + "/kev.json",
		EPSSURL:          e.srv.URL + "/epss.csv.gz",
		Ecosystems:       e.folders(),
		HTTP:             &http.Client{Timeout: 5 * time.Second},
		Retries:          2,
		Backoff:          time.Millisecond,
		StallTimeout:     2 * time.Second,
		Now:              func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}

func (e *export) folders() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for f := range e.recs {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
