// Package rpm reads the rpm package database of Red Hat-family, SUSE,
// Amazon, Azure Linux, Photon and similar images, in all three formats rpm
// has used: BerkeleyDB (Packages), NDB (Packages.db) and SQLite
// (rpmdb.sqlite), under var/lib/rpm or usr/lib/sysimage/rpm. The database
// is spooled to a private temporary directory; vigil walks the container
// itself (see container.go for why) and has github.com/knqyf263/go-rpmdb
// parse each rpm header.
package rpm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	// go-rpmdb opens rpmdb.sqlite through database/sql's "sqlite" driver.
	_ "modernc.org/sqlite"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// MaxDBSize caps the database spooled to disk. The rpmdb of a large RHEL
// image is some tens of MiB.
const MaxDBSize = 512 << 20

// maxWarnings caps the per-header warnings of one database.
const maxWarnings = 20

type extractor struct {
	tempDir string
}

// Option configures the extractor.
type Option func(*extractor)

// WithTempDir sets where databases are spooled (default: os.TempDir()).
func WithTempDir(dir string) Option { return func(e *extractor) { e.tempDir = dir } }

// New returns the rpm database extractor.
func New(opts ...Option) extract.Extractor {
	e := &extractor{}
	for _, o := range opts {
		o(e)
	}
	return e
}

func (*extractor) Name() string { return "rpm" }
func (*extractor) Version() int { return 1 }

func (*extractor) Wants(p string, fi fs.FileInfo) bool {
	if fi != nil && fi.IsDir() {
		return false
	}
	dir, file := path.Split(p)
	if dir != "var/lib/rpm/" && dir != "usr/lib/sysimage/rpm/" {
		return false
	}
	switch file {
	case "Packages", "Packages.db", "rpmdb.sqlite":
		return true
	}
	return false
}

func (e *extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Size > MaxDBSize {
		return &extract.Result{Warnings: []string{fmt.Sprintf(
			"rpm: %s is %d bytes, over the %d-byte cap; ignored", in.Path, in.Size, MaxDBSize)}}, nil
	}
	if in.Size == 0 || in.Reader == nil {
		return &extract.Result{Warnings: []string{fmt.Sprintf("rpm: %s is empty; ignored", in.Path)}}, nil
	}
	dir, err := os.MkdirTemp(e.tempDir, "vigil-rpmdb-*")
	if err != nil {
		return nil, fmt.Errorf("rpm: spool %s: %w (set a writable temporary directory)", in.Path, err)
	}
	defer os.RemoveAll(dir)
	// SQLite opens rpmdb.sqlite with -wal and -shm files beside it; they
	// land in the private directory too.
	file := filepath.Join(dir, "db-"+path.Base(in.Path))
	if err := spool(ctx, file, in); err != nil {
		return nil, fmt.Errorf("rpm: spool %s: %w", in.Path, err)
	}
	infos, warns, err := list(ctx, file, in.Size, dir)
	if err != nil {
		return nil, fmt.Errorf("rpm: read %s: %w", in.Path, err)
	}
	// A corrupt database is a corrupt file in one layer: warnings, not a
	// failed scan.
	res := &extract.Result{}
	for _, w := range warns {
		res.Warnings = append(res.Warnings, "rpm: "+in.Path+": "+w)
	}
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, warn := convert(info)
		if warn != "" {
			res.Warnings = append(res.Warnings, "rpm: "+in.Path+": "+warn)
		}
		if p != nil {
			res.Packages = append(res.Packages, *p)
		}
	}
	return res, nil
}

func spool(ctx context.Context, file string, in *extract.Input) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	src := io.NewSectionReader(in.Reader, 0, in.Size)
	n, err := io.Copy(f, &ctxReader{ctx: ctx, r: src})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != in.Size {
		err = fmt.Errorf("%w: got %d of %d bytes", io.ErrUnexpectedEOF, n, in.Size)
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// list reads every header of the database. A broken container stops the
// walk with a warning, keeping the packages read before; a broken header
// loses only its package.
func list(ctx context.Context, file string, size int64, scratch string) ([]*rpmdb.PackageInfo, []string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var (
		infos []*rpmdb.PackageInfo
		warns []string
		bad   int
	)
	n := 0
	err = blobs(f, size, func(blob []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n++
		info, err := parseHeader(scratch, blob)
		if err != nil {
			if bad++; bad <= maxWarnings {
				warns = append(warns, fmt.Sprintf("header %d skipped: %v", n, err))
			}
			return nil
		}
		infos = append(infos, info)
		return nil
	})
	if bad > maxWarnings {
		warns = append(warns, fmt.Sprintf("%d more headers skipped", bad-maxWarnings))
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		if !errors.Is(err, errCorrupt) {
			return nil, nil, err
		}
		warns = append(warns, fmt.Sprintf("database unreadable after %d headers: %v", n, err))
	}
	return infos, warns, nil
}

// parseHeader has go-rpmdb parse one header blob. go-rpmdb parses headers
// only while listing a database, so the blob is wrapped in a one-package
// NDB file (a 32-byte file header and one 4 KiB slot page, then a 16-byte
// blob header and the blob); with a single package, go-rpmdb's reader
// goroutine ends whether or not the header parses. A panic in the parser
// is turned into an error.
func parseHeader(scratch string, blob []byte) (info *rpmdb.PackageInfo, err error) {
	if err := checkHeader(blob); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("malformed header (parser panicked: %v)", r)
		}
	}()
	const blobOffset = 4096
	buf := make([]byte, blobOffset+16+len(blob))
	le := binary.LittleEndian
	le.PutUint32(buf[0:], ndbMagic)
	le.PutUint32(buf[12:], 1) // one slot page
	for slot := 32; slot < blobOffset; slot += 16 {
		le.PutUint32(buf[slot:], ndbSlotMagic)
	}
	le.PutUint32(buf[32+4:], 1)             // package index
	le.PutUint32(buf[32+8:], blobOffset/16) // block offset, in 16-byte blocks
	le.PutUint32(buf[32+12:], uint32((16+len(blob)+15)/16))
	le.PutUint32(buf[blobOffset:], ndbBlobMagic)
	le.PutUint32(buf[blobOffset+4:], 1)
	le.PutUint32(buf[blobOffset+12:], uint32(len(blob)))
	copy(buf[blobOffset+16:], blob)
	one := filepath.Join(scratch, "header.ndb")
	if err := os.WriteFile(one, buf, 0o600); err != nil {
		return nil, err
	}
	db, err := rpmdb.Open(one)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	infos, err := db.ListPackages()
	if err != nil {
		return nil, err
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("parser returned %d packages for one header", len(infos))
	}
	return infos[0], nil
}

// convert turns one header into a package; nil for gpg-pubkey pseudo
// packages and for headers without name or version.
func convert(info *rpmdb.PackageInfo) (*inventory.Package, string) {
	if info.Name == "gpg-pubkey" {
		return nil, ""
	}
	if !validToken(info.Name) || !validToken(info.Version) || !validToken(info.Release) {
		return nil, fmt.Sprintf("header with name %.60q version %.60q release %.60q skipped", info.Name, info.Version, info.Release)
	}
	epoch := ""
	if info.Epoch != nil {
		epoch = fmt.Sprintf("%d:", *info.Epoch)
	}
	p := &inventory.Package{
		Ecosystem:  inventory.RPM,
		Name:       info.Name,
		Version:    epoch + info.Version + "-" + info.Release,
		Arch:       info.Arch,
		Modularity: info.Modularitylabel,
	}
	if info.License != "" {
		p.Licenses = []string{info.License}
	}
	var warn string
	if info.SourceRpm != "" && info.SourceRpm != "(none)" {
		name, ver, rel, ok := SplitSourceRPM(info.SourceRpm)
		if ok {
			p.SourceName, p.SourceVersion = name, epoch+ver+"-"+rel
		} else {
			warn = fmt.Sprintf("package %s: source rpm %.80q is not name-version-release.src.rpm", info.Name, info.SourceRpm)
		}
	}
	files, err := fileNames(info)
	if err != nil {
		if warn == "" {
			warn = fmt.Sprintf("package %s: file list unreadable: %v", info.Name, err)
		}
		files = nil
	}
	for _, f := range files {
		if c := strings.TrimPrefix(path.Clean("/"+f), "/"); c != "" {
			p.Files = append(p.Files, c)
		}
	}
	return p, warn
}

// SplitSourceRPM splits a source rpm file name into name, version and
// release: "util-linux-2.32.1-42.el8_8.src.rpm" -> "util-linux",
// "2.32.1", "42.el8_8". Name may itself contain dashes; version and
// release cannot.
func SplitSourceRPM(s string) (name, version, release string, ok bool) {
	switch {
	case strings.HasSuffix(s, ".src.rpm"):
		s = strings.TrimSuffix(s, ".src.rpm")
	case strings.HasSuffix(s, ".nosrc.rpm"):
		s = strings.TrimSuffix(s, ".nosrc.rpm")
	default:
		return "", "", "", false
	}
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", "", false
	}
	release = s[i+1:]
	s = s[:i]
	j := strings.LastIndexByte(s, '-')
	if j <= 0 {
		return "", "", "", false
	}
	name, version = s[:j], s[j+1:]
	if !validToken(name) || !validToken(version) || !validToken(release) {
		return "", "", "", false
	}
	return name, version, release, true
}

// validToken accepts non-empty printable ASCII without spaces.
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// fileNames joins the header's directory and base names, turning a panic
// on inconsistent indexes into an error.
func fileNames(info *rpmdb.PackageInfo) (files []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			files, err = nil, fmt.Errorf("inconsistent file index (%v)", r)
		}
	}()
	return info.InstalledFileNames()
}
