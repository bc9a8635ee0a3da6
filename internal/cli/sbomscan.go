package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/sbom"
	"github.com/vigilsec/vigil/scan"
)

// sbomPrefix makes `vigil image sbom:FILE` scan an SBOM instead of an image.
const sbomPrefix = "sbom:"

func newSBOMScanCommand(g *globals) *cobra.Command {
	var f imageFlags
	cmd := &cobra.Command{
		Use:   "sbom-scan FILE",
		Short: "Match the packages of an SBOM (CycloneDX, SPDX or vigil JSON) against the vulnerability database",
		Long: "Read a software bill of materials that vigil, Syft, Trivy or another tool wrote and report the\n" +
			"known vulnerabilities of its packages, with the same policy flags, formats and exit codes as\n" +
			"`vigil image`. Reads CycloneDX JSON 1.2-1.6, SPDX 2.2/2.3 JSON or tag-value and vigil's JSON report;\n" +
			"FILE - reads standard input. `vigil image sbom:FILE` does the same.\n" +
			"Packages are identified by their package URLs; the OS release comes from the distro= qualifier or\n" +
			"the SBOM's operating-system component. Secret and hardening checks need the image and are off.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runScan(cmd, sbomPrefix+args[0], &f)
		},
	}
	addImageFlags(cmd, &f)
	return cmd
}

// sbomScanners keeps only the vulnerability scanner for SBOM input: the
// secret and audit scanners need the image's files and config. It says so
// on stderr when the user asked for them.
func (g *globals) sbomScanners(cmd *cobra.Command, asked map[string]bool) map[string]bool {
	if cmd.Flags().Changed("scanners") && (asked["secret"] || asked["audit"]) && !g.quiet {
		fmt.Fprintln(g.env.Stderr, "vigil: an SBOM lists packages only: the secret and audit scanners are off for SBOM input")
	}
	return map[string]bool{"vuln": asked["vuln"]}
}

// sbomInventory reads the SBOM at path ("-" for stdin) into a report.
func (g *globals) sbomInventory(svc *scan.Service, path string) (*report.Report, error) {
	if path == "" {
		return nil, usageError("sbom: no file given (sbom:FILE, or - for standard input)")
	}
	var in io.Reader = os.Stdin
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("sbom: %w (give the path of a CycloneDX, SPDX or vigil JSON file)", err)
		}
		defer f.Close()
		in, name = f, path
	}
	r, err := sbom.Decode(in, name)
	if err != nil {
		return nil, err
	}
	r.Tool = svc.Tool
	if svc.Now != nil {
		r.CreatedAt = svc.Now()
	}
	return r, nil
}
