// Package audit holds vigil's hardening checks and their catalogue. Rules
// lists every check (ID, severity, explanation, fix, reference) across the
// image, Dockerfile, manifest and container checks; docs/audit-rules.md is
// generated from it. Image runs the checks that need only a scan report:
// the image configuration and history (root user, secrets in ENV, labels and
// build steps, HEALTHCHECK, privileged ports, ADD of URLs, curl | sh,
// mutable tags), the content (build tools and package caches left behind,
// shells and package managers, end-of-life OS releases, stale OS packages,
// size against minimal bases) and the file findings the content observers
// made during the layer walk (secrets, setuid files, world-writable paths).
// MapToDockerfile leads image findings back to Dockerfile lines.
//
// The sub-packages check the other inputs: dockerfile (a Dockerfile),
// manifest (compose files and Kubernetes manifests) and container (running
// containers, through the Docker Engine API).
package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/report"
)

// Rule describes one check: see Rules.
type Rule = catalog.Rule

// Rules returns the catalogue of every check vigil runs, ordered by ID. IDs
// are stable: VGL-IMG (image configuration), VGL-CNT (image content),
// VGL-SEC (secrets in image files), VGL-DKF (Dockerfile), VGL-MAN (compose
// and Kubernetes manifests), VGL-CTR (running containers).
func Rules() []Rule { return catalog.All() }

// Image runs the image checks on a scan report: r.Target (name, tags,
// config), r.Inventory (distro, layers with their history steps, packages,
// file findings) and r.Vulnerabilities when the matcher ran. now is the
// clock the end-of-life check compares with. Configuration checks run only
// for image targets (a root file system has no image config). The issues
// come back in a stable order; Layer is the layer that caused an issue, or
// -1 when the issue is about the configuration as a whole.
func Image(r *report.Report, now time.Time) []report.Issue {
	if r == nil {
		return nil
	}
	var out []report.Issue
	if r.Target.Kind == report.KindImage || r.Target.Kind == "" {
		out = append(out, configIssues(r)...)
		out = append(out, historyIssues(r)...)
	}
	out = append(out, contentIssues(r, now)...)
	out = append(out, fileIssues(r)...)
	slices.SortStableFunc(out, func(a, b report.Issue) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), cmp.Compare(a.Layer, b.Layer), strings.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line), strings.Compare(a.Evidence, b.Evidence))
	})
	return out
}

// issue builds an issue of the rule with the given ID.
func issue(id, path string, line, layer int, evidence string) report.Issue {
	return catalog.Get(id).Issue(path, line, layer, evidence)
}

// listNames joins names, showing at most max of them and counting the rest.
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + ", +" + strconv.Itoa(len(names)-max) + " more"
}

// ContainerImageVulns is the issue for a container whose image has known
// vulnerabilities: counts says how many of each severity; the issue takes
// the worst one.
func ContainerImageVulns(containerName, image, imageID string, counts map[report.Severity]int) (report.Issue, bool) {
	total := 0
	worst := report.Severity("")
	var parts []string
	for _, s := range []report.Severity{report.Critical, report.High, report.Medium, report.Low, report.Negligible, report.Unknown} {
		if n := counts[s]; n > 0 {
			total += n
			if worst == "" {
				worst = s
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if total == 0 {
		return report.Issue{}, false
	}
	is := catalog.Get(catalog.CtrImageVulns).Issue(containerName, 0, -1,
		fmt.Sprintf("%s (%s): %d known vulnerabilities: %s", image, imageID, total, strings.Join(parts, ", ")))
	is.Severity = worst
	return is, true
}
