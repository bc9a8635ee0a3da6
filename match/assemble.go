package match

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
)

// vuln is one vulnerability of one package: the hits that name it.
type vuln struct {
	id      string // the CVE, or the representative advisory ID
	members []*hit
	// names are the identifiers the non-umbrella records give it.
	names []string
}

// errataKind classifies RPM errata IDs: security advisories list the CVEs
// they fix in "related" (ALSA-2022:8194 lists ten), bug-fix and
// enhancement errata usually name none.
func errataKind(id string) (errata, security bool) {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "RHSA", "ALSA", "RLSA", "RXSA", "ELSA":
		return true, true
	case "RHBA", "RHEA", "ALBA", "ALEA", "RLBA", "RLEA", "ELBA", "ELEA":
		return true, false
	}
	return false, false
}

// advisoryKind reports whether an ID names a vendor advisory (an update
// announcement that may fix several vulnerabilities) rather than one
// vulnerability: DSA, DLA, USN and the RPM errata.
func advisoryKind(id string) bool {
	if errata, _ := errataKind(id); errata {
		return true
	}
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "DSA", "DLA", "DTSA", "USN", "LSN", "ALAS", "ALAS2", "MGASA", "PHSA", "SUSE", "openSUSE":
		return true
	}
	return false
}

// cvesOf returns the CVEs a record names: its ID or aliases (CVE IDs and
// distro-prefixed ones such as DEBIAN-CVE-...). RPM errata name theirs only
// in "related" (AlmaLinux and Rocky Linux records have no aliases), so for
// those the record's details are read; keep is false for a bug-fix or
// enhancement erratum that names no CVE, which is no vulnerability.
func (r *run) cvesOf(ctx context.Context, a *vulndb.Affected) (cves []string, keep bool, err error) {
	add := func(id string) {
		if c := vulndb.CVEOf(id); c != "" && !slices.Contains(cves, c) {
			cves = append(cves, c)
		}
	}
	add(a.ID)
	for _, al := range a.Aliases {
		add(al)
	}
	if len(cves) > 0 {
		return cves, true, nil
	}
	errata, security := errataKind(a.ID)
	if !errata {
		return nil, true, nil
	}
	d, err := r.details(ctx, a.ID)
	if err != nil {
		return nil, false, err
	}
	if d != nil {
		for _, rel := range d.Related {
			add(rel)
		}
	}
	return cves, security || len(cves) > 0, nil
}

// compareCVE orders CVE IDs by year, then number.
func compareCVE(a, b string) int {
	ya, na, _ := strings.Cut(strings.TrimPrefix(a, "CVE-"), "-")
	yb, nb, _ := strings.Cut(strings.TrimPrefix(b, "CVE-"), "-")
	return cmp.Or(strings.Compare(ya, yb), cmp.Compare(len(na), len(nb)), strings.Compare(na, nb))
}

// unionFind joins identifiers that name the same vulnerability.
type unionFind map[string]string

func (u unionFind) find(x string) string {
	if _, ok := u[x]; !ok {
		u[x] = x
	}
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		if rb < ra {
			ra, rb = rb, ra
		}
		u[rb] = ra
	}
}

// group sorts one package's hits into vulnerabilities. Records that share
// an identifier (an ID or alias: PYSEC-2023-74 aliases GHSA-j8r2-6x86-q33q
// and CVE-2023-32681) are one vulnerability, named by its earliest CVE, or
// by its smallest record ID when it has no CVE. A vendor advisory naming
// several CVEs (a DSA, USN or RHSA) is an umbrella: it joins the
// vulnerability of each of its CVEs rather than merging them. Groups come
// back ordered by ID.
func (r *run) group(ctx context.Context, hits []hit) ([]*vuln, error) {
	uf := unionFind{}
	var kept []*hit
	for i := range hits {
		h := &hits[i]
		cves, keep, err := r.cvesOf(ctx, h.a)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		h.cves = cves
		h.umbrella = len(cves) > 1 && advisoryKind(h.a.ID)
		kept = append(kept, h)
		if h.umbrella {
			continue
		}
		uf.find(h.a.ID)
		for _, id := range h.a.Aliases {
			uf.union(h.a.ID, id)
		}
		for _, c := range cves {
			uf.union(h.a.ID, c)
		}
	}
	byRoot := map[string]*vuln{}
	get := func(root string) *vuln {
		v := byRoot[root]
		if v == nil {
			v = &vuln{}
			byRoot[root] = v
		}
		return v
	}
	for _, h := range kept {
		if h.umbrella {
			continue
		}
		v := get(uf.find(h.a.ID))
		v.members = append(v.members, h)
	}
	for id := range uf {
		v := byRoot[uf.find(id)]
		v.names = append(v.names, id)
	}
	for _, h := range kept {
		if !h.umbrella {
			continue
		}
		for _, c := range h.cves {
			// A CVE no other record names is a vulnerability of its own.
			v := get(uf.find(c))
			if !slices.Contains(v.names, c) {
				v.names = append(v.names, c)
			}
			if !slices.Contains(v.members, h) {
				v.members = append(v.members, h)
			}
		}
	}
	out := make([]*vuln, 0, len(byRoot))
	for _, v := range byRoot {
		slices.Sort(v.names)
		for _, n := range v.names {
			if vulndb.IsCVE(n) && (v.id == "" || compareCVE(n, v.id) < 0) {
				v.id = n
			}
		}
		if v.id == "" {
			for _, h := range v.members {
				if v.id == "" || h.a.ID < v.id {
					v.id = h.a.ID
				}
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *vuln) int { return strings.Compare(a.id, b.id) })
	return out, nil
}

// entryStatus is an entry's distro status. Debian's OSV records carry no
// status, but their urgency "unimportant" is the tracker's way of saying
// the issue will not be fixed, which the tracker feed reads as status
// "unimportant": both sources say the same.
func entryStatus(a *vulndb.Affected) string {
	if a.Status == "" && vendorOf(a.Ecosystem) == "debian" && strings.EqualFold(a.Severity, vulndb.StatusUnimportant) {
		return vulndb.StatusUnimportant
	}
	return a.Status
}

// fixStatusOf is the fix status a distro status gives when no fix exists.
func fixStatusOf(status string) report.FixStatus {
	switch status {
	case vulndb.StatusEndOfLife:
		return report.EndOfLife
	case vulndb.StatusUnimportant, vulndb.StatusIgnored:
		return report.WontFix
	}
	return report.NotFixed
}

// fixStatusRank orders fix statuses when records disagree: the most final
// statement wins.
func fixStatusRank(s report.FixStatus) int {
	switch s {
	case report.EndOfLife:
		return 3
	case report.WontFix:
		return 2
	case report.NotFixed:
		return 1
	}
	return 0
}

// statusNote explains the distro statuses FixStatus does not spell out.
func statusNote(status string) (string, bool) {
	switch status {
	case vulndb.StatusNoDSA:
		return "no-dsa (minor issue: no security advisory planned, may be fixed in a point release)", true
	case vulndb.StatusPostponed:
		return "postponed (fix deferred to a later update)", true
	case vulndb.StatusUnimportant:
		return "unimportant (does not warrant a security fix)", true
	case vulndb.StatusIgnored:
		return "ignored (will not be fixed)", true
	}
	return "", false
}

// detailed is a record's details with who published them.
type detailed struct {
	d      *vulndb.Details
	source string
	distro bool
}

// assemble builds the finding of one vulnerability of package p (index
// i); ok is false when a distro states the package is not affected.
func (r *run) assemble(ctx context.Context, p *inventory.Package, i int, l lookup, v *vuln) (report.Finding, bool, error) {
	for _, h := range v.members {
		if h.notAffected {
			return report.Finding{}, false, nil
		}
	}
	members := slices.Clone(v.members)
	slices.SortStableFunc(members, func(a, b *hit) int {
		return cmp.Or(cmp.Compare(btoi(a.umbrella), btoi(b.umbrella)), strings.Compare(a.a.ID, b.a.ID),
			strings.Compare(a.a.Source, b.a.Source), strings.Compare(a.a.Ecosystem, b.a.Ecosystem))
	})
	f := report.Finding{
		ID:               v.id,
		Package:          report.RefTo(p, i),
		InstalledVersion: l.version,
		Layer:            p.Layer,
	}

	// Fixes and fix status.
	var fixes, notes []string
	status := report.FixUnknown
	for _, h := range members {
		for _, fx := range h.fixes {
			if !slices.Contains(fixes, fx) {
				fixes = append(fixes, fx)
			}
		}
		st := entryStatus(h.a)
		if s := fixStatusOf(st); fixStatusRank(s) > fixStatusRank(status) {
			status = s
		}
		if n, ok := statusNote(st); ok {
			note := vendorOf(h.a.Ecosystem) + ": " + n
			if !slices.Contains(notes, note) {
				notes = append(notes, note)
			}
		}
	}
	if len(fixes) > 0 {
		slices.SortFunc(fixes, func(a, b string) int {
			va, erra := l.cmp.scheme.Parse(a)
			vb, errb := l.cmp.scheme.Parse(b)
			if erra != nil || errb != nil {
				return strings.Compare(a, b)
			}
			return va.Compare(vb)
		})
		f.FixedVersions = fixes
		f.FixStatus = report.Fixed
		notes = nil // a fix exists: why another record has none does not matter
	} else {
		f.FixStatus = status
	}

	// Identifiers: every record in AdvisoryIDs; in Aliases every name of
	// the vulnerability, but not vendor advisories (they are AdvisoryIDs)
	// nor an umbrella advisory's other CVEs.
	var advIDs, aliases []string
	for _, h := range members {
		if h.a.ID != v.id && !slices.Contains(advIDs, h.a.ID) {
			advIDs = append(advIDs, h.a.ID)
		}
	}
	for _, n := range v.names {
		if n != v.id && !advisoryKind(n) && !slices.Contains(aliases, n) {
			aliases = append(aliases, n)
		}
	}
	slices.Sort(advIDs)
	slices.Sort(aliases)
	f.AdvisoryIDs = advIDs
	f.Aliases = vulndb.SortAliases(aliases)

	// Details: the vulnerability's own ID first, then each record.
	var dets []detailed
	seen := map[string]bool{}
	var own *hit
	for _, h := range members {
		if h.a.ID == v.id {
			own = h
			break
		}
	}
	if d, err := r.details(ctx, v.id); err != nil {
		return f, false, err
	} else if d != nil {
		src := "nvd"
		if own != nil {
			src = recordSource(own.a.ID, own.a.Ecosystem)
		} else if len(d.Sources) > 0 {
			src = sourceLabel(d.Sources[0])
		}
		dets = append(dets, detailed{d: d, source: src, distro: own != nil && vendorOf(own.a.Ecosystem) != ""})
	}
	seen[v.id] = true
	for _, h := range members {
		if seen[h.a.ID] {
			continue
		}
		seen[h.a.ID] = true
		d, err := r.details(ctx, h.a.ID)
		if err != nil {
			return f, false, err
		}
		if d != nil {
			dets = append(dets, detailed{d: d, source: recordSource(h.a.ID, h.a.Ecosystem), distro: vendorOf(h.a.Ecosystem) != ""})
		}
	}
	for _, dd := range dets {
		d := dd.d
		if f.Title == "" {
			f.Title = d.Summary
		}
		if f.Description == "" {
			f.Description = strings.TrimSpace(d.Details)
		}
		for _, ref := range d.References {
			if !slices.Contains(f.References, ref) {
				f.References = append(f.References, ref)
			}
		}
		for _, c := range d.CVSS {
			if !slices.ContainsFunc(f.CVSS, func(x report.CVSS) bool { return x.Version == c.Version && x.Vector == c.Vector }) {
				f.CVSS = append(f.CVSS, report.CVSS{Version: c.Version, Vector: c.Vector, Score: c.Score, Source: dd.source})
			}
		}
		if d.KEV != nil {
			f.KEV = true
		}
		if d.EPSS != nil && f.EPSS == nil {
			e := &report.EPSS{Score: d.EPSS.Score, Percentile: d.EPSS.Percentile}
			if !d.EPSS.Date.IsZero() {
				e.Date = d.EPSS.Date.UTC().Format("2006-01-02")
			}
			f.EPSS = e
		}
	}
	if len(notes) > 0 {
		head := "Vendor status: " + strings.Join(notes, "; ") + "."
		if f.Description != "" {
			head += "\n\n" + f.Description
		}
		f.Description = head
	}
	f.Severity, f.SeveritySource = severity(members, dets, f.CVSS)
	return f, true, nil
}

// severity rates a vulnerability: the vendor's per-package rating first
// (Debian urgency, Ubuntu priority), then a distro record's own rating
// (database_specific severity, or the "Important:" of an RHSA-style
// summary), then the CVSS base score computed from the best vector (3.1,
// 3.0, 4.0, then 2.0, the vulnerability's own record first), then a
// record's own rating (GHSA's database_specific.severity). Within a tier
// the highest rating wins.
func severity(members []*hit, dets []detailed, cvss []report.CVSS) (report.Severity, string) {
	best, src := report.Unknown, ""
	consider := func(s report.Severity, from string) {
		if s.Rank() > best.Rank() {
			best, src = s, from
		}
	}
	for _, h := range members {
		if v := vendorOf(h.a.Ecosystem); v != "" {
			consider(severityWord(h.a.Severity), v)
		}
	}
	if best != report.Unknown {
		return best, src
	}
	for _, dd := range dets {
		if dd.distro {
			s := severityWord(dd.d.Severity)
			if s == report.Unknown {
				s = errataSeverity(dd.d.Summary)
			}
			consider(s, dd.source)
		}
	}
	if best != report.Unknown {
		return best, src
	}
	for _, want := range []string{"3.1", "3.0", "4.0", "2.0"} {
		for _, c := range cvss {
			if c.Version == want {
				return cvssSeverity(c.Version, c.Score), c.Source
			}
		}
	}
	for _, dd := range dets {
		if !dd.distro {
			consider(severityWord(dd.d.Severity), dd.source)
		}
	}
	return best, src
}

// severityWord maps a vendor's severity word to a report severity.
func severityWord(s string) report.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return report.Critical
	case "high", "important":
		return report.High
	case "medium", "moderate":
		return report.Medium
	case "low":
		return report.Low
	case "negligible", "unimportant":
		return report.Negligible
	}
	return report.Unknown
}

// errataSeverity reads the rating Red Hat style errata put before their
// summary ("Moderate: libtiff security update").
func errataSeverity(summary string) report.Severity {
	word, _, ok := strings.Cut(summary, ":")
	if !ok || len(word) > 16 {
		return report.Unknown
	}
	return severityWord(word)
}

// cvssSeverity maps a base score to the qualitative rating of its CVSS
// version: v2 has low (< 4), medium (< 7) and high; v3 and v4 add none (0)
// and critical (>= 9).
func cvssSeverity(ver string, score float64) report.Severity {
	if ver == "2.0" {
		switch {
		case score >= 7:
			return report.High
		case score >= 4:
			return report.Medium
		}
		return report.Low
	}
	switch {
	case score >= 9:
		return report.Critical
	case score >= 7:
		return report.High
	case score >= 4:
		return report.Medium
	case score > 0:
		return report.Low
	}
	return report.Negligible
}
