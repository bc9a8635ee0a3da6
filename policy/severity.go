package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/report"
)

// ParseSeverity reads a severity name, case-insensitively: critical, high,
// medium, low, negligible or unknown.
func ParseSeverity(s string) (report.Severity, error) {
	sev := report.Severity(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(report.Severities(), sev) {
		return "", fmt.Errorf("severity %q: want one of critical, high, medium, low, negligible, unknown", s)
	}
	return sev, nil
}

// ParseSeverities reads a comma-separated list of severities (the value of
// --severity), returning them most severe first without repeats.
func ParseSeverities(list string) ([]report.Severity, error) {
	var out []report.Severity
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		sev, err := ParseSeverity(s)
		if err != nil {
			return nil, err
		}
		out = append(out, sev)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("severity list %q names no severity", list)
	}
	slices.SortFunc(out, func(a, b report.Severity) int {
		return cmp.Or(cmp.Compare(b.Rank(), a.Rank()), strings.Compare(string(a), string(b)))
	})
	return slices.Compact(out), nil
}

// OpenVEX and CycloneDX justification codes.
var (
	openVEXJustifications = []string{
		"component_not_present",
		"vulnerable_code_not_present",
		"vulnerable_code_not_in_execute_path",
		"vulnerable_code_cannot_be_controlled_by_adversary",
		"inline_mitigations_already_exist",
	}
	cdxJustifications = []string{
		"code_not_present",
		"code_not_reachable",
		"requires_configuration",
		"requires_dependency",
		"requires_environment",
		"protected_by_compiler",
		"protected_at_runtime",
		"protected_at_perimeter",
		"protected_by_mitigating_control",
	}
)

func justifications() []string {
	return append(slices.Clone(openVEXJustifications), cdxJustifications...)
}

func validJustification(j string) bool { return slices.Contains(justifications(), j) }

func checkExitCode(n int) error {
	if n < 0 || n > 255 {
		return fmt.Errorf("exit-code %d: want 1 to 255 (0 keeps the default, 1)", n)
	}
	return nil
}

func checkEPSS(x float64) error {
	if !(x >= 0 && x <= 1) {
		return fmt.Errorf("min-epss %v: want a probability between 0 and 1", x)
	}
	return nil
}
