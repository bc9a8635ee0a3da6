// Package osv parses advisories in the OSV format (https://ossf.github.io/
// osv-schema/), as JSON or YAML, and converts them into vulndb documents.
// Records are untrusted input: Parse caps their size, checks the fields
// vigil relies on and never panics; Convert keeps what the matcher can use
// (ECOSYSTEM and SEMVER ranges, explicit versions) and reports what it
// leaves out as warnings.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/vulndb"
)

// MaxRecordSize caps one record. The largest real records (Ubuntu, with
// every affected version listed per release) are a few hundred KiB.
const MaxRecordSize = 16 << 20

// Record is an OSV record: the fields vigil uses. Unknown fields are
// ignored.
type Record struct {
	SchemaVersion    string      `json:"schema_version" yaml:"schema_version"`
	ID               string      `json:"id" yaml:"id"`
	Modified         string      `json:"modified" yaml:"modified"`
	Published        string      `json:"published" yaml:"published"`
	Withdrawn        string      `json:"withdrawn" yaml:"withdrawn"`
	Aliases          []string    `json:"aliases" yaml:"aliases"`
	Upstream         []string    `json:"upstream" yaml:"upstream"`
	Related          []string    `json:"related" yaml:"related"`
	Summary          string      `json:"summary" yaml:"summary"`
	Details          string      `json:"details" yaml:"details"`
	Severity         []Severity  `json:"severity" yaml:"severity"`
	Affected         []Affected  `json:"affected" yaml:"affected"`
	References       []Reference `json:"references" yaml:"references"`
	DatabaseSpecific Specific    `json:"database_specific" yaml:"database_specific"`
}

// Severity is a severity score: a CVSS vector for the CVSS types, a word
// for "Ubuntu".
type Severity struct {
	Type  string `json:"type" yaml:"type"`
	Score string `json:"score" yaml:"score"`
}

// Affected is one affected package.
type Affected struct {
	Package           Package    `json:"package" yaml:"package"`
	Severity          []Severity `json:"severity" yaml:"severity"`
	Ranges            []Range    `json:"ranges" yaml:"ranges"`
	Versions          []string   `json:"versions" yaml:"versions"`
	EcosystemSpecific Specific   `json:"ecosystem_specific" yaml:"ecosystem_specific"`
	DatabaseSpecific  Specific   `json:"database_specific" yaml:"database_specific"`
}

// Package names the affected package.
type Package struct {
	Ecosystem string `json:"ecosystem" yaml:"ecosystem"`
	Name      string `json:"name" yaml:"name"`
	PURL      string `json:"purl" yaml:"purl"`
}

// Range is a version range: its type and events.
type Range struct {
	Type   string  `json:"type" yaml:"type"`
	Repo   string  `json:"repo" yaml:"repo"`
	Events []Event `json:"events" yaml:"events"`
}

// Event is one range event.
type Event struct {
	Introduced   string `json:"introduced" yaml:"introduced"`
	Fixed        string `json:"fixed" yaml:"fixed"`
	LastAffected string `json:"last_affected" yaml:"last_affected"`
	Limit        string `json:"limit" yaml:"limit"`
}

// Reference is a link.
type Reference struct {
	Type string `json:"type" yaml:"type"`
	URL  string `json:"url" yaml:"url"`
}

// Specific holds the string-valued keys vigil reads from the free-form
// database_specific and ecosystem_specific objects. Keys of another type
// are ignored rather than failing the record.
type Specific struct {
	// Severity is GHSA's database_specific.severity ("HIGH", "MODERATE").
	Severity string
	// Urgency is Debian's ecosystem_specific.urgency.
	Urgency string
	// UbuntuPriority is Ubuntu's ecosystem_specific.ubuntu_priority.
	UbuntuPriority string
}

func (s *Specific) set(key, val string) {
	switch key {
	case "severity":
		s.Severity = val
	case "urgency":
		s.Urgency = val
	case "ubuntu_priority":
		s.UbuntuPriority = val
	}
}

// UnmarshalJSON reads the known keys when they hold strings.
func (s *Specific) UnmarshalJSON(b []byte) error {
	*s = Specific{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		// Not an object: the schema says object, but nothing vigil needs
		// is lost by ignoring it.
		return nil
	}
	for _, k := range []string{"severity", "urgency", "ubuntu_priority"} {
		if raw, ok := m[k]; ok {
			var v string
			if json.Unmarshal(raw, &v) == nil {
				s.set(k, v)
			}
		}
	}
	return nil
}

// UnmarshalYAML reads the known keys when they hold scalars.
func (s *Specific) UnmarshalYAML(n *yaml.Node) error {
	*s = Specific{}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.ScalarNode {
			s.set(k.Value, v.Value)
		}
	}
	return nil
}

// ErrMalformed wraps every reason Parse rejects a record.
var ErrMalformed = errors.New("osv: malformed record")

// Parse parses one record, JSON or YAML (told apart by the first
// non-blank byte), and validates it.
func Parse(data []byte) (*Record, error) {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	if len(t) > 0 && t[0] == '{' {
		return ParseJSON(data)
	}
	return ParseYAML(data)
}

// ParseJSON parses and validates a JSON record.
func ParseJSON(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxRecordSize)
	}
	var r Record
	if fastRecord(data, &r) != nil {
		// The fast reader declines anything unusual; encoding/json decides
		// and words the error.
		r = Record{}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%w: json: %v", ErrMalformed, err)
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// ParseYAML parses and validates a YAML record. Every scalar is read as the
// string it is written as: "1.10" stays "1.10".
func ParseYAML(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxRecordSize)
	}
	var r Record
	if err := yamlUnmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: yaml: %v", ErrMalformed, err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// yamlUnmarshal decodes one document and turns a decoder panic (there
// should be none, but the input is hostile) into an error.
func yamlUnmarshal(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml decoder: %v", p)
		}
	}()
	return yaml.Unmarshal(data, v)
}

// ParseTime parses an OSV timestamp (RFC 3339, UTC "Z" or an offset).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// Validate checks what vigil relies on: an ID, a modified time, range
// types and events of the schema.
func (r *Record) Validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: no id", ErrMalformed)
	}
	if len(r.ID) > 256 || strings.ContainsFunc(r.ID, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '/' }) {
		return fmt.Errorf("%w: id %q", ErrMalformed, trunc(r.ID))
	}
	if _, err := ParseTime(r.Modified); err != nil {
		return fmt.Errorf("%w: %s: modified %q: %v", ErrMalformed, r.ID, trunc(r.Modified), err)
	}
	for _, f := range []struct{ name, v string }{{"published", r.Published}, {"withdrawn", r.Withdrawn}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseTime(f.v); err != nil {
			return fmt.Errorf("%w: %s: %s %q: %v", ErrMalformed, r.ID, f.name, trunc(f.v), err)
		}
	}
	for i, a := range r.Affected {
		for j, rg := range a.Ranges {
			switch rg.Type {
			case "ECOSYSTEM", "SEMVER", "GIT":
			default:
				return fmt.Errorf("%w: %s: affected[%d].ranges[%d]: type %q", ErrMalformed, r.ID, i, j, trunc(rg.Type))
			}
			if len(rg.Events) == 0 {
				return fmt.Errorf("%w: %s: affected[%d].ranges[%d]: no events", ErrMalformed, r.ID, i, j)
			}
			for k, ev := range rg.Events {
				n := 0
				for _, v := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
					if v != "" {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("%w: %s: affected[%d].ranges[%d].events[%d]: %d of introduced/fixed/last_affected/limit set, want 1", ErrMalformed, r.ID, i, j, k, n)
				}
			}
		}
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// WarningKind classifies what Convert left out.
type WarningKind int

// Warning kinds.
const (
	// UnknownEcosystem: an affected entry names an ecosystem the database
	// does not store.
	UnknownEcosystem WarningKind = iota + 1
	// Unmatchable: an affected entry has nothing a package version can be
	// matched against (GIT ranges only, or no package).
	Unmatchable
	// BadSeverity: a CVSS vector that does not parse.
	BadSeverity
)

// Warning is something Convert left out of a document.
type Warning struct {
	Kind    WarningKind
	Message string
}

func (w Warning) String() string { return w.Message }

// Convert turns a validated record into a vulndb document for the given
// feed ("osv/PyPI"). Entries of unknown ecosystems and entries with nothing
// matchable are left out and reported as warnings, as are CVSS vectors
// that do not parse.
func Convert(r *Record, feed string) (*vulndb.Doc, []Warning) {
	var warns []Warning
	warn := func(k WarningKind, format string, args ...any) {
		warns = append(warns, Warning{Kind: k, Message: r.ID + ": " + fmt.Sprintf(format, args...)})
	}
	modified, _ := ParseTime(r.Modified)
	published, _ := ParseTime(r.Published)
	var withdrawn time.Time
	if r.Withdrawn != "" {
		withdrawn, _ = ParseTime(r.Withdrawn)
	}
	aliases := slices.Concat(r.Aliases, r.Upstream)
	for _, a := range slices.Concat([]string{r.ID}, r.Aliases, r.Upstream) {
		if c := vulndb.CVEOf(a); c != "" && c != r.ID {
			aliases = append(aliases, c)
		}
	}
	aliases = vulndb.SortAliases(slices.DeleteFunc(aliases, func(a string) bool { return a == r.ID }))
	doc := &vulndb.Doc{
		Source:    vulndb.SourceOSV,
		ID:        r.ID,
		Feed:      feed,
		Modified:  modified,
		Withdrawn: r.Withdrawn != "",
	}
	det := &vulndb.Details{
		ID:        r.ID,
		Summary:   r.Summary,
		Details:   r.Details,
		Aliases:   aliases,
		Related:   r.Related,
		Published: published,
		Modified:  modified,
		Withdrawn: withdrawn,
		Severity:  r.DatabaseSpecific.Severity,
	}
	for _, ref := range r.References {
		if ref.URL != "" && !slices.Contains(det.References, ref.URL) {
			det.References = append(det.References, ref.URL)
		}
	}
	addSeverity := func(where string, sv []Severity) {
		for _, s := range sv {
			if s.Type == "Ubuntu" {
				if det.Severity == "" {
					det.Severity = s.Score
				}
				continue
			}
			c, err := ParseCVSS(s.Type, s.Score)
			if err != nil {
				warn(BadSeverity, "%s: %v", where, err)
				continue
			}
			if c != nil && !slices.Contains(det.CVSS, *c) {
				det.CVSS = append(det.CVSS, *c)
			}
		}
	}
	addSeverity("severity", r.Severity)
	for i, a := range r.Affected {
		addSeverity(fmt.Sprintf("affected[%d].severity", i), a.Severity)
		eco, name := strings.TrimSpace(a.Package.Ecosystem), strings.TrimSpace(a.Package.Name)
		if eco == "" || name == "" {
			warn(Unmatchable, "affected[%d]: no package ecosystem or name (repository-only entry)", i)
			continue
		}
		if !vulndb.KnownEcosystem(eco) {
			warn(UnknownEcosystem, "affected[%d]: unknown ecosystem %q", i, trunc(eco))
			continue
		}
		out := vulndb.Affected{
			ID:        r.ID,
			Aliases:   aliases,
			Ecosystem: eco,
			Package:   name,
			Versions:  a.Versions,
			Source:    vulndb.SourceOSV,
			Withdrawn: doc.Withdrawn,
			Severity:  entrySeverity(a),
		}
		for _, rg := range a.Ranges {
			if rg.Type == "GIT" {
				continue
			}
			evs := make([]vulndb.Event, 0, len(rg.Events))
			for _, ev := range rg.Events {
				evs = append(evs, vulndb.Event{Introduced: ev.Introduced, Fixed: ev.Fixed, LastAffected: ev.LastAffected, Limit: ev.Limit})
			}
			out.Ranges = append(out.Ranges, vulndb.Range{Type: rg.Type, Events: evs})
		}
		if len(out.Ranges) == 0 && len(out.Versions) == 0 {
			warn(Unmatchable, "affected[%d] (%s %s): only GIT ranges, nothing to match a version against", i, eco, trunc(name))
			continue
		}
		doc.Affected = append(doc.Affected, out)
	}
	doc.Details = det
	return doc, warns
}

// entrySeverity is the vendor's per-package severity: Debian urgency,
// Ubuntu priority.
func entrySeverity(a Affected) string {
	for _, s := range a.Severity {
		if s.Type == "Ubuntu" && s.Score != "" {
			return strings.ToLower(s.Score)
		}
	}
	if p := a.EcosystemSpecific.UbuntuPriority; p != "" {
		return strings.ToLower(p)
	}
	return NormalizeUrgency(a.EcosystemSpecific.Urgency)
}

// NormalizeUrgency turns a Debian urgency into a severity word: the
// trailing "*" / "**" (not yet confirmed) is dropped, and "not yet
// assigned" is no severity.
func NormalizeUrgency(u string) string {
	u = strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(u), "*")))
	if u == "not yet assigned" {
		return ""
	}
	return u
}

// ParseCVSS parses a CVSS vector of an OSV severity type and computes its
// base score. It returns nil, nil for a type that is not CVSS.
func ParseCVSS(typ, vector string) (*vulndb.CVSS, error) {
	vector = strings.TrimSpace(vector)
	switch typ {
	case "CVSS_V2":
		v := strings.TrimPrefix(vector, "CVSS:2.0/")
		c, err := gocvss20.ParseVector(v)
		if err != nil {
			return nil, fmt.Errorf("CVSS v2 vector %q: %v", trunc(vector), err)
		}
		return &vulndb.CVSS{Version: "2.0", Vector: v, Score: c.BaseScore()}, nil
	case "CVSS_V3":
		switch {
		case strings.HasPrefix(vector, "CVSS:3.1/"):
			c, err := gocvss31.ParseVector(vector)
			if err != nil {
				return nil, fmt.Errorf("CVSS v3.1 vector %q: %v", trunc(vector), err)
			}
			return &vulndb.CVSS{Version: "3.1", Vector: vector, Score: c.BaseScore()}, nil
		case strings.HasPrefix(vector, "CVSS:3.0/"):
			c, err := gocvss30.ParseVector(vector)
			if err != nil {
				return nil, fmt.Errorf("CVSS v3.0 vector %q: %v", trunc(vector), err)
			}
			return &vulndb.CVSS{Version: "3.0", Vector: vector, Score: c.BaseScore()}, nil
		}
		return nil, fmt.Errorf("CVSS v3 vector %q: no CVSS:3.x/ prefix", trunc(vector))
	case "CVSS_V4":
		c, err := gocvss40.ParseVector(vector)
		if err != nil {
			return nil, fmt.Errorf("CVSS v4 vector %q: %v", trunc(vector), err)
		}
		return &vulndb.CVSS{Version: "4.0", Vector: vector, Score: c.Score()}, nil
	}
	return nil, nil
}
