package table

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/view"
)

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	blue   = "\x1b[34m"
	dim    = "\x1b[2m"
)

// severityStyle is the colour of a severity.
func severityStyle(s report.Severity) string {
	switch s {
	case report.Critical:
		return bold + red
	case report.High:
		return red
	case report.Medium:
		return yellow
	case report.Low:
		return blue
	}
	return dim
}

// vulnerabilities prints the findings view: summary, one table per target
// with findings, hardening and secrets, what to do.
func (p *printer) vulnerabilities(v *view.View) {
	r := v.R
	p.vulnSummary(v)
	if len(v.Sections) == 0 && v.Matched {
		p.w.WriteString("\n")
		msg := "No known vulnerabilities"
		if v.Summary.Suppressed > 0 {
			msg += " left after the policy"
		}
		p.prose("", msg+".")
	}
	for _, s := range v.Sections {
		p.w.WriteString("\n")
		p.heading(clean(s.Title), view.Plural(len(s.Findings), "vulnerability", "vulnerabilities"))
		p.findingGrid(r, s.Findings)
	}
	if len(v.Hardening) > 0 {
		p.w.WriteString("\n")
		p.heading("Hardening", fmt.Sprint(len(v.Hardening)))
		p.issueGrid(r, v.Hardening, false)
	}
	if len(v.Secrets) > 0 {
		p.w.WriteString("\n")
		p.heading("Secrets", fmt.Sprint(len(v.Secrets)))
		p.issueGrid(r, v.Secrets, true)
	}
	p.whatToDo(v)
	if n := len(v.Suppressed) + len(v.SuppressedIssues); n > 0 {
		p.w.WriteString("\n")
		p.prose("", fmt.Sprintf("%s suppressed by the policy file or VEX %s not shown (--format json lists %s with the reason).",
			view.Plural(n, "finding", "findings"), pickWord(n, "is", "are"), pickWord(n, "it", "them")))
	}
}

// heading prints "TITLE [count]", the title cut to fit the width.
func (p *printer) heading(title, count string) {
	suffix := " [" + count + "]"
	if p.opts.Width > 0 {
		title = p.cond.Truncate(title, max(8, p.opts.Width-p.cond.StringWidth(suffix)), "…")
	}
	p.w.WriteString(p.style(title, bold+cyan) + suffix + "\n")
}

// prose prints text wrapped to the width, each line after indent.
func (p *printer) prose(indent, text string) {
	lines := []string{text}
	if p.opts.Width > 0 {
		lines = p.wrap(text, max(20, p.opts.Width-p.cond.StringWidth(indent)))
	}
	for _, l := range lines {
		p.w.WriteString(indent + l + "\n")
	}
}

// command prints a shell command after indent; when it is wider than the
// terminal it is broken at spaces with shell line continuations, so that
// it still pastes into a shell as one command.
func (p *printer) command(indent, cmd string) {
	if p.opts.Width <= 0 || p.cond.StringWidth(indent+cmd) <= p.opts.Width {
		p.w.WriteString(indent + cmd + "\n")
		return
	}
	avail := max(20, p.opts.Width-p.cond.StringWidth(indent)-4)
	var cur string
	first := true
	flush := func(last bool) {
		lead := indent
		if !first {
			lead += "  "
		}
		if last {
			p.w.WriteString(lead + cur + "\n")
		} else {
			p.w.WriteString(lead + cur + " \\\n")
		}
		first, cur = false, ""
	}
	for _, word := range strings.Split(cmd, " ") {
		if cur != "" && p.cond.StringWidth(cur+" "+word) > avail {
			flush(false)
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	flush(true)
}

func pickWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (p *printer) vulnSummary(v *view.View) {
	r := v.R
	t := &r.Target
	target := clean(cmp.Or(t.DisplayName(), "unknown"))
	if id := cmp.Or(t.Digest, t.ID); id != "" && id != target {
		target += " (" + shortDigest(id) + ")"
	}
	osName := "unknown"
	if inv := r.Inventory; inv != nil && inv.Distro != nil {
		osName = clean(distroName(inv.Distro))
	}
	s := v.Summary
	if !v.Matched {
		fmt.Fprintf(p.w, "%s %s  %s %s  %s %d  %s %d\n",
			p.style("Target:", bold), target,
			p.style("OS:", bold), osName,
			p.style("Packages:", bold), s.Packages,
			p.style("Audit findings:", bold), s.Audit.Total)
		return
	}
	vulns := fmt.Sprintf("%d", s.Vulnerabilities.Total)
	if s.Vulnerabilities.Total > 0 {
		var parts []string
		for _, sev := range report.Severities() {
			if n := s.Vulnerabilities.Of(sev); n > 0 {
				parts = append(parts, p.style(fmt.Sprintf("%d %s", n, sev), severityStyle(sev)))
			}
		}
		vulns += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(p.w, "%s %s  %s %s  %s %d  %s %s  %s %d\n",
		p.style("Target:", bold), target,
		p.style("OS:", bold), osName,
		p.style("Packages:", bold), s.Packages,
		p.style("Vulnerabilities:", bold), vulns,
		p.style("Fixable:", bold), s.Fixable)
}

func (p *printer) findingGrid(r *report.Report, fs []*report.Finding) {
	g := &grid{cols: []column{
		{header: "PACKAGE", min: 12},
		{header: "INSTALLED", min: 10},
		{header: "FIXED IN", min: 10},
		{header: "VULNERABILITY", min: 14},
		{header: "SEVERITY", min: 10, style: func(i int) string { return severityStyle(fs[i].Severity) }},
		{header: "LAYER", min: 16, cap: 40, drop: 2},
		{header: "TITLE", min: 20, wrap: true, maxLines: 3, drop: 1, spill: true},
	}, shrink: []int{5, 6, 1, 2, 0, 3}}
	for _, f := range fs {
		g.add(
			line(clean(f.Package.Name)),
			line(clean(f.InstalledVersion)),
			line(clean(view.FixedIn(f))),
			cleanAll(view.IDs(f)),
			line(clean(string(f.Severity))),
			line(clean(view.LayerLabel(r, f.Layer))),
			line(clean(f.Title)),
		)
	}
	p.writeGrid(g)
}

func (p *printer) issueGrid(r *report.Report, list []*report.Issue, secret bool) {
	sev := column{header: "SEVERITY", min: 10, style: func(i int) string { return severityStyle(list[i].Severity) }}
	var g *grid
	if secret {
		g = &grid{cols: []column{
			{header: "RULE", min: 10}, sev, {header: "SECRET", min: 12, wrap: true, maxLines: 2},
			{header: "WHERE", min: 16}, {header: "LAYER", min: 12, cap: 40, drop: 2}, {header: "EVIDENCE", min: 16, drop: 1},
		}, shrink: []int{5, 4, 2, 3, 0}}
	} else {
		g = &grid{cols: []column{
			{header: "RULE", min: 10}, sev, {header: "ISSUE", min: 16, wrap: true, maxLines: 2},
			{header: "WHERE", min: 12}, {header: "FIX", min: 16, wrap: true, maxLines: 3, drop: 1},
		}, shrink: []int{4, 2, 3, 0}}
	}
	for _, is := range list {
		layer := ""
		if is.Layer >= 0 {
			layer = view.LayerLabel(r, is.Layer)
		}
		if secret {
			g.add(line(clean(is.ID)), line(clean(string(is.Severity))), line(clean(is.Title)), line(clean(view.Where(is))), line(clean(layer)), line(clean(is.Evidence)))
		} else {
			g.add(line(clean(is.ID)), line(clean(string(is.Severity))), line(clean(is.Title)), line(clean(view.Where(is))), line(clean(is.Fix)))
		}
	}
	p.writeGrid(g)
}

// whatToDo prints the remediation summary with the distinct commands of
// each action.
func (p *printer) whatToDo(v *view.View) {
	if v.Summary.Vulnerabilities.Total == 0 {
		return
	}
	p.w.WriteString("\n")
	p.w.WriteString(p.style("What to do", bold+cyan) + "\n")
	// The distinct commands of each action; findings without a command
	// (the Go toolchain) contribute their text.
	type item struct {
		s       string
		command bool
	}
	byAction := map[report.Action][]item{}
	for _, s := range v.Sections {
		for _, f := range s.Findings {
			rem := f.Remediation
			var it item
			switch {
			case rem == nil || rem.Action == report.ActionNoFix:
				continue
			case rem.Command != "":
				it = item{rem.Command, true}
			case rem.Action == report.ActionUpgrade:
				it = item{rem.Text, false}
			default:
				continue
			}
			if !slices.Contains(byAction[rem.Action], it) {
				byAction[rem.Action] = append(byAction[rem.Action], it)
			}
		}
	}
	for _, l := range remediation.Lines(v.Summary) {
		cmds := byAction[l.Action]
		if len(cmds) == 0 {
			p.prose("  ", clean(l.Text)+".")
			continue
		}
		p.prose("  ", clean(l.Text)+":")
		if l.Action == report.ActionRebuild {
			p.w.WriteString("    " + p.style("docker build --pull --no-cache .", bold) + "\n")
			p.prose("    ", "or, in the Dockerfile step that installs them:")
		}
		for _, c := range cmds {
			if c.command {
				p.command("    ", clean(c.s))
			} else {
				p.prose("    ", clean(c.s))
			}
		}
	}
}

func cleanAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = clean(x)
	}
	return out
}
