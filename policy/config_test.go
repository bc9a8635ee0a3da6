package policy_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/policy"
	"github.com/vigilsec/vigil/report"
)

func ptr[T any](v T) *T { return &v }

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLoad(t *testing.T) {
	file := filepath.Join("testdata", "vigil.yaml")
	cfg, err := policy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := &policy.Config{
		File: file,
		Ignore: []policy.Rule{
			{ID: "GO-2021-0113", Package: "golang.org/x/text", Reason: "the language tag parser is not reachable from our code",
				Expires: date("2027-03-31"), Status: report.StatusNotAffected, File: file, Line: 12},
			{Package: "pkg:npm/lodash@4.17.15", Reason: "lodash is only used by the build scripts", Status: report.StatusFalsePositive, File: file, Line: 16},
			{ID: "DEBIAN-CVE-2024-2398", Reason: "HTTP/2 push is disabled in our curl configuration", Expires: date("2025-12-31"),
				Status: report.StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path", File: file, Line: 19},
			{ID: "VGL-CFG-001", Reason: "the entrypoint drops privileges itself", Status: report.StatusNotAffected, File: file, Line: 23},
			{Path: "app/config/**", Reason: "test credentials, rotated and revoked", Status: report.StatusNotAffected, File: file, Line: 25},
		},
		Secrets: policy.Secrets{Allow: []policy.SecretAllow{
			{Rule: "VGL-SEC-001", Path: "app/test/**", Reason: "fixtures", Line: 30},
			{Path: "**/*.pem.example", Line: 33},
		}},
		VEX: []string{filepath.Join("testdata", "vex", "app.openvex.json")},
		Defaults: policy.Defaults{
			Severities:    []report.Severity{report.Critical, report.High, report.Medium},
			IgnoreUnfixed: ptr(false),
			FailOn:        report.High,
			ExitCode:      ptr(4),
			OnlyKEV:       ptr(false),
			MinEPSS:       ptr(0.01),
		},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	if got := cfg.Ignore[0].Source(); got != file+":12" {
		t.Errorf("Source = %q", got)
	}
}

func TestLoadEmptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"", "# only a comment\n", "---\n"} {
		p := filepath.Join(dir, "empty.yaml")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := policy.Load(p)
		if err != nil || len(cfg.Ignore) != 0 {
			t.Errorf("Load(%q) = %+v, %v; want an empty config", content, cfg, err)
		}
	}
	_, err := policy.Load(filepath.Join(dir, "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist naming the file", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", policy.MaxConfigSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(big); !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("oversized file: err = %v, want ErrInvalid", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // the whole error message
	}{
		{"unknown top-level key", "ignore: []\nfail_on: high\n",
			`policy: p.yaml:2:1: unknown key "fail_on" in the policy file; known keys: exit-code, fail-on, ignore, ignore-unfixed, min-epss, only-kev, secrets, severity, vex`},
		{"unknown rule key", "ignore:\n  - id: CVE-1\n    reasn: typo\n",
			`policy: p.yaml:3:5: unknown key "reasn" in an ignore rule; known keys: expires, id, justification, package, path, reason, status`},
		{"missing reason", "ignore:\n  - id: CVE-2024-1\n",
			`policy: p.yaml:2:5: an ignore rule needs a reason: say why the finding does not apply`},
		{"empty reason", "ignore:\n  - id: CVE-2024-1\n    reason: '  '\n",
			`policy: p.yaml:2:5: an ignore rule needs a reason: say why the finding does not apply`},
		{"nothing to match", "ignore:\n  - reason: because\n",
			`policy: p.yaml:2:5: an ignore rule needs at least one of id, package or path`},
		{"bad date", "ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2027-02-30\n",
			`policy: p.yaml:4:14: expires: "2027-02-30" is not a date; write YYYY-MM-DD, e.g. 2027-03-31`},
		{"words for a date", "ignore:\n  - id: CVE-1\n    reason: r\n    expires: next year\n",
			`policy: p.yaml:4:14: expires: "next year" is not a date; write YYYY-MM-DD, e.g. 2027-03-31`},
		{"bad status", "ignore:\n  - id: CVE-1\n    reason: r\n    status: affected\n",
			`policy: p.yaml:2:5: status "affected": want not_affected or false_positive`},
		{"bad justification", "ignore:\n  - id: CVE-1\n    reason: r\n    justification: trust me\n",
			`policy: p.yaml:2:5: justification "trust me" is not an OpenVEX or CycloneDX justification; known: component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist, code_not_present, code_not_reachable, requires_configuration, requires_dependency, requires_environment, protected_by_compiler, protected_at_runtime, protected_at_perimeter, protected_by_mitigating_control`},
		{"bad purl", "ignore:\n  - package: pkg:npm\n    reason: r\n",
			`policy: p.yaml:2:5: package "pkg:npm" is not a valid package URL: purl is missing type or name`},
		{"bad glob", "ignore:\n  - path: 'app/[x'\n    reason: r\n",
			`policy: p.yaml:2:5: path "app/[x" is not a valid glob: syntax error in pattern`},
		{"rule not a mapping", "ignore:\n  - CVE-2024-1\n",
			`policy: p.yaml:2:5: an ignore rule: want a mapping of keys to values`},
		{"ignore not a list", "ignore: CVE-2024-1\n",
			`policy: p.yaml:1:9: ignore: want a list`},
		{"duplicate key", "fail-on: high\nfail-on: low\n",
			`policy: p.yaml:2:1: key "fail-on" appears twice in the policy file`},
		{"bad severity", "severity: [critical, urgent]\n",
			`policy: p.yaml:1:11: severity "urgent": want one of critical, high, medium, low, negligible, unknown`},
		{"bad fail-on", "fail-on: severe\n",
			`policy: p.yaml:1:10: severity "severe": want one of critical, high, medium, low, negligible, unknown`},
		{"exit code not a number", "exit-code: one\n",
			`policy: p.yaml:1:12: exit-code: "one" is not a whole number`},
		{"exit code out of range", "exit-code: 300\n",
			`policy: p.yaml:1:12: exit-code 300: want 1 to 255 (0 keeps the default, 1)`},
		{"epss out of range", "min-epss: 2\n",
			`policy: p.yaml:1:11: min-epss 2: want a probability between 0 and 1`},
		{"bool as string", "only-kev: 'yes'\n",
			`policy: p.yaml:1:11: only-kev: "yes" is not true or false`},
		{"secrets allow without rule or path", "secrets:\n  allow:\n    - reason: r\n",
			`policy: p.yaml:3:7: a secrets.allow entry needs a rule, a path, or both`},
		{"unknown secrets key", "secrets:\n  deny: []\n",
			`policy: p.yaml:2:3: unknown key "deny" in secrets; known keys: allow`},
		{"alias", "base: &b\n  id: CVE-1\nignore:\n  - *b\n",
			`policy: p.yaml:1:7: YAML anchors and aliases are not supported in a policy file; write the value out`},
		{"syntax error", "ignore:\n  - id: [unclosed\n",
			`policy: p.yaml:1: not valid YAML: did not find expected ',' or ']'`},
		{"two documents", "fail-on: high\n---\nfail-on: low\n",
			`policy: p.yaml:2:1: a second YAML document; a policy file holds one`},
		{"top level list", "- id: CVE-1\n",
			`policy: p.yaml:1:1: the policy file: want a mapping of keys to values`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse("p.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, policy.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	cfg, err := policy.Parse("p.yaml", []byte("severity: HIGH,critical\nfail-on: medium\nexit-code: 9\nmin-epss: 0.5\nignore-unfixed: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	flags := policy.Options{FailOn: report.Critical, ExitCode: 0, OnlyKEV: true, MinEPSS: 0}
	tests := []struct {
		name    string
		changed []string
		want    policy.Options
	}{
		{"file fills unset flags", []string{"only-kev"},
			policy.Options{Severities: []report.Severity{report.Critical, report.High}, IgnoreUnfixed: true, FailOn: report.Medium, ExitCode: 9, OnlyKEV: true, MinEPSS: 0.5}},
		{"flags given on the command line win", []string{"fail-on", "exit-code", "min-epss", "severity"},
			policy.Options{IgnoreUnfixed: true, FailOn: report.Critical, ExitCode: 0, OnlyKEV: true, MinEPSS: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changed := func(f string) bool {
				for _, c := range tc.changed {
					if c == f {
						return true
					}
				}
				return false
			}
			got := policy.Merge(cfg, flags, changed)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Merge (-want +got):\n%s", diff)
			}
		})
	}
	if got := policy.Merge(nil, flags, func(string) bool { return false }); !cmp.Equal(got, flags) {
		t.Errorf("Merge(nil) = %+v, want the flags", got)
	}
}

func TestParseSeverities(t *testing.T) {
	got, err := policy.ParseSeverities("low, CRITICAL,high,low")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]report.Severity{report.Critical, report.High, report.Low}, got); diff != "" {
		t.Errorf("ParseSeverities (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", ",", "hi"} {
		if _, err := policy.ParseSeverities(bad); err == nil {
			t.Errorf("ParseSeverities(%q) succeeded", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "vigil.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2027-01-01\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := policy.Parse("f.yaml", data)
		if err != nil {
			var pe *policy.Error
			if !errors.As(err, &pe) || pe.File != "f.yaml" {
				t.Fatalf("error %v is not a located policy.Error", err)
			}
			return
		}
		for _, r := range cfg.Ignore {
			if r.Reason == "" || r.ID == "" && r.Package == "" && r.Path == "" {
				t.Fatalf("accepted an invalid rule %+v", r)
			}
		}
	})
}
