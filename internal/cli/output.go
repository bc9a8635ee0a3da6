package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// outputSpec is one report to write: a format and a destination ("-" is
// stdout).
type outputSpec struct {
	format, path string
}

// outputs resolves --format and --output into the reports to write.
// "--output FILE" writes the --format (or default) format to FILE;
// "--output FORMAT=FILE" writes FORMAT there; both repeat.
func (g *globals) outputs(defaultFormat string, known []string) ([]outputSpec, error) {
	isKnown := func(f string) bool {
		for _, k := range known {
			if k == f {
				return true
			}
		}
		return false
	}
	format := g.format
	if format == "" {
		format = defaultFormat
	}
	if !isKnown(format) {
		return nil, usageError("--format %q: want one of %s", format, strings.Join(known, ", "))
	}
	if len(g.output) == 0 {
		return []outputSpec{{format, "-"}}, nil
	}
	var out []outputSpec
	for _, o := range g.output {
		if f, p, ok := strings.Cut(o, "="); ok && isKnown(f) {
			if p == "" {
				return nil, usageError("--output %q: no file after =", o)
			}
			out = append(out, outputSpec{f, p})
			continue
		}
		out = append(out, outputSpec{format, o})
	}
	return out, nil
}

// write opens the destination and calls fn with a buffered writer.
func (g *globals) write(spec outputSpec, fn func(w io.Writer) error) error {
	if spec.path == "-" || spec.path == "" {
		bw := bufio.NewWriter(g.env.Stdout)
		if err := fn(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	f, err := os.Create(spec.path)
	if err != nil {
		return fmt.Errorf("writing %s report: %w", spec.format, err)
	}
	bw := bufio.NewWriter(f)
	if err := fn(bw); err != nil {
		f.Close()
		return fmt.Errorf("writing %s report to %s: %w", spec.format, spec.path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", spec.path, err)
	}
	return f.Close()
}
