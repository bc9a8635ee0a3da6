package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vigilsec/vigil/inventory"
)

// MaxDecodeSize is the largest JSON document Decode reads.
const MaxDecodeSize = 256 << 20

// ErrSchemaVersion is returned by Decode for a document of another schema
// version.
var ErrSchemaVersion = errors.New("unsupported report schema version")

// JSONEncoder writes vigil's own JSON report (see EncodeJSON).
type JSONEncoder struct{}

// Encode implements Encoder.
func (JSONEncoder) Encode(w io.Writer, r *Report) error { return EncodeJSON(w, r) }

// EncodeJSON writes r as vigil's JSON report: the Sorted document, indented
// by two spaces, with HTML characters unescaped and a final newline. Empty
// lists are written as [] rather than null so that consumers need no null
// checks.
func EncodeJSON(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("report: encode json: nil report")
	}
	doc := r.Sorted()
	if doc.SchemaVersion == "" {
		doc.SchemaVersion = SchemaVersion
	}
	if doc.Inventory == nil {
		doc.Inventory = &inventory.Inventory{}
	}
	inv := doc.Inventory
	inv.Layers = nonNil(inv.Layers)
	inv.Packages = nonNil(inv.Packages)
	for i := range inv.Packages {
		// Sorted cloned the packages, so this does not touch r.
		inv.Packages[i].Locations = nonNil(inv.Packages[i].Locations)
	}
	doc.Vulnerabilities = nonNil(doc.Vulnerabilities)
	doc.Audit = nonNil(doc.Audit)

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: encode json for %s: %w", doc.Target.DisplayName(), err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Decode reads a JSON report that EncodeJSON wrote, for instance to render
// a stored scan in another format. It reads at most MaxDecodeSize bytes and
// rejects documents of another schema version (ErrSchemaVersion) and
// trailing data. Fields it does not know are ignored, so documents from
// newer vigil releases of the same schema version still read.
func Decode(rd io.Reader) (*Report, error) { return decode(rd, MaxDecodeSize) }

func decode(rd io.Reader, limit int64) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, fmt.Errorf("report: decode: read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("report: decode: document larger than %d bytes; is this a vigil JSON report?", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("report: decode: %w (is this a vigil JSON report?)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("report: decode: trailing data after the report document")
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("report: decode: schema version %q: %w; this vigil reads version %q", r.SchemaVersion, ErrSchemaVersion, SchemaVersion)
	}
	return &r, nil
}
