// Package markdown writes a report as GitHub-flavoured Markdown for pull
// request and merge request comments: a summary table (findings per
// severity for vulnerabilities, hardening and secrets), what to do (the
// remediation summary), then one table per target with the findings most
// severe first (severity, package, installed, fixed in, vulnerability with
// the CVE first, and the layer's Dockerfile step), a collapsible block
// with each finding's details and fix command, and tables of hardening and
// secret findings. Suppressed findings are counted in one line, not listed.
//
// Everything taken from the image is escaped: names and versions go in
// code spans (which also keeps "@scope/pkg" from mentioning anyone), free
// text has Markdown and HTML characters escaped. The output stays under
// Options.MaxBytes (GitHub's comment limit is 65536 characters): when it
// would not, the details block goes first, then table rows, with a line
// saying what was left out.
package markdown

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/view"
)

// DefaultMaxBytes keeps a comment under GitHub's 65536-character limit.
const DefaultMaxBytes = 64000

// Options control the output.
type Options struct {
	// MaxBytes caps the size of the output; 0 means DefaultMaxBytes, a
	// negative value no cap.
	MaxBytes int
}

// Encoder writes Markdown.
type Encoder struct {
	opts Options
}

// New returns a Markdown encoder.
func New(o Options) *Encoder { return &Encoder{opts: o} }

// Encode implements report.Encoder.
func (e *Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("markdown: encode: nil report")
	}
	v := view.New(r)
	limit := e.opts.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	out := render(v, true, -1)
	if limit > 0 && len(out) > limit {
		out = render(v, false, -1)
		// Halve the rows per table until it fits.
		for rows := 64; limit > 0 && len(out) > limit && rows >= 0; rows /= 2 {
			out = render(v, false, rows)
			if rows == 0 {
				break
			}
		}
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(out)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("markdown: write report for %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

// renderer writes one rendition: with or without the details blocks, and
// at most maxRows rows per table (negative: all).
type renderer struct {
	b       strings.Builder
	v       *view.View
	details bool
	maxRows int
	leftOut int
}

func render(v *view.View, details bool, maxRows int) string {
	rd := &renderer{v: v, details: details, maxRows: maxRows}
	rd.all()
	return rd.b.String()
}

func (rd *renderer) p(format string, a ...any) { fmt.Fprintf(&rd.b, format, a...) }

func (rd *renderer) all() {
	v, r := rd.v, rd.v.R
	t := &r.Target
	rd.p("## vigil: %s\n\n", code(t.DisplayName(), false))
	var facts []string
	if id := t.Digest; id != "" {
		facts = append(facts, "digest "+code(view.ShortDigest(id), false))
	}
	if inv := r.Inventory; inv != nil && inv.Distro != nil {
		facts = append(facts, "OS "+text(view.DistroName(inv.Distro)))
	}
	facts = append(facts, view.Plural(v.Summary.Packages, "package", "packages"))
	if t.Dockerfile != "" {
		facts = append(facts, "built from "+code(t.Dockerfile, false))
	}
	rd.p("%s\n\n", strings.Join(facts, " · "))

	if !v.Scan {
		rd.sbom()
		return
	}
	rd.summary()
	for _, s := range v.Sections {
		rd.section(s)
	}
	if rd.details && len(v.Sections) > 0 {
		rd.detailsBlock()
	}
	rd.issues("Hardening", v.Hardening, false)
	rd.issues("Secrets", v.Secrets, true)
	if n := len(v.Suppressed) + len(v.SuppressedIssues); n > 0 {
		rd.p("_%s suppressed by the policy file or VEX %s not shown; the JSON and SARIF reports list %s with the reason._\n\n",
			view.Plural(n, "finding", "findings"), pick(n, "is", "are"), pick(n, "it", "them"))
	}
	switch {
	case rd.leftOut > 0:
		rd.p("_Shortened to fit a comment: the details and %s are left out; see the full report._\n", view.Plural(rd.leftOut, "table row", "table rows"))
	case !rd.details && len(v.Sections) > 0:
		rd.p("_Shortened to fit a comment: the details are left out; see the full report._\n")
	}
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (rd *renderer) summary() {
	s := rd.v.Summary
	rd.p("| | Critical | High | Medium | Low | Negligible | Unknown | Total |\n")
	rd.p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(name string, c report.SeverityCounts) {
		rd.p("| %s |", name)
		for _, sev := range report.Severities() {
			rd.p(" %d |", c.Of(sev))
		}
		rd.p(" **%d** |\n", c.Total)
	}
	if rd.v.Matched {
		row("Vulnerabilities", s.Vulnerabilities)
	}
	var hard, sec report.SeverityCounts
	for _, is := range rd.v.Hardening {
		hard.Add(is.Severity)
	}
	for _, is := range rd.v.Secrets {
		sec.Add(is.Severity)
	}
	row("Hardening", hard)
	row("Secrets", sec)
	rd.p("\n")
	if !rd.v.Matched {
		return
	}
	if s.Vulnerabilities.Total == 0 {
		rd.p("No known vulnerabilities%s.\n\n", map[bool]string{true: " left after the policy", false: ""}[s.Suppressed > 0])
		return
	}
	rd.p("**%d of %d %s a fixed version.** What to do:\n\n", s.Fixable, s.Vulnerabilities.Total, pick(s.Vulnerabilities.Total, "vulnerability has", "vulnerabilities have"))
	for _, line := range remediation.SummaryLines(s) {
		rd.p("- %s\n", line)
	}
	rd.p("\n")
}

func (rd *renderer) section(s view.Section) {
	r := rd.v.R
	rd.p("### %s\n\n", text(s.Title))
	rd.p("| Severity | Package | Installed | Fixed in | Vulnerability | Layer |\n")
	rd.p("| --- | --- | --- | --- | --- | --- |\n")
	for i, f := range s.Findings {
		if rd.maxRows >= 0 && i >= rd.maxRows {
			rd.leftOut += len(s.Findings) - i
			rd.p("| | _%d more_ | | | | |\n", len(s.Findings)-i)
			break
		}
		vuln := "_no ID_"
		if ids := view.IDs(f); len(ids) > 0 {
			vuln = link(ids[0], view.URL(f))
			for _, id := range ids[1:] {
				vuln += " " + code(id, true)
			}
		}
		fixed := code(view.FixedIn(f), true)
		if len(f.FixedVersions) == 0 {
			fixed = "_" + text(view.FixedIn(f)) + "_"
		}
		rd.p("| %s | %s | %s | %s | %s | %s |\n",
			severity(f.Severity), code(f.Package.Name, true), code(f.InstalledVersion, true), fixed, vuln,
			code(truncate(view.LayerLabel(r, f.Layer), 60), true))
	}
	rd.p("\n")
}

func (rd *renderer) detailsBlock() {
	r := rd.v.R
	n := 0
	for _, s := range rd.v.Sections {
		n += len(s.Findings)
	}
	rd.p("<details>\n<summary>Details and fixes for %s</summary>\n\n", view.Plural(n, "vulnerability", "vulnerabilities"))
	for _, s := range rd.v.Sections {
		for _, f := range s.Findings {
			rd.p("#### %s in %s %s (%s)\n\n", text(f.ID), code(f.Package.Name, false), code(f.InstalledVersion, false), f.Severity)
			if f.Title != "" {
				rd.p("%s\n\n", text(f.Title))
			}
			if rem := f.Remediation; rem != nil {
				rd.p("%s\n\n", text(rem.Text))
				if rem.Command != "" {
					fence := fenceFor(rem.Command)
					rd.p("%ssh\n%s\n%s\n\n", fence, oneLine(rem.Command), fence)
				}
			}
			where := "Introduced by layer " + code(truncate(view.LayerLabel(r, f.Layer), 120), false)
			if dl := view.DockerfileLine(r, f.Layer); dl != "" {
				where += " (" + code(dl, false) + ")"
			}
			if ids := view.IDs(f); len(ids) > 1 {
				where += " · also known as " + strings.Join(codes(ids[1:]), ", ")
			}
			where += " · " + link("advisory", view.URL(f))
			rd.p("%s\n\n", where)
		}
	}
	rd.p("</details>\n\n")
}

func (rd *renderer) issues(title string, list []*report.Issue, secret bool) {
	if len(list) == 0 {
		return
	}
	r := rd.v.R
	rd.p("### %s\n\n", title)
	if secret {
		rd.p("| Severity | Rule | Secret | Where | Layer | Evidence |\n| --- | --- | --- | --- | --- | --- |\n")
	} else {
		rd.p("| Severity | Rule | Issue | Where | Fix |\n| --- | --- | --- | --- | --- |\n")
	}
	for i, is := range list {
		if rd.maxRows >= 0 && i >= rd.maxRows {
			rd.leftOut += len(list) - i
			rd.p("| | _%d more_ | | | |\n", len(list)-i)
			break
		}
		if secret {
			layer := ""
			if is.Layer >= 0 {
				layer = code(truncate(view.LayerLabel(r, is.Layer), 60), true)
			}
			rd.p("| %s | %s | %s | %s | %s | %s |\n", severity(is.Severity), code(is.ID, true), text(is.Title), code(view.Where(is), true), layer, code(is.Evidence, true))
		} else {
			rd.p("| %s | %s | %s | %s | %s |\n", severity(is.Severity), code(is.ID, true), text(is.Title), code(view.Where(is), true), text(is.Fix))
		}
	}
	rd.p("\n")
}

// sbom lists the targets of a report without findings.
func (rd *renderer) sbom() {
	r := rd.v.R
	if r.Inventory == nil || len(r.Inventory.Packages) == 0 {
		rd.p("No packages found.\n")
		return
	}
	rd.p("| Target | Packages |\n| --- | ---: |\n")
	for _, g := range report.Groups(r.Inventory) {
		rd.p("| %s | %d |\n", text(view.GroupTitle(r.Inventory, g)), len(g.Packages))
	}
	rd.p("\n")
}

func severity(s report.Severity) string {
	switch s {
	case report.Critical, report.High:
		return "**" + string(s) + "**"
	}
	return text(string(s))
}

func link(label, url string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return text(label)
	}
	return "[" + text(label) + "](" + escapeURL(url) + ")"
}

// escapeURL makes a URL safe inside a Markdown link destination.
func escapeURL(u string) string {
	var b strings.Builder
	for _, r := range u {
		switch {
		case r <= ' ' || r == '(' || r == ')' || r == '<' || r == '>' || r == '|' || r == '\\' || r == '`' || r == '"' || r == 0x7f:
			fmt.Fprintf(&b, "%%%02X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func codes(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = code(id, false)
	}
	return out
}

// oneLine replaces control characters (newlines included) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// text escapes free text for a Markdown paragraph or table cell: one line,
// HTML characters as entities, Markdown punctuation backslash-escaped, and
// a zero-width space after an "@" that starts a word, so that nothing
// mentions a user or team.
func text(s string) string {
	s = oneLine(s)
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		mention := r == '@' && !(unicode.IsLetter(prev) || unicode.IsDigit(prev) || strings.ContainsRune("_-./\\@", prev))
		prev = r
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '@':
			b.WriteByte('@')
			if mention {
				b.WriteString("&#8203;")
			}
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~', '!', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code puts s in a code span whose fence is longer than any run of
// backticks in s; in a table cell, pipes are escaped too (GitHub splits
// cells on them even inside code spans).
func code(s string, cell bool) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + s + fence
}

// fenceFor returns a code-block fence longer than any run of backticks in
// s.
func fenceFor(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func truncate(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
