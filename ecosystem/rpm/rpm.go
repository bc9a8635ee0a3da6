// Package rpm reads the rpm package database of Red Hat-family, SUSE,
// Amazon, Azure Linux, Photon and similar images, in all three formats rpm
// has used: BerkeleyDB (Packages), NDB (Packages.db) and SQLite
// (rpmdb.sqlite), under var/lib/rpm or usr/lib/sysimage/rpm. Reading is
// delegated to github.com/knqyf263/go-rpmdb, which wants a file path, so the
// database is spooled to a private temporary directory first.
package rpm

import (
	"context"
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
	// Keep the database's own name: rpmdb.sqlite opens with -wal and -shm
	// files beside it, which must land in the private directory too.
	file := filepath.Join(dir, path.Base(in.Path))
	if err := spool(ctx, file, in); err != nil {
		return nil, fmt.Errorf("rpm: spool %s: %w", in.Path, err)
	}
	infos, err := list(file)
	if err != nil {
		// A database the reader cannot make sense of is a corrupt file in
		// one layer: a warning, not a failed scan.
		return &extract.Result{Warnings: []string{fmt.Sprintf("rpm: read %s: %v", in.Path, err)}}, nil
	}
	res := &extract.Result{}
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

// list opens the database and lists its packages, turning a panic of the
// reader on malformed data into an error.
func list(file string) (infos []*rpmdb.PackageInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			infos, err = nil, fmt.Errorf("malformed database (reader panicked: %v)", r)
		}
	}()
	db, err := rpmdb.Open(file)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ListPackages()
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
	files, err := info.InstalledFileNames()
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

