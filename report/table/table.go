// Package table writes a report as text for a terminal.
//
// A vulnerability scan (a report with findings, audit issues or a summary)
// prints a summary line (target, OS, packages, vulnerabilities by severity,
// how many have a fix), then one table per target with findings (OS
// packages first, then each language target by path) in columns PACKAGE,
// INSTALLED, FIXED IN, VULNERABILITY (the CVE first, other IDs on the lines
// below), SEVERITY, LAYER (the layer index and the Dockerfile step that
// brought the package in) and TITLE; then Hardening and Secrets tables for
// the audit issues; then "What to do": the remediation summary with the
// commands that fix the findings. Suppressed findings are counted in one
// line, not listed.
//
// A report without findings (an SBOM) prints the package listing instead:
// a summary line (target, OS, package counts per ecosystem), then the
// packages grouped the same way in columns NAME, VERSION, TYPE and LAYER.
//
// Columns fit the terminal width given in Options: long titles wrap onto a
// few lines, other cells are cut with "…", and the TITLE and LAYER columns
// are left out when even the narrowest layout does not fit. Colour is used
// only when Options asks for it, which a caller does only for a terminal.
// Every string from the image has its control characters replaced, so a
// hostile name cannot drive the terminal.
package table

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/internal/view"
)

// Options control the text layout.
type Options struct {
	// Width is the width of the terminal in columns; 0 means no limit.
	Width int
	// Color enables ANSI colour and bold headings.
	Color bool
}

// MaxStepWidth caps the LAYER column even when the width is unlimited.
const MaxStepWidth = 60

// Minimum column widths when fitting a narrow terminal.
const (
	minName    = 12
	minVersion = 12
	minType    = 6
	minLayer   = 12
)

const gap = "  "

// TerminalOptions returns the options for writing to f: its width and
// colour when f is a terminal, no limit and no colour otherwise. Colour is
// also off when the NO_COLOR environment variable is set (no-color.org);
// --no-color is the caller's to apply.
func TerminalOptions(f *os.File) Options {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return Options{}
	}
	o := Options{Color: os.Getenv("NO_COLOR") == ""}
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		o.Width = w
	}
	return o
}

// Encoder writes the table.
type Encoder struct {
	opts Options
}

// New returns a table encoder with the given options.
func New(o Options) *Encoder { return &Encoder{opts: o} }

// Encode implements report.Encoder.
func (e *Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("table: encode: nil report")
	}
	bw := bufio.NewWriter(w)
	p := &printer{w: bw, opts: e.opts, cond: &runewidth.Condition{}}
	if view.HasFindings(r) {
		p.vulnerabilities(view.New(r))
	} else {
		p.report(r.Sorted())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("table: write report for %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

type printer struct {
	w    *bufio.Writer
	opts Options
	cond *runewidth.Condition
}

const (
	bold  = "\x1b[1m"
	cyan  = "\x1b[36m"
	reset = "\x1b[0m"
)

func (p *printer) style(s, codes string) string {
	if !p.opts.Color || s == "" {
		return s
	}
	return codes + s + reset
}

func (p *printer) report(r *report.Report) {
	inv := r.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	p.summary(r, inv)
	for _, g := range report.Groups(inv) {
		p.w.WriteString("\n")
		p.group(r, inv, g)
	}
}

func (p *printer) summary(r *report.Report, inv *inventory.Inventory) {
	t := &r.Target
	target := clean(cmp.Or(t.DisplayName(), "unknown"))
	if id := cmp.Or(t.Digest, t.ID); id != "" && id != target {
		target += " (" + shortDigest(id) + ")"
	}
	osName := "unknown"
	if d := inv.Distro; d != nil {
		osName = clean(distroName(d))
	}
	counts := inv.CountByEcosystem()
	ecos := make([]string, 0, len(counts))
	for e := range counts {
		ecos = append(ecos, string(e))
	}
	slices.SortFunc(ecos, func(a, b string) int {
		// OS ecosystems first, then alphabetical, as the groups below.
		ao, bo := inventory.Ecosystem(a).IsOS(), inventory.Ecosystem(b).IsOS()
		if ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(ecos))
	for _, e := range ecos {
		parts = append(parts, clean(e)+" "+strconv.Itoa(counts[inventory.Ecosystem(e)]))
	}
	pkgs := strconv.Itoa(len(inv.Packages))
	if len(parts) > 0 {
		pkgs += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(p.w, "%s %s  %s %s  %s %s\n",
		p.style("Target:", bold), target,
		p.style("OS:", bold), osName,
		p.style("Packages:", bold), pkgs)
}

func distroName(d *inventory.Distro) string {
	if d.Name != "" {
		return d.Name
	}
	s := strings.TrimSpace(d.Family + " " + d.Version)
	if d.Codename != "" {
		s += " (" + d.Codename + ")"
	}
	return s
}

// shortDigest shortens "sha256:<64 hex>" to "sha256:<12 hex>".
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return clean(d)
	}
	return clean(alg + ":" + hex[:12])
}

func (p *printer) group(r *report.Report, inv *inventory.Inventory, g report.Group) {
	var title string
	if g.OS {
		title = "OS packages"
		if inv.Distro != nil {
			title += ": " + clean(distroName(inv.Distro))
		}
	} else {
		title = clean(cmp.Or(g.Path, "(no path)")) + " (" + clean(string(g.Ecosystem)) + ")"
	}
	fmt.Fprintf(p.w, "%s %s\n", p.style(title, bold+cyan), "["+strconv.Itoa(len(g.Packages))+"]")

	rows := [][]string{{"NAME", "VERSION", "TYPE", "LAYER"}}
	for _, pkg := range g.Packages {
		typ := string(pkg.Ecosystem)
		if pkg.OwnedBy != "" {
			typ += " (in " + pkg.OwnedBy + ")"
		}
		rows = append(rows, []string{clean(pkg.Name), clean(pkg.Version), clean(typ), clean(layerCell(r, pkg.Layer))})
	}
	widths := p.fit(rows)
	for i, row := range rows {
		var line strings.Builder
		for c, cell := range row {
			cell = p.cond.Truncate(cell, widths[c], "…")
			if c < len(row)-1 {
				cell = p.cond.FillRight(cell, widths[c])
			}
			if i == 0 {
				cell = p.style(cell, bold)
			}
			if c > 0 {
				line.WriteString(gap)
			}
			line.WriteString(cell)
		}
		p.w.WriteString(strings.TrimRight(line.String(), " "))
		p.w.WriteString("\n")
	}
}

// layerCell is "#<index> <step>", the step shortened to the Dockerfile
// instruction; the layer's short diffID stands in for a missing history.
func layerCell(r *report.Report, index int) string {
	cell := "#" + strconv.Itoa(index)
	l := r.Layer(index)
	if l == nil {
		return cell
	}
	if step := report.ShortStep(l.CreatedBy); step != "" {
		return cell + " " + step
	}
	if l.DiffID != "" {
		return cell + " " + shortDigest(l.DiffID)
	}
	return cell
}

// fit returns column widths: each column as wide as its widest cell (LAYER
// at most MaxStepWidth), then, when the total exceeds the terminal width,
// LAYER, TYPE, VERSION and NAME are narrowed in that order down to their
// minimums: the name is what a reader needs most.
func (p *printer) fit(rows [][]string) []int {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for c, cell := range row {
			widths[c] = max(widths[c], p.cond.StringWidth(cell))
		}
	}
	const name, version, typ, layer = 0, 1, 2, 3
	widths[layer] = min(widths[layer], MaxStepWidth)
	if p.opts.Width <= 0 {
		return widths
	}
	total := func() int {
		t := len(gap) * (len(widths) - 1)
		for _, w := range widths {
			t += w
		}
		return t
	}
	for _, c := range []struct{ col, min int }{{layer, minLayer}, {typ, minType}, {version, minVersion}, {name, minName}} {
		if over := total() - p.opts.Width; over > 0 && widths[c.col] > c.min {
			widths[c.col] = max(c.min, widths[c.col]-over)
		}
	}
	return widths
}

// clean replaces control characters (an image is attacker-controlled and
// its names must not drive the terminal) and invalid UTF-8 with U+FFFD.
func clean(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\uFFFD' }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
