// Package dpkg reads the dpkg database of Debian-based images: the status
// file (var/lib/dpkg/status), the one-file-per-package status.d directory of
// distroless images, and the per-package file lists (info/*.list, and
// status.d/*.md5sums in distroless images). It reports the packages whose
// files are on disk, with the source package and version that Debian and
// Ubuntu advisories are keyed by.
package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/ecosystem/osrelease"
	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// Size caps. A status file of a large desktop system is about 10 MiB, the
// longest file lists a few MiB.
const (
	MaxStatusSize = 128 << 20
	MaxListSize   = 32 << 20
	maxLine       = 1 << 20
	maxWarnings   = 20
)

// DistrolessRank is the DistroRank of a release inferred from base-files in
// status.d: after every release file (see package osrelease).
const DistrolessRank = 9

const (
	statusPath = "var/lib/dpkg/status"
	statusDir  = "var/lib/dpkg/status.d/"
	infoDir    = "var/lib/dpkg/info/"
)

type extractor struct{}

// New returns the dpkg extractor.
func New() extract.Extractor { return extractor{} }

func (extractor) Name() string { return "dpkg" }
func (extractor) Version() int { return 1 }

func (extractor) Wants(p string, fi fs.FileInfo) bool {
	if fi != nil && fi.IsDir() {
		return false
	}
	switch {
	case p == statusPath:
		return true
	case strings.HasPrefix(p, statusDir):
		name := p[len(statusDir):]
		return name != "" && !strings.Contains(name, "/") && name[0] != '.'
	case strings.HasPrefix(p, infoDir):
		name := p[len(infoDir):]
		return len(name) > len(".list") && strings.HasSuffix(name, ".list") && !strings.Contains(name, "/")
	}
	return false
}

func (extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case in.Path == statusPath:
		return extractStatus(ctx, in, false)
	case strings.HasPrefix(in.Path, statusDir) && strings.HasSuffix(in.Path, ".md5sums"):
		return extractList(ctx, in, strings.TrimSuffix(in.Path[len(statusDir):], ".md5sums"), parseMD5Line)
	case strings.HasPrefix(in.Path, statusDir):
		return extractStatus(ctx, in, true)
	case strings.HasPrefix(in.Path, infoDir) && strings.HasSuffix(in.Path, ".list"):
		return extractList(ctx, in, strings.TrimSuffix(in.Path[len(infoDir):], ".list"), parseListLine)
	}
	return nil, fmt.Errorf("dpkg: extract %s: not a dpkg database file (Wants would have refused it)", in.Path)
}

func reader(in *extract.Input, limit int64) (io.Reader, string) {
	if in.Size > limit {
		return nil, fmt.Sprintf("dpkg: %s is %d bytes, over the %d-byte cap; ignored", in.Path, in.Size, limit)
	}
	if in.Reader == nil {
		return bytes.NewReader(nil), ""
	}
	return &exactReader{r: io.NewSectionReader(in.Reader, 0, in.Size), left: in.Size}, ""
}

// exactReader turns an early end of file (a reader shorter than the size
// the layer recorded) into io.ErrUnexpectedEOF.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) && e.left > 0 {
		err = fmt.Errorf("%w: %d bytes short of the recorded size", io.ErrUnexpectedEOF, e.left)
	}
	return n, err
}

func extractStatus(ctx context.Context, in *extract.Input, statusD bool) (*extract.Result, error) {
	r, warn := reader(in, MaxStatusSize)
	if r == nil {
		return &extract.Result{Warnings: []string{warn}}, nil
	}
	recs, warns, err := parseStatus(ctx, r, statusD)
	if err != nil {
		return nil, fmt.Errorf("dpkg: parse %s: %w", in.Path, err)
	}
	res := &extract.Result{}
	for i := range warns {
		res.Warnings = append(res.Warnings, "dpkg: "+in.Path+": "+warns[i])
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if statusD && rec.Package == "base-files" && res.Distro == nil {
			if d := distroless(rec.Version); d != nil {
				d.Source = in.Path
				res.Distro, res.DistroRank = d, DistrolessRank
			}
		}
		if !rec.onDisk() {
			continue
		}
		key := rec.Package + ":" + rec.Arch
		if seen[key] {
			res.Warnings = append(res.Warnings, fmt.Sprintf("dpkg: %s: package %s listed twice; kept the first", in.Path, key))
			continue
		}
		seen[key] = true
		res.Packages = append(res.Packages, rec.pkg())
	}
	return res, nil
}

// record is one package paragraph, reduced to what vigil reports.
type record struct {
	Package, Version, Arch string
	Source                 string // the raw Source field
	MultiArch              string
	// Want, Flag and State are the three words of the Status field
	// ("install ok installed"); all empty when the paragraph has none.
	Want, Flag, State string
}

// sourceName and sourceVersion follow dpkg-query's ${source:Package} and
// ${source:Version}: Source is "name" or "name (version)", and defaults to
// the binary package.
func (r *record) sourceName() string {
	name, _, _ := strings.Cut(r.Source, " ")
	if name = strings.TrimSpace(name); name == "" {
		return r.Package
	}
	return name
}

func (r *record) sourceVersion() string {
	if i := strings.IndexByte(r.Source, '('); i >= 0 {
		if j := strings.IndexByte(r.Source[i:], ')'); j > 0 {
			if v := strings.TrimSpace(r.Source[i+1 : i+j]); v != "" {
				return v
			}
		}
	}
	return r.Version
}

// onDisk reports whether the package's files are (at least partly) on the
// file system: every state but not-installed and config-files, where only
// configuration files or nothing remain.
func (r *record) onDisk() bool {
	switch r.State {
	case "installed", "unpacked", "half-configured", "half-installed", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}

func (r *record) pkg() inventory.Package {
	return inventory.Package{
		Ecosystem:     inventory.Deb,
		Name:          r.Package,
		Version:       r.Version,
		Arch:          r.Arch,
		SourceName:    r.sourceName(),
		SourceVersion: r.sourceVersion(),
	}
}

// parseStatus reads deb822 paragraphs (the status file, or one status.d
// entry) and returns the well-formed package records in file order, with
// warnings for paragraphs it had to drop. A paragraph without Status is
// not installed in the status file, but installed in status.d, whose
// entries are the control files of the packages unpacked into a distroless
// image. It fails only when reading fails.
func parseStatus(ctx context.Context, r io.Reader, statusD bool) ([]record, []string, error) {
	var (
		recs    []record
		warns   []string
		cur     record
		fields  int
		dropped int
	)
	warn := func(format string, args ...any) {
		if len(warns) < maxWarnings {
			warns = append(warns, fmt.Sprintf(format, args...))
		} else {
			dropped++
		}
	}
	flush := func() {
		defer func() { cur, fields = record{}, 0 }()
		if fields == 0 {
			return
		}
		if statusD && cur.State == "" && cur.Want == "" {
			cur.Want, cur.Flag, cur.State = "install", "ok", "installed"
		}
		switch {
		case !validName(cur.Package):
			warn("paragraph without a valid Package field (%.60q) skipped", cur.Package)
		case cur.Version == "" && cur.onDisk():
			warn("package %s has no Version; skipped", cur.Package)
		case cur.Version != "" && !validVersion(cur.Version):
			warn("package %s has a malformed Version %.60q; skipped", cur.Package, cur.Version)
		case cur.Version == "":
			// dpkg keeps version-less entries only for packages that are
			// not installed; nothing to report.
		default:
			recs = append(recs, cur)
		}
	}
	lr := newLineReader(r)
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		line, long, err := lr.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		if long {
			warn("line %d longer than %d bytes truncated", lr.n, maxLine)
		}
		if errors.Is(err, io.EOF) && line == nil {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue // continuation of a multi-line field, or a comment
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			warn("line %d is not a field: %.60q", lr.n, line)
			continue
		}
		fields++
		v := string(bytes.TrimSpace(value))
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "package":
			cur.Package = v
		case "version":
			cur.Version = v
		case "architecture":
			cur.Arch = v
		case "source":
			cur.Source = v
		case "multi-arch":
			cur.MultiArch = v
		case "status":
			f := strings.Fields(v)
			if len(f) != 3 || !validStatus(f[0], f[1], f[2]) {
				warn("package %.60q has a malformed Status %.60q; treated as not installed", cur.Package, v)
				cur.Want, cur.Flag, cur.State = "unknown", "ok", "not-installed"
				break
			}
			cur.Want, cur.Flag, cur.State = f[0], f[1], f[2]
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	flush()
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("%d more problems not shown", dropped))
	}
	return recs, warns, nil
}

func validStatus(want, flag, state string) bool {
	switch want {
	case "unknown", "install", "hold", "deinstall", "purge":
	default:
		return false
	}
	switch flag {
	case "ok", "reinstreq":
	default:
		return false
	}
	switch state {
	case "not-installed", "config-files", "half-installed", "unpacked", "half-configured",
		"triggers-awaited", "triggers-pending", "installed":
		return true
	}
	return false
}

// validName accepts dpkg package names: lowercase letters, digits and
// + - . (dpkg rejects upper case, but images built by other tools have
// been seen with it, so it is tolerated).
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validVersion accepts printable ASCII without spaces; the comparator
// judges the rest.
func validVersion(s string) bool {
	if len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// distroless infers the Debian release from the base-files version of a
// distroless image: "12.4+deb12u5" -> 12, "11.1+deb11u9" -> 11, "12.4" ->
// 12. Ubuntu's base-files ("12ubuntu4.6") is not Debian and yields nil.
func distroless(version string) *inventory.Distro {
	base, deb, hasDeb := strings.Cut(version, "+deb")
	major, minor, _ := strings.Cut(base, ".")
	if !digits(major) || (minor != "" && !digits(minor)) {
		return nil
	}
	if hasDeb {
		n, u, ok := strings.Cut(deb, "u")
		if !ok || !digits(n) || !digits(u) || n != major {
			return nil
		}
	}
	code := osrelease.DebianCodename(major)
	if code == "" {
		return nil
	}
	return &inventory.Distro{
		Family:     "debian",
		Version:    major,
		Codename:   code,
		Name:       "Debian GNU/Linux " + major + " (" + code + ")",
		Distroless: true,
	}
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// extractList turns a per-package file list into an Ownership. name is the
// file's base name without suffix: "libc6:amd64" or "tar".
func extractList(ctx context.Context, in *extract.Input, name string, parse func([]byte) (string, bool)) (*extract.Result, error) {
	r, warn := reader(in, MaxListSize)
	if r == nil {
		return &extract.Result{Warnings: []string{warn}}, nil
	}
	pkg, arch, _ := strings.Cut(name, ":")
	res := &extract.Result{}
	if !validName(pkg) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("dpkg: %s: %q is not a package name; ignored", in.Path, pkg))
		return res, nil
	}
	own := extract.Ownership{Ecosystem: inventory.Deb, Package: pkg, Arch: arch}
	lr := newLineReader(r)
	bad := 0
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, long, err := lr.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("dpkg: read %s: %w", in.Path, err)
		}
		if long {
			bad++
		} else if len(line) > 0 {
			if p, ok := parse(line); ok {
				own.Files = append(own.Files, p)
			} else if p == "" {
				bad++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if bad > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("dpkg: %s: %d malformed lines skipped", in.Path, bad))
	}
	res.Owned = []extract.Ownership{own}
	return res, nil
}

// parseListLine reads one line of info/<pkg>.list ("/usr/bin/tar"). The
// root "/." is dropped silently (ok false, path "."); a line that is not an
// absolute path is malformed (ok false, path "").
func parseListLine(line []byte) (string, bool) {
	if line[0] != '/' {
		return "", false
	}
	return cleanPath(string(line))
}

// parseMD5Line reads one line of a md5sums file: 32 hex digits, two
// spaces, and a path relative to the root.
func parseMD5Line(line []byte) (string, bool) {
	sum, p, ok := bytes.Cut(line, []byte("  "))
	if !ok || len(sum) != 32 || len(p) == 0 {
		return "", false
	}
	for _, c := range sum {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return cleanPath(string(p))
}

func cleanPath(p string) (string, bool) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", false
	}
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return ".", false
	}
	return c, true
}

// lineReader yields lines without their newline, cutting lines longer than
// maxLine (the rest of such a line is discarded).
type lineReader struct {
	br *bufio.Reader
	n  int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, whether it was cut, and io.EOF with the last
// line (nil when the input ended with a newline).
func (l *lineReader) next() ([]byte, bool, error) {
	l.n++
	var buf []byte
	long := false
	for {
		chunk, err := l.br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			long = true
			if room := maxLine - len(buf); room > 0 {
				buf = append(buf, chunk[:room]...)
			}
		} else {
			buf = append(buf, chunk...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			if len(buf) == 0 {
				return nil, long, err
			}
			return bytes.TrimRight(buf, "\r"), long, err
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		return bytes.TrimSuffix(buf, []byte("\r")), long, nil
	}
}
