// Package vulndb is vigil's advisory store: the data model the matcher reads
// (Affected entries with their version ranges, Details loaded only for
// findings, CISA KEV and EPSS enrichment), the single-file database that
// holds it, and the Builder that writes a new database file from source
// documents. The database is one bbolt file whose values are compact binary
// records compressed with zstd; scans open it read-only and an update
// replaces it atomically with a rename, so a running scan keeps reading the
// old file.
package vulndb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the version of the database file layout. Open refuses a
// file with another version.
const SchemaVersion = 2

// Source names, as stored in Affected.Source and Meta.
const (
	SourceOSV           = "osv"
	SourceDebianTracker = "debian-tracker"
	SourceAlpineSecdb   = "alpine-secdb"
	SourceKEV           = "kev"
	SourceEPSS          = "epss"
)

// Range types kept in the database. GIT ranges are dropped when a record is
// converted: no installed package carries a commit hash.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
)

// Distro statuses carried in Affected.Status.
const (
	StatusNotAffected = "not-affected"
	StatusNoDSA       = "no-dsa"
	StatusUnimportant = "unimportant"
	StatusEndOfLife   = "end-of-life"
	StatusIgnored     = "ignored"
	StatusPostponed   = "postponed"
	StatusOpen        = "open"
)

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Range is an OSV range: a type ("ECOSYSTEM" or "SEMVER") and its events in
// the order the source gave them.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Affected is one (advisory, ecosystem, package) entry: what a lookup
// returns.
type Affected struct {
	// ID is the advisory ID: GHSA-..., GO-..., PYSEC-..., DSA-...,
	// DEBIAN-CVE-..., or CVE-... for the distro trackers.
	ID string `json:"id"`
	// Aliases are the record's aliases and upstream IDs, CVE IDs first.
	Aliases []string `json:"aliases,omitempty"`
	// Ecosystem is the OSV ecosystem string: "Debian:12", "Alpine:v3.20",
	// "Ubuntu:22.04:LTS", "PyPI", "Go", ...
	Ecosystem string `json:"ecosystem"`
	// Package is the name as the advisory gives it (Debian and Ubuntu: the
	// source package; Alpine: the origin package).
	Package  string   `json:"package"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
	// Status is empty when the ranges say everything, or a distro status:
	// "not-affected", "no-dsa", "unimportant", "end-of-life", "ignored",
	// "postponed", "open".
	Status string `json:"status,omitempty"`
	// Severity is the vendor's per-package severity when the source gives
	// one (Debian urgency, Ubuntu priority).
	Severity string `json:"severity,omitempty"`
	// Source names the feed: "osv", "debian-tracker", "alpine-secdb".
	Source string `json:"source"`
	// Withdrawn is set by converters for a withdrawn record. The Builder
	// never stores withdrawn entries: a withdrawn record removes what it
	// stated, so lookups never return one.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// CVSS is one CVSS vector with its base score computed from the vector.
type CVSS struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
}

// KEV is a CISA Known Exploited Vulnerabilities catalog entry.
type KEV struct {
	CVE                        string    `json:"cveID"`
	VendorProject              string    `json:"vendorProject,omitempty"`
	Product                    string    `json:"product,omitempty"`
	Name                       string    `json:"vulnerabilityName,omitempty"`
	DateAdded                  time.Time `json:"dateAdded,omitzero"`
	ShortDescription           string    `json:"shortDescription,omitempty"`
	RequiredAction             string    `json:"requiredAction,omitempty"`
	DueDate                    time.Time `json:"dueDate,omitzero"`
	KnownRansomwareCampaignUse string    `json:"knownRansomwareCampaignUse,omitempty"`
	Notes                      string    `json:"notes,omitempty"`
	CWEs                       []string  `json:"cwes,omitempty"`
}

// EPSS is one Exploit Prediction Scoring System score.
type EPSS struct {
	CVE        string    `json:"cve"`
	Score      float64   `json:"epss"`
	Percentile float64   `json:"percentile"`
	Date       time.Time `json:"date,omitzero"`
}

// Details is what a finding shows beyond the ranges. Store.Details merges
// what every source says about one ID.
type Details struct {
	ID         string    `json:"id"`
	Summary    string    `json:"summary,omitempty"`
	Details    string    `json:"details,omitempty"`
	Aliases    []string  `json:"aliases,omitempty"`
	Related    []string  `json:"related,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	Modified   time.Time `json:"modified,omitzero"`
	Withdrawn  time.Time `json:"withdrawn,omitzero"`
	References []string  `json:"references,omitempty"`
	CVSS       []CVSS    `json:"cvss,omitempty"`
	// Severity is the record's own rating, e.g. GHSA database_specific.severity.
	Severity string `json:"severity,omitempty"`
	// Sources lists the feeds that contributed, in priority order.
	Sources []string `json:"sources,omitempty"`
	KEV     *KEV     `json:"kev,omitempty"`
	EPSS    *EPSS    `json:"epss,omitempty"`
}

// Store is what the matcher needs from the database. *DB implements it.
type Store interface {
	// EachAdvisory calls fn with every entry for the package in the
	// ecosystem (the name is normalised with NormalizeName). The entry is
	// valid only until fn returns; Clone keeps it.
	EachAdvisory(ctx context.Context, ecosystem, pkg string, fn func(*Affected) error) error
	// Details returns the merged details of an advisory ID, with KEV and
	// EPSS attached for its CVE.
	Details(ctx context.Context, id string) (*Details, error)
	KEV(ctx context.Context, cve string) (*KEV, error)
	EPSS(ctx context.Context, cve string) (*EPSS, error)
}

// FeedState is what the database remembers about one feed so that the
// next update can fetch only what changed.
type FeedState struct {
	URL string `json:"url,omitempty"`
	// Updated is when the feed was last imported successfully.
	Updated time.Time `json:"updated,omitzero"`
	// Watermark is the newest "modified" time seen (OSV delta updates).
	Watermark    time.Time `json:"watermark,omitzero"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	// Docs is how many documents the feed holds in the database.
	Docs int `json:"docs"`
}

// Meta describes a database file.
type Meta struct {
	Schema int       `json:"schema"`
	Built  time.Time `json:"built"`
	// Feeds is keyed by feed name: "osv/PyPI", "debian-tracker",
	// "alpine-secdb/v3.20/main", "kev", "epss".
	Feeds map[string]FeedState `json:"feeds,omitempty"`
	// Ecosystems counts advisories per ecosystem key ("Debian:12": 5120).
	Ecosystems map[string]int `json:"ecosystems,omitempty"`
	// Docs is the number of advisory documents; KEV and EPSS count entries.
	Docs int `json:"docs"`
	KEV  int `json:"kev"`
	EPSS int `json:"epss"`
	// EPSSDate is the score date of the EPSS data.
	EPSSDate time.Time `json:"epssDate,omitzero"`
}

// DefaultMaxAge is how old a database may get before CheckFresh warns.
const DefaultMaxAge = 72 * time.Hour

// StaleError says the database is older than allowed. Scans report it as a
// warning and carry on.
type StaleError struct {
	Built  time.Time
	Age    time.Duration
	MaxAge time.Duration
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("vulndb: database built %s is %s old (more than %s): run `vigil db update` for current advisories",
		e.Built.UTC().Format(time.RFC3339), e.Age.Round(time.Minute), e.MaxAge)
}

// CheckFresh returns a *StaleError when the database was built more than
// maxAge before now (DefaultMaxAge when maxAge is 0). It never blocks a
// scan: callers print the error as a warning.
func (m *Meta) CheckFresh(now time.Time, maxAge time.Duration) error {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	age := now.Sub(m.Built)
	if age > maxAge {
		return &StaleError{Built: m.Built, Age: age, MaxAge: maxAge}
	}
	return nil
}

// Errors callers branch on.
var (
	// ErrNotFound is returned by Details, KEV and EPSS for an unknown ID.
	ErrNotFound = errors.New("vulndb: not found")
	// ErrSchema is returned by Open for a file of another schema version.
	ErrSchema = errors.New("vulndb: unsupported database schema")
	// ErrCorrupt wraps any inconsistency found while reading the file.
	ErrCorrupt = errors.New("vulndb: corrupt database")
)
