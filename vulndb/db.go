package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// Bucket names and fixed keys of the file layout.
var (
	bucketMeta = []byte("meta") // "meta": JSON Meta
	bucketPkg  = []byte("pkg")  // eco \0 normalized name -> entries
	bucketRec  = []byte("rec")  // source \0 scope \0 id -> record index
	bucketDet  = []byte("det")  // first key of a block -> block of (id \0 source \0 scope, details)
	bucketKEV  = []byte("kev")  // CVE -> KEV
	bucketEPSS = []byte("epss") // CVE -> EPSS
	keyMeta    = []byte("meta")
)

// DefaultPath returns where the database lives in vigil's cache directory.
func DefaultPath(cacheDir string) string {
	return filepath.Join(cacheDir, "db", "vigil.db")
}

// maxValueSize caps one decompressed value (a package's entries, one
// advisory's details).
const maxValueSize = 256 << 20

// Value compression tags: the first byte of a pkg or det value. Package
// values use S2 (decoding a small value costs well under a microsecond,
// which keeps lookups fast); details blocks use zstd (better ratio, read
// only for findings).
const (
	valRaw  = 0
	valZstd = 1
	valS2   = 2
)

// DB is an open, read-only database file. It is safe for concurrent use.
type DB struct {
	path string
	bolt *bolt.DB
	// file is the same file opened again for Prefetch's reads (nil when
	// the path was replaced while Open ran).
	file  *os.File
	meta  Meta
	names *nameTable
	dec   *zstd.Decoder
	txs   txPool
}

var _ Store = (*DB)(nil)

// Open opens the database file read-only. A missing file is reported with
// an error that wraps fs.ErrNotExist; a file of another schema version with
// ErrSchema. An update that replaces the file later does not disturb an
// open DB: it keeps reading the file it opened.
func Open(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("vulndb: open %s: %w (run `vigil db update` to download the advisory database)", path, err)
		}
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	file, _ := os.Open(path)
	bdb, err := bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, fmt.Errorf("vulndb: open %s: %w (delete it and run `vigil db update`)", path, err)
	}
	if file != nil && !sameFile(file, path) {
		// An update renamed a new file into place between the two opens.
		file.Close()
		file = nil
	}
	db := &DB{path: path, bolt: bdb, file: file}
	err = safeView(bdb, func(tx *bolt.Tx) error {
		if file != nil {
			if err := checkSize(tx, file); err != nil {
				return err
			}
		}
		mb := tx.Bucket(bucketMeta)
		if mb == nil {
			return fmt.Errorf("%w: no meta bucket", ErrCorrupt)
		}
		raw := mb.Get(keyMeta)
		if raw == nil {
			return fmt.Errorf("%w: no metadata record", ErrCorrupt)
		}
		if err := json.Unmarshal(raw, &db.meta); err != nil {
			return fmt.Errorf("%w: metadata: %v", ErrCorrupt, err)
		}
		if db.meta.Schema != SchemaVersion {
			return fmt.Errorf("%w: file has schema %d, this vigil reads %d", ErrSchema, db.meta.Schema, SchemaVersion)
		}
		for _, b := range [][]byte{bucketPkg, bucketRec, bucketDet, bucketKEV, bucketEPSS} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("%w: no %s bucket", ErrCorrupt, b)
			}
		}
		var err error
		db.names, err = loadNames(mb)
		return err
	})
	if err == nil {
		db.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxValueSize))
	}
	if err != nil {
		bdb.Close()
		if file != nil {
			file.Close()
		}
		return nil, fmt.Errorf("vulndb: open %s: %w (run `vigil db update` to rebuild it)", path, err)
	}
	return db, nil
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Close releases the file.
func (db *DB) Close() error {
	db.txs.close()
	if db.dec != nil {
		db.dec.Close()
	}
	if db.file != nil {
		db.file.Close()
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("vulndb: close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// Meta returns the database's metadata: schema version, build time, feed
// states and per-ecosystem counts.
func (db *DB) Meta() Meta {
	m := db.meta
	m.Feeds = cloneMap(m.Feeds)
	m.Ecosystems = cloneMap(m.Ecosystems)
	return m
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Ecosystems returns the ecosystem keys the database holds advisories for,
// sorted.
func (db *DB) Ecosystems() []string {
	out := make([]string, 0, len(db.meta.Ecosystems))
	for k := range db.meta.Ecosystems {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// safeView runs a read transaction and turns a panic inside it (bbolt
// panics on some corrupt pages) into ErrCorrupt.
func safeView(bdb *bolt.DB, fn func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer corruptOnPanic(&err)
	return bdb.View(fn)
}

// checkSize fails when the file is shorter than the pages its metadata
// counts: bbolt maps past the end of such a file, and reading a page there
// would be a bus error, not an error.
func checkSize(tx *bolt.Tx, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if tx.Size() > st.Size() {
		return fmt.Errorf("%w: the file is %d bytes, its pages need %d (truncated?)", ErrCorrupt, st.Size(), tx.Size())
	}
	return nil
}

// corruptOnPanic, deferred, turns a panic into ErrCorrupt in *err, and with
// debug.SetPanicOnFault a memory fault in the mapped file too (a file cut
// short while open).
func corruptOnPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrCorrupt, r)
	}
}

func (db *DB) decompress(v []byte, buf []byte) ([]byte, error) {
	return decompressValue(db.dec, v, buf)
}

func (db *DB) decompressBlock(v []byte) ([]byte, error) {
	return decompressValue(db.dec, v, nil)
}

func decompressValue(dec *zstd.Decoder, v []byte, buf []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrCorrupt)
	}
	switch v[0] {
	case valRaw:
		return v[1:], nil
	case valZstd:
		out, err := dec.DecodeAll(v[1:], buf[:0])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return out, nil
	case valS2:
		n, err := s2.DecodedLen(v[1:])
		if err == nil && n > maxValueSize {
			err = fmt.Errorf("decoded length %d over the limit", n)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		out, err := s2.Decode(buf[:cap(buf)], v[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: value tag %d", ErrCorrupt, v[0])
}

// Advisories returns every stored entry for the package in the ecosystem
// (all sources), ordered by ID and source. The name is normalised with
// NormalizeName; the ecosystem must be the OSV string ("Debian:12").
func (db *DB) Advisories(ctx context.Context, ecosystem, pkg string) ([]Affected, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := NormalizeName(ecosystem, pkg)
	id, ok := db.names.lookup(ecosystem)
	if !ok {
		return nil, nil
	}
	key := pkgKey(id, name)
	var out []Affected
	err := db.viewTx(func(rt *readTx) error {
		v := rt.get(key)
		if v == nil {
			return nil
		}
		raw, err := db.decompress(v, nil)
		if err != nil {
			return err
		}
		out, err = decodeAffected(raw, ecosystem, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: advisories for %s %s in %s: %w", ecosystem, pkg, db.path, err)
	}
	return out, nil
}

// visitPool holds the scratch memory of EachAdvisory.
var visitPool = sync.Pool{New: func() any { return new(visitScratch) }}

// maxPooledScratch is the largest decompressed value whose buffer goes back
// to visitPool; a rare huge package does not pin its memory.
const maxPooledScratch = 1 << 20

// EachAdvisory calls fn with every stored entry for the package in the
// ecosystem, in the order Advisories returns them, without allocating: the
// *Affected and every string and slice it holds are decoded into scratch
// memory that the next entry reuses, so they are valid only until fn
// returns. Keep an entry with Clone. An error from fn stops the walk and
// is returned as is.
func (db *DB) EachAdvisory(ctx context.Context, ecosystem, pkg string, fn func(*Affected) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := NormalizeName(ecosystem, pkg)
	id, ok := db.names.lookup(ecosystem)
	if !ok {
		return nil
	}
	var kb [256]byte
	key := appendPkgKey(kb[:0], id, name)
	sc := visitPool.Get().(*visitScratch)
	defer func() {
		if cap(sc.buf) <= maxPooledScratch {
			sc.a = Affected{}
			visitPool.Put(sc)
		}
	}()
	found := false
	err := db.viewTx(func(rt *readTx) error {
		v := rt.get(key)
		if v == nil {
			return nil
		}
		found = true
		// Into sc.buf even when stored raw: fn runs after the transaction
		// has gone back to the pool, maybe to another goroutine.
		raw, err := decompressValue(db.dec, v, sc.buf)
		if err != nil {
			return err
		}
		if len(v) > 0 && v[0] == valRaw {
			raw = append(sc.buf[:0], raw...)
		}
		sc.buf = raw
		return nil
	})
	if err == nil && found {
		var fromFn bool
		if err, fromFn = visitEntries(sc.buf, ecosystem, name, sc, fn); fromFn {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("vulndb: advisories for %s %s in %s: %w", ecosystem, pkg, db.path, err)
	}
	return nil
}

// sourceRank orders sources for merging details: OSV first.
func sourceRank(s string) int {
	switch s {
	case SourceOSV:
		return 0
	case SourceDebianTracker:
		return 1
	case SourceAlpineSecdb:
		return 2
	}
	return 3
}

// Details returns what the sources say about an advisory ID, merged: the
// highest-priority source (OSV, then the Debian tracker, then Alpine secdb)
// gives the text, dates and severity; aliases, references and CVSS vectors
// are the union. KEV and EPSS are attached for the ID's CVE (the ID itself
// or its first CVE alias). Unknown IDs give ErrNotFound, except a CVE ID
// that only KEV or EPSS knows.
func (db *DB) Details(ctx context.Context, id string) (*Details, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var parts []docDetails
	err := db.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(id), 0)
		return scanDetails(tx, db.decompressBlock, prefix, func(k, v []byte) error {
			src, _, _ := strings.Cut(string(k[len(prefix):]), "\x00")
			d, err := decodeDetails(v, id)
			if err != nil {
				return err
			}
			parts = append(parts, docDetails{Source: src, D: *d})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: details of %s in %s: %w", id, db.path, err)
	}
	var out *Details
	if len(parts) > 0 {
		out = mergeDetails(id, parts)
	}
	cve := ""
	if out != nil {
		cve = firstCVE(id, out.Aliases)
	} else {
		cve = CVEOf(id)
	}
	if cve != "" {
		k, err := db.KEV(ctx, cve)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		e, err := db.EPSS(ctx, cve)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if out == nil && (k != nil || e != nil) {
			out = &Details{ID: id}
		}
		if out != nil {
			out.KEV, out.EPSS = k, e
		}
	}
	if out == nil {
		return nil, fmt.Errorf("vulndb: details of %s: %w", id, ErrNotFound)
	}
	return out, nil
}

func mergeDetails(id string, parts []docDetails) *Details {
	slices.SortStableFunc(parts, func(a, b docDetails) int { return sourceRank(a.Source) - sourceRank(b.Source) })
	out := parts[0].D
	out.ID = id
	out.Sources = nil
	for _, p := range parts {
		if !slices.Contains(out.Sources, p.Source) {
			out.Sources = append(out.Sources, p.Source)
		}
	}
	for _, p := range parts[1:] {
		d := p.D
		if out.Summary == "" {
			out.Summary = d.Summary
		}
		if out.Details == "" {
			out.Details = d.Details
		}
		if out.Severity == "" {
			out.Severity = d.Severity
		}
		if out.Published.IsZero() {
			out.Published = d.Published
		}
		if out.Modified.IsZero() {
			out.Modified = d.Modified
		}
		out.Aliases = unionStrings(out.Aliases, d.Aliases)
		out.Related = unionStrings(out.Related, d.Related)
		out.References = unionStrings(out.References, d.References)
		for _, c := range d.CVSS {
			if !slices.Contains(out.CVSS, c) {
				out.CVSS = append(out.CVSS, c)
			}
		}
	}
	out.Aliases = SortAliases(out.Aliases)
	return &out
}

func unionStrings(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// KEV returns the CISA KEV entry of a CVE, or ErrNotFound.
func (db *DB) KEV(ctx context.Context, cve string) (*KEV, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *KEV
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKEV).Get([]byte(cve))
		if v == nil {
			return nil
		}
		var err error
		out, err = decodeKEV(v, cve)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: KEV entry of %s in %s: %w", cve, db.path, err)
	}
	if out == nil {
		return nil, fmt.Errorf("vulndb: KEV entry of %s: %w", cve, ErrNotFound)
	}
	return out, nil
}

// EPSS returns the EPSS score of a CVE, or ErrNotFound.
func (db *DB) EPSS(ctx context.Context, cve string) (*EPSS, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *EPSS
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEPSS).Get([]byte(cve))
		if v == nil {
			return nil
		}
		var err error
		out, err = decodeEPSS(v, cve)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vulndb: EPSS score of %s in %s: %w", cve, db.path, err)
	}
	if out == nil {
		return nil, fmt.Errorf("vulndb: EPSS score of %s: %w", cve, ErrNotFound)
	}
	out.Date = db.meta.EPSSDate
	return out, nil
}

// ExportLine is one line of Export's JSON Lines output; exactly one field
// besides Kind is set.
type ExportLine struct {
	Kind     string    `json:"kind"` // "meta", "affected", "details", "kev", "epss"
	Meta     *Meta     `json:"meta,omitempty"`
	Affected *Affected `json:"affected,omitempty"`
	Details  *Details  `json:"details,omitempty"`
	KEV      *KEV      `json:"kev,omitempty"`
	EPSS     *EPSS     `json:"epss,omitempty"`
}

// Export writes the whole database at dbPath to w as JSON Lines: the
// metadata, then every affected entry (by ecosystem, package, ID), every
// details record (by ID and source), KEV and EPSS entries (by CVE). The
// output is deterministic for a given file.
func Export(dbPath string, w io.Writer) error {
	db, err := Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Export(context.Background(), w)
}

// Export writes the database to w; see the package-level Export.
func (db *DB) Export(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	meta := db.Meta()
	if err := enc.Encode(ExportLine{Kind: "meta", Meta: &meta}); err != nil {
		return fmt.Errorf("vulndb: export %s: %w", db.path, err)
	}
	err := db.view(func(tx *bolt.Tx) error {
		// By ecosystem name, not by the file's ecosystem IDs, so that two
		// files with the same content export the same.
		db.names.mu.RLock()
		ecos := slices.Clone(db.names.list)
		db.names.mu.RUnlock()
		slices.Sort(ecos)
		c := tx.Bucket(bucketPkg).Cursor()
		for _, eco := range ecos {
			id, _ := db.names.lookup(eco)
			prefix := pkgKey(id, "")
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				_, name, _ := splitPkgKey(k)
				raw, err := db.decompress(v, nil)
				if err != nil {
					return err
				}
				es, err := decodeEntries(raw, eco, name)
				if err != nil {
					return err
				}
				for i := range es {
					if err := enc.Encode(ExportLine{Kind: "affected", Affected: &es[i].A}); err != nil {
						return err
					}
				}
			}
		}
		var err error
		err = scanDetails(tx, db.decompressBlock, nil, func(k, v []byte) error {
			id, src, _ := strings.Cut(string(k), "\x00")
			src, _, _ = strings.Cut(src, "\x00")
			d, err := decodeDetails(v, id)
			if err != nil {
				return err
			}
			d.Sources = []string{src}
			return enc.Encode(ExportLine{Kind: "details", Details: d})
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketKEV).ForEach(func(k, v []byte) error {
			e, err := decodeKEV(v, string(k))
			if err != nil {
				return err
			}
			return enc.Encode(ExportLine{Kind: "kev", KEV: e})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketEPSS).ForEach(func(k, v []byte) error {
			e, err := decodeEPSS(v, string(k))
			if err != nil {
				return err
			}
			e.Date = db.meta.EPSSDate
			return enc.Encode(ExportLine{Kind: "epss", EPSS: e})
		})
	})
	if err != nil {
		return fmt.Errorf("vulndb: export %s: %w", db.path, err)
	}
	return nil
}
