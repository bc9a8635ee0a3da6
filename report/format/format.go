// Package format picks a report encoder by the name users give to
// --format. It is a plain function over a fixed set of names, not a
// registry: adding a format is one new report/ sub-package and one case
// here.
//
// The formats: table (people at a terminal), json (vigil's own document),
// sarif (GitHub code scanning), cyclonedx and spdx (SBOMs; CycloneDX also
// carries the vulnerabilities with their VEX analysis), junit (CI test
// views), markdown (pull-request comments), html (one self-contained page)
// and template (a user's Go text/template over the JSON document).
package format

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/cyclonedx"
	"github.com/vigilsec/vigil/report/html"
	"github.com/vigilsec/vigil/report/junit"
	"github.com/vigilsec/vigil/report/markdown"
	"github.com/vigilsec/vigil/report/sarif"
	"github.com/vigilsec/vigil/report/spdx"
	"github.com/vigilsec/vigil/report/table"
	"github.com/vigilsec/vigil/report/template"
)

// The format names.
const (
	Table     = "table"
	JSON      = "json"
	SARIF     = "sarif"
	CycloneDX = "cyclonedx"
	SPDX      = "spdx"
	JUnit     = "junit"
	Markdown  = "markdown"
	HTML      = "html"
	Template  = "template"
)

// ErrUnknown is returned by New for a name that is no format.
var ErrUnknown = errors.New("unknown output format")

// ErrNoTemplate is returned by New for the template format without
// Options.Template.
var ErrNoTemplate = errors.New("the template format needs a template file")

// Options are the settings some formats take.
type Options struct {
	// Table sets the terminal width and colour of the table format.
	Table table.Options
	// Markdown caps the size of the markdown format.
	Markdown markdown.Options
	// Template is the template file of the template format (--template
	// FILE or @FILE); New reads and parses it.
	Template string
}

// Names returns the format names New accepts (without aliases), in the
// order help text lists them.
func Names() []string {
	return []string{Table, JSON, SARIF, CycloneDX, SPDX, JUnit, Markdown, HTML, Template}
}

// New returns the encoder for a format name. Names are case-insensitive;
// "cyclonedx-json", "spdx-json" and "md" are accepted too. The template
// format reads Options.Template, so its errors name that file.
func New(name string, o Options) (report.Encoder, error) {
	switch strings.ToLower(name) {
	case Table:
		return table.New(o.Table), nil
	case JSON:
		return report.JSONEncoder{}, nil
	case SARIF:
		return sarif.Encoder{}, nil
	case CycloneDX, "cyclonedx-json":
		return cyclonedx.Encoder{}, nil
	case SPDX, "spdx-json":
		return spdx.Encoder{}, nil
	case JUnit:
		return junit.Encoder{}, nil
	case Markdown, "md":
		return markdown.New(o.Markdown), nil
	case HTML:
		return html.Encoder{}, nil
	case Template:
		if o.Template == "" {
			return nil, fmt.Errorf("format: %s: %w; give one with --template FILE", name, ErrNoTemplate)
		}
		enc, err := template.Load(o.Template)
		if err != nil {
			return nil, fmt.Errorf("format: %w", err)
		}
		return enc, nil
	}
	return nil, fmt.Errorf("format: %q: %w; use one of %s", name, ErrUnknown, strings.Join(Names(), ", "))
}
