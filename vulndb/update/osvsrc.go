package update

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/osv"
)

// maxZipEntries caps the records of one all.zip (npm, the largest, has
// about 200,000).
const maxZipEntries = 5_000_000

// maxIndexSize caps modified_id.csv.
const maxIndexSize = 512 << 20

// importer puts parsed documents into a Builder and counts what happened.
type importer struct {
	b   *vulndb.Builder
	rep *Report
}

// putOSV parses one OSV record and stores it. folder is the OSV export
// folder it came from; empty derives it from the record's first ecosystem.
// It returns the record's modified time (zero when malformed).
func (im *importer) putOSV(data []byte, origin, folder string) time.Time {
	rec, err := osv.Parse(data)
	if err != nil {
		im.rep.malformed(vulndb.SourceOSV, []string{folderOr(folder)}, fmt.Sprintf("%s: %v", origin, err))
		return time.Time{}
	}
	if folder == "" {
		folder = recordFolder(rec)
	}
	doc, warns := osv.Convert(rec, "osv/"+folder)
	ecos := []string{folder}
	for _, w := range warns {
		im.rep.update(vulndb.SourceOSV, ecos, func(c *Counts) {
			switch w.Kind {
			case osv.UnknownEcosystem:
				c.UnknownEcosystem++
			default:
				c.Skipped++
			}
			c.note(w.Message)
		})
	}
	o, err := im.b.Put(doc)
	if err != nil {
		im.rep.malformed(vulndb.SourceOSV, ecos, fmt.Sprintf("%s: %v", origin, err))
		return time.Time{}
	}
	im.rep.outcome(vulndb.SourceOSV, ecos, o)
	return doc.Modified
}

func folderOr(f string) string {
	if f == "" {
		return "unknown"
	}
	return f
}

// recordFolder is the OSV export folder a record belongs in: the name part
// of its first known ecosystem.
func recordFolder(r *osv.Record) string {
	for _, a := range r.Affected {
		if vulndb.KnownEcosystem(a.Package.Ecosystem) {
			return vulndb.ParseEcosystem(a.Package.Ecosystem).Name
		}
	}
	return "unknown"
}

// importZip imports every record of an OSV all.zip. It returns the newest
// modified time seen. A zip that cannot be opened, or that inflates beyond
// maxUncompressed, is an error; a bad member is a malformed record.
func (im *importer) importZip(ctx context.Context, file, folder string, maxUncompressed int64) (time.Time, error) {
	zr, err := openZip(file)
	if err != nil {
		return time.Time{}, fmt.Errorf("open zip: %w (truncated or not a zip archive)", err)
	}
	defer zr.Close()
	if len(zr.File) > maxZipEntries {
		return time.Time{}, fmt.Errorf("zip has %d entries, limit %d", len(zr.File), maxZipEntries)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		total  atomic.Int64
		newest atomic.Int64
		wg     sync.WaitGroup
	)
	work := make(chan *zip.File, 64)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One buffer per worker: nothing keeps a reference to the
			// record's bytes after putOSV returns.
			zrd := &zipReader{z: zr}
			for zf := range work {
				if ctx.Err() != nil {
					continue
				}
				origin := path.Base(file) + ":" + zf.Name
				data, err := zrd.read(zf)
				total.Add(int64(len(data)))
				if total.Load() > maxUncompressed {
					cancel(fmt.Errorf("zip inflates to more than %d bytes (zip bomb?)", maxUncompressed))
					continue
				}
				if err != nil {
					im.rep.malformed(vulndb.SourceOSV, []string{folderOr(folder)}, fmt.Sprintf("%s: %v", origin, err))
					continue
				}
				if m := im.putOSV(data, origin, folder); !m.IsZero() {
					for {
						cur := newest.Load()
						if m.UnixNano() <= cur || newest.CompareAndSwap(cur, m.UnixNano()) {
							break
						}
					}
				}
			}
		}()
	}
	for _, zf := range zr.File {
		if ctx.Err() != nil {
			break
		}
		if zf.FileInfo().IsDir() || !isRecordName(zf.Name) {
			continue
		}
		work <- zf
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return time.Time{}, err
	}
	var wm time.Time
	if n := newest.Load(); n != 0 {
		wm = time.Unix(0, n).UTC()
	}
	return wm, nil
}

func isRecordName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".json" || ext == ".yaml" || ext == ".yml"
}

// osvEcosystem updates one OSV export folder: a delta when the database
// has a watermark for it, else (or when too much changed) all.zip.
func (u *updater) osvEcosystem(ctx context.Context, eco string) {
	feed := "osv/" + eco
	st, have := u.meta.Feeds[feed]
	im := &importer{b: u.b, rep: u.rep}
	base := u.opts.BaseURL + "/" + url.PathEscape(eco)
	if have && !st.Watermark.IsZero() {
		done, err := u.osvDelta(ctx, im, eco, base, st)
		if err != nil {
			u.rep.fail(vulndb.SourceOSV, []string{eco}, fmt.Errorf("%s: %w", eco, err))
			return
		}
		if done {
			u.ok()
			return
		}
	}
	res, err := u.f.get(ctx, base+"/all.zip", cond{}, u.dir, u.opts.MaxDownload)
	if err != nil {
		u.rep.fail(vulndb.SourceOSV, []string{eco}, fmt.Errorf("%s: %w", eco, err))
		return
	}
	defer res.cleanup()
	select {
	case u.zips <- struct{}{}:
	case <-ctx.Done():
		u.rep.fail(vulndb.SourceOSV, []string{eco}, fmt.Errorf("%s: %w", eco, ctx.Err()))
		return
	}
	wm, err := im.importZip(ctx, res.file, eco, u.opts.MaxUncompressed)
	<-u.zips
	if err != nil {
		u.rep.fail(vulndb.SourceOSV, []string{eco}, fmt.Errorf("%s: all.zip: %w", eco, err))
		return
	}
	if wm.IsZero() {
		wm = u.opts.Now().UTC()
	}
	u.b.SetFeed(feed, vulndb.FeedState{URL: base + "/all.zip", Updated: u.opts.Now().UTC(), Watermark: wm})
	u.ok()
}

// modEntry is one line of modified_id.csv.
type modEntry struct {
	modified time.Time
	id       string
}

// indexSlack is how far out of order modified_id.csv may be: reading stops
// at the first line older than the watermark by more than this. The export
// writes it newest first; the slack only guards against small disorder.
const indexSlack = 24 * time.Hour

// parseModifiedIndex reads "<RFC3339>,<ID>" lines, newest first, up to the
// first line older than stop (all of them when stop is zero). Bad lines
// are returned as messages.
func parseModifiedIndex(data []byte, stop time.Time) ([]modEntry, []string) {
	var out []modEntry
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		ts, id, ok := strings.Cut(t, ",")
		m, err := osv.ParseTime(ts)
		id = strings.TrimSpace(id)
		if !ok || err != nil || !validRecordID(id) {
			bad = append(bad, fmt.Sprintf("modified_id.csv line %d: %q", line, trunc(t)))
			continue
		}
		if !stop.IsZero() && m.Before(stop) {
			break
		}
		out = append(out, modEntry{modified: m, id: id})
	}
	if err := sc.Err(); err != nil {
		bad = append(bad, fmt.Sprintf("modified_id.csv line %d: %v", line+1, err))
	}
	return out, bad
}

func validRecordID(id string) bool {
	return id != "" && len(id) <= 256 && id != "." && id != ".." && !strings.ContainsFunc(id, func(c rune) bool {
		return c <= ' ' || c == 0x7f || c == '/' || c == '\\'
	})
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// osvDelta fetches the records modified since the watermark. It returns
// false when a full download is the better way (too many changes).
func (u *updater) osvDelta(ctx context.Context, im *importer, eco, base string, st vulndb.FeedState) (bool, error) {
	res, err := u.f.get(ctx, base+"/modified_id.csv", cond{}, "", maxIndexSize)
	if err != nil {
		return false, err
	}
	entries, bad := parseModifiedIndex(res.data, st.Watermark.Add(-indexSlack))
	for _, m := range bad {
		u.rep.malformed(vulndb.SourceOSV, []string{eco}, eco+": "+m)
	}
	var changed []modEntry
	newest := st.Watermark
	for _, e := range entries {
		if !e.modified.Before(st.Watermark) {
			changed = append(changed, e)
		}
		if e.modified.After(newest) {
			newest = e.modified
		}
	}
	if len(changed) > u.opts.DeltaLimit {
		return false, nil
	}
	// Oldest first, so that a failure keeps the watermark before it.
	sort.SliceStable(changed, func(i, j int) bool { return changed[i].modified.Before(changed[j].modified) })
	var (
		mu          sync.Mutex
		firstFailed *time.Time
		wg          sync.WaitGroup
	)
	work := make(chan modEntry)
	for range u.opts.FetchParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				r, err := u.f.get(ctx, base+"/"+url.PathEscape(e.id)+".json", cond{}, "", u.recordLimit())
				if err != nil {
					u.rep.fail(vulndb.SourceOSV, []string{eco}, fmt.Errorf("%s: record %s: %w", eco, e.id, err))
					mu.Lock()
					if firstFailed == nil || e.modified.Before(*firstFailed) {
						m := e.modified
						firstFailed = &m
					}
					mu.Unlock()
					continue
				}
				im.putOSV(r.data, eco+"/"+e.id+".json", eco)
			}
		}()
	}
	for _, e := range changed {
		select {
		case work <- e:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if firstFailed != nil && firstFailed.Equal(changed[0].modified) && len(changed) > 0 {
		// Not even the oldest change arrived: the folder failed; the
		// watermark stays where it was.
		return false, errors.New("the oldest changed record could not be fetched; will retry next update")
	}
	wm := newest
	if firstFailed != nil {
		wm = *firstFailed
	}
	st.URL = base + "/modified_id.csv"
	st.Updated = u.opts.Now().UTC()
	st.Watermark = wm
	u.b.SetFeed("osv/"+eco, st)
	return true, nil
}

func (u *updater) recordLimit() int64 { return min(u.opts.MaxDownload, osv.MaxRecordSize) }
