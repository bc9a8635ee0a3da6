// Package format picks a report encoder by the name users give to
// --format. It is a plain function over a fixed set of names, not a
// registry: adding a format is one new report/ sub-package and one case
// here.
package format

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/cyclonedx"
	"github.com/vigilsec/vigil/report/spdx"
	"github.com/vigilsec/vigil/report/table"
)

// The format names.
const (
	Table     = "table"
	JSON      = "json"
	CycloneDX = "cyclonedx"
	SPDX      = "spdx"
)

// ErrUnknown is returned by New for a name that is no format.
var ErrUnknown = errors.New("unknown output format")

// Options are the settings some formats take.
type Options struct {
	// Table sets the terminal width and colour of the table format.
	Table table.Options
}

// Names returns the format names New accepts (without aliases), in the
// order help text lists them.
func Names() []string { return []string{Table, JSON, CycloneDX, SPDX} }

// New returns the encoder for a format name. Names are case-insensitive,
// and "cyclonedx-json" and "spdx-json" are accepted for the peers' users.
func New(name string, o Options) (report.Encoder, error) {
	switch strings.ToLower(name) {
	case Table:
		return table.New(o.Table), nil
	case JSON:
		return report.JSONEncoder{}, nil
	case CycloneDX, "cyclonedx-json":
		return cyclonedx.Encoder{}, nil
	case SPDX, "spdx-json":
		return spdx.Encoder{}, nil
	}
	return nil, fmt.Errorf("format: %q: %w; use one of %s", name, ErrUnknown, strings.Join(Names(), ", "))
}
