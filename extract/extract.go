// Package extract defines the Extractor interface that every ecosystem plugs
// into, and the Registry the layer walk consults for each file it meets. The
// walk offers every file of every layer exactly once; an extractor says from
// the path and file info alone whether it wants the file, and then reads it
// through a size-capped, random-access reader.
package extract

import (
	"context"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/inventory"
)

// DefaultMaxFileSize caps how many bytes of one file an extractor is given.
// Files larger than that are skipped with a warning.
const DefaultMaxFileSize = 512 << 20

// Input is one file offered to an extractor.
type Input struct {
	// Path is the cleaned path inside the image, without a leading slash
	// ("var/lib/dpkg/status").
	Path string
	// Info describes the entry as the layer recorded it.
	Info fs.FileInfo
	// Reader gives random access to the file's bytes; Size is its length.
	// Extractors that stream wrap it in io.NewSectionReader(Reader, 0, Size).
	Reader io.ReaderAt
	Size   int64
	// Layer is the index of the layer being walked (informational).
	Layer int
}

// Ownership lists the files an OS package installed, when the database keeps
// them apart from the package record (dpkg's info/*.list).
type Ownership struct {
	Ecosystem inventory.Ecosystem `json:"ecosystem"`
	Package   string              `json:"package"`
	Arch      string              `json:"arch,omitempty"`
	Files     []string            `json:"files"`
}

// Result is what an extractor found in one file.
type Result struct {
	Packages []inventory.Package `json:"packages,omitempty"`
	// Distro is set by release-detection extractors; DistroRank orders
	// competing sources (lower wins: etc/os-release before fallbacks).
	Distro     *inventory.Distro `json:"distro,omitempty"`
	DistroRank int               `json:"distroRank,omitempty"`
	Owned      []Ownership       `json:"owned,omitempty"`
	// Warnings are problems inside the file that did not stop extraction.
	Warnings []string `json:"warnings,omitempty"`
}

// Extractor reads one kind of file.
type Extractor interface {
	// Name is a stable identifier, e.g. "dpkg".
	Name() string
	// Version is bumped whenever the extractor's output changes for the same
	// input; it is part of the layer cache key.
	Version() int
	// Wants reports whether the extractor reads this file. It must be pure
	// and cheap: it is called for every file of every layer.
	Wants(path string, fi fs.FileInfo) bool
	// Extract reads the file. Packages need no Locations: the walk records
	// where each came from.
	Extract(ctx context.Context, in *Input) (*Result, error)
}

// Registry is an ordered set of extractors.
type Registry struct {
	extractors []Extractor
}

// NewRegistry returns a registry of the given extractors, in order.
func NewRegistry(ex ...Extractor) *Registry {
	return &Registry{extractors: append([]Extractor(nil), ex...)}
}

// Extractors returns the registered extractors.
func (r *Registry) Extractors() []Extractor { return r.extractors }

// Wanting appends to dst the extractors that want the file and returns it.
func (r *Registry) Wanting(dst []Extractor, path string, fi fs.FileInfo) []Extractor {
	for _, e := range r.extractors {
		if e.Wants(path, fi) {
			dst = append(dst, e)
		}
	}
	return dst
}

// Fingerprint identifies the registry's extractors and their versions; the
// layer cache key includes it so that a changed extractor misses the cache.
func (r *Registry) Fingerprint() string {
	parts := make([]string, 0, len(r.extractors))
	for _, e := range r.extractors {
		parts = append(parts, e.Name()+"@"+strconv.Itoa(e.Version()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Select returns a registry holding only the extractors whose names are
// listed (all of them when names is empty).
func (r *Registry) Select(names ...string) *Registry {
	if len(names) == 0 {
		return r
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Extractor
	for _, e := range r.extractors {
		if want[e.Name()] {
			out = append(out, e)
		}
	}
	return NewRegistry(out...)
}
