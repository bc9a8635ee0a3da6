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

// FileFinding is one audit observation an extractor or observer makes.
type FileFinding struct {
	inventory.FileFinding
	Persistent bool `json:"persistent,omitempty"`
}

// Observer is an optional interface for extractors that want to see every
// entry of every layer (directories, links, special files too) by path and
// file info alone, without reading any body: permission checks, build
// caches left behind. Observe must be cheap; it runs for every entry.
type Observer interface {
	Observe(path string, fi fs.FileInfo) []FileFinding
}

// Result is what an extractor found in one file.
type Result struct {
	Packages []inventory.Package `json:"packages,omitempty"`
	// Distro is set by release-detection extractors; DistroRank orders
	// competing sources (lower wins: etc/os-release before fallbacks).
	Distro     *inventory.Distro `json:"distro,omitempty"`
	DistroRank int               `json:"distroRank,omitempty"`
	Owned      []Ownership       `json:"owned,omitempty"`
	// Files are audit observations about this file (a secret, a risky
	// permission). Path and Layer are filled by the walk. A finding with
	// Persistent set is kept even when a later layer deletes the file: a
	// secret committed to any layer still ships in the image.
	Files []FileFinding `json:"files,omitempty"`
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
	observers  []Observer
}

// NewRegistry returns a registry of the given extractors, in order.
func NewRegistry(ex ...Extractor) *Registry {
	r := &Registry{extractors: append([]Extractor(nil), ex...)}
	for _, e := range ex {
		if o, ok := e.(Observer); ok {
			r.observers = append(r.observers, o)
		}
	}
	return r
}

// Observe calls every observer on an entry and returns their findings.
func (r *Registry) Observe(path string, fi fs.FileInfo) []FileFinding {
	var out []FileFinding
	for _, o := range r.observers {
		out = append(out, o.Observe(path, fi)...)
	}
	return out
}

// HasObservers reports whether any extractor observes entries.
func (r *Registry) HasObservers() bool { return len(r.observers) > 0 }

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
