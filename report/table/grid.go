package table

import (
	"strings"
)

// column describes one column of a grid.
type column struct {
	header string
	// min is the narrowest the column gets when fitting the width; cap the
	// widest it gets even without a width limit (0: no cap).
	min, cap int
	// wrap wraps long cells onto up to maxLines lines instead of cutting
	// them (only when the width is limited).
	wrap     bool
	maxLines int
	// drop is the order in which columns are left out when even their
	// minimum widths do not fit (1 first; 0 never).
	drop int
	// spill prints the cells of the column, when it is dropped, on lines
	// of their own below each row, indented and wrapped to the width.
	spill bool
	// style returns the ANSI codes of a cell, or "".
	style func(row int) string
}

// grid is a table whose cells may hold several lines.
type grid struct {
	cols []column
	rows [][][]string // rows of cells of lines
	// shrink lists column indexes in the order they give up width.
	shrink []int
}

func (g *grid) add(cells ...[]string) { g.rows = append(g.rows, cells) }

// line makes a one-line cell.
func line(s string) []string { return []string{s} }

// fitGrid returns the width of each column, 0 for a dropped column.
func (p *printer) fitGrid(g *grid) []int {
	natural := make([]int, len(g.cols))
	for c, col := range g.cols {
		natural[c] = p.cond.StringWidth(col.header)
		for _, row := range g.rows {
			for _, l := range row[c] {
				natural[c] = max(natural[c], p.cond.StringWidth(l))
			}
		}
		if col.cap > 0 {
			natural[c] = min(natural[c], col.cap)
		}
	}
	widths := append([]int(nil), natural...)
	if p.opts.Width <= 0 {
		return widths
	}
	total := func() int {
		t, n := 0, 0
		for _, w := range widths {
			if w > 0 {
				t += w
				n++
			}
		}
		return t + len(gap)*max(0, n-1)
	}
	for {
		for _, c := range g.shrink {
			if over := total() - p.opts.Width; over > 0 && widths[c] > g.cols[c].min {
				widths[c] = max(g.cols[c].min, widths[c]-over)
			}
		}
		if total() <= p.opts.Width {
			return widths
		}
		// Leave out the next droppable column and start again from the
		// natural widths of the rest.
		next, order := -1, 0
		for c, col := range g.cols {
			if col.drop > 0 && widths[c] > 0 && (next < 0 || col.drop < order) {
				next, order = c, col.drop
			}
		}
		if next < 0 {
			return widths
		}
		for c := range widths {
			if widths[c] > 0 {
				widths[c] = natural[c]
			}
		}
		widths[next] = 0
	}
}

// writeGrid prints the grid: a bold header, then the rows, cells padded to
// their column, wrapped or cut to fit, lines trimmed on the right.
func (p *printer) writeGrid(g *grid) {
	widths := p.fitGrid(g)
	render := func(cells [][]string, header bool, row int) {
		// Lay out each cell's lines at its width.
		laid := make([][]string, len(cells))
		height := 1
		for c, cell := range cells {
			w := widths[c]
			if w == 0 {
				continue
			}
			var lines []string
			if g.cols[c].wrap && p.opts.Width > 0 && !header {
				for _, l := range cell {
					lines = append(lines, p.wrap(l, w)...)
				}
				if n := g.cols[c].maxLines; n > 0 && len(lines) > n {
					lines = append(lines[:n-1], p.cond.Truncate(lines[n-1]+" "+strings.Join(lines[n:], " "), w, "…"))
				}
			} else {
				for _, l := range cell {
					lines = append(lines, p.cond.Truncate(l, w, "…"))
				}
			}
			laid[c] = lines
			height = max(height, len(lines))
		}
		for i := range height {
			var b strings.Builder
			first := true
			last := len(cells) - 1
			for last >= 0 && widths[last] == 0 {
				last--
			}
			for c := range cells {
				if widths[c] == 0 {
					continue
				}
				if !first {
					b.WriteString(gap)
				}
				first = false
				text := ""
				if i < len(laid[c]) {
					text = laid[c][i]
				}
				padded := text
				if c < last {
					padded = p.cond.FillRight(text, widths[c])
				}
				switch {
				case header:
					b.WriteString(p.style(padded, bold))
				case text != "" && g.cols[c].style != nil:
					codes := g.cols[c].style(row)
					// Colour the text, not the padding.
					b.WriteString(p.style(text, codes) + padded[len(text):])
				default:
					b.WriteString(padded)
				}
			}
			p.w.WriteString(strings.TrimRight(b.String(), " "))
			p.w.WriteString("\n")
		}
	}
	headers := make([][]string, len(g.cols))
	for c, col := range g.cols {
		headers[c] = line(col.header)
	}
	render(headers, true, -1)
	for i, row := range g.rows {
		render(row, false, i)
		for c, col := range g.cols {
			if !col.spill || widths[c] > 0 {
				continue
			}
			for _, l := range row[c] {
				if l == "" {
					continue
				}
				lines := p.wrap(l, max(8, p.opts.Width-4))
				if n := col.maxLines; n > 0 && len(lines) > n {
					lines = append(lines[:n-1], p.cond.Truncate(lines[n-1]+" "+strings.Join(lines[n:], " "), max(8, p.opts.Width-4), "…"))
				}
				for _, wl := range lines {
					p.w.WriteString("    " + p.style(wl, dim) + "\n")
				}
			}
		}
	}
}

// wrap breaks s into lines of at most w columns, at spaces where it can.
func (p *printer) wrap(s string, w int) []string {
	if p.cond.StringWidth(s) <= w {
		return []string{s}
	}
	var out []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		out = append(out, cur.String())
		cur.Reset()
		curW = 0
	}
	for _, word := range strings.Fields(s) {
		ww := p.cond.StringWidth(word)
		for ww > w {
			// A word longer than the line: cut it.
			if curW > 0 {
				flush()
			}
			head := p.cond.Truncate(word, w, "")
			out = append(out, head)
			word = word[len(head):]
			ww = p.cond.StringWidth(word)
			if head == "" {
				break
			}
		}
		if word == "" {
			continue
		}
		if curW > 0 && curW+1+ww > w {
			flush()
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	if curW > 0 {
		flush()
	}
	return out
}
