// Package template writes a report through a user's Go text/template
// (--format template --template FILE, or --template @FILE), for the outputs
// vigil has no format for: CSV, a ticket body, another tool's JSON.
//
// The template's data is the JSON report (docs/json-report.md) as decoded
// JSON: objects are maps keyed by the JSON field names, so a template says
// {{range .vulnerabilities}}{{.id}} {{.package.name}}{{end}}. Numbers are
// int64 when whole, else float64. Every finding carries its remediation and
// the document its summary. Optional fields that are absent print as
// "<no value>": test them with {{with}} or {{if}}.
//
// Helper functions, besides text/template's own:
//
//	join SEP LIST        the elements of LIST joined by SEP
//	upper S, lower S     case
//	truncate N S         S cut to N characters, with "…" when cut
//	toJSON V             V as compact JSON
//	escapeCSV S          S as one CSV field (quoted when needed)
//	escapeXML S          S with XML's special characters escaped
//	severityRank S       5 for critical down to 1 for negligible, 0 else
//	sortBySeverity LIST  LIST of objects ordered by .severity, most severe first
//	shortStep S          a layer's createdBy as the Dockerfile instruction
//	layer N              the inventory layer with index N (an object), or nil
//	default D V          V, or D when V is empty or absent
package template

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	texttemplate "text/template"

	"github.com/vigilsec/vigil/remediation"
	"github.com/vigilsec/vigil/report"
)

// MaxSize is the largest template file Load reads.
const MaxSize = 1 << 20

// Encoder executes a parsed template over a report.
type Encoder struct {
	t *texttemplate.Template
}

// Load reads and parses the template file spec names: a path, or "@" and a
// path.
func Load(spec string) (*Encoder, error) {
	path := strings.TrimPrefix(spec, "@")
	if path == "" {
		return nil, errors.New("template: load: no template file given; use --template FILE")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("template: load %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("template: load %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("template: load %s: larger than %d bytes", path, MaxSize)
	}
	return New(path, string(data))
}

// New parses a template; name names it in errors.
func New(name, text string) (*Encoder, error) {
	t, err := texttemplate.New(name).Funcs(funcs(nil)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template: parse %w", err)
	}
	return &Encoder{t: t}, nil
}

// Encode implements report.Encoder.
func (e *Encoder) Encode(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("template: encode: nil report")
	}
	data, err := Data(r)
	if err != nil {
		return err
	}
	t, err := e.t.Clone()
	if err != nil {
		return fmt.Errorf("template: execute %s: %w", e.t.Name(), err)
	}
	t.Funcs(funcs(data))
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("template: execute %w (for %s)", err, r.Target.DisplayName())
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("template: write report for %s: %w", r.Target.DisplayName(), err)
	}
	return nil
}

// Data is the value a template executes on: the JSON report of r, with
// remediation and summary, decoded into maps and slices.
func Data(r *report.Report) (map[string]any, error) {
	var buf bytes.Buffer
	if err := report.EncodeJSON(&buf, remediation.Annotated(r)); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("template: decode the JSON report: %w", err)
	}
	return numbers(doc).(map[string]any), nil
}

// numbers turns json.Number values into int64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func funcs(doc map[string]any) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"join": func(sep string, list any) string {
			var parts []string
			for _, e := range toList(list) {
				parts = append(parts, fmt.Sprint(e))
			}
			return strings.Join(parts, sep)
		},
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"truncate": func(n int, s string) string {
			rs := []rune(s)
			if n < 1 || len(rs) <= n {
				return s
			}
			return string(rs[:n-1]) + "…"
		},
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"escapeCSV": func(s string) string {
			if strings.ContainsAny(s, ",\"\r\n") || strings.TrimSpace(s) != s {
				return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			return s
		},
		"escapeXML": func(s string) string {
			var b strings.Builder
			_ = xml.EscapeText(&b, []byte(s))
			return b.String()
		},
		"severityRank": func(s string) int { return report.Severity(s).Rank() },
		"sortBySeverity": func(list any) []any {
			out := slices.Clone(toList(list))
			slices.SortStableFunc(out, func(a, b any) int { return cmp.Compare(rank(b), rank(a)) })
			return out
		},
		"shortStep": report.ShortStep,
		"layer": func(n any) any {
			idx, ok := toInt(n)
			if !ok || doc == nil {
				return nil
			}
			inv, _ := doc["inventory"].(map[string]any)
			layers, _ := inv["layers"].([]any)
			for _, l := range layers {
				if m, ok := l.(map[string]any); ok {
					if i, ok := toInt(m["index"]); ok && i == idx {
						return m
					}
				}
			}
			return nil
		},
		"default": func(def, v any) any {
			if v == nil {
				return def
			}
			rv := reflect.ValueOf(v)
			if rv.IsZero() || (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map || rv.Kind() == reflect.String) && rv.Len() == 0 {
				return def
			}
			return v
		},
	}
}

func toList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return []any{v}
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

func rank(v any) int {
	m, _ := v.(map[string]any)
	s, _ := m["severity"].(string)
	return report.Severity(s).Rank()
}
