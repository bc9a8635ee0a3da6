package policy_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/policy"
	"github.com/vigilsec/vigil/report"
)

// now is the injected clock: the sample report's creation time.
var now = time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)

// sample reads testdata/sample.json, a copy of the report package's
// golden JSON report: findings on libc6 (negligible, wont-fix), libcurl4
// (medium), jwt-go (high, not fixed, already suppressed), golang.org/x/text
// (high), lodash (high), minimist (critical, EPSS 0.0117), and two audit
// issues (a critical secret in app/config/credentials, a high config
// issue).
func sample(t *testing.T) *report.Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// unsuppressed is the sample without its pre-set suppression.
func unsuppressed(t *testing.T) *report.Report {
	r := sample(t)
	for i := range r.Vulnerabilities {
		r.Vulnerabilities[i].Suppressed = nil
	}
	return r
}

// TestApplyExitCodes is the exit-code matrix of docs/exit-codes.md as far
// as policy decides it: 0 pass, 1 or --exit-code N when the policy fails,
// and invalid options as usage errors (ErrInvalid, exit code 3).
func TestApplyExitCodes(t *testing.T) {
	suppressAll, err := policy.Parse("all.yaml", []byte("ignore:\n  - path: '**'\n    reason: accepted risk\n  - id: VGL-CFG-001\n    reason: accepted\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    policy.Options
		cfg     *policy.Config
		kev     bool // mark lodash as known exploited
		want    policy.Result
		wantErr bool
	}{
		{name: "no gate: pass",
			want: policy.Result{Counts: policy.Counts{Findings: 5, Suppressed: 1, Issues: 2}}},
		{name: "fail-on critical: minimist and the secret fail",
			opts: policy.Options{FailOn: report.Critical},
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Findings: 5, Suppressed: 1, Issues: 2,
				Failing: report.SeverityCounts{Total: 2, Critical: 2}}}},
		{name: "exit-code replaces 1",
			opts: policy.Options{FailOn: report.Critical, ExitCode: 5},
			want: policy.Result{Failed: true, ExitCode: 5, Counts: policy.Counts{Findings: 5, Suppressed: 1, Issues: 2,
				Failing: report.SeverityCounts{Total: 2, Critical: 2}}}},
		{name: "exit-code alone fails on anything left",
			opts: policy.Options{ExitCode: 5},
			want: policy.Result{Failed: true, ExitCode: 5, Counts: policy.Counts{Findings: 5, Suppressed: 1, Issues: 2,
				Failing: report.SeverityCounts{Total: 7, Critical: 2, High: 3, Medium: 1, Negligible: 1}}}},
		{name: "severity filter removes what would fail",
			opts: policy.Options{FailOn: report.Critical, Severities: []report.Severity{report.High, report.Medium}},
			want: policy.Result{Counts: policy.Counts{Findings: 3, Suppressed: 1, Removed: 2, Issues: 1, IssuesRemoved: 1}}},
		{name: "ignore-unfixed",
			opts: policy.Options{FailOn: report.High, IgnoreUnfixed: true},
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Findings: 4, Removed: 2, Issues: 2,
				Failing: report.SeverityCounts{Total: 5, Critical: 2, High: 3}}}},
		{name: "only-kev keeps the known exploited",
			opts: policy.Options{FailOn: report.High, OnlyKEV: true}, kev: true,
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Findings: 1, Removed: 5, Issues: 2,
				Failing: report.SeverityCounts{Total: 3, Critical: 1, High: 2}}}},
		{name: "min-epss keeps the likely exploited",
			opts: policy.Options{FailOn: report.Medium, MinEPSS: 0.01},
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Findings: 1, Removed: 5, Issues: 2,
				Failing: report.SeverityCounts{Total: 3, Critical: 2, High: 1}}}},
		{name: "min-epss above every score",
			opts: policy.Options{Severities: []report.Severity{report.Critical}, MinEPSS: 0.5, FailOn: report.Low},
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Removed: 6, Issues: 1, IssuesRemoved: 1,
				Failing: report.SeverityCounts{Total: 1, Critical: 1}}}},
		{name: "fail-on negligible counts everything but unknown",
			opts: policy.Options{FailOn: report.Negligible},
			want: policy.Result{Failed: true, ExitCode: 1, Counts: policy.Counts{Findings: 5, Suppressed: 1, Issues: 2,
				Failing: report.SeverityCounts{Total: 7, Critical: 2, High: 3, Medium: 1, Negligible: 1}}}},
		{name: "suppressed findings and issues do not fail",
			opts: policy.Options{FailOn: report.Unknown, ExitCode: 7}, cfg: suppressAll,
			want: policy.Result{Counts: policy.Counts{Suppressed: 6, IssuesSuppressed: 2}}},
		{name: "bad severity", opts: policy.Options{Severities: []report.Severity{"urgent"}}, wantErr: true},
		{name: "bad fail-on", opts: policy.Options{FailOn: "severe"}, wantErr: true},
		{name: "exit code out of range", opts: policy.Options{ExitCode: 256}, wantErr: true},
		{name: "negative exit code", opts: policy.Options{ExitCode: -1}, wantErr: true},
		{name: "epss out of range", opts: policy.Options{MinEPSS: 1.5}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sample(t)
			if tc.kev {
				for i := range r.Vulnerabilities {
					r.Vulnerabilities[i].KEV = r.Vulnerabilities[i].Package.Name == "lodash"
				}
			}
			tc.opts.Now = now
			got, err := policy.Apply(r, tc.cfg, nil, tc.opts)
			if tc.wantErr {
				if !errors.Is(err, policy.ErrInvalid) {
					t.Fatalf("Apply error = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Failed != (got.Message != "") {
				t.Errorf("Failed %v with message %q", got.Failed, got.Message)
			}
			got.Message = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if n := len(r.Vulnerabilities); n != got.Counts.Findings+got.Counts.Suppressed {
				t.Errorf("report keeps %d findings, want the %d kept and suppressed", n, got.Counts.Findings+got.Counts.Suppressed)
			}
			if n := len(r.Audit); n != got.Counts.Issues+got.Counts.IssuesSuppressed {
				t.Errorf("report keeps %d issues, want %d", n, got.Counts.Issues+got.Counts.IssuesSuppressed)
			}
		})
	}
}

func TestApplyMessage(t *testing.T) {
	res, err := policy.Apply(sample(t), nil, nil, policy.Options{FailOn: report.High, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := "policy failed: 5 findings at or above high (2 critical, 3 high); fix them, or record why they do not apply in the policy file or a VEX document"
	if res.Message != want {
		t.Errorf("Message\n got %q\nwant %q", res.Message, want)
	}
}

// suppression is what TestApplyPolicyFile and TestApplyVEX compare: each
// finding's or issue's suppression by ID.
func suppressions(r *report.Report) map[string]*report.Suppression {
	out := map[string]*report.Suppression{}
	for _, f := range r.Vulnerabilities {
		out[f.ID] = f.Suppressed
	}
	for _, is := range r.Audit {
		out[is.ID] = is.Suppressed
	}
	return out
}

func TestApplyPolicyFile(t *testing.T) {
	file := filepath.Join("testdata", "vigil.yaml")
	cfg, err := policy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	vex, err := policy.LoadVEX(cfg.VEX...)
	if err != nil {
		t.Fatal(err)
	}
	r := sample(t)
	preset := r.Vulnerabilities[2].Suppressed // jwt-go, suppressed before policy ran
	// The file's min-epss (0.01) is overridden by --min-epss 0.
	opts := policy.Merge(cfg, policy.Options{Now: now}, func(f string) bool { return f == "min-epss" })
	res, err := policy.Apply(r, cfg, vex, opts)
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join("testdata", "vex", "app.openvex.json")
	want := map[string]*report.Suppression{
		"CVE-2024-2398":  nil, // its rule expired
		"CVE-2020-26160": preset,
		"CVE-2021-38561": {Reason: "the language tag parser is not reachable from our code", Source: file + ":12",
			Expires: date("2027-03-31"), Kind: "ignore", Status: "not_affected"},
		"CVE-2020-8203": {Reason: "lodash is only used by the build scripts", Source: file + ":16", Kind: "ignore", Status: "false_positive"},
		"CVE-2021-44906": {Reason: "VEX: not affected (vulnerable code not in execute path): minimist only parses our own fixed argv",
			Source: ov + ":8", Kind: "vex", Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path"},
		"VGL-CFG-001": {Reason: "the entrypoint drops privileges itself", Source: file + ":23", Kind: "ignore", Status: "not_affected"},
		"VGL-SEC-001": {Reason: "test credentials, rotated and revoked", Source: file + ":25", Kind: "ignore", Status: "not_affected"},
	}
	if diff := cmp.Diff(want, suppressions(r)); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
	wantWarnings := []string{"policy: " + file + ":19: the ignore rule for DEBIAN-CVE-2024-2398 expired on 2025-12-31 and no longer suppresses; 1 finding counts again: fix it or renew the rule"}
	if diff := cmp.Diff(wantWarnings, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// The file says fail-on high and exit-code 4; what is left (medium)
	// passes, and the file's severity list removed the negligible finding.
	if res.Failed || res.Counts.Removed != 1 || res.Counts.Findings != 1 {
		t.Errorf("result %+v: want a pass with 1 finding removed and 1 left", res)
	}
	// With fail-on medium from the command line the expired rule's finding
	// fails the scan with the file's exit code.
	r = sample(t)
	opts = policy.Merge(cfg, policy.Options{FailOn: report.Medium, Now: now}, func(f string) bool { return f == "fail-on" || f == "min-epss" })
	res, err = policy.Apply(r, cfg, vex, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed || res.ExitCode != 4 || res.Counts.Failing.Medium != 1 {
		t.Errorf("result %+v: want a failure with exit code 4 for the medium libcurl4 finding", res)
	}
}

func TestApplyVEXPrecedence(t *testing.T) {
	vex, err := policy.LoadVEX(vexFile("app.openvex.json"), vexFile("legacy.openvex.json"), vexFile("app.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := unsuppressed(t)
	if _, err := policy.Apply(r, nil, vex, policy.Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for id, s := range suppressions(r) {
		if s != nil {
			got[id] = s.Kind + " " + s.Status + " " + s.Source
		}
	}
	want := map[string]string{
		// CVE-2021-44906: not_affected in OpenVEX on 01-05, exploitable in
		// CycloneDX on 01-07: the later statement wins, not suppressed.
		"CVE-2020-8203":  "vex fixed " + vexFile("app.openvex.json") + ":25",
		"CVE-2021-38561": "vex not_affected " + vexFile("legacy.openvex.json") + ":8",
		"CVE-2020-26160": "vex not_affected " + vexFile("app.cdx.json") + ":13", // GHSA ID, CVE as reference
		"CVE-2024-2398":  "vex fixed " + vexFile("app.cdx.json") + ":23",        // BOM-Link to a purl
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("VEX suppressions (-want +got):\n%s", diff)
	}
}

// TestApplyRuleMatching checks each way a rule matches, one rule at a
// time, against the sample without its preset suppression.
func TestApplyRuleMatching(t *testing.T) {
	tests := []struct {
		name, rule string
		want       []string // suppressed IDs
	}{
		{"by CVE", "id: CVE-2021-44906", []string{"CVE-2021-44906"}},
		{"by alias, any case", "id: ghsa-p6mc-m468-83gw", []string{"CVE-2020-8203"}},
		{"by distribution-prefixed CVE", "id: DEBIAN-CVE-2024-2398", []string{"CVE-2024-2398"}},
		{"by source package name", "package: curl", []string{"CVE-2024-2398"}},
		{"by binary package name", "package: libc6", []string{"CVE-2010-4756"}},
		{"by purl without version", "package: pkg:npm/minimist", []string{"CVE-2021-44906"}},
		{"by purl with another version", "package: pkg:npm/minimist@0.0.10", nil},
		{"by purl, qualifiers ignored", "package: pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=arm64", []string{"CVE-2024-2398"}},
		{"by Go module purl", "package: pkg:golang/golang.org/x/text@v0.3.5", []string{"CVE-2021-38561"}},
		{"by directory", "path: app/node_modules", []string{"CVE-2020-8203", "CVE-2021-44906"}},
		{"by glob", "path: /app/node_modules/*/package.json", []string{"CVE-2020-8203", "CVE-2021-44906"}},
		{"by double star", "path: '**/demo-worker'", []string{"CVE-2020-26160", "CVE-2021-38561"}},
		{"id and package must both match", "id: CVE-2021-44906\n    package: lodash", nil},
		{"id and path", "id: CVE-2021-38561\n    path: app/bin/demo-worker", []string{"CVE-2021-38561"}},
		{"audit rule by ID", "id: VGL-SEC-001", []string{"VGL-SEC-001"}},
		{"audit issue by path", "path: app/config/*", []string{"VGL-SEC-001"}},
		{"a package rule never matches an issue", "id: VGL-CFG-001\n    package: x", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := policy.Parse("p.yaml", []byte("ignore:\n  - "+tc.rule+"\n    reason: test\n"))
			if err != nil {
				t.Fatal(err)
			}
			r := unsuppressed(t)
			if _, err := policy.Apply(r, cfg, nil, policy.Options{Now: now}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for id, s := range suppressions(r) {
				if s != nil {
					got = append(got, id)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("suppressed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuleExpiry(t *testing.T) {
	r := policy.Rule{Expires: date("2026-01-15")}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 1, 15, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := r.Expired(tc.at); got != tc.want {
			t.Errorf("Expired(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if (&policy.Rule{}).Expired(now) {
		t.Error("a rule without expiry expired")
	}
	// An expired rule that matches nothing still says so.
	cfg, err := policy.Parse("p.yaml", []byte("ignore:\n  - id: CVE-1999-0001\n    reason: old\n    expires: 2020-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := policy.Apply(sample(t), cfg, nil, policy.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"policy: p.yaml:2: the ignore rule for CVE-1999-0001 expired on 2020-01-01 and no longer suppresses; it matched nothing in this report"}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestApplyNil(t *testing.T) {
	if _, err := policy.Apply(nil, nil, nil, policy.Options{}); err == nil || !strings.Contains(err.Error(), "nil report") {
		t.Errorf("Apply(nil) = %v", err)
	}
}

// FuzzApply runs the policy of testdata over reports decoded from
// untrusted JSON: Apply must not fail or panic, and must keep every
// finding it does not remove.
func FuzzApply(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "sample.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"schemaVersion":"1","inventory":{"packages":[{"ecosystem":"npm","name":"","purl":"pkg:"}]},"vulnerabilities":[{"id":"DEBIAN-CVE-","package":{"index":9}}],"audit":[{"id":"VGL-CFG-001"}]}`))
	cfg, err := policy.Load(filepath.Join("testdata", "vigil.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	vex, err := policy.LoadVEX(vexFile("app.openvex.json"), vexFile("legacy.openvex.json"), vexFile("app.cdx.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := len(r.Vulnerabilities)
		res, err := policy.Apply(r, cfg, vex, policy.Options{FailOn: report.Low, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Counts.Findings + res.Counts.Suppressed + res.Counts.Removed; got != n {
			t.Fatalf("counts add up to %d, the report had %d findings", got, n)
		}
	})
}
