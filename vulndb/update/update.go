// Package update downloads advisory data and builds vigil's database file.
// Run fetches the OSV export per ecosystem (all.zip the first time, then
// only the records modified_id.csv lists as changed), the Debian Security
// Tracker JSON, Alpine secdb, CISA KEV and EPSS, and swaps a new database in
// with a rename; Import does the same from local files. A lock file keeps
// two updates from running at once; a scan reading the old file is never
// disturbed. Every bad input is counted in the Report; a failing source
// does not stop the others, and an update in which everything failed
// leaves the previous database untouched.
package update

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/feeds"
)

// DefaultBaseURL is the public OSV export bucket.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// Feed names for Options.Feeds.
const (
	FeedDebianTracker = vulndb.SourceDebianTracker
	FeedAlpineSecdb   = vulndb.SourceAlpineSecdb
	FeedKEV           = vulndb.SourceKEV
	FeedEPSS          = vulndb.SourceEPSS
)

// Progress receives download progress; like image.Progress. It must be
// safe for concurrent use.
type Progress interface {
	Start(id, label string, total int64)
	Advance(id string, n int64)
	Done(id string, err error)
}

// Options configure Run.
type Options struct {
	// CacheDir is vigil's cache directory; the database is
	// vulndb.DefaultPath(CacheDir).
	CacheDir string
	// BaseURL is the OSV export (DefaultBaseURL); any plain HTTP mirror
	// with the same layout works.
	BaseURL          string
	DebianTrackerURL string // feeds.DefaultDebianTrackerURL
	AlpineSecdbURL   string // feeds.DefaultAlpineSecdbURL
	KEVURL           string // feeds.DefaultKEVURL
	EPSSURL          string // feeds.DefaultEPSSURL
	// Ecosystems are the OSV export folders to fetch (default
	// vulndb.DefaultEcosystems()). The Debian tracker is read only when
	// "Debian" is selected, Alpine secdb only with "Alpine". Documents of
	// folders no longer selected are removed.
	Ecosystems []string
	// Feeds selects the non-OSV feeds: FeedDebianTracker, FeedAlpineSecdb,
	// FeedKEV, FeedEPSS (default all). An empty non-nil slice selects none.
	Feeds []string
	// AlpineReleases are the secdb releases to read ("v3.20", "edge");
	// default: every release the secdb index lists.
	AlpineReleases []string
	// HTTP is the client to use (default: connection timeouts, no overall
	// timeout; a download that stalls for StallTimeout is retried).
	HTTP     *http.Client
	Progress Progress
	// Now is the clock (default time.Now).
	Now func() time.Time

	// Retries after a failed attempt (default 3); Backoff is the first
	// wait, doubled each time (default 1s).
	Retries int
	Backoff time.Duration
	// StallTimeout aborts a download that receives nothing for that long
	// (default 60s).
	StallTimeout time.Duration
	// MaxDownload caps one download (default 4 GiB); MaxUncompressed caps
	// what one all.zip may inflate to (default 32 GiB).
	MaxDownload     int64
	MaxUncompressed int64
	// DeltaLimit: when more records than this changed in an ecosystem, the
	// update fetches all.zip instead of each record (default 20000).
	DeltaLimit int
	// Parallel is how many ecosystems and feeds are fetched at once
	// (default 4); FetchParallel how many records at once in a delta
	// (default 16).
	Parallel      int
	FetchParallel int
	// LockTimeout is how long to wait for another update to finish
	// (default 10 minutes).
	LockTimeout time.Duration
	// FullRebuild ignores the existing database and fetches everything.
	FullRebuild bool
}

func (o *Options) defaults() {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.DebianTrackerURL == "" {
		o.DebianTrackerURL = feeds.DefaultDebianTrackerURL
	}
	if o.AlpineSecdbURL == "" {
		o.AlpineSecdbURL = feeds.DefaultAlpineSecdbURL
	}
	o.AlpineSecdbURL = strings.TrimRight(o.AlpineSecdbURL, "/")
	if o.KEVURL == "" {
		o.KEVURL = feeds.DefaultKEVURL
	}
	if o.EPSSURL == "" {
		o.EPSSURL = feeds.DefaultEPSSURL
	}
	if o.Ecosystems == nil {
		o.Ecosystems = vulndb.DefaultEcosystems()
	}
	if o.Feeds == nil {
		o.Feeds = []string{FeedDebianTracker, FeedAlpineSecdb, FeedKEV, FeedEPSS}
	}
	if o.HTTP == nil {
		o.HTTP = defaultClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 60 * time.Second
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = 4 << 30
	}
	if o.MaxUncompressed <= 0 {
		o.MaxUncompressed = 32 << 30
	}
	if o.DeltaLimit <= 0 {
		o.DeltaLimit = 20000
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.FetchParallel <= 0 {
		o.FetchParallel = 16
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 10 * time.Minute
	}
}

// Counts tallies what happened to one source or ecosystem.
type Counts struct {
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Removed   int `json:"removed"`
	Unchanged int `json:"unchanged"`
	// Malformed items could not be parsed; UnknownEcosystem items named an
	// ecosystem or release the database does not store; Skipped items had
	// nothing to match (GIT-only ranges) or an unreadable CVSS vector.
	Malformed        int `json:"malformed"`
	UnknownEcosystem int `json:"unknownEcosystem"`
	Skipped          int `json:"skipped"`
	// Failed counts downloads or files that failed as a whole.
	Failed int `json:"failed"`
	// Messages say what was bad, first maxMessages of them.
	Messages     []string `json:"messages,omitempty"`
	MoreMessages int      `json:"moreMessages,omitempty"`
}

const maxMessages = 25

func (c *Counts) note(msg string) {
	if len(c.Messages) < maxMessages {
		c.Messages = append(c.Messages, msg)
	} else {
		c.MoreMessages++
	}
}

// Report says what an update or import did.
type Report struct {
	// Path is the database file.
	Path string `json:"path"`
	// Sources is keyed by source: "osv", "debian-tracker", "alpine-secdb",
	// "kev", "epss".
	Sources map[string]*Counts `json:"sources"`
	// Ecosystems is keyed by OSV export folder ("PyPI", "Debian") for OSV
	// and by ecosystem key ("Debian:12", "Alpine:v3.20") for the distro
	// feeds.
	Ecosystems map[string]*Counts `json:"ecosystems"`
	// Written is true when a new database file replaced the old one.
	Written bool `json:"written"`
	// Retries counts download attempts that were repeated.
	Retries  int           `json:"retries"`
	Meta     vulndb.Meta   `json:"meta"`
	Duration time.Duration `json:"duration"`

	mu sync.Mutex
}

func newReport(path string) *Report {
	return &Report{Path: path, Sources: map[string]*Counts{}, Ecosystems: map[string]*Counts{}}
}

// update applies fn to the counts of a source and of the given ecosystems
// under the report's lock.
func (r *Report) update(source string, ecos []string, fn func(c *Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.Sources[source]
	if c == nil {
		c = &Counts{}
		r.Sources[source] = c
	}
	fn(c)
	for _, e := range ecos {
		if e == "" {
			continue
		}
		c := r.Ecosystems[e]
		if c == nil {
			c = &Counts{}
			r.Ecosystems[e] = c
		}
		fn(c)
	}
}

func (r *Report) outcome(source string, ecos []string, o vulndb.Outcome) {
	r.update(source, ecos, func(c *Counts) {
		switch o {
		case vulndb.Added:
			c.Added++
		case vulndb.Updated:
			c.Updated++
		case vulndb.Removed:
			c.Removed++
		default:
			c.Unchanged++
		}
	})
}

func (r *Report) fail(source string, ecos []string, err error) {
	r.update(source, ecos, func(c *Counts) { c.Failed++; c.note(err.Error()) })
}

func (r *Report) malformed(source string, ecos []string, msg string) {
	r.update(source, ecos, func(c *Counts) { c.Malformed++; c.note(msg) })
}

// Total sums the counts of every source.
func (r *Report) Total() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t Counts
	for _, c := range r.Sources {
		t.Added += c.Added
		t.Updated += c.Updated
		t.Removed += c.Removed
		t.Unchanged += c.Unchanged
		t.Malformed += c.Malformed
		t.UnknownEcosystem += c.UnknownEcosystem
		t.Skipped += c.Skipped
		t.Failed += c.Failed
	}
	return t
}

// Failures lists every failure message, sorted.
func (r *Report) Failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for src, c := range r.Sources {
		if c.Failed == 0 {
			continue
		}
		for _, m := range c.Messages {
			out = append(out, src+": "+m)
		}
	}
	sort.Strings(out)
	return out
}

// Problems lists every message of every source, sorted: failures,
// malformed items, unknown ecosystems and skipped items alike, with a line
// for the messages each source left out past its first few.
func (r *Report) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for src, c := range r.Sources {
		for _, m := range c.Messages {
			out = append(out, src+": "+m)
		}
		if c.MoreMessages > 0 {
			out = append(out, fmt.Sprintf("%s: ... and %d more", src, c.MoreMessages))
		}
	}
	sort.Strings(out)
	return out
}

// ErrLocked is returned when another update holds the lock for longer than
// Options.LockTimeout.
var ErrLocked = errors.New("update: another update is running")

// ErrNothingUpdated is returned when every source failed; the previous
// database is untouched.
var ErrNothingUpdated = errors.New("update: every source failed; the previous database is unchanged")

// Run updates the database in opts.CacheDir. The returned error is nil when
// at least one source was read, even if others failed: the Report counts
// the failures (Report.Total().Failed) and says why.
func Run(ctx context.Context, opts Options) (*Report, error) {
	start := time.Now()
	if opts.CacheDir == "" {
		return nil, errors.New("update: no cache directory given")
	}
	opts.defaults()
	dbPath := vulndb.DefaultPath(opts.CacheDir)
	rep := newReport(dbPath)
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("update: create %s: %w", filepath.Dir(dbPath), err)
	}
	unlock, err := lock(ctx, dbPath+".lock", opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cleanStale(dbPath)
	b, err := newBuilder(dbPath, opts.FullRebuild, opts.Now, rep)
	if err != nil {
		return nil, err
	}
	f := &fetcher{client: opts.HTTP, retries: opts.Retries, backoff: opts.Backoff, stall: opts.StallTimeout, progress: opts.Progress}
	u := &updater{opts: &opts, b: b, f: f, rep: rep, dir: filepath.Dir(dbPath), meta: b.Meta(), zips: make(chan struct{}, 1)}
	ok := u.run(ctx)
	rep.Retries = int(f.retried.Load())
	if err := ctx.Err(); err != nil {
		b.Abort()
		return rep, fmt.Errorf("update: %w (the previous database is unchanged)", err)
	}
	if !ok {
		b.Abort()
		rep.Duration = time.Since(start)
		return rep, fmt.Errorf("%w: %s", ErrNothingUpdated, strings.Join(rep.Failures(), "; "))
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		return rep, fmt.Errorf("update: %w (the previous database is unchanged%s)", err, damagedHint(err))
	}
	rep.Meta, rep.Written = meta, true
	rep.Duration = time.Since(start)
	return rep, nil
}

// newBuilder starts from the existing database unless asked not to or it
// cannot be used (another schema, corrupt): then from nothing.
func newBuilder(dbPath string, fresh bool, now func() time.Time, rep *Report) (*vulndb.Builder, error) {
	if !fresh {
		b, err := vulndb.NewBuilder(dbPath, vulndb.BuildOptions{Base: dbPath, Now: now})
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, vulndb.ErrSchema) && !errors.Is(err, vulndb.ErrCorrupt) {
			return nil, fmt.Errorf("update: %w", err)
		}
		// Said, not only done: an import of a few files over a damaged
		// database leaves a database of just those files.
		rep.update("database", nil, func(c *Counts) {
			c.note(fmt.Sprintf("the existing database could not be used and is rebuilt from what this run reads: %v", err))
		})
	}
	b, err := vulndb.NewBuilder(dbPath, vulndb.BuildOptions{Now: now})
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	return b, nil
}

// damagedHint says what to do when the database an update started from
// turns out damaged while it is rewritten: the damage would be copied
// again, so the way out is a new file.
func damagedHint(err error) string {
	if errors.Is(err, vulndb.ErrCorrupt) {
		return "; it is damaged: delete it and run again for a new one"
	}
	return ""
}

// cleanStale removes temporary files a crashed update left behind. Called
// with the lock held, so no live update owns them.
func cleanStale(dbPath string) {
	dir, base := filepath.Dir(dbPath), filepath.Base(dbPath)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, base+".tmp-") || strings.HasPrefix(n, base+".run-") || strings.HasPrefix(n, "vigil.db.dl-") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// updater runs one update.
type updater struct {
	opts *Options
	b    *vulndb.Builder
	f    *fetcher
	rep  *Report
	dir  string
	meta vulndb.Meta // of the base

	mu        sync.Mutex
	succeeded int
	// zips admits one all.zip import at a time: each already uses every
	// core, and each holds its archive's directory in memory.
	zips chan struct{}
}

func (u *updater) ok() {
	u.mu.Lock()
	u.succeeded++
	u.mu.Unlock()
}

func (u *updater) selected(feed string) bool { return slices.Contains(u.opts.Feeds, feed) }

func (u *updater) run(ctx context.Context) bool {
	var jobs []func(context.Context)
	ecos := slices.Clone(u.opts.Ecosystems)
	slices.Sort(ecos)
	ecos = slices.Compact(ecos)
	for _, eco := range ecos {
		jobs = append(jobs, func(ctx context.Context) { u.osvEcosystem(ctx, eco) })
	}
	if slices.Contains(ecos, "Debian") && u.selected(FeedDebianTracker) {
		jobs = append(jobs, u.debianTracker)
	}
	if slices.Contains(ecos, "Alpine") && u.selected(FeedAlpineSecdb) {
		jobs = append(jobs, u.alpineSecdb)
	}
	if u.selected(FeedKEV) {
		jobs = append(jobs, u.kev)
	}
	if u.selected(FeedEPSS) {
		jobs = append(jobs, u.epss)
	}
	sem := make(chan struct{}, u.opts.Parallel)
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			job(ctx)
		}()
	}
	wg.Wait()
	u.pruneDeselected(ecos)
	return u.succeeded > 0 || len(jobs) == 0
}

// pruneDeselected removes the documents of OSV folders that were fetched
// before but are no longer selected.
func (u *updater) pruneDeselected(selected []string) {
	for name := range u.meta.Feeds {
		folder, ok := strings.CutPrefix(name, "osv/")
		if !ok || slices.Contains(selected, folder) {
			continue
		}
		n, err := u.b.DeleteFeed(name)
		if err != nil {
			u.rep.fail(vulndb.SourceOSV, []string{folder}, err)
			continue
		}
		u.rep.update(vulndb.SourceOSV, []string{folder}, func(c *Counts) {
			c.Removed += n
			c.note(fmt.Sprintf("%s: no longer selected, %d documents removed", folder, n))
		})
		u.b.SetFeed(name, vulndb.FeedState{})
	}
}

// Garbage collector settings for a database build: it allocates gigabytes
// over its run (record JSON, decoded documents, values) while its live heap
// stays near 100 MB, so collecting at twice the default growth saves about
// a tenth of the build's CPU (bench/vulndb: 500,000 records, 33.6 -> 31.8
// CPU-s, 20.3 -> 19.4 s); the soft memory limit keeps the peak within the
// build's 300 MB budget.
const (
	buildGCPercent   = 200
	buildMemoryLimit = 256 << 20
)

// TuneGC sets the garbage collector for a database build and returns the
// function that restores the previous settings. Commands that run an
// update or import call it; a long-running server that builds while it
// scans may prefer its own settings.
func TuneGC() (restore func()) {
	gc := debug.SetGCPercent(buildGCPercent)
	prev := debug.SetMemoryLimit(-1)
	if prev > buildMemoryLimit {
		debug.SetMemoryLimit(buildMemoryLimit)
	}
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(prev)
	}
}
