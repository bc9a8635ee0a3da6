package feeds

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/vulndb"
)

// DefaultEPSSURL is where FIRST publishes the current EPSS scores (gzip
// compressed CSV).
const DefaultEPSSURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

// EPSSResult is what ParseEPSS read.
type EPSSResult struct {
	ModelVersion string
	Date         time.Time
	Entries      []vulndb.EPSS
	Warnings     []Warning
}

// maxEPSSRows caps the rows of one file (the real file has about 300,000).
const maxEPSSRows = 5_000_000

// ParseEPSS reads the EPSS CSV: a "#model_version:...,score_date:..."
// comment line, the header "cve,epss,percentile", then one row per CVE. A
// file without a score date or with another header is rejected (the scores
// could not be dated or placed); a bad row is skipped with a warning.
func ParseEPSS(r io.Reader) (*EPSSResult, error) {
	sc := bufio.NewScanner(newLimitReader(r, MaxFeedSize))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	res := &EPSSResult{}
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return strings.TrimRight(sc.Text(), "\r"), true
	}
	first, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("feeds: EPSS: %w", err)
		}
		return nil, fmt.Errorf("feeds: EPSS: empty file")
	}
	first = strings.TrimPrefix(first, "\ufeff")
	if !strings.HasPrefix(first, "#") {
		return nil, fmt.Errorf("feeds: EPSS: line 1: want a #model_version,score_date comment, got %q", trunc(first))
	}
	for _, kv := range strings.Split(strings.TrimPrefix(first, "#"), ",") {
		k, v, _ := strings.Cut(kv, ":")
		switch strings.TrimSpace(k) {
		case "model_version":
			res.ModelVersion = strings.TrimSpace(v)
		case "score_date":
			t, err := parseEPSSDate(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("feeds: EPSS: line 1: score_date %q: %v", v, err)
			}
			res.Date = t
		}
	}
	if res.Date.IsZero() {
		return nil, fmt.Errorf("feeds: EPSS: line 1: no score_date in %q", trunc(first))
	}
	header, ok := next()
	if !ok || strings.ReplaceAll(strings.ToLower(header), " ", "") != "cve,epss,percentile" {
		return nil, fmt.Errorf("feeds: EPSS: line 2: want header \"cve,epss,percentile\", got %q", trunc(header))
	}
	for {
		row, ok := next()
		if !ok {
			break
		}
		if row == "" {
			continue
		}
		if len(res.Entries) >= maxEPSSRows {
			return nil, fmt.Errorf("feeds: EPSS: more than %d rows", maxEPSSRows)
		}
		f := strings.Split(row, ",")
		if len(f) != 3 {
			res.Warnings = append(res.Warnings, Warning{Kind: Malformed, Message: fmt.Sprintf("EPSS: line %d: %d fields, want 3", line, len(f))})
			continue
		}
		cve := strings.TrimSpace(f[0])
		score, err1 := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		pct, err2 := strconv.ParseFloat(strings.TrimSpace(f[2]), 64)
		if !vulndb.IsCVE(cve) || err1 != nil || err2 != nil || !(score >= 0 && score <= 1) || !(pct >= 0 && pct <= 1) {
			res.Warnings = append(res.Warnings, Warning{Kind: Malformed, Message: fmt.Sprintf("EPSS: line %d: bad row %q", line, trunc(row))})
			continue
		}
		res.Entries = append(res.Entries, vulndb.EPSS{CVE: cve, Score: score, Percentile: pct, Date: res.Date})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("feeds: EPSS: line %d: %w", line+1, err)
	}
	return res, nil
}

func parseEPSSDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date")
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
