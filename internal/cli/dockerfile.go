package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/audit/dockerfile"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/report/format"
)

// Target kinds of the audit commands' reports (report.KindImage and
// friends cover scanned images).
const (
	kindDockerfile report.TargetKind = "dockerfile"
	kindConfig     report.TargetKind = "config"
	kindContainers report.TargetKind = "containers"
)

// auditFlags are the flags every audit command has.
type auditFlags struct {
	failOn string
}

func addAuditFlags(cmd *cobra.Command, f *auditFlags) {
	cmd.Flags().StringVar(&f.failOn, "fail-on", "",
		"exit with code 1 when a finding has this severity or higher: critical, high, medium, low, negligible")
}

// threshold parses --fail-on; "" means never fail.
func (f *auditFlags) threshold() (report.Severity, error) {
	s := report.Severity(strings.ToLower(strings.TrimSpace(f.failOn)))
	if s == "" {
		return "", nil
	}
	if s.Rank() == 0 {
		return "", usageError("--fail-on %q: want critical, high, medium, low or negligible", f.failOn)
	}
	return s, nil
}

// auditFormats are the output formats that show audit findings: every
// report format except the SBOM ones.
func auditFormats() []string {
	var out []string
	for _, n := range format.Names() {
		if n != format.CycloneDX && n != format.SPDX {
			out = append(out, n)
		}
	}
	return out
}

// auditReport wraps audit issues in a report document the encoders print.
func (g *globals) auditReport(kind report.TargetKind, ref string, issues []report.Issue) *report.Report {
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "vigil", Version: g.version()},
		CreatedAt:     time.Now().UTC(),
		Target:        report.Target{Kind: kind, Ref: ref},
		Audit:         issues,
	}
}

// finishAudit writes the report and applies --fail-on: unsuppressed issues
// at or above the threshold make the command fail with ExitPolicyFailed.
func (g *globals) finishAudit(r *report.Report, specs []outputSpec, sev report.Severity) error {
	if err := g.writeReport(r, specs); err != nil {
		return err
	}
	if sev == "" {
		return nil
	}
	n := 0
	for _, is := range r.Audit {
		if is.Suppressed == nil && is.Severity.Rank() >= sev.Rank() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if !g.quiet {
		fmt.Fprintf(g.env.Stderr, "vigil: %d finding(s) at or above %s (--fail-on %s)\n", n, sev, sev)
	}
	return &PolicyFailed{Code: ExitPolicyFailed}
}

func newDockerfileCommand(g *globals) *cobra.Command {
	var (
		af         auditFlags
		contextDir string
	)
	cmd := &cobra.Command{
		Use:   "dockerfile FILE",
		Short: "Check a Dockerfile against container hardening practice",
		Long: "Check a Dockerfile (parsed with BuildKit's parser): the final stage's USER, base images pinned by\n" +
			"tag and digest, apt and apk hygiene, secrets in ARG and ENV, build tools in the image that ships,\n" +
			"ADD versus COPY, a .dockerignore for COPY ., sudo, HEALTHCHECK and curl | sh. Findings point at\n" +
			"Dockerfile lines; docs/audit-rules.md lists every rule. FILE - reads standard input.\n" +
			"Formats: table (default), json and the other report formats that show audit findings.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := g.outputs(defaultFormat(g), auditFormats())
			if err != nil {
				return err
			}
			sev, err := af.threshold()
			if err != nil {
				return err
			}
			path := args[0]
			var df *dockerfile.File
			if path == "-" {
				df, err = dockerfile.Parse(io.Reader(cmd.InOrStdin()), "Dockerfile")
			} else {
				df, err = dockerfile.Load(path)
			}
			if err != nil {
				return err
			}
			if contextDir != "" {
				df.Dockerignore = dockerfile.HasDockerignore(path, contextDir)
			}
			r := g.auditReport(kindDockerfile, df.Path, dockerfile.Check(df))
			return g.finishAudit(r, specs, sev)
		},
	}
	cmd.Flags().StringVar(&contextDir, "context", "", "build context directory, where .dockerignore is looked for (default: the Dockerfile's directory)")
	addAuditFlags(cmd, &af)
	return cmd
}
