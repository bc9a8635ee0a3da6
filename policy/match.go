package policy

import (
	"cmp"
	"path"
	"slices"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/purl"
	"github.com/vigilsec/vigil/report"
)

// normIDs returns the forms an identifier is matched by: upper case, and
// for a distribution-prefixed CVE ("DEBIAN-CVE-2024-1234",
// "UBUNTU-CVE-...") also the plain CVE.
func normIDs(id string) []string {
	id = strings.ToUpper(strings.TrimSpace(id))
	if id == "" {
		return nil
	}
	out := []string{id}
	if i := strings.Index(id, "-CVE-"); i > 0 && !strings.Contains(id[:i], "-") {
		out = append(out, id[i+1:])
	}
	return out
}

// idSet is the set of normalized IDs of a vulnerability.
type idSet map[string]bool

func findingIDs(f *report.Finding) idSet {
	s := idSet{}
	for _, id := range append([]string{f.ID}, f.Aliases...) {
		for _, n := range normIDs(id) {
			s[n] = true
		}
	}
	return s
}

func (s idSet) has(id string) bool {
	for _, n := range normIDs(id) {
		if s[n] {
			return true
		}
	}
	return false
}

// purlKey is a package URL reduced to what matching compares.
type purlKey struct {
	typ, ns, name, version string
}

func parsePURL(s string) (purlKey, bool) {
	if !strings.HasPrefix(s, "pkg:") || len(s) > purl.MaxLen {
		return purlKey{}, false
	}
	u, err := packageurl.FromString(s)
	if err != nil {
		return purlKey{}, false
	}
	k := purlKey{typ: strings.ToLower(u.Type), ns: strings.ToLower(u.Namespace), name: strings.ToLower(u.Name), version: u.Version}
	if k.typ == "pypi" {
		k.name = strings.NewReplacer("_", "-", ".", "-").Replace(k.name)
	}
	return k, true
}

// covers reports whether the pattern key k (from a rule or a VEX
// statement) names the package key p: same type, namespace and name, and
// the same version when k has one. Qualifiers never matter.
func (k purlKey) covers(p purlKey) bool {
	return k.typ == p.typ && k.ns == p.ns && k.name == p.name && (k.version == "" || k.version == p.version)
}

// subject is what rules and statements are matched against for one
// finding.
type subject struct {
	pkg   *inventory.Package
	purl  purlKey
	ok    bool // purl is set
	names []string
	paths []string
}

func subjectOf(r *report.Report, f *report.Finding) subject {
	p := r.PackageOf(f)
	var s subject
	if p == nil {
		p = &inventory.Package{Ecosystem: f.Package.Ecosystem, Name: f.Package.Name, Version: f.Package.Version, PURL: f.Package.PURL}
	}
	s.pkg = p
	u := cmp.Or(p.PURL, f.Package.PURL)
	if u == "" {
		var d *inventory.Distro
		if r.Inventory != nil {
			d = r.Inventory.Distro
		}
		u = purl.For(p, d)
	}
	s.purl, s.ok = parsePURL(u)
	s.names = []string{p.Name}
	if p.Ecosystem == inventory.Maven && p.Group != "" {
		s.names = append(s.names, p.Group+":"+p.Name)
	}
	if p.Ecosystem.IsOS() && p.SourceName != "" {
		s.names = append(s.names, p.SourceName)
	}
	for _, l := range p.Locations {
		s.paths = append(s.paths, l.Path)
	}
	if tp := report.TargetPath(p); tp != "" && !slices.Contains(s.paths, tp) {
		s.paths = append(s.paths, tp)
	}
	return s
}

// packageMatches reports whether a rule's package field names the
// subject.
func (s *subject) packageMatches(pattern string) bool {
	if strings.HasPrefix(pattern, "pkg:") {
		k, ok := parsePURL(pattern)
		return ok && s.ok && k.covers(s.purl)
	}
	for _, n := range s.names {
		if strings.EqualFold(n, pattern) {
			return true
		}
	}
	return false
}

func (s *subject) pathMatches(pattern string) bool {
	for _, p := range s.paths {
		if globMatch(pattern, p) {
			return true
		}
	}
	return false
}

// ruleMatchesFinding reports whether every field the rule sets matches.
func ruleMatchesFinding(rule *Rule, ids idSet, s *subject) bool {
	return (rule.ID == "" || ids.has(rule.ID)) &&
		(rule.Package == "" || s.packageMatches(rule.Package)) &&
		(rule.Path == "" || s.pathMatches(rule.Path))
}

func ruleMatchesIssue(rule *Rule, is *report.Issue) bool {
	if rule.Package != "" {
		return false
	}
	return (rule.ID == "" || strings.EqualFold(strings.TrimSpace(rule.ID), is.ID)) &&
		(rule.Path == "" || is.Path != "" && globMatch(rule.Path, is.Path))
}

// globMatch matches a slash-separated path against a pattern whose
// segments are path.Match globs, where a "**" segment matches any number
// of segments and a pattern also matches everything below the directory it
// names. Leading "/" and "./" are ignored on both sides.
func globMatch(pattern, name string) bool {
	pat := splitPath(pattern)
	segs := splitPath(name)
	if len(pat) == 0 {
		return false
	}
	// A pattern naming a directory matches what is below it.
	pat = append(pat, "**")
	// match[j] reports whether pat[i:] matches segs[j:], computed for i
	// from the end.
	next := make([]bool, len(segs)+1)
	next[len(segs)] = true
	cur := make([]bool, len(segs)+1)
	for i := len(pat) - 1; i >= 0; i-- {
		if pat[i] == "**" {
			cur[len(segs)] = next[len(segs)]
			for j := len(segs) - 1; j >= 0; j-- {
				cur[j] = next[j] || cur[j+1]
			}
		} else {
			cur[len(segs)] = false
			for j := len(segs) - 1; j >= 0; j-- {
				ok, err := path.Match(pat[i], segs[j])
				cur[j] = err == nil && ok && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(p), "./"), "/")
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

// matchesImage reports whether a VEX product identifier names the scanned
// image: its name, reference, tag, digest or ID, or a pkg:oci / pkg:docker
// URL with the image's repository name (and, when given, its digest or
// tag).
func matchesImage(id string, t *report.Target) bool {
	if id == "" {
		return false
	}
	for _, s := range append([]string{t.Name, t.Ref, t.Digest, t.ID}, t.RepoTags...) {
		if s != "" && s == id {
			return true
		}
	}
	k, ok := parsePURL(id)
	if !ok || (k.typ != "oci" && k.typ != "docker") {
		return false
	}
	repo, tag := splitImageName(cmp.Or(t.Name, t.Ref))
	last := repo
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		last = repo[i+1:]
	}
	if last == "" || !strings.EqualFold(k.name, last) {
		return false
	}
	if k.typ == "docker" && k.ns != "" && !strings.HasSuffix(strings.ToLower(repo), k.ns+"/"+k.name) {
		return false
	}
	return k.version == "" || k.version == t.Digest || k.version == t.ID || tag != "" && k.version == tag
}

// splitImageName splits "registry/repo:tag@digest" into repository and tag.
func splitImageName(name string) (repo, tag string) {
	name, _, _ = strings.Cut(name, "@")
	slash := strings.LastIndexByte(name, '/')
	if colon := strings.LastIndexByte(name, ':'); colon > slash {
		return name[:colon], name[colon+1:]
	}
	return name, ""
}

// componentMatches reports whether a product or subcomponent identifier
// names the subject's package.
func (s *subject) componentMatches(id, bomRef string) bool {
	if k, ok := parsePURL(id); ok && s.ok && k.covers(s.purl) {
		return true
	}
	return bomRef != "" && bomRef == "vigil:pkg:"+report.PackageID(s.pkg)
}

// statementMatches reports whether a VEX statement is about the finding.
func statementMatches(st *Statement, ids idSet, s *subject, t *report.Target) bool {
	if !ids.has(st.Vulnerability) && !slices.ContainsFunc(st.Aliases, ids.has) {
		return false
	}
	for _, prod := range st.Products {
		image := matchesImage(prod.ID, t) || prod.BOMRef == "vigil:target"
		switch {
		case len(prod.Subcomponents) > 0:
			if !image && !s.componentMatches(prod.ID, prod.BOMRef) && !knownProduct(prod.ID) {
				continue
			}
			for _, sub := range prod.Subcomponents {
				if s.componentMatches(sub, "") {
					return true
				}
			}
		case image, s.componentMatches(prod.ID, prod.BOMRef):
			return true
		}
	}
	return false
}

// knownProduct reports whether a product with subcomponents may stand for
// something inside the image (an application's own package URL): any
// package URL other than an image.
func knownProduct(id string) bool {
	k, ok := parsePURL(id)
	return ok && k.typ != "oci" && k.typ != "docker"
}
