// Package feeds parses the advisory feeds vigil reads besides OSV: the
// Debian Security Tracker JSON, Alpine's secdb (JSON or YAML, one file per
// release and repository), the CISA Known Exploited Vulnerabilities catalog
// and the EPSS score CSV. Each parser reads untrusted input with limits,
// never panics, and reports a bad item as a warning while keeping the rest;
// only an unreadable file is an error.
package feeds

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxFeedSize caps the decompressed size of one feed file. The Debian
// tracker JSON, the largest, is about 80 MiB.
const MaxFeedSize = 1 << 30

// ErrTooLarge is returned when a feed exceeds its size limit.
var ErrTooLarge = errors.New("feeds: feed exceeds size limit")

// WarningKind classifies a bad item.
type WarningKind int

// Warning kinds.
const (
	// Malformed: an item that does not have the feed's shape.
	Malformed WarningKind = iota + 1
	// UnknownEcosystem: an item for a release vigil cannot name (an
	// unknown Debian code name).
	UnknownEcosystem
)

// Warning is one item a parser skipped or could only partly read.
type Warning struct {
	Kind    WarningKind
	Message string
}

func (w Warning) String() string { return w.Message }

// limitReader fails with ErrTooLarge instead of stopping silently.
type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func newLimitReader(r io.Reader, limit int64) *limitReader {
	return &limitReader{r: r, left: limit, limit: limit}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Tell a stream that ends exactly at the limit from one that goes on.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, l.limit)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Kind names a feed format.
type Kind string

// Feed kinds Sniff recognises.
const (
	KindUnknown       Kind = ""
	KindOSVZip        Kind = "osv-zip"
	KindOSVRecord     Kind = "osv"
	KindDebianTracker Kind = "debian-tracker"
	KindAlpineSecdb   Kind = "alpine-secdb"
	KindKEV           Kind = "kev"
	KindEPSS          Kind = "epss"
)

// sniffSize is how much of a file Sniff looks at.
const sniffSize = 64 << 10

// Sniff tells which feed a file holds from its first bytes: a zip archive
// (an OSV export), gzip (looked into), an EPSS CSV, a KEV catalog, an
// Alpine secdb file, a Debian tracker JSON or a single OSV record. It
// returns a reader that still yields the whole (decompressed) content.
func Sniff(r io.Reader) (Kind, io.Reader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return KindUnknown, nil, err
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")) {
		return KindOSVZip, br, nil
	}
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return KindUnknown, nil, fmt.Errorf("feeds: gzip: %w", err)
		}
		return Sniff(newLimitReader(zr, MaxFeedSize))
	}
	return sniffText(head), br, nil
}

func sniffText(head []byte) Kind {
	t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	s := string(t)
	has := func(subs ...string) bool {
		for _, x := range subs {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	}
	switch {
	case strings.HasPrefix(s, "#model_version") || strings.HasPrefix(s, "cve,epss"):
		return KindEPSS
	case len(t) > 0 && t[0] == '{':
		switch {
		case has(`"vulnerabilities"`) && (has(`"catalogVersion"`) || has(`"cveID"`)):
			return KindKEV
		case has(`"packages"`) && (has(`"distroversion"`) || has(`"reponame"`) || has(`"secfixes"`)):
			return KindAlpineSecdb
		case has(`"releases"`) && (has(`"CVE-`) || has(`"TEMP-`)) && !has(`"affected"`):
			return KindDebianTracker
		case has(`"id"`) && (has(`"modified"`) || has(`"affected"`)):
			return KindOSVRecord
		}
	default:
		switch {
		case has("secfixes:") || has("distroversion:"):
			return KindAlpineSecdb
		case has("id:") && (has("modified:") || has("affected:")):
			return KindOSVRecord
		}
	}
	return KindUnknown
}
