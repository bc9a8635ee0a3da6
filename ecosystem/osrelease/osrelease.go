// Package osrelease detects the operating system release of an image from
// os-release(5) and from the distribution-specific files that predate it or
// stand in for it (etc/debian_version, etc/alpine-release, etc/redhat-release
// and its siblings, etc/lsb-release, etc/SuSE-release). Each file yields an
// inventory.Distro with the release as the vendor's advisories key it, and a
// rank: the walk keeps the lowest-ranked answer, so os-release wins over the
// fallbacks whenever it names a version.
package osrelease

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// MaxFileSize caps how much of a release file is read. Real ones are well
// under 2 KiB.
const MaxFileSize = 64 << 10

// Ranks of the sources, lower wins. os-release without VERSION_ID (Debian
// testing and sid, rolling distributions) ranks after every fallback that
// names a version, and before a distroless inference (9, set by dpkg).
const (
	RankOSRelease        = 0
	RankUsrLibOSRelease  = 1
	RankVendorRelease    = 2 // etc/alpine-release, etc/centos-release, ...
	RankSystemRelease    = 3
	RankRedHatRelease    = 4
	RankLSBRelease       = 5
	RankDebianVersion    = 6
	RankOSReleaseNoVer   = 7
	RankUsrLibNoVer      = 8
	maxValueLen          = 256
	maxIDLen             = 64
	maxVersionLen        = 64
	unrecognisedFileWarn = "osrelease: %s: no release recognised in %q"
)

type kind int

const (
	kindNone kind = iota
	kindOSRelease
	kindDebianVersion
	kindAlpineRelease
	kindRedHatStyle
	kindLSBRelease
	kindSuSERelease
)

// source says how to read a path and how it ranks.
func source(path string) (kind, int) {
	switch path {
	case "etc/os-release":
		return kindOSRelease, RankOSRelease
	case "usr/lib/os-release":
		return kindOSRelease, RankUsrLibOSRelease
	case "etc/alpine-release":
		return kindAlpineRelease, RankVendorRelease
	case "etc/centos-release", "etc/rocky-release", "etc/almalinux-release",
		"etc/oracle-release", "etc/fedora-release":
		return kindRedHatStyle, RankVendorRelease
	case "etc/SuSE-release":
		return kindSuSERelease, RankVendorRelease
	case "etc/system-release":
		return kindRedHatStyle, RankSystemRelease
	case "etc/redhat-release":
		return kindRedHatStyle, RankRedHatRelease
	case "etc/lsb-release":
		return kindLSBRelease, RankLSBRelease
	case "etc/debian_version":
		return kindDebianVersion, RankDebianVersion
	}
	return kindNone, 0
}

type extractor struct{}

// New returns the OS release extractor.
func New() extract.Extractor { return extractor{} }

func (extractor) Name() string { return "osrelease" }
func (extractor) Version() int { return 1 }

func (extractor) Wants(path string, fi fs.FileInfo) bool {
	if k, _ := source(path); k == kindNone {
		return false
	}
	return fi == nil || !fi.IsDir()
}

func (extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, rank := source(in.Path)
	if k == kindNone {
		return nil, fmt.Errorf("osrelease: extract %s: not a release file (Wants would have refused it)", in.Path)
	}
	if in.Size > MaxFileSize {
		return &extract.Result{Warnings: []string{fmt.Sprintf(
			"osrelease: %s is %d bytes, over the %d-byte cap for a release file; ignored", in.Path, in.Size, MaxFileSize)}}, nil
	}
	data := make([]byte, in.Size)
	if in.Size > 0 {
		if in.Reader == nil {
			return nil, fmt.Errorf("osrelease: read %s: no reader", in.Path)
		}
		if n, err := in.Reader.ReadAt(data, 0); n < len(data) {
			return nil, fmt.Errorf("osrelease: read %s: got %d of %d bytes: %w", in.Path, n, len(data), err)
		}
	}
	d, rank, warn := Parse(in.Path, data)
	res := &extract.Result{}
	if warn != "" {
		res.Warnings = []string{warn}
	}
	if d != nil {
		res.Distro = d
		res.DistroRank = rank
	}
	return res, nil
}

// Parse reads the release file at path (no leading slash) and returns the
// distro it names with its rank, or nil and a warning saying why not.
// A nil distro with an empty warning means the file is not a release file.
func Parse(path string, data []byte) (*inventory.Distro, int, string) {
	k, rank := source(path)
	var d *inventory.Distro
	switch k {
	case kindNone:
		return nil, 0, ""
	case kindOSRelease:
		d = fromOSRelease(parseKeyValues(data))
		if d != nil && d.Version == "" {
			rank += RankOSReleaseNoVer
		}
	case kindLSBRelease:
		d = fromLSBRelease(parseKeyValues(data))
	case kindDebianVersion:
		d = fromDebianVersion(firstLine(data))
	case kindAlpineRelease:
		d = fromAlpineRelease(firstLine(data))
	case kindRedHatStyle:
		d = fromRedHatStyle(firstLine(data))
	case kindSuSERelease:
		d = fromSuSERelease(data)
	}
	if d == nil {
		return nil, 0, fmt.Sprintf(unrecognisedFileWarn, path, truncate(firstLine(data), 80))
	}
	d.Source = path
	return d, rank, ""
}

// parseKeyValues reads the shell-compatible KEY=value assignments of
// os-release(5) and lsb-release: values may be bare, double-quoted (with
// backslash escapes) or single-quoted; comments and malformed lines are
// skipped. Later assignments win, as they would in a shell.
func parseKeyValues(data []byte) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxFileSize+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok || !validKey(key) {
			continue
		}
		kv[key] = unquote(raw)
	}
	return kv
}

func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// unquote undoes shell quoting of one value, leniently: an unterminated
// quote runs to the end of the line.
func unquote(raw string) string {
	raw = strings.TrimSpace(raw)
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' && i+1 < len(raw) && strings.IndexByte("$\"\\`", raw[i+1]) >= 0 {
					i++
				}
				b.WriteByte(raw[i])
			}
		case '\'':
			for i++; i < len(raw) && raw[i] != '\''; i++ {
				b.WriteByte(raw[i])
			}
		case '\\':
			if i+1 < len(raw) {
				i++
				b.WriteByte(raw[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// text returns s when it is printable UTF-8 of reasonable length, else "".
func text(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}

// token returns s when it is a plausible identifier or version: ASCII
// letters, digits and ._+~:- only.
func token(s string, max int) string { return tokenWith(s, max, "") }

// tokenWith is token allowing the extra punctuation too.
func tokenWith(s string, max int, extra string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > max {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("._+~:-", c) >= 0 || strings.IndexByte(extra, c) >= 0) {
			return ""
		}
	}
	return s
}

// family maps an os-release ID (or a look-alike) to the family vigil
// matches on.
func family(id, name string) string {
	id = strings.ToLower(id)
	switch id {
	case "ol":
		return "oracle"
	case "amzn":
		return "amazon"
	case "opensuse":
		// openSUSE 42.x used ID=opensuse; Tumbleweed has its own ID since
		// 2017 but older snapshots said opensuse too.
		if strings.Contains(strings.ToLower(name), "tumbleweed") {
			return "opensuse-tumbleweed"
		}
		return "opensuse-leap"
	case "sles_sap":
		return "sles"
	case "sle-micro-rancher":
		return "sle-micro"
	}
	return id
}

func fromOSRelease(kv map[string]string) *inventory.Distro {
	id := token(kv["ID"], maxIDLen)
	if id == "" {
		return nil
	}
	d := &inventory.Distro{
		Family:   family(id, kv["NAME"]),
		Version:  token(kv["VERSION_ID"], maxVersionLen),
		Codename: strings.ToLower(token(kv["VERSION_CODENAME"], maxIDLen)),
		Name:     text(kv["PRETTY_NAME"], maxValueLen),
	}
	if d.Codename == "" {
		d.Codename = strings.ToLower(token(kv["UBUNTU_CODENAME"], maxIDLen))
	}
	if d.Codename == "" && d.Family == "debian" {
		// Debian 8 and older: VERSION="8 (jessie)".
		v := kv["VERSION"]
		if i, j := strings.IndexByte(v, '('), strings.IndexByte(v, ')'); i >= 0 && j > i {
			d.Codename = strings.ToLower(token(v[i+1:j], maxIDLen))
		}
	}
	if d.Name == "" {
		d.Name = text(kv["NAME"], maxValueLen)
	}
	return d
}

func fromLSBRelease(kv map[string]string) *inventory.Distro {
	id := token(kv["DISTRIB_ID"], maxIDLen)
	if id == "" {
		return nil
	}
	return &inventory.Distro{
		Family:   family(id, kv["DISTRIB_DESCRIPTION"]),
		Version:  token(kv["DISTRIB_RELEASE"], maxVersionLen),
		Codename: strings.ToLower(token(kv["DISTRIB_CODENAME"], maxIDLen)),
		Name:     text(kv["DISTRIB_DESCRIPTION"], maxValueLen),
	}
}

// DebianCodename returns the code name of a Debian major release ("12" ->
// "bookworm"), or "".
func DebianCodename(major string) string {
	switch major {
	case "4":
		return "etch"
	case "5":
		return "lenny"
	case "6":
		return "squeeze"
	case "7":
		return "wheezy"
	case "8":
		return "jessie"
	case "9":
		return "stretch"
	case "10":
		return "buster"
	case "11":
		return "bullseye"
	case "12":
		return "bookworm"
	case "13":
		return "trixie"
	case "14":
		return "forky"
	case "15":
		return "duke"
	}
	return ""
}

// DebianMajor returns the major release number of a Debian code name
// ("bookworm" -> "12"), or "".
func DebianMajor(codename string) string {
	for n := 4; n <= 15; n++ {
		s := fmt.Sprint(n)
		if DebianCodename(s) == codename {
			return s
		}
	}
	return ""
}

// fromDebianVersion reads etc/debian_version: "12.5", "6.0.10", or for
// testing and unstable "trixie/sid".
func fromDebianVersion(line string) *inventory.Distro {
	v := tokenWith(line, maxVersionLen, "/")
	if v == "" {
		return nil
	}
	d := &inventory.Distro{Family: "debian", Name: "Debian GNU/Linux " + v}
	if code, rest, ok := strings.Cut(v, "/"); ok {
		if rest != "sid" || DebianMajor(code) == "" {
			return nil
		}
		d.Codename = code
		d.Version = DebianMajor(code)
		return d
	}
	major, _, _ := strings.Cut(v, ".")
	if !allDigits(major) {
		return nil
	}
	d.Version = major
	d.Codename = DebianCodename(major)
	return d
}

// fromAlpineRelease reads etc/alpine-release: "3.20.1".
func fromAlpineRelease(line string) *inventory.Distro {
	v := token(line, maxVersionLen)
	if v == "" || v[0] < '0' || v[0] > '9' {
		return nil
	}
	return &inventory.Distro{Family: "alpine", Version: v, Name: "Alpine Linux " + v}
}

// fromRedHatStyle reads the one-line "<name> release <version> (<code>)"
// files of the Red Hat family.
func fromRedHatStyle(line string) *inventory.Distro {
	name := text(line, maxValueLen)
	before, after, ok := strings.Cut(name, " release ")
	if !ok {
		return nil
	}
	fields := strings.Fields(after)
	if len(fields) == 0 {
		return nil
	}
	v := token(fields[0], maxVersionLen)
	if v == "" || !allDigits(strings.ReplaceAll(v, ".", "")) {
		return nil
	}
	parts := strings.Split(v, ".")
	lower := strings.ToLower(before)
	d := &inventory.Distro{Name: name}
	switch {
	case strings.HasPrefix(lower, "red hat enterprise linux"):
		d.Family, d.Version = "rhel", firstN(parts, 2)
	case strings.HasPrefix(lower, "centos"):
		// os-release says VERSION_ID="7" for "7.9.2009".
		d.Family, d.Version = "centos", parts[0]
	case strings.HasPrefix(lower, "rocky linux"):
		d.Family, d.Version = "rocky", firstN(parts, 2)
	case strings.HasPrefix(lower, "almalinux"):
		d.Family, d.Version = "almalinux", firstN(parts, 2)
	case strings.HasPrefix(lower, "oracle linux"):
		d.Family, d.Version = "oracle", firstN(parts, 2)
	case strings.HasPrefix(lower, "fedora"):
		d.Family, d.Version = "fedora", parts[0]
	case strings.HasPrefix(lower, "amazon linux"):
		// "2", "2018.03" (AMI) and "2023.4.20240416" (VERSION_ID="2023").
		d.Family = "amazon"
		d.Version = v
		if len(parts) > 2 {
			d.Version = parts[0]
		}
	default:
		return nil
	}
	return d
}

// fromSuSERelease reads the legacy etc/SuSE-release:
//
//	SUSE Linux Enterprise Server 12 (x86_64)
//	VERSION = 12
//	PATCHLEVEL = 3
func fromSuSERelease(data []byte) *inventory.Distro {
	head := text(firstLine(data), maxValueLen)
	var version, patch string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxFileSize+1)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "VERSION":
			version = token(v, maxVersionLen)
		case "PATCHLEVEL":
			patch = token(v, maxVersionLen)
		}
	}
	lower := strings.ToLower(head)
	d := &inventory.Distro{Name: strings.TrimSpace(strings.TrimSuffix(head, archSuffix(head)))}
	switch {
	case strings.HasPrefix(lower, "suse linux enterprise server"):
		d.Family = "sles"
	case strings.HasPrefix(lower, "opensuse") && strings.Contains(lower, "tumbleweed"):
		d.Family = "opensuse-tumbleweed"
	case strings.HasPrefix(lower, "opensuse"):
		d.Family = "opensuse-leap"
	default:
		return nil
	}
	if version == "" || !allDigits(strings.ReplaceAll(version, ".", "")) {
		if d.Family != "opensuse-tumbleweed" {
			return nil
		}
		version = ""
	}
	d.Version = version
	if patch != "" && patch != "0" && allDigits(patch) && !strings.Contains(version, ".") {
		d.Version += "." + patch
	}
	return d
}

// archSuffix returns the trailing " (x86_64)" of a SuSE-release head line.
func archSuffix(s string) string {
	if i := strings.LastIndex(s, " ("); i >= 0 && strings.HasSuffix(s, ")") {
		return s[i:]
	}
	return ""
}

func firstLine(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return strings.TrimSpace(string(data))
}

func firstN(parts []string, n int) string {
	if len(parts) > n {
		parts = parts[:n]
	}
	return strings.Join(parts, ".")
}

func allDigits(s string) bool {
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
