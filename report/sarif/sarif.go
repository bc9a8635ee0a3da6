// Package sarif writes a report as a SARIF 2.1.0 log, the format GitHub
// code scanning (and most code-review tools) ingest.
//
// One run, whose tool driver has a rule per vulnerability ID and per audit
// rule, and a result per finding and per audit issue:
//
//   - level: error for critical and high, warning for medium, note below;
//     rules carry "security-severity" (the CVSS score when it agrees with the
//     severity, else a score in the severity's band) so GitHub ranks them;
//   - location: the Dockerfile line of the instruction that made the layer
//     holding the package or file, when the report names a Dockerfile and
//     maps its lines to layers; else the package's file (or the issue's
//     path) in the image. The file in the image is kept as a related
//     location;
//   - partialFingerprints "vigil/v1": a hash of the rule and the package
//     or place, so that results on the same Dockerfile line stay distinct
//     alerts;
//   - suppressed findings and issues carry a SARIF suppression (kind
//     external, status accepted, the reason as justification), so code
//     scanning shows them as dismissed;
//   - the remediation text is part of the message; properties carry the
//     package, versions, layer and the remediation command.
package sarif

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
)

// SchemaURI is the schema the log declares.
const SchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// Version is the SARIF version written.
const Version = "2.1.0"

// InformationURI is where the tool driver points readers.
const InformationURI = "https://github.com/vigilsec/vigil"

// Encoder writes SARIF 2.1.0 JSON.
type Encoder struct{}

// Encode implements report.Encoder.
func (Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("sarif: encode: nil report")
	}
	doc := build(remediation.Annotated(r))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("sarif: encode %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

type log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []run  `json:"runs"`
}

type run struct {
	Tool       tool           `json:"tool"`
	Results    []result       `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type tool struct {
	Driver driver `json:"driver"`
}

type driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri"`
	Rules          []rule `json:"rules"`
}

type message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     message        `json:"shortDescription"`
	FullDescription      message        `json:"fullDescription"`
	HelpURI              string         `json:"helpUri,omitempty"`
	Help                 message        `json:"help"`
	DefaultConfiguration config         `json:"defaultConfiguration"`
	Properties           ruleProperties `json:"properties"`
	rank                 int
}

type config struct {
	Level string `json:"level"`
}

type ruleProperties struct {
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Precision        string   `json:"precision"`
	Tags             []string `json:"tags"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             message           `json:"message"`
	Locations           []location        `json:"locations"`
	RelatedLocations    []location        `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []suppression     `json:"suppressions,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type location struct {
	ID               *int             `json:"id,omitempty"`
	PhysicalLocation physicalLocation `json:"physicalLocation"`
	Message          *message         `json:"message,omitempty"`
}

type physicalLocation struct {
	ArtifactLocation artifactLocation `json:"artifactLocation"`
	Region           *region          `json:"region,omitempty"`
}

type artifactLocation struct {
	URI string `json:"uri"`
}

type region struct {
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine,omitempty"`
}

type suppression struct {
	Kind          string         `json:"kind"`
	Status        string         `json:"status"`
	Justification string         `json:"justification,omitempty"`
	Properties    map[string]any `json:"properties,omitempty"`
}

type builder struct {
	r     *report.Report
	log   log
	rules map[string]int
}

func build(r *report.Report) *log {
	b := &builder{r: r, rules: map[string]int{}}
	d := driver{Name: cmp.Or(r.Tool.Name, "vigil"), Version: r.Tool.Version, InformationURI: InformationURI, Rules: []rule{}}
	res := []result{}
	for i := range r.Vulnerabilities {
		res = append(res, b.finding(&d, &r.Vulnerabilities[i]))
	}
	for i := range r.Audit {
		res = append(res, b.issue(&d, &r.Audit[i]))
	}
	props := map[string]any{}
	t := &r.Target
	for k, v := range map[string]string{"target": t.DisplayName(), "targetKind": string(t.Kind), "digest": t.Digest, "imageID": t.ID, "dockerfile": t.Dockerfile} {
		if v != "" {
			props[k] = v
		}
	}
	if r.Summary != nil {
		props["summary"] = r.Summary
	}
	return &log{Schema: SchemaURI, Version: Version, Runs: []run{{Tool: tool{Driver: d}, Results: res, Properties: props}}}
}

// ruleIndex returns the index of the rule with the given ID, adding it
// when new; a rule seen again with a higher severity takes that severity.
func (b *builder) ruleIndex(d *driver, ru rule) int {
	if i, ok := b.rules[ru.ID]; ok {
		if ru.rank > d.Rules[i].rank {
			d.Rules[i].DefaultConfiguration = ru.DefaultConfiguration
			d.Rules[i].Properties.SecuritySeverity = ru.Properties.SecuritySeverity
			d.Rules[i].rank = ru.rank
		}
		return i
	}
	b.rules[ru.ID] = len(d.Rules)
	d.Rules = append(d.Rules, ru)
	return len(d.Rules) - 1
}

// level maps a severity to a SARIF level.
func level(s report.Severity) string {
	switch s {
	case report.Critical, report.High:
		return "error"
	case report.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the score GitHub ranks by: the highest CVSS score
// when it falls in the severity's band (critical 9.0-10, high 7.0-8.9,
// medium 4.0-6.9, low 0.1-3.9), else a score inside that band; "" for an
// unknown severity.
func securitySeverity(s report.Severity, cvss []report.CVSS) string {
	lo, hi, def := 0.0, 0.0, ""
	switch s {
	case report.Critical:
		lo, hi, def = 9.0, 10.0, "9.5"
	case report.High:
		lo, hi, def = 7.0, 8.9, "8.0"
	case report.Medium:
		lo, hi, def = 4.0, 6.9, "5.5"
	case report.Low:
		lo, hi, def = 0.1, 3.9, "2.0"
	case report.Negligible:
		return "0.1"
	default:
		return ""
	}
	best := -1.0
	for _, c := range cvss {
		if c.Score >= lo && c.Score <= hi && c.Score > best {
			best = c.Score
		}
	}
	if best < 0 {
		return def
	}
	return strconv.FormatFloat(best, 'f', 1, 64)
}

// uri turns a path into a relative URI reference.
func uri(p string) string {
	p = strings.TrimPrefix(p, "/")
	return (&url.URL{Path: p}).String()
}

func (b *builder) fingerprint(parts ...string) map[string]string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return map[string]string{"vigil/v1": hex.EncodeToString(h.Sum(nil)[:16])}
}

// place returns the primary location for something in layer at path/line:
// the Dockerfile instruction of the layer when known, with the file in the
// image as a related location; else the file itself.
func (b *builder) place(layer int, path string, line int, what string) (location, []location) {
	file := func(id *int) location {
		l := location{ID: id, PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: uri(path)}, Region: &region{StartLine: max(line, 1)}}}
		if id != nil {
			l.Message = &message{Text: what}
		}
		return l
	}
	if step := b.r.DockerfileStep(layer); step != nil && b.r.Target.Dockerfile != "" {
		dl := location{PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: uri(b.r.Target.Dockerfile)},
			Region: &region{StartLine: step.Line, EndLine: endLine(step)}},
			Message: &message{Text: stepText(b.r, layer)}}
		if path == "" {
			return dl, nil
		}
		one := 1
		return dl, []location{file(&one)}
	}
	if path == "" {
		return b.fallback(), nil
	}
	return file(nil), nil
}

func endLine(s *report.DockerfileStep) int {
	if s.EndLine > s.Line {
		return s.EndLine
	}
	return 0
}

// fallback locates what has no file: the last Dockerfile instruction (where
// a missing USER or HEALTHCHECK goes) when there is a Dockerfile, else the
// image itself.
func (b *builder) fallback() location {
	t := &b.r.Target
	if t.Dockerfile != "" {
		last := 1
		for _, s := range t.DockerfileSteps {
			last = max(last, s.Line, s.EndLine)
		}
		return location{PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: uri(t.Dockerfile)}, Region: &region{StartLine: last}}}
	}
	return location{PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: uri(cmp.Or(t.DisplayName(), "image"))}, Region: &region{StartLine: 1}}}
}

// stepText is "layer #N: INSTRUCTION".
func stepText(r *report.Report, layer int) string {
	s := "layer #" + strconv.Itoa(layer)
	if step := r.DockerfileStep(layer); step != nil && step.Instruction != "" {
		return s + ": " + step.Instruction
	}
	if l := r.Layer(layer); l != nil {
		if st := report.ShortStep(l.CreatedBy); st != "" {
			return s + ": " + st
		}
	}
	return s
}

func suppressions(s *report.Suppression) []suppression {
	if s == nil {
		return nil
	}
	props := map[string]any{}
	for k, v := range map[string]string{"source": s.Source, "kind": s.Kind, "status": s.Status, "justification": s.Justification} {
		if v != "" {
			props[k] = v
		}
	}
	if !s.Expires.IsZero() {
		props["expires"] = s.Expires.UTC().Format("2006-01-02")
	}
	return []suppression{{Kind: "external", Status: "accepted", Justification: s.Reason, Properties: props}}
}

func helpURI(f *report.Finding) string {
	for _, ref := range f.References {
		if u, err := url.Parse(ref); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return ref
		}
	}
	id := f.ID
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + url.PathEscape(id)
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + url.PathEscape(id)
	}
	return "https://osv.dev/vulnerability/" + url.PathEscape(id)
}

func (b *builder) finding(d *driver, f *report.Finding) result {
	r := b.r
	p := r.PackageOf(f)
	path := ""
	eco := string(f.Package.Ecosystem)
	if p != nil {
		if len(p.Locations) > 0 {
			path = p.Locations[0].Path
		}
		eco = string(p.Ecosystem)
	}
	title := cmp.Or(f.Title, f.ID)
	ids := append([]string{f.ID}, f.Aliases...)
	ru := rule{
		ID:                   f.ID,
		Name:                 ruleName(f.ID),
		ShortDescription:     message{Text: f.ID + ": " + title},
		FullDescription:      message{Text: cmp.Or(f.Description, title)},
		HelpURI:              helpURI(f),
		DefaultConfiguration: config{Level: level(f.Severity)},
		Properties: ruleProperties{
			SecuritySeverity: securitySeverity(f.Severity, f.CVSS),
			Precision:        "very-high",
			Tags:             uniq([]string{"security", "vulnerability", string(f.Severity), eco}),
		},
		rank: f.Severity.Rank(),
	}
	var help strings.Builder
	fmt.Fprintf(&help, "%s (%s)\n\n", title, f.Severity)
	if f.Description != "" && f.Description != title {
		fmt.Fprintf(&help, "%s\n\n", f.Description)
	}
	fmt.Fprintf(&help, "Identifiers: %s\n", strings.Join(ids, ", "))
	for _, ref := range f.References {
		fmt.Fprintf(&help, "%s\n", ref)
	}
	ru.Help = message{Text: help.String(), Markdown: helpMarkdown(f, title, ids)}
	idx := b.ruleIndex(d, ru)

	loc, related := b.place(f.Layer, path, 0, "the package's file in the image")
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s %s (%s) is affected by %s (%s): %s.", f.Package.Name, f.InstalledVersion, eco, f.ID, f.Severity, title)
	if len(f.FixedVersions) > 0 {
		fmt.Fprintf(&msg, " Fixed in %s.", strings.Join(f.FixedVersions, ", "))
	}
	fmt.Fprintf(&msg, " Introduced by %s.", stepText(r, f.Layer))
	if path != "" {
		fmt.Fprintf(&msg, " Found in %s.", path)
	}
	if rem := f.Remediation; rem != nil && rem.Text != "" {
		msg.WriteString(" " + rem.Text)
	}
	props := map[string]any{
		"packageName":      f.Package.Name,
		"installedVersion": f.InstalledVersion,
		"ecosystem":        eco,
		"severity":         string(f.Severity),
		"layer":            f.Layer,
	}
	if f.Package.PURL != "" {
		props["purl"] = f.Package.PURL
	}
	if len(f.FixedVersions) > 0 {
		props["fixedVersions"] = f.FixedVersions
	}
	if rem := f.Remediation; rem != nil {
		props["remediationAction"] = string(rem.Action)
		if rem.Command != "" {
			props["remediationCommand"] = rem.Command
		}
	}
	return result{
		RuleID:              f.ID,
		RuleIndex:           idx,
		Level:               level(f.Severity),
		Message:             message{Text: msg.String()},
		Locations:           []location{loc},
		RelatedLocations:    related,
		PartialFingerprints: b.fingerprint(f.ID, f.Package.Key),
		Suppressions:        suppressions(f.Suppressed),
		Properties:          props,
	}
}

func helpMarkdown(f *report.Finding, title string, ids []string) string {
	var md strings.Builder
	fmt.Fprintf(&md, "**%s** (%s)\n\n", mdEscape(title), f.Severity)
	if f.Description != "" && f.Description != title {
		fmt.Fprintf(&md, "%s\n\n", mdEscape(f.Description))
	}
	fmt.Fprintf(&md, "Identifiers: %s\n", mdEscape(strings.Join(ids, ", ")))
	for _, ref := range f.References {
		if u, err := url.Parse(ref); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			fmt.Fprintf(&md, "\n- <%s>", u.String())
		}
	}
	return md.String()
}

// mdEscape escapes the characters Markdown would interpret.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]#|<>~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ruleName turns an ID into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
	}
	return b.String()
}

func uniq(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) issue(d *driver, is *report.Issue) result {
	kind := "hardening"
	if is.Category == report.CategorySecret {
		kind = "secret"
	}
	ru := rule{
		ID:                   is.ID,
		Name:                 ruleName(is.ID),
		ShortDescription:     message{Text: cmp.Or(is.Title, is.ID)},
		FullDescription:      message{Text: cmp.Or(is.Description, is.Title, is.ID)},
		DefaultConfiguration: config{Level: level(is.Severity)},
		Properties: ruleProperties{
			SecuritySeverity: securitySeverity(is.Severity, nil),
			Precision:        "high",
			Tags:             uniq([]string{"security", kind, string(is.Category), string(is.Severity)}),
		},
		rank: is.Severity.Rank(),
	}
	if u, err := url.Parse(is.Reference); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		ru.HelpURI = is.Reference
	}
	help := cmp.Or(is.Description, is.Title)
	if is.Fix != "" {
		help += "\n\nFix: " + is.Fix
	}
	ru.Help = message{Text: help}
	idx := b.ruleIndex(d, ru)

	var loc location
	var related []location
	switch {
	case is.Category == report.CategoryDockerfile && is.Path != "":
		// A Dockerfile issue is located in the Dockerfile itself.
		loc = location{PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: uri(is.Path)}, Region: &region{StartLine: max(is.Line, 1)}}}
	case is.Layer >= 0:
		loc, related = b.place(is.Layer, is.Path, is.Line, "the file in the image")
	default:
		loc, related = b.place(-1, is.Path, is.Line, "the file")
	}
	var msg strings.Builder
	msg.WriteString(cmp.Or(is.Title, is.ID) + " (" + string(is.Severity) + ").")
	if is.Path != "" {
		where := is.Path
		if is.Line > 0 {
			where += ":" + strconv.Itoa(is.Line)
		}
		msg.WriteString(" In " + where + ".")
	}
	if is.Layer >= 0 {
		msg.WriteString(" Introduced by " + stepText(b.r, is.Layer) + ".")
	}
	if is.Evidence != "" {
		msg.WriteString(" Evidence: " + is.Evidence + ".")
	}
	if is.Fix != "" {
		msg.WriteString(" Fix: " + is.Fix)
	}
	props := map[string]any{"category": string(is.Category), "severity": string(is.Severity), "layer": is.Layer}
	return result{
		RuleID:              is.ID,
		RuleIndex:           idx,
		Level:               level(is.Severity),
		Message:             message{Text: msg.String()},
		Locations:           []location{loc},
		RelatedLocations:    related,
		PartialFingerprints: b.fingerprint(is.ID, is.Path, strconv.Itoa(is.Line), strconv.Itoa(is.Layer), is.Evidence),
		Suppressions:        suppressions(is.Suppressed),
		Properties:          props,
	}
}
