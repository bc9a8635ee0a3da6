package scan

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigilsec/vigil/match"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
)

// Match finds the known vulnerabilities of the report's inventory in the
// advisory store: it sets r.Vulnerabilities (replacing what was there) and
// appends the matcher's warnings (versions that could not be compared,
// OS packages of a release without advisories) to r.Inventory.Warnings. It
// fails only when the store fails or ctx ends; the report is then left as
// it was.
func (s *Service) Match(ctx context.Context, r *report.Report, store vulndb.Store) error {
	if r == nil || r.Inventory == nil {
		return errors.New("scan: match: the report has no inventory (make it with Service.Inventory first)")
	}
	if store == nil {
		return errors.New("scan: match: no advisory database (open one with vulndb.Open, or run `vigil db update`)")
	}
	m := &match.Matcher{Store: store}
	fs, warns, err := m.Match(ctx, r.Inventory)
	if err != nil {
		if errors.Is(err, vulndb.ErrCorrupt) {
			// An update starts from the file it replaces, so it would keep
			// the damage: the way out is a new file.
			return fmt.Errorf("scan: match %s: %w (the advisory database is damaged: delete it and run `vigil db update`, or `vigil db pull`)", r.Target.DisplayName(), err)
		}
		return fmt.Errorf("scan: match %s: %w", r.Target.DisplayName(), err)
	}
	r.Vulnerabilities = fs
	r.Inventory.Warnings = append(r.Inventory.Warnings, warns...)
	return nil
}
