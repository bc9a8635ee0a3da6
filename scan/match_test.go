package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/vulndb"
)

// damagedStore fails every lookup as a damaged database file does.
type damagedStore struct{}

func (damagedStore) EachAdvisory(context.Context, string, string, func(*vulndb.Affected) error) error {
	return fmt.Errorf("details block: %w", vulndb.ErrCorrupt)
}
func (damagedStore) Details(context.Context, string) (*vulndb.Details, error) { return nil, nil }
func (damagedStore) KEV(context.Context, string) (*vulndb.KEV, error)         { return nil, nil }
func (damagedStore) EPSS(context.Context, string) (*vulndb.EPSS, error)       { return nil, nil }

// TestMatchDamagedDatabase: a damaged database fails the match with
// ErrCorrupt and says what to do about it.
func TestMatchDamagedDatabase(t *testing.T) {
	r := &report.Report{Inventory: &inventory.Inventory{Packages: []inventory.Package{{Name: "lodash", Version: "4.17.15", Ecosystem: "npm"}}}}
	err := (&Service{}).Match(context.Background(), r, damagedStore{})
	if !errors.Is(err, vulndb.ErrCorrupt) || !strings.Contains(err.Error(), "vigil db update") {
		t.Errorf("Match with a damaged database: %v", err)
	}
}
