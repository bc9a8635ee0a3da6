// Package match finds the known vulnerabilities of an inventory's packages.
// It looks every package up in an advisory store (vulndb), decides with the
// package's own version scheme whether the installed version lies in an
// advisory's affected ranges (OSV semantics), and assembles one
// report.Finding per package instance and vulnerability, with the fix, the
// severity and its source, CVSS, KEV and EPSS.
//
// What is looked up where:
//
//   - Debian and Ubuntu packages by their SOURCE package and SOURCE version
//     (advisories name source packages), in the ecosystem of the image's
//     release only ("Debian:12", "Ubuntu:22.04:LTS" and "Ubuntu:Pro:22.04:LTS");
//   - Alpine, Wolfi and Chainguard packages by their origin package;
//   - AlmaLinux, Rocky Linux, RHEL and CentOS packages by their binary name
//     and full epoch:version-release (see rpmEpoch for records without an
//     epoch);
//   - language packages by name in their OSV ecosystem (Maven as
//     "group:artifact", the Go toolchain as the "stdlib" package). A
//     language package owned by an OS package (OwnedBy) is not looked up:
//     its OS package's advisories cover it, and looking it up twice would
//     count one vulnerability twice.
//
// Distro statuses are carried through: "not-affected" from any source means
// no finding (it overrides another record's "affected"); "end-of-life"
// gives FixStatus end-of-life; "unimportant" (the tracker's status, or the
// urgency of a Debian OSV record) and "ignored" give wont-fix; "no-dsa",
// "postponed" and "open" give not-fixed. Statuses that FixStatus does not
// spell out (no-dsa, postponed, unimportant, ignored) are named on the
// first line of the finding's Description ("Vendor status: debian: no-dsa
// (...)."), as report.Finding has no field for them.
//
// Severity: the vendor's rating for the package first (Debian urgency,
// Ubuntu priority), then a distro record's own rating, then the CVSS base
// score computed from the best vector, then a record's own rating (GHSA's
// database_specific.severity); SeveritySource names who gave it.
//
// One vulnerability is one finding per package instance, keyed by its CVE
// where one exists: records that alias the same CVE (PYSEC and GHSA, GO and
// GHSA, DEBIAN-CVE and the Debian tracker's CVE entry, a DSA) become one
// finding whose ID is the CVE and whose AdvisoryIDs list every record. A
// vendor advisory covering several CVEs (a DSA, USN, RHSA or ALSA) is
// listed in the finding of each of them. Details (text, CVSS, KEV, EPSS)
// are read from the store only for findings.
//
// Versions that do not parse, installed or in a record, are warnings
// located at the package: the advisory is neither applied nor silently
// dropped.
package match

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/version"
	"github.com/vigilsec/vigil/vulndb"
)

// Component is the Component of the warnings Match returns.
const Component = "match"

// MaxWarnings caps the warnings one Match returns: an image of a hundred
// thousand packages with broken versions must not make a report of a
// hundred thousand warnings. The rest are counted in one last warning.
const MaxWarnings = 1000

// Matcher matches inventories against an advisory store. The zero value
// with a Store is ready to use; a Matcher is safe for concurrent use.
type Matcher struct {
	// Store is the advisory database. When it also implements
	// EcosystemLister, distro ecosystem keys are picked from its list.
	Store vulndb.Store
}

// Match returns the vulnerabilities of inv's packages, ordered by severity
// (most severe first), then package position in inv.Packages, then ID, and
// the warnings met on the way (invalid versions, releases without
// advisories), ordered as inventory.Inventory.Sort orders warnings. It
// reads nothing but the store; an error means the store failed or ctx
// ended.
func (m *Matcher) Match(ctx context.Context, inv *inventory.Inventory) ([]report.Finding, []inventory.Warning, error) {
	if m == nil || m.Store == nil {
		return nil, nil, errors.New("match: no advisory store (open one with vulndb.Open)")
	}
	if inv == nil {
		return nil, nil, errors.New("match: nil inventory")
	}
	r := &run{
		store:  m.Store,
		inv:    inv,
		det:    map[string]*vulndb.Details{},
		distro: map[inventory.Ecosystem]*distroTarget{},
		wseen:  map[inventory.Warning]bool{},
	}
	if l, ok := m.Store.(EcosystemLister); ok {
		r.listing = l.Ecosystems()
		if r.listing == nil {
			r.listing = []string{}
		}
	}
	var out []report.Finding
	for i := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("match: %w", err)
		}
		fs, err := r.pkg(ctx, i)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, fs...)
	}
	r.distroWarnings()
	if r.dropped > 0 {
		r.warns = append(r.warns, inventory.Warning{Layer: -1, Component: Component,
			Message: fmt.Sprintf("%d more matcher warnings were left out (the first %d are listed)", r.dropped, MaxWarnings)})
	}
	slices.SortStableFunc(out, func(a, b report.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Package.Index, b.Package.Index),
			strings.Compare(a.ID, b.ID),
		)
	})
	warns := r.warns
	slices.SortFunc(warns, func(a, b inventory.Warning) int {
		return cmp.Or(cmp.Compare(a.Layer, b.Layer), strings.Compare(a.Path, b.Path),
			strings.Compare(a.Component, b.Component), strings.Compare(a.Message, b.Message))
	})
	return out, warns, nil
}

// run is the state of one Match call: the details cache and the warnings.
// Advisory entries are not cached: the store decodes them without
// allocating, and only the entries that match are kept.
type run struct {
	store   vulndb.Store
	inv     *inventory.Inventory
	listing []string                   // nil: the store cannot list its ecosystems
	det     map[string]*vulndb.Details // nil value: not found
	distro  map[inventory.Ecosystem]*distroTarget
	skipped map[inventory.Ecosystem]int // OS packages not matched, by ecosystem
	warns   []inventory.Warning
	wseen   map[inventory.Warning]bool
	dropped int // warnings over MaxWarnings
}

func (r *run) warn(p *inventory.Package, format string, args ...any) {
	w := inventory.Warning{Layer: p.Layer, Component: Component, Message: fmt.Sprintf(format, args...)}
	if len(p.Locations) > 0 {
		w.Path, w.Layer = p.Locations[0].Path, p.Locations[0].Layer
	}
	if r.wseen[w] {
		return
	}
	if len(r.warns) >= MaxWarnings {
		r.dropped++
		return
	}
	r.wseen[w] = true
	r.warns = append(r.warns, w)
}

// clip shortens an image- or feed-supplied string for a message.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// lookup is where one package's advisories are found and how its version
// compares.
type lookup struct {
	ecosystems []string
	name       string
	version    string
	cmp        *comparer
}

// target decides how package p is looked up; ok is false for packages that
// are not matched (owned by an OS package, no name, an ecosystem without
// advisories).
func (r *run) target(p *inventory.Package) (lookup, bool) {
	var l lookup
	scheme, ok := version.ForEcosystem(p.Ecosystem)
	if !ok {
		return l, false
	}
	l.cmp = &comparer{scheme: scheme}
	l.name, l.version = p.Name, p.Version
	if p.Ecosystem.IsOS() {
		t := r.distro[p.Ecosystem]
		if t == nil {
			dt := distroEcosystems(r.inv.Distro, p.Ecosystem, r.listing)
			t = &dt
			r.distro[p.Ecosystem] = t
		}
		if len(t.ecosystems) == 0 {
			if r.skipped == nil {
				r.skipped = map[inventory.Ecosystem]int{}
			}
			r.skipped[p.Ecosystem]++
			return l, false
		}
		l.ecosystems = t.ecosystems
		switch p.Ecosystem {
		case inventory.Deb:
			l.name = cmp.Or(p.SourceName, p.Name)
			l.version = cmp.Or(p.SourceVersion, p.Version)
		case inventory.APK:
			l.name = cmp.Or(p.SourceName, p.Name)
		case inventory.RPM:
			l.cmp.norm = rpmEpoch(p.Version)
		}
		return l, l.name != ""
	}
	if p.OwnedBy != "" {
		return l, false
	}
	eco, ok := osvLanguage(p.Ecosystem)
	if !ok {
		return l, false
	}
	l.ecosystems = []string{eco}
	switch p.Ecosystem {
	case inventory.Go:
		// The toolchain is the Go vulnerability database's "stdlib"
		// package. Its "toolchain" package is the go command, which is
		// not in the binary, so nothing is matched against it; neither is
		// a module that calls itself "stdlib".
		if p.Toolchain {
			l.name = "stdlib"
		} else if p.Name == "stdlib" || p.Name == "toolchain" {
			return l, false
		}
		l.cmp.norm = goVersion
		l.version = goVersion(p.Version)
	case inventory.Maven:
		if p.Group == "" {
			if !strings.Contains(p.Name, ":") {
				return l, false
			}
		} else {
			l.name = p.Group + ":" + p.Name
		}
	}
	return l, l.name != ""
}

// details returns the store's details of an ID (nil when it has none),
// cached for the run.
func (r *run) details(ctx context.Context, id string) (*vulndb.Details, error) {
	if d, ok := r.det[id]; ok {
		return d, nil
	}
	d, err := r.store.Details(ctx, id)
	if err != nil {
		if !errors.Is(err, vulndb.ErrNotFound) {
			return nil, fmt.Errorf("match: details of %s: %w", id, err)
		}
		d = nil
	}
	r.det[id] = d
	return d, nil
}

// hit is one advisory entry that spoke about the installed version.
type hit struct {
	a *vulndb.Affected
	// notAffected is a distro's explicit "not affected" statement.
	notAffected bool
	fixes       []string
	cves        []string
	umbrella    bool // the record covers several vulnerabilities
}

// pkg matches the package at index i.
func (r *run) pkg(ctx context.Context, i int) ([]report.Finding, error) {
	p := &r.inv.Packages[i]
	l, ok := r.target(p)
	if !ok {
		return nil, nil
	}
	var (
		inst    version.Version
		perr    error
		entries int
		hits    []hit
	)
	if l.version != "" {
		inst, perr = l.cmp.scheme.Parse(l.version)
	}
	// The store's entries are views valid during the callback: a matching
	// one is cloned, and evaluated again on the clone so that the fixes
	// refer to memory the hit owns.
	visit := func(a *vulndb.Affected) error {
		if a.Withdrawn {
			return nil
		}
		entries++
		if l.version == "" || perr != nil {
			return nil
		}
		if a.Status == vulndb.StatusNotAffected {
			c := a.Clone()
			hits = append(hits, hit{a: &c, notAffected: true})
			return nil
		}
		v := evaluate(l.cmp, inst, a)
		for _, e := range v.invalid {
			r.warn(p, "%s %s %s: advisory %s (%s, %s): %v: this range was not applied", p.Ecosystem, clip(p.Name), clip(l.version), clip(a.ID), clip(a.Ecosystem), clip(a.Package), e)
		}
		if !v.affected {
			return nil
		}
		c := a.Clone()
		hits = append(hits, hit{a: &c, fixes: evaluate(l.cmp, inst, &c).fixes})
		return nil
	}
	for _, eco := range l.ecosystems {
		if err := r.store.EachAdvisory(ctx, eco, l.name, visit); err != nil {
			return nil, fmt.Errorf("match: look up %s %s: %w", eco, l.name, err)
		}
	}
	if entries == 0 {
		return nil, nil
	}
	if l.version == "" {
		r.warn(p, "%s %s has no version: its %d advisory entries (for %s) were not checked", p.Ecosystem, clip(p.Name), entries, clip(l.name))
		return nil, nil
	}
	if perr != nil {
		r.warn(p, "%s %s: installed version %q: %v: its %d advisory entries (for %s) were not checked", p.Ecosystem, clip(p.Name), clip(l.version), perr, entries, clip(l.name))
		return nil, nil
	}
	if len(hits) == 0 {
		return nil, nil
	}
	groups, err := r.group(ctx, hits)
	if err != nil {
		return nil, err
	}
	var out []report.Finding
	for _, g := range groups {
		f, ok, err := r.assemble(ctx, p, i, l, g)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// distroWarnings reports, once per OS package ecosystem, packages that
// could not be matched because no advisories apply to the release. The
// warning belongs to no layer (-1); its path is the release file.
func (r *run) distroWarnings() {
	for _, e := range []inventory.Ecosystem{inventory.Deb, inventory.APK, inventory.RPM} {
		n := r.skipped[e]
		if n == 0 {
			continue
		}
		w := inventory.Warning{Layer: -1, Component: Component,
			Message: fmt.Sprintf("%d %s packages were not checked for vulnerabilities: %s", n, e, r.distro[e].problem)}
		if d := r.inv.Distro; d != nil {
			w.Path = d.Source
		}
		r.warns = append(r.warns, w)
	}
}
