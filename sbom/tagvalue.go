package sbom

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/report"
)

// looksLikeTagValue says whether data starts (after comments) with an SPDX
// tag-value document's first tag.
func looksLikeTagValue(data []byte) bool {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSpace(line)
		data = rest
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		return bytes.HasPrefix(line, []byte("SPDXVersion:"))
	}
	return false
}

// maxLine caps one tag-value line (a <text> block may span many).
const maxLine = 1 << 20

// decodeTagValue reads the tags of an SPDX 2.x tag-value document that
// matter for matching (package name, version, purl external references,
// primary purpose, source info, comment, relationships) into the JSON
// shape. Multi-line <text>...</text> values are joined with newlines.
func decodeTagValue(data []byte) (*report.Report, error) {
	var doc spdxDoc
	var cur *spdxPackage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		tag, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: no \"Tag: value\"", lineNo)
		}
		tag, value = strings.TrimSpace(tag), strings.TrimSpace(value)
		if strings.HasPrefix(value, "<text>") {
			var sb strings.Builder
			v := strings.TrimPrefix(value, "<text>")
			for {
				if before, _, done := strings.Cut(v, "</text>"); done {
					sb.WriteString(before)
					break
				}
				sb.WriteString(v)
				if sb.Len() > maxLine {
					return nil, fmt.Errorf("line %d: <text> value longer than %d bytes", lineNo, maxLine)
				}
				if !sc.Scan() {
					return nil, fmt.Errorf("line %d: <text> without </text> (truncated file?)", lineNo)
				}
				lineNo++
				sb.WriteByte('\n')
				v = sc.Text()
			}
			value = sb.String()
		}
		switch tag {
		case "SPDXVersion":
			if !strings.HasPrefix(value, "SPDX-2.") {
				return nil, fmt.Errorf("%s: vigil reads SPDX 2.x", value)
			}
		case "DocumentName":
			doc.Name = value
		case "PackageName":
			if len(doc.Packages) >= MaxComponents {
				return nil, fmt.Errorf("more than %d packages: %w", MaxComponents, ErrTooLarge)
			}
			doc.Packages = append(doc.Packages, spdxPackage{Name: value})
			cur = &doc.Packages[len(doc.Packages)-1]
		case "FileName", "SnippetSPDXID":
			cur = nil
		case "SPDXID":
			if cur != nil {
				cur.ID = value
			}
		case "PackageVersion":
			if cur != nil {
				cur.Version = value
			}
		case "PrimaryPackagePurpose":
			if cur != nil {
				cur.Purpose = value
			}
		case "PackageSourceInfo":
			if cur != nil {
				cur.SourceInfo = value
			}
		case "PackageComment":
			if cur != nil {
				cur.Comment = value
			}
		case "PackageLicenseDeclared":
			if cur != nil {
				cur.LicenseDeclared = value
			}
		case "PackageAttributionText":
			if cur != nil {
				cur.AttributionTexts = append(cur.AttributionTexts, value)
			}
		case "ExternalRef":
			// ExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/...
			f := strings.Fields(value)
			if cur != nil && len(f) == 3 {
				cur.ExternalRefs = append(cur.ExternalRefs, struct {
					Category string `json:"referenceCategory"`
					Type     string `json:"referenceType"`
					Locator  string `json:"referenceLocator"`
				}{f[0], f[1], f[2]})
			}
		case "Relationship":
			f := strings.Fields(value)
			if len(f) == 3 {
				doc.Relationships = append(doc.Relationships, spdxRelation{A: f[0], Type: f[1], B: f[2]})
			}
		case "RelationshipComment":
			if n := len(doc.Relationships); n > 0 {
				doc.Relationships[n-1].Comment = value
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return fromSPDX(&doc)
}
