// Package policy decides what a scan's findings mean for a CI gate. It reads
// the policy file (.vigil.yaml: ignore rules with a reason and an optional
// expiry date, defaults for the gating flags, the secret scanner's allow
// list) and VEX documents (OpenVEX and CycloneDX), and Apply uses them with
// the command-line options to:
//
//   - remove the findings the user asked not to see (--severity,
//     --ignore-unfixed, --only-kev, --min-epss), as the peer scanners do;
//   - mark as suppressed (report.Suppression) the findings an ignore rule or
//     a not_affected / fixed VEX statement covers: they stay in the report,
//     visible in JSON, SARIF and CycloneDX, but do not count;
//   - decide whether the scan fails (--fail-on, --exit-code), and with which
//     exit code.
//
// An ignore rule past its expiry date stops suppressing and Apply says so
// in its warnings. Every problem in a policy file or VEX document is an
// error naming the file and line (errors.Is(err, ErrInvalid)), which the
// CLI reports as a usage error (exit code 3).
//
// The file format is documented in docs/configuration.md.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	packageurl "github.com/package-url/packageurl-go"
	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/report"
)

// DefaultFile is the policy file read from the working directory when
// --config is not given.
const DefaultFile = ".vigil.yaml"

// MaxConfigSize is the largest policy file Load reads.
const MaxConfigSize = 1 << 20

// ErrInvalid is matched (errors.Is) by every error that reports a malformed
// policy file, VEX document or option value.
var ErrInvalid = errors.New("invalid policy")

// Error locates a problem in a policy file or VEX document.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem concerns the whole file
	Column int // 1-based; 0 when unknown
	Msg    string
}

func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			where += fmt.Sprintf(":%d", e.Column)
		}
	}
	return "policy: " + where + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Config is a parsed policy file.
type Config struct {
	// File is the path the configuration was read from.
	File string
	// Ignore are the ignore rules, in file order.
	Ignore []Rule
	// Secrets configures the secret scanner.
	Secrets Secrets
	// VEX are VEX documents to read, relative paths resolved against the
	// directory of the policy file.
	VEX []string
	// Defaults are values for the gating flags; a flag given on the command
	// line wins over them (see Merge).
	Defaults Defaults
}

// Defaults are the gating flags a policy file may set. Nil or empty means
// not set.
type Defaults struct {
	Severities    []report.Severity
	IgnoreUnfixed *bool
	FailOn        report.Severity
	ExitCode      *int
	OnlyKEV       *bool
	MinEPSS       *float64
}

// Rule is one ignore rule. It matches a finding when every field it sets
// matches; it matches an audit issue by ID and path (a rule with a package
// never matches an issue).
type Rule struct {
	// ID is a vulnerability ID or alias (CVE-..., GHSA-..., GO-...,
	// DEBIAN-CVE-...) or an audit rule ID (VGL-CFG-001).
	ID string
	// Package is a package name (for OS packages also the source package
	// name) or a package URL, matched ignoring qualifiers and, when the URL
	// has none, the version.
	Package string
	// Path is a glob ("*" within a path segment, "**" across segments) or a
	// directory prefix, matched against the package's files or the
	// issue's path.
	Path string
	// Reason says why; required.
	Reason string
	// Expires is the last day (UTC) the rule applies; zero for never.
	Expires time.Time
	// Status is report.StatusNotAffected (the default) or
	// report.StatusFalsePositive; Justification an optional VEX
	// justification code. Both are carried into the suppression.
	Status        string
	Justification string
	// Line is where the rule starts in File.
	File string
	Line int
}

// Source is "file:line" of the rule.
func (r *Rule) Source() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Expired reports whether the rule no longer applies at now: after the end
// of its Expires day.
func (r *Rule) Expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires.AddDate(0, 0, 1))
}

// describe names what the rule targets, for messages.
func (r *Rule) describe() string {
	var parts []string
	for _, s := range []string{r.ID, r.Package, r.Path} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// Secrets configures the secret scanner.
type Secrets struct {
	// Allow lists findings of the secret scanner not to report.
	Allow []SecretAllow
}

// SecretAllow allows a secret-scanner rule, a path glob, or both together.
type SecretAllow struct {
	Rule   string
	Path   string
	Reason string
	Line   int
}

// Load reads a policy file. A missing file is an error matching
// fs.ErrNotExist, which callers reading the optional DefaultFile ignore.
func Load(file string) (*Config, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("policy: load %s: %w", file, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy: load %s: %w", file, err)
	}
	cfg, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	for i, v := range cfg.VEX {
		if !filepath.IsAbs(v) {
			cfg.VEX[i] = filepath.Join(dir, v)
		}
	}
	return cfg, nil
}

// Parse reads a policy file's contents (at most MaxConfigSize bytes); file
// names it in errors and rule sources. VEX paths are returned as written.
func Parse(file string, data []byte) (*Config, error) {
	p := &parser{file: file}
	cfg := &Config{File: file}
	if len(data) > MaxConfigSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes; is this a vigil policy file?", MaxConfigSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil
		}
		return nil, p.yamlErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlErr(err)
		}
		return nil, p.errAt(&extra, "a second YAML document; a policy file holds one")
	}
	if len(doc.Content) == 0 {
		return cfg, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, nil
	}
	err := p.mapping(root, "the policy file", map[string]func(v *yaml.Node) error{
		"ignore": func(v *yaml.Node) error {
			return p.sequence(v, "ignore", func(item *yaml.Node) error {
				r, err := p.rule(item)
				if err == nil {
					cfg.Ignore = append(cfg.Ignore, r)
				}
				return err
			})
		},
		"secrets": func(v *yaml.Node) error {
			return p.mapping(v, "secrets", map[string]func(*yaml.Node) error{
				"allow": func(v *yaml.Node) error {
					return p.sequence(v, "secrets.allow", func(item *yaml.Node) error {
						a, err := p.secretAllow(item)
						if err == nil {
							cfg.Secrets.Allow = append(cfg.Secrets.Allow, a)
						}
						return err
					})
				},
			})
		},
		"vex": func(v *yaml.Node) error {
			return p.sequence(v, "vex", func(item *yaml.Node) error {
				s, err := p.str(item, "a vex entry")
				if err == nil && s == "" {
					err = p.errAt(item, "empty VEX file name")
				}
				cfg.VEX = append(cfg.VEX, s)
				return err
			})
		},
		"severity": func(v *yaml.Node) error {
			var list []string
			switch v.Kind {
			case yaml.ScalarNode:
				list = strings.Split(v.Value, ",")
			case yaml.SequenceNode:
				for _, item := range v.Content {
					s, err := p.str(item, "a severity")
					if err != nil {
						return err
					}
					list = append(list, s)
				}
			default:
				return p.errAt(v, "severity: want a list of severities or a comma-separated string")
			}
			sevs, err := ParseSeverities(strings.Join(list, ","))
			if err != nil {
				return p.errAt(v, err.Error())
			}
			cfg.Defaults.Severities = sevs
			return nil
		},
		"ignore-unfixed": func(v *yaml.Node) error { return p.boolean(v, "ignore-unfixed", &cfg.Defaults.IgnoreUnfixed) },
		"only-kev":       func(v *yaml.Node) error { return p.boolean(v, "only-kev", &cfg.Defaults.OnlyKEV) },
		"fail-on": func(v *yaml.Node) error {
			s, err := p.str(v, "fail-on")
			if err != nil {
				return err
			}
			sev, err := ParseSeverity(s)
			if err != nil {
				return p.errAt(v, err.Error())
			}
			cfg.Defaults.FailOn = sev
			return nil
		},
		"exit-code": func(v *yaml.Node) error {
			var n int
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
				return p.errAt(v, fmt.Sprintf("exit-code: %q is not a whole number", v.Value))
			}
			if err := checkExitCode(n); err != nil {
				return p.errAt(v, err.Error())
			}
			cfg.Defaults.ExitCode = &n
			return nil
		},
		"min-epss": func(v *yaml.Node) error {
			var x float64
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!float" && v.Tag != "!!int") || v.Decode(&x) != nil {
				return p.errAt(v, fmt.Sprintf("min-epss: %q is not a number", v.Value))
			}
			if err := checkEPSS(x); err != nil {
				return p.errAt(v, err.Error())
			}
			cfg.Defaults.MinEPSS = &x
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

type parser struct{ file string }

func (p *parser) errAt(n *yaml.Node, msg string) error {
	return &Error{File: p.file, Line: n.Line, Column: n.Column, Msg: msg}
}

// yamlErr turns a YAML syntax error ("yaml: line 3: ...") into a located
// Error.
func (p *parser) yamlErr(err error) error {
	msg := err.Error()
	line := 0
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, scanErr := fmt.Sscanf(n, "%d", &line); scanErr == nil {
				msg = after
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: p.file, Line: line, Msg: "not valid YAML: " + msg}
}

// mapping walks a mapping node, calling the handler of each key; unknown
// and repeated keys, anchors and aliases are errors.
func (p *parser) mapping(n *yaml.Node, what string, keys map[string]func(*yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errAt(n, fmt.Sprintf("%s: want a mapping of keys to values", what))
	}
	if err := p.noAlias(n); err != nil {
		return err
	}
	known := make([]string, 0, len(keys))
	for k := range keys {
		known = append(known, k)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := p.noAlias(k); err != nil {
			return err
		}
		if err := p.noAlias(v); err != nil {
			return err
		}
		h, ok := keys[k.Value]
		if k.Kind != yaml.ScalarNode || !ok {
			return p.errAt(k, fmt.Sprintf("unknown key %q in %s; known keys: %s", k.Value, what, strings.Join(known, ", ")))
		}
		if seen[k.Value] {
			return p.errAt(k, fmt.Sprintf("key %q appears twice in %s", k.Value, what))
		}
		seen[k.Value] = true
		if err := h(v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) noAlias(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errAt(n, "YAML anchors and aliases are not supported in a policy file; write the value out")
	}
	return nil
}

func (p *parser) sequence(n *yaml.Node, what string, each func(*yaml.Node) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errAt(n, fmt.Sprintf("%s: want a list", what))
	}
	if err := p.noAlias(n); err != nil {
		return err
	}
	for _, item := range n.Content {
		if err := p.noAlias(item); err != nil {
			return err
		}
		if err := each(item); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errAt(n, fmt.Sprintf("%s: want a string", what))
	}
	return strings.TrimSpace(n.Value), nil
}

func (p *parser) boolean(n *yaml.Node, what string, dst **bool) error {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return p.errAt(n, fmt.Sprintf("%s: %q is not true or false", what, n.Value))
	}
	*dst = &b
	return nil
}

func (p *parser) rule(n *yaml.Node) (Rule, error) {
	r := Rule{File: p.file, Line: n.Line}
	strField := func(dst *string, what string) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			s, err := p.str(v, what)
			*dst = s
			return err
		}
	}
	err := p.mapping(n, "an ignore rule", map[string]func(*yaml.Node) error{
		"id":            strField(&r.ID, "id"),
		"package":       strField(&r.Package, "package"),
		"path":          strField(&r.Path, "path"),
		"reason":        strField(&r.Reason, "reason"),
		"justification": strField(&r.Justification, "justification"),
		"status":        strField(&r.Status, "status"),
		"expires": func(v *yaml.Node) error {
			s, err := p.str(v, "expires")
			if err != nil {
				return err
			}
			t, err := parseDate(s)
			if err != nil {
				return p.errAt(v, fmt.Sprintf("expires: %q is not a date; write YYYY-MM-DD, e.g. 2027-03-31", s))
			}
			r.Expires = t
			return nil
		},
	})
	if err != nil {
		return r, err
	}
	switch {
	case r.ID == "" && r.Package == "" && r.Path == "":
		return r, p.errAt(n, "an ignore rule needs at least one of id, package or path")
	case r.Reason == "":
		return r, p.errAt(n, "an ignore rule needs a reason: say why the finding does not apply")
	}
	switch r.Status {
	case "":
		r.Status = report.StatusNotAffected
	case report.StatusNotAffected, report.StatusFalsePositive:
	default:
		return r, p.errAt(n, fmt.Sprintf("status %q: want %s or %s", r.Status, report.StatusNotAffected, report.StatusFalsePositive))
	}
	if r.Justification != "" && !validJustification(r.Justification) {
		return r, p.errAt(n, fmt.Sprintf("justification %q is not an OpenVEX or CycloneDX justification; known: %s", r.Justification, strings.Join(justifications(), ", ")))
	}
	if strings.HasPrefix(r.Package, "pkg:") {
		if _, err := packageurl.FromString(r.Package); err != nil {
			return r, p.errAt(n, fmt.Sprintf("package %q is not a valid package URL: %v", r.Package, err))
		}
	}
	if r.Path != "" {
		if _, err := path.Match(r.Path, ""); err != nil {
			return r, p.errAt(n, fmt.Sprintf("path %q is not a valid glob: %v", r.Path, err))
		}
	}
	return r, nil
}

func (p *parser) secretAllow(n *yaml.Node) (SecretAllow, error) {
	a := SecretAllow{Line: n.Line}
	strField := func(dst *string, what string) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			s, err := p.str(v, what)
			*dst = s
			return err
		}
	}
	err := p.mapping(n, "a secrets.allow entry", map[string]func(*yaml.Node) error{
		"rule":   strField(&a.Rule, "rule"),
		"path":   strField(&a.Path, "path"),
		"reason": strField(&a.Reason, "reason"),
	})
	if err != nil {
		return a, err
	}
	if a.Rule == "" && a.Path == "" {
		return a, p.errAt(n, "a secrets.allow entry needs a rule, a path, or both")
	}
	if a.Path != "" {
		if _, err := path.Match(a.Path, ""); err != nil {
			return a, p.errAt(n, fmt.Sprintf("path %q is not a valid glob: %v", a.Path, err))
		}
	}
	return a, nil
}

// parseDate reads YYYY-MM-DD (or an RFC 3339 time, whose UTC day counts).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// Merge returns the options a scan runs with: each flag the user set on
// the command line (changed reports which, by flag name: "severity",
// "ignore-unfixed", "fail-on", "exit-code", "only-kev", "min-epss") keeps
// its command-line value; each other flag takes the policy file's value
// when the file sets one, else keeps its default from flags. cfg may be
// nil.
func Merge(cfg *Config, flags Options, changed func(flag string) bool) Options {
	out := flags
	if cfg == nil {
		return out
	}
	d := cfg.Defaults
	if d.Severities != nil && !changed("severity") {
		out.Severities = slices.Clone(d.Severities)
	}
	if d.IgnoreUnfixed != nil && !changed("ignore-unfixed") {
		out.IgnoreUnfixed = *d.IgnoreUnfixed
	}
	if d.FailOn != "" && !changed("fail-on") {
		out.FailOn = d.FailOn
	}
	if d.ExitCode != nil && !changed("exit-code") {
		out.ExitCode = *d.ExitCode
	}
	if d.OnlyKEV != nil && !changed("only-kev") {
		out.OnlyKEV = *d.OnlyKEV
	}
	if d.MinEPSS != nil && !changed("min-epss") {
		out.MinEPSS = *d.MinEPSS
	}
	return out
}
