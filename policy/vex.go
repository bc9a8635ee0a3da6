package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// MaxVEXSize is the largest VEX document LoadVEX reads.
const MaxVEXSize = 64 << 20

// The VEX statuses (OpenVEX's vocabulary; CycloneDX analysis states are
// mapped onto it, keeping false_positive).
const (
	VEXNotAffected        = "not_affected"
	VEXAffected           = "affected"
	VEXFixed              = "fixed"
	VEXUnderInvestigation = "under_investigation"
	VEXFalsePositive      = "false_positive"
)

// VEX holds the statements of the VEX documents a scan uses.
type VEX struct {
	Statements []Statement
}

// Statement is one VEX statement: the status of one vulnerability in some
// products.
type Statement struct {
	// Vulnerability is the vulnerability ID; Aliases other IDs of it.
	Vulnerability string
	Aliases       []string
	// Products are what the statement is about.
	Products []Product
	// Status is VEXNotAffected, VEXAffected, VEXFixed,
	// VEXUnderInvestigation or (from CycloneDX) VEXFalsePositive.
	Status string
	// Justification is the justification code, Impact the free-text impact
	// statement or analysis detail.
	Justification string
	Impact        string
	// Timestamp is when the statement was made (the document's when the
	// statement has none); the latest statement about a finding wins.
	Timestamp time.Time
	// Format is "openvex" or "cyclonedx"; File and Line locate the
	// statement.
	Format string
	File   string
	Line   int
	seq    int
}

// Source is "file:line" of the statement.
func (s *Statement) Source() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Product is a product a statement names: a package URL (or another
// identifier) and, optionally, the subcomponents of that product the
// statement is about.
type Product struct {
	// ID is a package URL, or an image reference or digest.
	ID string
	// BOMRef is a CycloneDX bom-ref the document did not resolve to a
	// component (for instance a reference into vigil's own CycloneDX output,
	// "vigil:pkg:...").
	BOMRef        string
	Subcomponents []string
}

// LoadVEX reads VEX documents, OpenVEX or CycloneDX (JSON), in order.
func LoadVEX(paths ...string) (*VEX, error) {
	v := &VEX{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("policy: load VEX %s: %w", p, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxVEXSize+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("policy: load VEX %s: %w", p, err)
		}
		doc, err := ParseVEX(p, data)
		if err != nil {
			return nil, err
		}
		for _, s := range doc.Statements {
			s.seq = len(v.Statements)
			v.Statements = append(v.Statements, s)
		}
	}
	return v, nil
}

// ParseVEX reads one VEX document of at most MaxVEXSize bytes; file names
// it in errors and statement sources.
func ParseVEX(file string, data []byte) (*VEX, error) {
	if len(data) > MaxVEXSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes; is this a VEX document?", MaxVEXSize)}
	}
	p := &vexParser{file: file, data: data}
	return p.parse()
}

type vexParser struct {
	file string
	data []byte
}

func (p *vexParser) errAt(off int64, msg string) error {
	return &Error{File: p.file, Line: lineOf(p.data, off), Msg: msg}
}

// lineOf is the 1-based line of byte offset off.
func lineOf(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// member is a JSON object member with the offset of its value.
type member struct {
	raw json.RawMessage
	off int64
}

// skipSep returns the offset of the next value at or after off: past white
// space, ':' and ','.
func skipSep(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// object splits the JSON object at data[base:] into its members. data must
// be valid JSON.
func (p *vexParser) object(raw json.RawMessage, base int64, what string) (map[string]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, p.errAt(base, err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, p.errAt(base, what+": want a JSON object")
	}
	out := map[string]member{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, p.errAt(base+dec.InputOffset(), err.Error())
		}
		key, _ := tok.(string)
		off := skipSep(raw, dec.InputOffset())
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, p.errAt(base+off, err.Error())
		}
		out[key] = member{raw: v, off: base + off}
	}
	return out, nil
}

// array splits the JSON array m into its elements.
func (p *vexParser) array(m member, what string) ([]member, error) {
	if isNull(m.raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(m.raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, p.errAt(m.off, err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, p.errAt(m.off, what+": want a JSON array")
	}
	var out []member
	for dec.More() {
		off := skipSep(m.raw, dec.InputOffset())
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, p.errAt(m.off+off, err.Error())
		}
		out = append(out, member{raw: v, off: m.off + off})
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// decode unmarshals m into v, locating type errors.
func (p *vexParser) decode(m member, v any, what string) error {
	if err := json.Unmarshal(m.raw, v); err != nil {
		off := m.off
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			off += te.Offset
			msg := fmt.Sprintf("%s: %s is a JSON %s, want %s", what, cmpOr(te.Field, "value"), te.Value, te.Type)
			return p.errAt(off, msg)
		}
		return p.errAt(off, what+": "+err.Error())
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (p *vexParser) parse() (*VEX, error) {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return nil, &Error{File: p.file, Msg: "empty file; want an OpenVEX or CycloneDX VEX document (JSON)"}
	}
	var whole json.RawMessage
	if err := json.Unmarshal(p.data, &whole); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, p.errAt(se.Offset, "not valid JSON: "+se.Error()+" (vigil reads OpenVEX and CycloneDX VEX as JSON)")
		}
		return nil, p.errAt(0, "not valid JSON: "+err.Error())
	}
	start := skipSep(p.data, 0)
	top, err := p.object(json.RawMessage(p.data[start:]), start, "the VEX document")
	if err != nil {
		return nil, err
	}
	var context, bomFormat string
	if m, ok := top["@context"]; ok {
		_ = json.Unmarshal(m.raw, &context)
	}
	if m, ok := top["bomFormat"]; ok {
		_ = json.Unmarshal(m.raw, &bomFormat)
	}
	_, hasStatements := top["statements"]
	switch {
	case strings.Contains(context, "openvex") || hasStatements && bomFormat == "":
		return p.openVEX(top)
	case bomFormat == "CycloneDX":
		return p.cycloneDX(top)
	}
	return nil, p.errAt(start, `neither an OpenVEX document ("@context": "https://openvex.dev/ns/...") nor a CycloneDX one ("bomFormat": "CycloneDX")`)
}

func (p *vexParser) timestamp(m member, what string) (time.Time, error) {
	var s string
	if err := p.decode(m, &s, what); err != nil {
		return time.Time{}, err
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, p.errAt(m.off, fmt.Sprintf("%s %q is not an RFC 3339 time", what, s))
	}
	return t, nil
}

// openVEX reads an OpenVEX document (v0.0.x and v0.2.x shapes).
func (p *vexParser) openVEX(top map[string]member) (*VEX, error) {
	var docTime time.Time
	if m, ok := top["timestamp"]; ok {
		t, err := p.timestamp(m, "timestamp")
		if err != nil {
			return nil, err
		}
		docTime = t
	}
	m, ok := top["statements"]
	if !ok {
		return &VEX{}, nil
	}
	items, err := p.array(m, "statements")
	if err != nil {
		return nil, err
	}
	v := &VEX{}
	for _, item := range items {
		s, err := p.openVEXStatement(item, docTime)
		if err != nil {
			return nil, err
		}
		s.seq = len(v.Statements)
		v.Statements = append(v.Statements, s)
	}
	return v, nil
}

type ovIdentifiers struct {
	PURL string `json:"purl"`
}

type ovComponent struct {
	ID          string        `json:"@id"`
	Identifiers ovIdentifiers `json:"identifiers"`
}

func (p *vexParser) openVEXStatement(item member, docTime time.Time) (Statement, error) {
	st, err := p.object(item.raw, item.off, "a statement")
	if err != nil {
		return Statement{}, err
	}
	s := Statement{Format: "openvex", File: p.file, Line: lineOf(p.data, item.off), Timestamp: docTime}
	str := func(key string, dst *string) error {
		if m, ok := st[key]; ok {
			return p.decode(m, dst, key)
		}
		return nil
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"status", &s.Status}, {"justification", &s.Justification}, {"impact_statement", &s.Impact}} {
		if err := str(f.key, f.dst); err != nil {
			return s, err
		}
	}
	for _, key := range []string{"timestamp", "last_updated"} {
		if m, ok := st[key]; ok {
			t, err := p.timestamp(m, key)
			if err != nil {
				return s, err
			}
			if t.After(s.Timestamp) {
				s.Timestamp = t
			}
		}
	}
	vm, ok := st["vulnerability"]
	if !ok {
		return s, p.errAt(item.off, "statement has no vulnerability")
	}
	if bytes.HasPrefix(bytes.TrimSpace(vm.raw), []byte(`"`)) {
		if err := p.decode(vm, &s.Vulnerability, "vulnerability"); err != nil {
			return s, err
		}
	} else {
		var vuln struct {
			ID      string   `json:"@id"`
			Name    string   `json:"name"`
			Aliases []string `json:"aliases"`
		}
		if err := p.decode(vm, &vuln, "vulnerability"); err != nil {
			return s, err
		}
		s.Vulnerability, s.Aliases = cmpOr(vuln.Name, vuln.ID), vuln.Aliases
	}
	if strings.TrimSpace(s.Vulnerability) == "" {
		return s, p.errAt(vm.off, "statement's vulnerability has no name")
	}
	pm, ok := st["products"]
	if !ok {
		return s, p.errAt(item.off, "statement names no products; say which image or packages it is about")
	}
	products, err := p.array(pm, "products")
	if err != nil {
		return s, err
	}
	for _, prod := range products {
		pr, err := p.openVEXProduct(prod)
		if err != nil {
			return s, err
		}
		s.Products = append(s.Products, pr)
	}
	if len(s.Products) == 0 {
		return s, p.errAt(pm.off, "statement names no products; say which image or packages it is about")
	}
	switch s.Status {
	case VEXNotAffected:
		if s.Justification == "" && s.Impact == "" {
			return s, p.errAt(item.off, "a not_affected statement needs a justification or an impact_statement")
		}
		if s.Justification != "" && !slices.Contains(openVEXJustifications, s.Justification) {
			return s, p.errAt(item.off, fmt.Sprintf("justification %q is not an OpenVEX justification; known: %s", s.Justification, strings.Join(openVEXJustifications, ", ")))
		}
	case VEXAffected, VEXFixed, VEXUnderInvestigation:
	default:
		return s, p.errAt(item.off, fmt.Sprintf("status %q: want not_affected, affected, fixed or under_investigation", s.Status))
	}
	return s, nil
}

func (p *vexParser) openVEXProduct(m member) (Product, error) {
	if bytes.HasPrefix(bytes.TrimSpace(m.raw), []byte(`"`)) {
		var id string
		err := p.decode(m, &id, "product")
		return Product{ID: id}, err
	}
	var prod struct {
		ovComponent
		Subcomponents []json.RawMessage `json:"subcomponents"`
	}
	if err := p.decode(m, &prod, "product"); err != nil {
		return Product{}, err
	}
	out := Product{ID: cmpOr(prod.Identifiers.PURL, prod.ID)}
	if out.ID == "" {
		return out, p.errAt(m.off, "product has neither an @id nor a purl identifier")
	}
	for _, raw := range prod.Subcomponents {
		sub := member{raw: raw, off: m.off}
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
			var id string
			if err := p.decode(sub, &id, "subcomponent"); err != nil {
				return out, err
			}
			out.Subcomponents = append(out.Subcomponents, id)
			continue
		}
		var c ovComponent
		if err := p.decode(sub, &c, "subcomponent"); err != nil {
			return out, err
		}
		id := cmpOr(c.Identifiers.PURL, c.ID)
		if id == "" {
			return out, p.errAt(m.off, "subcomponent has neither an @id nor a purl identifier")
		}
		out.Subcomponents = append(out.Subcomponents, id)
	}
	return out, nil
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	PURL       string         `json:"purl"`
	Name       string         `json:"name"`
	Components []cdxComponent `json:"components"`
}

// cycloneDX reads the vulnerabilities with an analysis from a CycloneDX
// BOM or VEX document.
func (p *vexParser) cycloneDX(top map[string]member) (*VEX, error) {
	refs := map[string]string{}
	var walk func(cs []cdxComponent)
	walk = func(cs []cdxComponent) {
		for _, c := range cs {
			if c.BOMRef != "" {
				refs[c.BOMRef] = cmpOr(c.PURL, c.Name)
			}
			walk(c.Components)
		}
	}
	var docTime time.Time
	if m, ok := top["metadata"]; ok {
		var meta struct {
			Timestamp string        `json:"timestamp"`
			Component *cdxComponent `json:"component"`
		}
		if err := p.decode(m, &meta, "metadata"); err != nil {
			return nil, err
		}
		if meta.Component != nil {
			walk([]cdxComponent{*meta.Component})
		}
		if meta.Timestamp != "" {
			t, err := time.Parse(time.RFC3339Nano, meta.Timestamp)
			if err != nil {
				return nil, p.errAt(m.off, fmt.Sprintf("metadata.timestamp %q is not an RFC 3339 time", meta.Timestamp))
			}
			docTime = t
		}
	}
	if m, ok := top["components"]; ok {
		var cs []cdxComponent
		if err := p.decode(m, &cs, "components"); err != nil {
			return nil, err
		}
		walk(cs)
	}
	m, ok := top["vulnerabilities"]
	if !ok {
		return &VEX{}, nil
	}
	items, err := p.array(m, "vulnerabilities")
	if err != nil {
		return nil, err
	}
	v := &VEX{}
	for _, item := range items {
		var vuln struct {
			ID         string `json:"id"`
			References []struct {
				ID string `json:"id"`
			} `json:"references"`
			Updated  string `json:"updated"`
			Analysis *struct {
				State         string `json:"state"`
				Justification string `json:"justification"`
				Detail        string `json:"detail"`
				LastUpdated   string `json:"lastUpdated"`
			} `json:"analysis"`
			Affects []struct {
				Ref string `json:"ref"`
			} `json:"affects"`
		}
		if err := p.decode(item, &vuln, "vulnerability"); err != nil {
			return nil, err
		}
		if vuln.Analysis == nil || vuln.Analysis.State == "" {
			// A vulnerability without an analysis states nothing.
			continue
		}
		s := Statement{Format: "cyclonedx", File: p.file, Line: lineOf(p.data, item.off), Timestamp: docTime,
			Vulnerability: vuln.ID, Justification: vuln.Analysis.Justification, Impact: vuln.Analysis.Detail}
		if strings.TrimSpace(s.Vulnerability) == "" {
			return nil, p.errAt(item.off, "vulnerability has no id")
		}
		for _, r := range vuln.References {
			if r.ID != "" {
				s.Aliases = append(s.Aliases, r.ID)
			}
		}
		for _, ts := range []string{vuln.Updated, vuln.Analysis.LastUpdated} {
			if ts == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				return nil, p.errAt(item.off, fmt.Sprintf("time %q is not an RFC 3339 time", ts))
			}
			if t.After(s.Timestamp) {
				s.Timestamp = t
			}
		}
		switch vuln.Analysis.State {
		case "not_affected":
			s.Status = VEXNotAffected
		case "false_positive":
			s.Status = VEXFalsePositive
		case "resolved", "resolved_with_pedigree":
			s.Status = VEXFixed
		case "exploitable":
			s.Status = VEXAffected
		case "in_triage":
			s.Status = VEXUnderInvestigation
		default:
			return nil, p.errAt(item.off, fmt.Sprintf("analysis state %q: want resolved, resolved_with_pedigree, exploitable, in_triage, false_positive or not_affected", vuln.Analysis.State))
		}
		if s.Justification != "" && !slices.Contains(cdxJustifications, s.Justification) {
			return nil, p.errAt(item.off, fmt.Sprintf("justification %q is not a CycloneDX justification; known: %s", s.Justification, strings.Join(cdxJustifications, ", ")))
		}
		for _, a := range vuln.Affects {
			s.Products = append(s.Products, resolveRef(a.Ref, refs))
		}
		if len(s.Products) == 0 {
			return nil, p.errAt(item.off, "vulnerability has an analysis but no affects: say which components it is about")
		}
		s.seq = len(v.Statements)
		v.Statements = append(v.Statements, s)
	}
	return v, nil
}

// resolveRef turns a CycloneDX affects ref (a bom-ref, a BOM-Link
// "urn:cdx:serial/version#bom-ref", or a package URL) into a product.
func resolveRef(ref string, refs map[string]string) Product {
	if strings.HasPrefix(ref, "pkg:") {
		return Product{ID: ref}
	}
	local := ref
	if strings.HasPrefix(ref, "urn:cdx:") {
		if _, frag, ok := strings.Cut(ref, "#"); ok {
			if u, err := url.PathUnescape(frag); err == nil {
				frag = u
			}
			local = frag
		}
	}
	if id, ok := refs[local]; ok && id != "" {
		return Product{ID: id, BOMRef: local}
	}
	if strings.HasPrefix(local, "pkg:") {
		// bom-refs are often the component's package URL.
		return Product{ID: local, BOMRef: local}
	}
	return Product{BOMRef: local}
}
