package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigilsec/vigil/vulndb"
	"github.com/vigilsec/vigil/vulndb/feeds"
	"github.com/vigilsec/vigil/vulndb/osv"
)

// ImportOptions configure Import; the zero value is fine.
type ImportOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxUncompressed caps what one zip may inflate to (default 32 GiB).
	MaxUncompressed int64
	// LockTimeout is how long to wait for a running update (default 10m).
	LockTimeout time.Duration
}

// Import adds local files to the database at dbPath (created when
// missing): OSV all.zip archives, directories of OSV JSON or YAML records,
// single records, and feed files (Debian tracker JSON, Alpine secdb JSON or
// YAML, KEV catalog, EPSS CSV, gzip-compressed or not), each recognised by
// its content. Files in a directory are imported when their names end in
// .json, .yaml, .yml, .zip, .csv or .gz. A bad file is counted in the
// Report and does not stop the others.
func Import(ctx context.Context, dbPath string, paths ...string) (*Report, error) {
	return ImportWith(ctx, dbPath, ImportOptions{}, paths...)
}

// ImportWith is Import with options.
func ImportWith(ctx context.Context, dbPath string, opts ImportOptions, paths ...string) (*Report, error) {
	start := time.Now()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxUncompressed <= 0 {
		opts.MaxUncompressed = 32 << 30
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 10 * time.Minute
	}
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
	b, err := newBuilder(dbPath, false, opts.Now, rep)
	if err != nil {
		return nil, err
	}
	im := &fileImporter{importer: importer{b: b, rep: rep}, opts: &opts}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			break
		}
		fi, err := os.Stat(p)
		if err != nil {
			rep.fail("import", nil, fmt.Errorf("%s: %w", p, err))
			continue
		}
		if !fi.IsDir() {
			im.file(ctx, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				rep.fail("import", nil, fmt.Errorf("%s: %w", path, err))
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if d.IsDir() || !importable(d.Name()) {
				return nil
			}
			im.file(ctx, path)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			rep.fail("import", nil, fmt.Errorf("%s: %w", p, err))
		}
	}
	if err := ctx.Err(); err != nil {
		b.Abort()
		return rep, fmt.Errorf("update: import: %w (the database is unchanged)", err)
	}
	if im.ok == 0 && len(paths) > 0 {
		b.Abort()
		why := strings.Join(rep.Problems(), "; ")
		if why == "" {
			why = "no file there is an OSV record, an OSV zip or a known feed (.json, .yaml, .yml, .zip, .csv, .gz)"
		}
		return rep, fmt.Errorf("update: import: nothing could be imported (the database is unchanged): %s", why)
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		return rep, fmt.Errorf("update: import: %w (the database is unchanged%s)", err, damagedHint(err))
	}
	rep.Meta, rep.Written = meta, true
	rep.Duration = time.Since(start)
	return rep, nil
}

func importable(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".yaml", ".yml", ".zip", ".csv", ".gz":
		return true
	}
	return false
}

type fileImporter struct {
	importer
	opts *ImportOptions
	ok   int
}

// file imports one file of whatever kind it holds.
func (im *fileImporter) file(ctx context.Context, path string) {
	f, err := os.Open(path)
	if err != nil {
		im.rep.fail("import", nil, fmt.Errorf("%s: %w", path, err))
		return
	}
	defer f.Close()
	kind, r, err := feeds.Sniff(f)
	if err != nil {
		im.rep.fail("import", nil, fmt.Errorf("%s: %w", path, err))
		return
	}
	now := im.opts.Now().UTC()
	switch kind {
	case feeds.KindOSVZip:
		if _, err := im.importZip(ctx, path, "", im.opts.MaxUncompressed); err != nil {
			im.rep.fail(vulndb.SourceOSV, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
	case feeds.KindOSVRecord:
		data, err := io.ReadAll(io.LimitReader(r, osv.MaxRecordSize+1))
		if err != nil {
			im.rep.fail(vulndb.SourceOSV, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
		if im.putOSV(data, path, "").IsZero() {
			return // counted as malformed
		}
	case feeds.KindDebianTracker:
		res, err := feeds.ParseDebianTracker(r)
		if err == nil {
			err = im.applyDebian(res)
		}
		if err != nil {
			im.rep.fail(vulndb.SourceDebianTracker, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
		im.b.SetFeed(vulndb.SourceDebianTracker, vulndb.FeedState{Updated: now})
	case feeds.KindAlpineSecdb:
		res, err := feeds.ParseAlpineSecdb(r)
		if err == nil {
			err = im.applyAlpine(res)
		}
		if err != nil {
			im.rep.fail(vulndb.SourceAlpineSecdb, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
		im.b.SetFeed(vulndb.SourceAlpineSecdb+"/"+res.Scope(), vulndb.FeedState{Updated: now})
	case feeds.KindKEV:
		res, err := feeds.ParseKEV(r)
		if err != nil {
			im.rep.fail(vulndb.SourceKEV, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
		im.applyKEV(res)
		im.b.SetFeed(vulndb.SourceKEV, vulndb.FeedState{Updated: now})
	case feeds.KindEPSS:
		res, err := feeds.ParseEPSS(r)
		if err != nil {
			im.rep.fail(vulndb.SourceEPSS, nil, fmt.Errorf("%s: %w", path, err))
			return
		}
		im.applyEPSS(res)
		im.b.SetFeed(vulndb.SourceEPSS, vulndb.FeedState{Updated: now})
	default:
		im.rep.update("import", nil, func(c *Counts) {
			c.Skipped++
			c.note(path + ": not an OSV record, OSV zip or known feed")
		})
		return
	}
	im.ok++
}

// Install replaces the database at dbPath with file (a database pulled as
// an OCI artifact, say) after checking that it opens and has this vigil's
// schema. It takes the update lock, so it never races an update.
func Install(ctx context.Context, dbPath, file string) error {
	db, err := vulndb.Open(file)
	if err != nil {
		return fmt.Errorf("update: install %s: %w", file, err)
	}
	db.Close()
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return fmt.Errorf("update: install: %w", err)
	}
	unlock, err := lock(ctx, dbPath+".lock", 10*time.Minute)
	if err != nil {
		return err
	}
	defer unlock()
	tmp, err := os.CreateTemp(filepath.Dir(dbPath), filepath.Base(dbPath)+".tmp-*")
	if err != nil {
		return fmt.Errorf("update: install: %w", err)
	}
	src, err := os.Open(file)
	if err == nil {
		_, err = io.Copy(tmp, src)
		src.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dbPath)
	}
	if err != nil {
		os.Remove(tmp.Name())
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("update: install %s: %w", file, err)
		}
		return fmt.Errorf("update: install %s as %s: %w", file, dbPath, err)
	}
	return nil
}
