package feeds

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/vulndb"
)

// DefaultDebianTrackerURL is where the Debian Security Tracker publishes
// its JSON.
const DefaultDebianTrackerURL = "https://security-tracker.debian.org/tracker/data/json"

// debianReleases maps Debian code names to the release numbers OSV's
// "Debian:<n>" ecosystems use; unstable keeps its code name.
var debianReleases = map[string]string{
	"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1",
	"potato": "2.2", "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5",
	"squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
	"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
	"sid": "sid",
}

// DebianEcosystem returns the OSV ecosystem of a Debian code name
// ("bookworm" -> "Debian:12", "sid" -> "Debian:sid"), or "" for an unknown
// one.
func DebianEcosystem(codename string) string {
	if n, ok := debianReleases[codename]; ok {
		return "Debian:" + n
	}
	return ""
}

type trackerRelease struct {
	Status       string            `json:"status"`
	Repositories map[string]string `json:"repositories"`
	FixedVersion string            `json:"fixed_version"`
	Urgency      string            `json:"urgency"`
	NoDSA        string            `json:"nodsa"`
	NoDSAReason  string            `json:"nodsa_reason"`
}

type trackerIssue struct {
	Description string          `json:"description"`
	Releases    json.RawMessage `json:"releases"`
}

// DebianResult is what ParseDebianTracker read: one document per CVE (or
// TEMP- issue) covering every source package and release.
type DebianResult struct {
	Docs     []*vulndb.Doc
	Warnings []Warning
	// Packages is how many source packages the feed names.
	Packages int
}

// ParseDebianTracker reads the Security Tracker JSON: an object of source
// packages, each an object of issues, each with per-release status. The
// per-release states become entries of ecosystem "Debian:<n>":
//
//   - resolved with fixed_version "0": never affected (Status
//     "not-affected", no ranges);
//   - resolved with a version: range introduced 0, fixed at that version;
//   - open or undetermined: range introduced 0 and Status "end-of-life",
//     "unimportant", "ignored", "postponed", "no-dsa" or "open", from the
//     urgency and no-DSA marks in that order.
//
// Severity is the urgency without the unconfirmed marks ("high**" ->
// "high"). The file is read as a stream: one package at a time.
func ParseDebianTracker(r io.Reader) (*DebianResult, error) {
	dec := json.NewDecoder(newLimitReader(r, MaxFeedSize))
	res := &DebianResult{}
	warn := func(k WarningKind, format string, args ...any) {
		res.Warnings = append(res.Warnings, Warning{Kind: k, Message: fmt.Sprintf(format, args...)})
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("feeds: debian tracker: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("feeds: debian tracker: want an object of packages, got %v", tok)
	}
	docs := map[string]*vulndb.Doc{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("feeds: debian tracker: %w", err)
		}
		pkg, _ := tok.(string)
		res.Packages++
		var issues map[string]json.RawMessage
		if err := dec.Decode(&issues); err != nil {
			if _, ok := err.(*json.UnmarshalTypeError); !ok {
				return nil, fmt.Errorf("feeds: debian tracker: package %q: %w", pkg, err)
			}
			warn(Malformed, "debian tracker: package %q: not an object of issues", pkg)
			continue
		}
		if pkg == "" || hasCtl(pkg) {
			warn(Malformed, "debian tracker: bad package name %q", pkg)
			continue
		}
		for _, id := range sortedKeys(issues) {
			if !validID(id) {
				warn(Malformed, "debian tracker: %s: bad issue id %q", pkg, id)
				continue
			}
			var is trackerIssue
			if err := json.Unmarshal(issues[id], &is); err != nil {
				warn(Malformed, "debian tracker: %s %s: %v", pkg, id, err)
				continue
			}
			var rels map[string]json.RawMessage
			if err := json.Unmarshal(is.Releases, &rels); err != nil || rels == nil {
				warn(Malformed, "debian tracker: %s %s: releases is not an object", pkg, id)
				continue
			}
			doc := docs[id]
			if doc == nil {
				doc = &vulndb.Doc{
					Source: vulndb.SourceDebianTracker,
					ID:     id,
					Feed:   vulndb.SourceDebianTracker,
					Details: &vulndb.Details{
						ID:         id,
						Details:    is.Description,
						References: []string{"https://security-tracker.debian.org/tracker/" + id},
					},
				}
				docs[id] = doc
			} else if doc.Details.Details == "" {
				doc.Details.Details = is.Description
			}
			for _, code := range sortedKeys(rels) {
				var rel trackerRelease
				if err := json.Unmarshal(rels[code], &rel); err != nil {
					warn(Malformed, "debian tracker: %s %s %s: %v", pkg, id, code, err)
					continue
				}
				eco := DebianEcosystem(code)
				if eco == "" {
					warn(UnknownEcosystem, "debian tracker: %s %s: unknown release %q", pkg, id, code)
					continue
				}
				a, err := trackerAffected(id, eco, pkg, &rel)
				if err != nil {
					warn(Malformed, "debian tracker: %s %s %s: %v", pkg, id, code, err)
					continue
				}
				doc.Affected = append(doc.Affected, a)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("feeds: debian tracker: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("feeds: debian tracker: data after the top-level object")
	}
	for _, id := range sortedKeys(docs) {
		res.Docs = append(res.Docs, docs[id])
	}
	return res, nil
}

func trackerAffected(id, eco, pkg string, rel *trackerRelease) (vulndb.Affected, error) {
	a := vulndb.Affected{ID: id, Ecosystem: eco, Package: pkg, Source: vulndb.SourceDebianTracker}
	urgency := strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rel.Urgency), "*")))
	switch urgency {
	case "not yet assigned", "end-of-life":
		a.Severity = ""
	default:
		a.Severity = urgency
	}
	switch rel.Status {
	case "resolved":
		switch rel.FixedVersion {
		case "":
			return a, fmt.Errorf("resolved without fixed_version")
		case "0":
			a.Status = vulndb.StatusNotAffected
		default:
			a.Ranges = []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: rel.FixedVersion}}}}
		}
	case "open", "undetermined":
		a.Ranges = []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: "0"}}}}
		switch {
		case urgency == "end-of-life":
			a.Status = vulndb.StatusEndOfLife
		case urgency == "unimportant":
			a.Status = vulndb.StatusUnimportant
		case rel.NoDSAReason == "ignored":
			a.Status = vulndb.StatusIgnored
		case rel.NoDSAReason == "postponed":
			a.Status = vulndb.StatusPostponed
		case rel.NoDSA != "" || rel.NoDSAReason != "":
			a.Status = vulndb.StatusNoDSA
		default:
			a.Status = vulndb.StatusOpen
		}
	default:
		return a, fmt.Errorf("unknown status %q", rel.Status)
	}
	return a, nil
}

// validID accepts advisory IDs that are safe as keys: printable, no blanks
// or slashes, at most 128 bytes.
func validID(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsFunc(id, func(c rune) bool {
		return c <= ' ' || c == 0x7f || c == '/' || c == '\\'
	})
}

func hasCtl(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool { return c < ' ' || c == 0x7f })
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
