// Package sbom reads software bills of materials back into vigil's report
// document, so that an SBOM a CI job already produced (by vigil, Syft or
// Trivy) can be matched against the vulnerability database without the
// image. Decode sniffs the format: CycloneDX JSON (1.4 to 1.6), SPDX 2.2 and
// 2.3 JSON, SPDX tag-value, and vigil's own JSON report.
//
// Packages come from package URLs; what matching needs beyond the URL (the
// distribution release, the Debian or Alpine SOURCE package, ownership of a
// language package by an OS package) is read from wherever each producer
// puts it:
//
//   - release: the purl "distro=" qualifier (all three producers), the
//     CycloneDX component of type operating-system (vigil, Syft, Trivy), or
//     the SPDX package whose primaryPackagePurpose is OPERATING-SYSTEM
//     (vigil, Trivy);
//   - source package: the purl "upstream=" qualifier ("name" or
//     "name@version"; vigil and Syft), the CycloneDX properties
//     vigil:package:source/sourceVersion (vigil),
//     syft:metadata:source/sourceVersion and syft:metadata:originPackage
//     (Syft), aquasecurity:trivy:SrcName/SrcVersion/SrcRelease/SrcEpoch
//     (Trivy, which puts no upstream= in its purls and writes the epoch of
//     a deb as an "epoch=" qualifier), and in SPDX Trivy's attributionTexts
//     ("SrcName: openssl") and vigil's sourceInfo;
//   - ownership: vigil's vigil:ownedBy property and "owned by" package
//     comment, an SPDX CONTAINS relationship from an OS package to a
//     language package (vigil), Syft's SPDX OTHER relationship whose comment
//     starts "ownership-by-file-overlap", and CycloneDX components nested
//     inside an OS package component. Trivy drops language packages whose
//     files an OS package installed, so its SBOMs need nothing here.
//
// Input is untrusted: it is read with a size cap (MaxSize), the number of
// packages is capped (MaxComponents) and every error names the file.
package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

// MaxSize is the largest SBOM Decode reads.
const MaxSize = 256 << 20

// MaxComponents is the most components (CycloneDX, nested ones included) or
// packages (SPDX) one SBOM may hold.
const MaxComponents = 500_000

// maxDepth caps the nesting of CycloneDX components.
const maxDepth = 64

// Formats Decode recognises, as set in report.Target.Source.
const (
	FormatCycloneDX = "cyclonedx"
	FormatSPDX      = "spdx"
	FormatSPDXTag   = "spdx-tag-value"
	FormatVigil     = "vigil-json"
)

// ErrUnknownFormat is returned for input that is none of the formats Decode
// reads.
var ErrUnknownFormat = errors.New("not a CycloneDX JSON, SPDX (JSON or tag-value) or vigil JSON document")

// ErrTooLarge is returned for input over MaxSize or with more than
// MaxComponents components.
var ErrTooLarge = errors.New("SBOM too large")

// Decode reads an SBOM from r (name is the file it came from, for errors
// and the report's target) and returns a report holding its inventory: the
// OS release, the layers where the SBOM records them, and every package it
// has a package URL vigil can match. The report has no vulnerabilities and
// no audit findings; its Target.Kind is report.KindSBOM. Components that
// cannot be used (no PURL, a PURL type vigil has no ecosystem for, a PURL
// that does not parse) become inventory warnings.
func Decode(r io.Reader, name string) (*report.Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("sbom: read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("sbom: read %s: larger than %d bytes: %w", name, MaxSize, ErrTooLarge)
	}
	rep, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	rep.SchemaVersion = report.SchemaVersion
	rep.Target.Kind = report.KindSBOM
	rep.Target.Ref = name
	if rep.Inventory == nil {
		rep.Inventory = &inventory.Inventory{}
	}
	rep.Vulnerabilities = nil
	rep.Audit = nil
	rep.Summary = nil
	for i := range rep.Inventory.Packages {
		normalize(&rep.Inventory.Packages[i])
	}
	rep.Inventory.Files = nil
	rep.Inventory.Sort()
	return rep, nil
}

func decode(data []byte, name string) (*report.Report, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("sbom: decode %s: empty file: %w", name, ErrUnknownFormat)
	case trimmed[0] == '{':
		return decodeJSON(trimmed, name)
	case trimmed[0] == '<':
		return nil, fmt.Errorf("sbom: decode %s: XML SBOMs are not read: %w; write CycloneDX as JSON (syft -o cyclonedx-json, trivy --format cyclonedx)", name, ErrUnknownFormat)
	case looksLikeTagValue(trimmed):
		rep, err := decodeTagValue(trimmed)
		if err != nil {
			return nil, fmt.Errorf("sbom: decode %s as SPDX tag-value: %w", name, err)
		}
		rep.Target.Source = FormatSPDXTag
		return rep, nil
	}
	return nil, fmt.Errorf("sbom: decode %s: does not start with a JSON object or an SPDX tag: %w", name, ErrUnknownFormat)
}

// probe holds the keys that tell the JSON formats apart.
type probe struct {
	BOMFormat     string          `json:"bomFormat"`
	SpecVersion   string          `json:"specVersion"`
	SPDXVersion   string          `json:"spdxVersion"`
	SchemaVersion string          `json:"schemaVersion"`
	Inventory     json.RawMessage `json:"inventory"`
}

func decodeJSON(data []byte, name string) (*report.Report, error) {
	var p probe
	if err := json.Unmarshal(data, &p); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("sbom: decode %s: invalid JSON at byte %d (truncated file?): %w", name, se.Offset, err)
		}
		return nil, fmt.Errorf("sbom: decode %s: %w", name, err)
	}
	switch {
	case p.BOMFormat == "CycloneDX":
		if !supportedCDX(p.SpecVersion) {
			return nil, fmt.Errorf("sbom: decode %s: CycloneDX spec version %q: vigil reads 1.2 to 1.6", name, p.SpecVersion)
		}
		rep, err := decodeCycloneDX(data)
		if err != nil {
			return nil, fmt.Errorf("sbom: decode %s as CycloneDX %s: %w", name, p.SpecVersion, err)
		}
		rep.Target.Source = FormatCycloneDX
		return rep, nil
	case strings.HasPrefix(p.SPDXVersion, "SPDX-"):
		if !strings.HasPrefix(p.SPDXVersion, "SPDX-2.") {
			return nil, fmt.Errorf("sbom: decode %s: %s: vigil reads SPDX 2.x JSON", name, p.SPDXVersion)
		}
		rep, err := decodeSPDXJSON(data)
		if err != nil {
			return nil, fmt.Errorf("sbom: decode %s as %s JSON: %w", name, p.SPDXVersion, err)
		}
		rep.Target.Source = FormatSPDX
		return rep, nil
	case p.SchemaVersion != "" && len(p.Inventory) > 0:
		rep, err := report.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("sbom: decode %s as a vigil JSON report: %w", name, err)
		}
		if rep.Inventory != nil && len(rep.Inventory.Packages) > MaxComponents {
			return nil, fmt.Errorf("sbom: decode %s: more than %d packages: %w", name, MaxComponents, ErrTooLarge)
		}
		// The target becomes the SBOM; keep what identifies the image it
		// described.
		rep.Target = report.Target{Source: FormatVigil, Name: rep.Target.DisplayName(), Digest: rep.Target.Digest,
			ID: rep.Target.ID, Platform: rep.Target.Platform, RepoTags: rep.Target.RepoTags}
		return rep, nil
	}
	return nil, fmt.Errorf("sbom: decode %s: JSON without bomFormat \"CycloneDX\", spdxVersion or a vigil report's schemaVersion: %w", name, ErrUnknownFormat)
}

func supportedCDX(v string) bool {
	switch v {
	case "1.2", "1.3", "1.4", "1.5", "1.6":
		return true
	}
	return false
}

// normalize fixes up what producers spell differently so that matching
// sees one form.
func normalize(p *inventory.Package) {
	if p.Ecosystem == inventory.Go && (p.Toolchain || p.Name == "stdlib") {
		// vigil's Go extractor writes the toolchain as "v1.26.8"; Syft
		// writes "go1.26.8" (purl "1.26.8"), Trivy "v1.26.8"; purl.Parse
		// returns "go1.26.8".
		p.Toolchain = true
		p.Name = "stdlib"
		v := strings.TrimPrefix(strings.TrimPrefix(p.Version, "go"), "v")
		if v != "" {
			p.Version = "v" + v
		}
	}
	if p.SourceVersion == p.Version {
		p.SourceVersion = ""
	}
	if p.SourceName == p.Name && p.SourceVersion == "" {
		p.SourceName = ""
	}
	if p.Locations == nil {
		p.Locations = []inventory.Location{}
	}
}
