package audit

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/audit/internal/pkgclass"
	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/version"
)

// contentIssues checks what is installed.
func contentIssues(r *report.Report, now time.Time) []report.Issue {
	inv := r.Inventory
	if inv == nil {
		return nil
	}
	var out []report.Issue
	out = append(out, buildTools(inv)...)
	if r.Target.Kind == report.KindImage || r.Target.Kind == "" {
		out = append(out, shellsAndManagers(r)...)
	}
	if rel, end, ok := eolOf(inv.Distro); ok && !now.Before(end.AddDate(0, 0, 1)) {
		out = append(out, issue(catalog.CntEOLOS, "", 0, -1,
			fmt.Sprintf("%s: vendor security support ended %s", rel.name, rel.end)))
	}
	out = append(out, stalePackages(r)...)
	if is, ok := oversized(r); ok {
		out = append(out, is)
	}
	return out
}

// osPackages returns the OS packages of the inventory.
func osPackages(inv *inventory.Inventory) []*inventory.Package {
	var out []*inventory.Package
	for i := range inv.Packages {
		if inv.Packages[i].Ecosystem.IsOS() {
			out = append(out, &inv.Packages[i])
		}
	}
	return out
}

// buildTools reports build tools installed as OS packages, one issue per
// layer that installed some, so each maps to the Dockerfile step to change.
func buildTools(inv *inventory.Inventory) []report.Issue {
	byLayer := map[int]map[pkgclass.Kind][]string{}
	for _, p := range osPackages(inv) {
		k, ok := pkgclass.BuildTool(p.Name, p.Ecosystem == inventory.APK)
		if !ok {
			continue
		}
		if byLayer[p.Layer] == nil {
			byLayer[p.Layer] = map[pkgclass.Kind][]string{}
		}
		if !slices.Contains(byLayer[p.Layer][k], p.Name) {
			byLayer[p.Layer][k] = append(byLayer[p.Layer][k], p.Name)
		}
	}
	var out []report.Issue
	for layer, kinds := range byLayer {
		var parts []string
		for _, k := range pkgclass.Kinds() {
			names := kinds[k]
			if len(names) == 0 {
				continue
			}
			slices.Sort(names)
			parts = append(parts, string(k)+": "+listNames(names, 6))
		}
		out = append(out, issue(catalog.CntBuildTools, "", 0, layer, strings.Join(parts, "; ")))
	}
	return out
}

// shellsAndManagers suggests a distroless base when the image ships a shell
// or package manager its entrypoint does not use.
func shellsAndManagers(r *report.Report) []report.Issue {
	var shells, managers []string
	layer := -1
	for _, p := range osPackages(r.Inventory) {
		isShell, isMgr := pkgclass.IsShell(p.Name), pkgclass.IsPackageManager(p.Name)
		if !isShell && !isMgr {
			continue
		}
		if isShell && !slices.Contains(shells, p.Name) {
			shells = append(shells, p.Name)
		}
		if isMgr && !slices.Contains(managers, p.Name) {
			managers = append(managers, p.Name)
		}
		if layer < 0 || p.Layer < layer {
			layer = p.Layer
		}
	}
	if needsShell(r.Target.Config) {
		shells = nil
	}
	if len(shells) == 0 && len(managers) == 0 {
		return nil
	}
	slices.Sort(shells)
	slices.Sort(managers)
	var parts []string
	if len(shells) > 0 {
		parts = append(parts, "shells: "+strings.Join(shells, ", "))
	}
	if len(managers) > 0 {
		parts = append(parts, "package managers: "+strings.Join(managers, ", "))
	}
	return []report.Issue{issue(catalog.CntShellPkgManager, "", 0, layer, strings.Join(parts, "; "))}
}

// needsShell reports whether the image's entrypoint or command runs a
// shell or a shell script.
func needsShell(cfg *image.Config) bool {
	if cfg == nil {
		return false
	}
	argv := cfg.Entrypoint
	if len(argv) == 0 {
		argv = cfg.Cmd
	}
	return len(argv) > 0 && pkgclass.ShellCommand(argv[0])
}

// stalePackages reports OS packages with fixed versions available, one
// issue per layer.
func stalePackages(r *report.Report) []report.Issue {
	type pkgFix struct {
		name, installed, fixed string
		vulns                  int
	}
	byLayer := map[int]map[string]*pkgFix{}
	vulns := map[int]int{}
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		if !f.Package.Ecosystem.IsOS() || f.FixStatus != report.Fixed || len(f.FixedVersions) == 0 || f.Suppressed != nil {
			continue
		}
		layer := f.Layer
		if p := r.PackageOf(f); p != nil {
			layer = p.Layer
		}
		if byLayer[layer] == nil {
			byLayer[layer] = map[string]*pkgFix{}
		}
		pf := byLayer[layer][f.Package.Key]
		if pf == nil {
			pf = &pkgFix{name: f.Package.Name, installed: f.InstalledVersion}
			byLayer[layer][f.Package.Key] = pf
		}
		pf.vulns++
		vulns[layer]++
		for _, v := range f.FixedVersions {
			pf.fixed = maxVersion(f.Package.Ecosystem, pf.fixed, v)
		}
	}
	var out []report.Issue
	for layer, pkgs := range byLayer {
		list := make([]*pkgFix, 0, len(pkgs))
		for _, p := range pkgs {
			list = append(list, p)
		}
		slices.SortFunc(list, func(a, b *pkgFix) int {
			return cmp.Or(cmp.Compare(b.vulns, a.vulns), strings.Compare(a.name, b.name), strings.Compare(a.installed, b.installed))
		})
		var names []string
		for _, p := range list {
			names = append(names, p.name+" "+p.installed+" -> "+p.fixed)
		}
		ev := fmt.Sprintf("%d OS packages have fixes for %d vulnerabilities: %s", len(list), vulns[layer], listNames(names, 5))
		out = append(out, issue(catalog.CntStalePackages, "", 0, layer, ev))
	}
	return out
}

// maxVersion returns the greater of two versions in the ecosystem's order,
// or b when a is empty or they do not compare.
func maxVersion(e inventory.Ecosystem, a, b string) string {
	if a == "" {
		return b
	}
	s, ok := version.ForEcosystem(e)
	if !ok {
		return b
	}
	c, err := s.Compare(a, b)
	if err != nil || c < 0 {
		return b
	}
	return a
}

// oversized compares the OS package count and size with a minimal base of
// the same family. It fires when the image has more than twice the
// packages (and at least 50 more), or more than four times the bytes (and
// at least 200 MB more) of the minimal base.
func oversized(r *report.Report) (report.Issue, bool) {
	inv := r.Inventory
	if inv.Distro == nil {
		return report.Issue{}, false
	}
	base, ok := minimalFor(inv.Distro.Family)
	if !ok {
		return report.Issue{}, false
	}
	pkgs := len(osPackages(inv))
	sizeMB := int(r.Target.Size / 1_000_000)
	manyPkgs := pkgs > 2*base.packages && pkgs-base.packages >= 50
	big := sizeMB > 4*base.sizeMB && sizeMB-base.sizeMB >= 200
	if !manyPkgs && !big {
		return report.Issue{}, false
	}
	ev := fmt.Sprintf("%d OS packages", pkgs)
	if sizeMB > 0 {
		ev += fmt.Sprintf(", %d MB of layers", sizeMB)
	}
	ev += fmt.Sprintf("; %s has about %d packages (~%d MB)", base.image, base.packages, base.sizeMB)
	if base.alternative != "" {
		ev += "; smaller still: " + base.alternative
	}
	return issue(catalog.CntOversized, "", 0, -1, ev), true
}

// fileIssues turns the content observers' file findings into issues:
// secrets (category secret), setuid and world-writable files one per file,
// package caches one per cache directory, layer and deletion state. Cache
// entries arrive one per file (evidence "<n> bytes") or already folded by
// the content package's Aggregate; folded ones pass through unchanged.
func fileIssues(r *report.Report) []report.Issue {
	if r.Inventory == nil {
		return nil
	}
	type cacheKey struct {
		rule, dir string
		layer     int
		deleted   bool
	}
	type cacheSum struct {
		entries int
		bytes   int64
	}
	caches := map[cacheKey]*cacheSum{}
	var out []report.Issue
	for _, f := range r.Inventory.Files {
		rule := catalog.ForFileRule(f.Rule)
		if rule.ID == catalog.CntPackageCache {
			if n, ok := strings.CutSuffix(f.Evidence, " bytes"); ok || f.Evidence == "" {
				k := cacheKey{f.Rule, cacheRoot(f.Path), f.Layer, f.Deleted}
				if caches[k] == nil {
					caches[k] = &cacheSum{}
				}
				caches[k].entries++
				if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
					caches[k].bytes += v
				}
				continue
			}
		}
		ev := f.Evidence
		if rule.ID == catalog.CntOtherFile || rule.ID == catalog.SecOther {
			ev = strings.TrimSpace("[" + f.Rule + "] " + ev)
		}
		out = append(out, fileIssue(rule, f.Path, f.Line, f.Layer, ev, f.Deleted))
	}
	for k, s := range caches {
		ev := fmt.Sprintf("%d entries", s.entries)
		if s.entries == 1 {
			ev = "1 entry"
		}
		if s.bytes > 0 {
			ev += fmt.Sprintf(", %.1f MiB", float64(s.bytes)/(1<<20))
		}
		out = append(out, fileIssue(catalog.Get(catalog.CntPackageCache), k.dir, 0, k.layer, ev+" ("+k.rule+")", k.deleted))
	}
	return out
}

func fileIssue(rule *catalog.Rule, path string, line, layer int, evidence string, deleted bool) report.Issue {
	is := rule.Issue(path, line, layer, evidence)
	if deleted {
		is.Description += fmt.Sprintf(" This file was deleted in a later layer but still ships in layer %d: "+
			"anyone who pulls the image can extract it from that layer's blob.", layer)
	}
	return is
}

// cacheRoots are the package manager caches the content observer reports;
// entries under one of them are counted together.
func cacheRoot(p string) string {
	for _, r := range []string{
		"var/cache/apt/archives", "var/lib/apt/lists", "var/cache/apk", "root/.cache/pip", "root/.npm/_cacache",
		"var/cache/yum", "var/cache/dnf", "var/cache/zypp", "usr/local/share/.cache/yarn", "root/.cache/yarn",
	} {
		if p == r || strings.HasPrefix(p, r+"/") {
			return r
		}
	}
	if d := path.Dir(p); d != "." {
		return d
	}
	return p
}
