package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/report"
)

// Options are the gating settings of one scan, usually from the flags of
// the same names merged with the policy file (see Merge).
type Options struct {
	// Severities keeps only findings and audit issues of these severities
	// (--severity); empty keeps all.
	Severities []report.Severity
	// IgnoreUnfixed removes findings without a fixed version
	// (--ignore-unfixed).
	IgnoreUnfixed bool
	// FailOn fails the scan when an unsuppressed finding or audit issue at
	// or above this severity remains (--fail-on); "unknown" fails on any.
	FailOn report.Severity
	// ExitCode is the exit code of a failed scan (--exit-code); 0 means 1.
	// Set without FailOn, any unsuppressed finding or issue fails the scan.
	ExitCode int
	// OnlyKEV keeps only findings in CISA's KEV catalog (--only-kev).
	OnlyKEV bool
	// MinEPSS keeps only findings whose EPSS score is at least this
	// (--min-epss); 0 keeps all.
	MinEPSS float64
	// Now is the time ignore-rule expiry is checked against; zero means the
	// current time.
	Now time.Time
}

// Result is the outcome of Apply.
type Result struct {
	// Failed is true when the scan breaks the policy; ExitCode is then the
	// process exit code (Options.ExitCode, or 1), else 0.
	Failed   bool
	ExitCode int
	// Message says why the scan failed, for stderr; empty when it passed.
	Message string
	// Warnings are for stderr: expired ignore rules.
	Warnings []string
	Counts   Counts
}

// Counts says what Apply did.
type Counts struct {
	// Findings are the vulnerability findings left unsuppressed,
	// Suppressed those an ignore rule or VEX statement silenced, Removed
	// those the options filtered out of the report.
	Findings, Suppressed, Removed int
	// Issues, IssuesSuppressed and IssuesRemoved are the same for audit
	// issues.
	Issues, IssuesSuppressed, IssuesRemoved int
	// Failing counts the unsuppressed findings and issues that fail the
	// policy, by severity.
	Failing report.SeverityCounts
}

// Validate checks the options, returning an error matching ErrInvalid.
func (o *Options) Validate() error {
	for _, s := range o.Severities {
		if _, err := ParseSeverity(string(s)); err != nil {
			return fmt.Errorf("policy: --severity: %w: %w", err, ErrInvalid)
		}
	}
	if o.FailOn != "" {
		if _, err := ParseSeverity(string(o.FailOn)); err != nil {
			return fmt.Errorf("policy: --fail-on: %w: %w", err, ErrInvalid)
		}
	}
	if err := checkExitCode(o.ExitCode); err != nil {
		return fmt.Errorf("policy: --%w: %w", err, ErrInvalid)
	}
	if err := checkEPSS(o.MinEPSS); err != nil {
		return fmt.Errorf("policy: --%w: %w", err, ErrInvalid)
	}
	return nil
}

// Apply filters and suppresses r's findings and decides whether the scan
// fails. In order:
//
//  1. findings not of Options.Severities, without a fix (IgnoreUnfixed),
//     not in KEV (OnlyKEV) or below MinEPSS are removed from r, and audit
//     issues not of Options.Severities;
//  2. each remaining finding without a Suppressed mark is matched against
//     the ignore rules in file order (the first unexpired match
//     suppresses; an expired one is reported in Result.Warnings), then
//     against the VEX statements (the latest statement about it decides:
//     not_affected, false_positive and fixed suppress); audit issues are
//     matched against the ignore rules by ID and path;
//  3. the unsuppressed findings and issues are gated against FailOn and
//     ExitCode.
//
// cfg and vex may be nil. r is modified in place.
func Apply(r *report.Report, cfg *Config, vex *VEX, opts Options) (Result, error) {
	var res Result
	if r == nil {
		return res, fmt.Errorf("policy: apply: nil report")
	}
	if err := opts.Validate(); err != nil {
		return res, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var rules []Rule
	if cfg != nil {
		rules = cfg.Ignore
	}
	expiredHits := make([]int, len(rules))

	kept := r.Vulnerabilities[:0:0]
	for i := range r.Vulnerabilities {
		f := r.Vulnerabilities[i]
		if !keepFinding(&f, &opts) {
			res.Counts.Removed++
			continue
		}
		if f.Suppressed == nil {
			f.Suppressed = suppressFinding(r, &f, rules, expiredHits, vex, now)
		}
		if f.Suppressed != nil {
			res.Counts.Suppressed++
		} else {
			res.Counts.Findings++
			countFailing(&res.Counts.Failing, f.Severity, &opts)
		}
		kept = append(kept, f)
	}
	r.Vulnerabilities = kept

	keptIssues := r.Audit[:0:0]
	for i := range r.Audit {
		is := r.Audit[i]
		if len(opts.Severities) > 0 && !slices.Contains(opts.Severities, is.Severity) {
			res.Counts.IssuesRemoved++
			continue
		}
		if is.Suppressed == nil {
			for j := range rules {
				rule := &rules[j]
				if !ruleMatchesIssue(rule, &is) {
					continue
				}
				if rule.Expired(now) {
					expiredHits[j]++
					continue
				}
				is.Suppressed = ruleSuppression(rule)
				break
			}
		}
		if is.Suppressed != nil {
			res.Counts.IssuesSuppressed++
		} else {
			res.Counts.Issues++
			countFailing(&res.Counts.Failing, is.Severity, &opts)
		}
		keptIssues = append(keptIssues, is)
	}
	r.Audit = keptIssues

	for j := range rules {
		rule := &rules[j]
		if !rule.Expired(now) {
			continue
		}
		what := "it matched nothing in this report"
		if n := expiredHits[j]; n > 0 {
			what = fmt.Sprintf("%d %s again: fix %s or renew the rule", n, plural(n, "finding counts", "findings count"), pick(n, "it", "them"))
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("policy: %s: the ignore rule for %s expired on %s and no longer suppresses; %s",
			rule.Source(), rule.describe(), rule.Expires.Format(time.DateOnly), what))
	}

	if res.Counts.Failing.Total > 0 {
		res.Failed = true
		res.ExitCode = opts.ExitCode
		if res.ExitCode == 0 {
			res.ExitCode = 1
		}
		res.Message = failMessage(&res.Counts.Failing, &opts)
	}
	return res, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func pick(n int, one, many string) string { return plural(n, one, many) }

// keepFinding applies the filters of opts.
func keepFinding(f *report.Finding, o *Options) bool {
	switch {
	case len(o.Severities) > 0 && !slices.Contains(o.Severities, f.Severity):
		return false
	case o.IgnoreUnfixed && len(f.FixedVersions) == 0:
		return false
	case o.OnlyKEV && !f.KEV:
		return false
	case o.MinEPSS > 0 && (f.EPSS == nil || f.EPSS.Score < o.MinEPSS):
		return false
	}
	return true
}

// countFailing counts a severity when it fails the gate.
func countFailing(c *report.SeverityCounts, s report.Severity, o *Options) {
	switch {
	case o.FailOn != "":
		if s.Rank() >= o.FailOn.Rank() {
			c.Add(s)
		}
	case o.ExitCode > 0:
		c.Add(s)
	}
}

func failMessage(c *report.SeverityCounts, o *Options) string {
	var parts []string
	for _, s := range report.Severities() {
		if n := c.Of(s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	what := fmt.Sprintf("%d %s", c.Total, plural(c.Total, "finding", "findings"))
	if o.FailOn != "" {
		return fmt.Sprintf("policy failed: %s at or above %s (%s); fix %s, or record why %s not apply in the policy file or a VEX document",
			what, o.FailOn, strings.Join(parts, ", "), pick(c.Total, "it", "them"), pick(c.Total, "it does", "they do"))
	}
	return fmt.Sprintf("policy failed: %s remain (%s) and --exit-code is %d", what, strings.Join(parts, ", "), o.ExitCode)
}

func ruleSuppression(rule *Rule) *report.Suppression {
	return &report.Suppression{
		Reason:        rule.Reason,
		Source:        rule.Source(),
		Expires:       rule.Expires,
		Kind:          report.SuppressedByIgnore,
		Status:        rule.Status,
		Justification: rule.Justification,
	}
}

// suppressFinding returns the suppression of f by the first unexpired
// matching rule, else by the deciding VEX statement, else nil.
func suppressFinding(r *report.Report, f *report.Finding, rules []Rule, expiredHits []int, vex *VEX, now time.Time) *report.Suppression {
	ids := findingIDs(f)
	s := subjectOf(r, f)
	for j := range rules {
		rule := &rules[j]
		if !ruleMatchesFinding(rule, ids, &s) {
			continue
		}
		if rule.Expired(now) {
			expiredHits[j]++
			continue
		}
		return ruleSuppression(rule)
	}
	if vex == nil {
		return nil
	}
	var best *Statement
	for i := range vex.Statements {
		st := &vex.Statements[i]
		if !statementMatches(st, ids, &s, &r.Target) {
			continue
		}
		if best == nil || !st.Timestamp.Before(best.Timestamp) {
			best = st
		}
	}
	if best == nil {
		return nil
	}
	var status string
	switch best.Status {
	case VEXNotAffected:
		status = report.StatusNotAffected
	case VEXFalsePositive:
		status = report.StatusFalsePositive
	case VEXFixed:
		status = report.StatusFixed
	default:
		return nil
	}
	reason := "VEX: " + strings.ReplaceAll(best.Status, "_", " ")
	if best.Justification != "" {
		reason += " (" + strings.ReplaceAll(best.Justification, "_", " ") + ")"
	}
	if best.Impact != "" {
		reason += ": " + best.Impact
	}
	return &report.Suppression{
		Reason:        reason,
		Source:        best.Source(),
		Kind:          report.SuppressedByVEX,
		Status:        status,
		Justification: best.Justification,
	}
}
