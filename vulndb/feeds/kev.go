package feeds

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigilsec/vigil/vulndb"
)

// DefaultKEVURL is where CISA publishes the KEV catalog.
const DefaultKEVURL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"

type kevCatalog struct {
	Title           string            `json:"title"`
	CatalogVersion  string            `json:"catalogVersion"`
	DateReleased    string            `json:"dateReleased"`
	Count           *int              `json:"count"`
	Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
}

type kevEntry struct {
	CVEID                      string   `json:"cveID"`
	VendorProject              string   `json:"vendorProject"`
	Product                    string   `json:"product"`
	VulnerabilityName          string   `json:"vulnerabilityName"`
	DateAdded                  string   `json:"dateAdded"`
	ShortDescription           string   `json:"shortDescription"`
	RequiredAction             string   `json:"requiredAction"`
	DueDate                    string   `json:"dueDate"`
	KnownRansomwareCampaignUse string   `json:"knownRansomwareCampaignUse"`
	Notes                      string   `json:"notes"`
	CWEs                       []string `json:"cwes"`
}

// KEVResult is what ParseKEV read.
type KEVResult struct {
	CatalogVersion string
	Released       time.Time
	Entries        []vulndb.KEV
	Warnings       []Warning
}

// ParseKEV reads the CISA KEV catalog JSON. Entries without a valid CVE ID
// are skipped with a warning; an unparseable date is left zero with a
// warning. String fields are kept as published (including stray spaces).
func ParseKEV(r io.Reader) (*KEVResult, error) {
	var c kevCatalog
	dec := json.NewDecoder(newLimitReader(r, MaxFeedSize))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("feeds: KEV catalog: %w", err)
	}
	if c.Vulnerabilities == nil {
		return nil, fmt.Errorf("feeds: KEV catalog: no \"vulnerabilities\" array (is this a KEV catalog?)")
	}
	res := &KEVResult{CatalogVersion: c.CatalogVersion}
	warn := func(format string, args ...any) {
		res.Warnings = append(res.Warnings, Warning{Kind: Malformed, Message: "KEV: " + fmt.Sprintf(format, args...)})
	}
	if c.DateReleased != "" {
		t, err := time.Parse(time.RFC3339Nano, c.DateReleased)
		if err != nil {
			warn("dateReleased %q: %v", c.DateReleased, err)
		}
		res.Released = t.UTC()
	}
	if c.Count != nil && *c.Count != len(c.Vulnerabilities) {
		warn("catalog says %d entries but holds %d", *c.Count, len(c.Vulnerabilities))
	}
	for i, raw := range c.Vulnerabilities {
		var e kevEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			warn("entry %d: %v", i, err)
			continue
		}
		cve := strings.TrimSpace(e.CVEID)
		if !vulndb.IsCVE(cve) {
			warn("entry %d: bad cveID %q", i, e.CVEID)
			continue
		}
		k := vulndb.KEV{
			CVE:                        cve,
			VendorProject:              e.VendorProject,
			Product:                    e.Product,
			Name:                       e.VulnerabilityName,
			ShortDescription:           e.ShortDescription,
			RequiredAction:             e.RequiredAction,
			KnownRansomwareCampaignUse: e.KnownRansomwareCampaignUse,
			Notes:                      e.Notes,
			CWEs:                       e.CWEs,
		}
		var err error
		if k.DateAdded, err = parseDay(e.DateAdded); err != nil {
			warn("%s: dateAdded: %v", cve, err)
		}
		if k.DueDate, err = parseDay(e.DueDate); err != nil {
			warn("%s: dueDate: %v", cve, err)
		}
		res.Entries = append(res.Entries, k)
	}
	return res, nil
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t, nil
}
