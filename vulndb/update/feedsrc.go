package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"

	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/feeds"
)

// applyDebian stores a parsed tracker snapshot and removes what it no
// longer lists.
func (im *importer) applyDebian(res *feeds.DebianResult) error {
	src := vulndb.SourceDebianTracker
	for _, w := range res.Warnings {
		im.rep.update(src, nil, func(c *Counts) {
			if w.Kind == feeds.UnknownEcosystem {
				c.UnknownEcosystem++
			} else {
				c.Malformed++
			}
			c.note(w.Message)
		})
	}
	for _, d := range res.Docs {
		o, err := im.b.Put(d)
		ecos := docEcosystems(d)
		if err != nil {
			im.rep.malformed(src, ecos, fmt.Sprintf("%s: %v", d.ID, err))
			continue
		}
		im.rep.outcome(src, ecos, o)
	}
	n, err := im.b.DeleteMissing(src, "")
	if err != nil {
		return err
	}
	im.rep.update(src, nil, func(c *Counts) { c.Removed += n })
	return nil
}

// applyAlpine stores one parsed secdb file and removes what it no longer
// lists.
func (im *importer) applyAlpine(res *feeds.AlpineResult) error {
	src := vulndb.SourceAlpineSecdb
	ecos := []string{"Alpine:" + res.Release}
	for _, w := range res.Warnings {
		im.rep.malformed(src, ecos, w.Message)
	}
	for _, d := range res.Docs {
		o, err := im.b.Put(d)
		if err != nil {
			im.rep.malformed(src, ecos, fmt.Sprintf("%s: %v", d.ID, err))
			continue
		}
		im.rep.outcome(src, ecos, o)
	}
	n, err := im.b.DeleteMissing(src, res.Scope())
	if err != nil {
		return err
	}
	im.rep.update(src, ecos, func(c *Counts) { c.Removed += n })
	return nil
}

func (im *importer) applyKEV(res *feeds.KEVResult) {
	for _, w := range res.Warnings {
		im.rep.malformed(vulndb.SourceKEV, nil, w.Message)
	}
	im.b.SetKEV(res.Entries)
	im.rep.update(vulndb.SourceKEV, nil, func(c *Counts) { c.Added += len(res.Entries) })
}

func (im *importer) applyEPSS(res *feeds.EPSSResult) {
	for _, w := range res.Warnings {
		im.rep.malformed(vulndb.SourceEPSS, nil, w.Message)
	}
	im.b.SetEPSS(res.Entries, res.Date)
	im.rep.update(vulndb.SourceEPSS, nil, func(c *Counts) { c.Added += len(res.Entries) })
}

func docEcosystems(d *vulndb.Doc) []string {
	var out []string
	for _, a := range d.Affected {
		if !slices.Contains(out, a.Ecosystem) {
			out = append(out, a.Ecosystem)
		}
	}
	return out
}

// fetchFeed downloads a feed with a conditional GET against the stored
// validators. It returns nil (and records the feed as current) when the
// server says nothing changed.
func (u *updater) fetchFeed(ctx context.Context, name, src, u0 string) (*fetched, error) {
	st := u.meta.Feeds[name]
	c := cond{}
	if st.URL == u0 {
		c = cond{ETag: st.ETag, LastModified: st.LastModified}
	}
	res, err := u.f.get(ctx, u0, c, u.dir, u.opts.MaxDownload)
	if err != nil {
		return nil, err
	}
	if res.notModified {
		st.Updated = u.opts.Now().UTC()
		u.b.SetFeed(name, st)
		u.rep.update(src, nil, func(c *Counts) { c.note(name + ": not modified since the last update") })
		return nil, nil
	}
	return res, nil
}

func (u *updater) doneFeed(name, u0 string, res *fetched) {
	u.b.SetFeed(name, vulndb.FeedState{URL: u0, Updated: u.opts.Now().UTC(), ETag: res.etag, LastModified: res.lastMo})
}

func (u *updater) debianTracker(ctx context.Context) {
	src, name, u0 := vulndb.SourceDebianTracker, vulndb.SourceDebianTracker, u.opts.DebianTrackerURL
	res, err := u.fetchFeed(ctx, name, src, u0)
	if err != nil {
		u.rep.fail(src, nil, err)
		return
	}
	if res == nil {
		u.ok()
		return
	}
	defer res.cleanup()
	parsed, err := parseFile(res, func(r io.Reader) (*feeds.DebianResult, error) { return feeds.ParseDebianTracker(r) })
	if err == nil {
		err = (&importer{b: u.b, rep: u.rep}).applyDebian(parsed)
	}
	if err != nil {
		u.rep.fail(src, nil, fmt.Errorf("%s: %w", u0, err))
		return
	}
	u.doneFeed(name, u0, res)
	u.ok()
}

// parseFile opens a download, looks through gzip, and parses it.
func parseFile[T any](res *fetched, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	rc, err := res.open()
	if err != nil {
		return zero, err
	}
	defer rc.Close()
	_, r, err := feeds.Sniff(rc)
	if err != nil {
		return zero, err
	}
	return parse(r)
}

var secdbRelease = regexp.MustCompile(`href="\.?/?(v[0-9]+\.[0-9]+|edge)/?"`)

// alpineReleases lists the releases to read: the configured ones, or those
// the secdb index page links to.
func (u *updater) alpineReleases(ctx context.Context) ([]string, error) {
	if len(u.opts.AlpineReleases) > 0 {
		return u.opts.AlpineReleases, nil
	}
	res, err := u.f.get(ctx, u.opts.AlpineSecdbURL+"/", cond{}, "", 4<<20)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var rels []string
	for _, m := range secdbRelease.FindAllStringSubmatch(string(res.data), -1) {
		if !slices.Contains(rels, m[1]) {
			rels = append(rels, m[1])
		}
	}
	if len(rels) == 0 {
		return nil, errors.New("list releases: the index page links to no release (set the releases explicitly)")
	}
	sort.Strings(rels)
	return rels, nil
}

func (u *updater) alpineSecdb(ctx context.Context) {
	src := vulndb.SourceAlpineSecdb
	rels, err := u.alpineReleases(ctx)
	if err != nil {
		u.rep.fail(src, nil, fmt.Errorf("%s: %w", u.opts.AlpineSecdbURL, err))
		return
	}
	for _, rel := range rels {
		for _, repo := range []string{"main", "community"} {
			if ctx.Err() != nil {
				return
			}
			scope := rel + "/" + repo
			name := src + "/" + scope
			ecos := []string{"Alpine:" + rel}
			u0 := u.opts.AlpineSecdbURL + "/" + url.PathEscape(rel) + "/" + url.PathEscape(repo) + ".json"
			res, err := u.fetchFeed(ctx, name, src, u0)
			if err != nil {
				u.rep.fail(src, ecos, err)
				continue
			}
			if res == nil {
				u.ok()
				continue
			}
			parsed, err := parseFile(res, func(r io.Reader) (*feeds.AlpineResult, error) { return feeds.ParseAlpineSecdb(r) })
			res.cleanup()
			if err == nil && parsed.Scope() != scope {
				err = fmt.Errorf("file says it is %s", parsed.Scope())
			}
			if err == nil {
				err = (&importer{b: u.b, rep: u.rep}).applyAlpine(parsed)
			}
			if err != nil {
				u.rep.fail(src, ecos, fmt.Errorf("%s: %w", u0, err))
				continue
			}
			u.doneFeed(name, u0, res)
			u.ok()
		}
	}
}

func (u *updater) kev(ctx context.Context) {
	enrich(ctx, u, vulndb.SourceKEV, u.opts.KEVURL, feeds.ParseKEV, (*importer).applyKEV)
}

func (u *updater) epss(ctx context.Context) {
	enrich(ctx, u, vulndb.SourceEPSS, u.opts.EPSSURL, feeds.ParseEPSS, (*importer).applyEPSS)
}

// enrich fetches one enrichment feed (KEV, EPSS), parses it and applies it
// to the database being built; a failure is counted against the feed.
func enrich[T any](ctx context.Context, u *updater, src, u0 string, parse func(io.Reader) (T, error), apply func(*importer, T)) {
	res, err := u.fetchFeed(ctx, src, src, u0)
	if err != nil {
		u.rep.fail(src, nil, err)
		return
	}
	if res == nil {
		u.ok()
		return
	}
	defer res.cleanup()
	parsed, err := parseFile(res, parse)
	if err != nil {
		u.rep.fail(src, nil, fmt.Errorf("%s: %w", u0, err))
		return
	}
	apply(&importer{b: u.b, rep: u.rep}, parsed)
	u.doneFeed(src, u0, res)
	u.ok()
}
