// Package remediation says what to do about each vulnerability finding: the
// version that fixes it, the package-manager command that installs that
// version, and a sentence that explains the change, so that a report
// teaches the fix instead of only naming the problem. It also groups the
// findings of a report by the kind of change that fixes them (rebuild the
// image, bump an application dependency, or no fix yet).
//
// Everything here is a pure function of the report: no I/O, no clock.
package remediation

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/version"
)

// Annotate sets the Remediation of every finding of r that has none, and
// r.Summary. Call it after policy.Apply so that the summary counts what the
// policy left.
func Annotate(r *report.Report) {
	for i := range r.Vulnerabilities {
		if f := &r.Vulnerabilities[i]; f.Remediation == nil {
			rem := For(r, f)
			f.Remediation = &rem
		}
	}
	unifyCommands(r)
	s := Summarize(r)
	r.Summary = &s
}

// unifyCommands gives every finding of one package the command that fixes
// them all: lodash with one finding fixed in 4.17.20 and another in
// 4.17.21 is upgraded once, to 4.17.21, not twice. FixedVersion stays the
// finding's own.
func unifyCommands(r *report.Report) {
	type best struct {
		v   version.Version
		cmd string
	}
	top := map[string]*best{}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		rem := f.Remediation
		if rem == nil || rem.Command == "" || rem.FixedVersion == "" || rem.Action != report.ActionUpgrade {
			continue
		}
		scheme, ok := version.ForEcosystem(f.Package.Ecosystem)
		if !ok {
			continue
		}
		v, err := scheme.Parse(rem.FixedVersion)
		if err != nil {
			continue
		}
		k := f.Package.Key
		if b := top[k]; b == nil || v.Compare(b.v) > 0 {
			top[k] = &best{v, rem.Command}
		}
	}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		if b := top[f.Package.Key]; b != nil && f.Remediation != nil && f.Remediation.Action == report.ActionUpgrade && f.Remediation.Command != "" {
			f.Remediation.Command = b.cmd
		}
	}
}

// Annotated returns a Sorted copy of r with every finding's Remediation
// and the Summary filled in, leaving r untouched: what the human formats
// render.
func Annotated(r *report.Report) *report.Report {
	out := r.Sorted()
	Annotate(out)
	return out
}

// Summarize counts the findings and audit issues of r. Findings without a
// Remediation are classified as For would.
func Summarize(r *report.Report) report.Summary {
	var s report.Summary
	if r.Inventory != nil {
		s.Packages = len(r.Inventory.Packages)
	}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		if f.Suppressed != nil {
			s.Suppressed++
			continue
		}
		s.Vulnerabilities.Add(f.Severity)
		if len(f.FixedVersions) > 0 {
			s.Fixable++
		}
		action := ActionOf(r, f)
		if f.Remediation != nil && f.Remediation.Action != "" {
			action = f.Remediation.Action
		}
		switch action {
		case report.ActionRebuild:
			s.Actions.Rebuild++
		case report.ActionUpgrade:
			s.Actions.Upgrade++
		default:
			s.Actions.NoFix++
		}
	}
	for i := range r.Audit {
		is := &r.Audit[i]
		if is.Suppressed != nil {
			s.AuditSuppressed++
			continue
		}
		s.Audit.Add(is.Severity)
		if is.Category == report.CategorySecret {
			s.Secrets++
		}
	}
	return s
}

// Line is one sentence of the remediation summary and the action it is
// about.
type Line struct {
	Action report.Action
	Text   string
}

// Lines are the sentences every human format prints for the remediation
// summary, one per action with findings, in the order rebuild, upgrade, no
// fix: "N findings are fixed by rebuilding on the current base image
// packages", "M need application dependency bumps", "K have no fix yet".
func Lines(s report.Summary) []Line {
	var out []Line
	if n := s.Actions.Rebuild; n > 0 {
		out = append(out, Line{report.ActionRebuild, count(n, "finding is", "findings are") + " fixed by rebuilding on the current base image packages"})
	}
	if n := s.Actions.Upgrade; n > 0 {
		out = append(out, Line{report.ActionUpgrade, count(n, "finding needs an application dependency bump", "findings need application dependency bumps")})
	}
	if n := s.Actions.NoFix; n > 0 {
		out = append(out, Line{report.ActionNoFix, count(n, "finding has", "findings have") + " no fix yet"})
	}
	return out
}

// SummaryLines are the texts of Lines.
func SummaryLines(s report.Summary) []string {
	var out []string
	for _, l := range Lines(s) {
		out = append(out, l.Text)
	}
	return out
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ActionOf classifies a finding: ActionNoFix without a fixed version,
// ActionRebuild for an OS package (or a language package an OS package
// owns), ActionUpgrade otherwise.
func ActionOf(r *report.Report, f *report.Finding) report.Action {
	if len(f.FixedVersions) == 0 {
		return report.ActionNoFix
	}
	eco := f.Package.Ecosystem
	p := r.PackageOf(f)
	if p != nil {
		eco = p.Ecosystem
	}
	if eco.IsOS() || p != nil && p.OwnedBy != "" {
		return report.ActionRebuild
	}
	return report.ActionUpgrade
}

// For returns the remediation of finding f of report r.
func For(r *report.Report, f *report.Finding) report.Remediation {
	p := r.PackageOf(f)
	if p == nil {
		// A finding whose package is not in the inventory still names
		// its package.
		p = &inventory.Package{Ecosystem: f.Package.Ecosystem, Name: f.Package.Name, Version: cmp.Or(f.InstalledVersion, f.Package.Version)}
	}
	action := ActionOf(r, f)
	if action == report.ActionNoFix {
		return noFix(r, f, p)
	}
	fixed := chooseFixed(p, f)
	rem := report.Remediation{Action: action, FixedVersion: fixed}
	if strings.HasPrefix(p.Name, "-") || strings.HasPrefix(fixed, "-") {
		// Quoting cannot stop a word that starts with "-" from being read
		// as an option: suggest no command for such a name.
		rem.Text = fmt.Sprintf("Upgrade %s to %s.", p.Name, fixed)
		return rem
	}
	if p.OwnedBy != "" && !p.Ecosystem.IsOS() {
		rem.Text = fmt.Sprintf("%s %s came with the OS package %s: upgrade that package (rebuild the image with docker build --pull --no-cache) to get %s %s.",
			p.Name, p.Version, p.OwnedBy, p.Name, fixed)
		return rem
	}
	switch p.Ecosystem {
	case inventory.Deb:
		deb(r, p, &rem)
	case inventory.APK:
		apk(r, p, &rem)
	case inventory.RPM:
		rpm(r, p, &rem)
	case inventory.NPM:
		npm(p, &rem)
	case inventory.Go:
		golang(p, &rem)
	case inventory.PyPI:
		rem.Command = "pip install " + Quote(p.Name+">="+fixed)
		rem.Text = fmt.Sprintf("Upgrade %s to %s or later: %s, then pin it in your requirements or lock file.", p.Name, fixed, rem.Command)
	case inventory.Maven:
		ga := cmp.Or(strings.Trim(p.Group+":"+p.Name, ":"), p.Name)
		rem.Command = "mvn versions:use-dep-version -Dincludes=" + Quote(ga) + " -DdepVersion=" + Quote(fixed) + " -DforceVersion=true"
		rem.Text = fmt.Sprintf("Set the version of %s to %s in pom.xml (<version>%s</version>, or a <dependencyManagement> entry when it comes in transitively), or run: %s.", ga, fixed, fixed, rem.Command)
	case inventory.Gem:
		if strings.HasSuffix(primaryPath(p), "Gemfile.lock") {
			rem.Command = "bundle update --conservative " + Quote(p.Name)
			rem.Text = fmt.Sprintf("Allow %s %s or later in the Gemfile, then run: %s.", p.Name, fixed, rem.Command)
		} else {
			rem.Command = "gem install " + Quote(p.Name) + " -v " + Quote(fixed)
			rem.Text = fmt.Sprintf("Upgrade the gem %s to %s: %s (or bump it in the Gemfile and bundle again).", p.Name, fixed, rem.Command)
		}
	case inventory.Composer:
		rem.Command = "composer require " + Quote(p.Name+":^"+fixed)
		rem.Text = fmt.Sprintf("Upgrade %s to %s or later: %s.", p.Name, fixed, rem.Command)
	case inventory.NuGet:
		rem.Command = "dotnet add package " + Quote(p.Name) + " --version " + Quote(fixed)
		rem.Text = fmt.Sprintf("Upgrade %s to %s: %s.", p.Name, fixed, rem.Command)
	case inventory.Cargo:
		rem.Command = "cargo update -p " + Quote(p.Name) + " --precise " + Quote(fixed)
		rem.Text = fmt.Sprintf("Upgrade %s to %s: %s, then rebuild.", p.Name, fixed, rem.Command)
	default:
		rem.Text = fmt.Sprintf("Upgrade %s to %s.", p.Name, fixed)
	}
	return rem
}

func noFix(r *report.Report, f *report.Finding, p *inventory.Package) report.Remediation {
	rem := report.Remediation{Action: report.ActionNoFix}
	who := "The maintainers"
	if p.Ecosystem.IsOS() && r.Inventory != nil && r.Inventory.Distro != nil && r.Inventory.Distro.Family != "" {
		who = titleCase(r.Inventory.Distro.Family)
	}
	switch f.FixStatus {
	case report.WontFix:
		rem.Text = fmt.Sprintf("%s will not fix %s in %s: assess whether it matters for this image, then record the decision in .vigil.yaml or a VEX document, or remove the package if nothing needs it.", who, f.ID, p.Name)
	case report.EndOfLife:
		rem.Text = fmt.Sprintf("The release that provides %s is end of life and gets no more fixes: move to a supported base image.", p.Name)
	default:
		rem.Text = fmt.Sprintf("No fixed version of %s is available yet: watch %s, and record whether the vulnerable code is reachable in .vigil.yaml or a VEX document.", p.Name, f.ID)
	}
	return rem
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// chooseFixed returns the lowest fixed version above the installed one, by
// the ecosystem's version order; when the versions do not parse, the first
// listed.
func chooseFixed(p *inventory.Package, f *report.Finding) string {
	installed := cmp.Or(f.InstalledVersion, p.Version)
	if p.Ecosystem == inventory.Deb || p.Ecosystem == inventory.APK {
		// Debian, Ubuntu and Alpine fixes are source package versions.
		installed = cmp.Or(p.SourceVersion, installed)
	}
	scheme, ok := version.ForEcosystem(p.Ecosystem)
	if p.Toolchain {
		scheme, ok = version.Go(), true
		installed = goVersion(installed)
	}
	if !ok {
		return f.FixedVersions[0]
	}
	best := ""
	var bestV version.Version
	iv, ierr := scheme.Parse(installed)
	for _, fv := range f.FixedVersions {
		cand := fv
		if p.Toolchain {
			cand = goVersion(fv)
		}
		v, err := scheme.Parse(cand)
		if err != nil {
			continue
		}
		if ierr == nil && v.Compare(iv) <= 0 {
			continue
		}
		if best == "" || v.Compare(bestV) < 0 {
			best, bestV = fv, v
		}
	}
	return cmp.Or(best, f.FixedVersions[0])
}

// goVersion writes a Go toolchain version the way go/version spells it:
// "go1.22.5".
func goVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "go"), "v")
	return "go" + v
}

func primaryPath(p *inventory.Package) string {
	if len(p.Locations) == 0 {
		return ""
	}
	return p.Locations[0].Path
}

// siblings returns the names of the installed OS packages of p's ecosystem
// built from the same source package as p, sorted and unique.
func siblings(r *report.Report, p *inventory.Package) []string {
	src := cmp.Or(p.SourceName, p.Name)
	names := []string{p.Name}
	if r.Inventory != nil {
		for i := range r.Inventory.Packages {
			q := &r.Inventory.Packages[i]
			if q.Ecosystem == p.Ecosystem && cmp.Or(q.SourceName, q.Name) == src && !strings.HasPrefix(q.Name, "-") {
				names = append(names, q.Name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func deb(r *report.Report, p *inventory.Package, rem *report.Remediation) {
	src := cmp.Or(p.SourceName, p.Name)
	names := siblings(r, p)
	args := make([]string, len(names))
	for i, n := range names {
		args[i] = Quote(n + "=" + rem.FixedVersion)
	}
	rem.Command = "apt-get install --only-upgrade " + strings.Join(args, " ")
	rem.Text = fmt.Sprintf("Fixed in source package %s %s. Rebuild the image on the current base image and package archive (docker build --pull --no-cache), or upgrade the binary packages built from %s in the Dockerfile: %s. Binary versions can differ from the source version after a binary-only rebuild (binNMU, \"+bN\"): if apt cannot find a version, drop \"=VERSION\" for that package.",
		src, rem.FixedVersion, src, rem.Command)
}

func apk(r *report.Report, p *inventory.Package, rem *report.Remediation) {
	src := cmp.Or(p.SourceName, p.Name)
	names := siblings(r, p)
	args := make([]string, len(names))
	for i, n := range names {
		args[i] = Quote(n + "=" + rem.FixedVersion)
	}
	rem.Command = "apk add --upgrade " + strings.Join(args, " ")
	rem.Text = fmt.Sprintf("Fixed in %s %s. Rebuild the image on the current base image (docker build --pull --no-cache), or upgrade in the Dockerfile: %s.", src, rem.FixedVersion, rem.Command)
}

func rpm(r *report.Report, p *inventory.Package, rem *report.Remediation) {
	tool := "dnf upgrade "
	if d := distro(r); d != nil {
		switch {
		case strings.HasPrefix(d.Family, "opensuse") || d.Family == "sles" || d.Family == "suse":
			rem.Command = "zypper install " + Quote(p.Name+"="+rem.FixedVersion)
		case d.Family == "amzn" && d.Version == "2", (d.Family == "centos" || d.Family == "rhel" || d.Family == "oracle" || d.Family == "ol") && strings.HasPrefix(d.Version, "7"):
			tool = "yum update "
		}
	}
	if rem.Command == "" {
		rem.Command = tool + Quote(p.Name+"-"+rem.FixedVersion)
	}
	rem.Text = fmt.Sprintf("Fixed in %s %s. Rebuild the image on the current base image (docker build --pull --no-cache), or upgrade in the Dockerfile: %s.", p.Name, rem.FixedVersion, rem.Command)
}

func distro(r *report.Report) *inventory.Distro {
	if r.Inventory == nil {
		return nil
	}
	return r.Inventory.Distro
}

func npm(p *inventory.Package, rem *report.Remediation) {
	rem.Command = "npm install " + Quote(p.Name+"@"+rem.FixedVersion)
	loc := primaryPath(p)
	if strings.Count(loc, "node_modules/") > 1 || p.Indirect {
		rem.Text = fmt.Sprintf("%s %s is a transitive dependency (%s): upgrade the package that depends on it, or force %s with an \"overrides\" entry in package.json, then reinstall; %s works only for direct dependencies.",
			p.Name, p.Version, path.Dir(loc), rem.FixedVersion, rem.Command)
		return
	}
	rem.Text = fmt.Sprintf("Upgrade %s to %s: %s, commit the lock file and rebuild the image.", p.Name, rem.FixedVersion, rem.Command)
}

func golang(p *inventory.Package, rem *report.Remediation) {
	bin := primaryPath(p)
	if p.Toolchain || p.Name == "stdlib" {
		v := strings.TrimPrefix(goVersion(rem.FixedVersion), "go")
		rem.Text = fmt.Sprintf("Rebuild %s with Go %s or later (for example FROM golang:%s in the build stage).", cmp.Or(bin, "the binary"), v, v)
		return
	}
	rem.Command = "go get " + Quote(p.Name+"@"+rem.FixedVersion)
	rem.Text = fmt.Sprintf("Upgrade %s to %s in the module that builds %s: %s && go mod tidy, then rebuild the binary.", p.Name, rem.FixedVersion, cmp.Or(bin, "the binary"), rem.Command)
}

// Quote returns s as one shell word: unchanged when it holds only
// characters no shell treats specially, else in single quotes. Names and
// versions come from the image and may be hostile; a suggested command
// must never run more than it says.
func Quote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
