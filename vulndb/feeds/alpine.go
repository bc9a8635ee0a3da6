package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/vulndb"
)

// DefaultAlpineSecdbURL is where Alpine publishes secdb: one
// <release>/<repository>.json per release and repository.
const DefaultAlpineSecdbURL = "https://secdb.alpinelinux.org"

type secdbFile struct {
	DistroVersion string `json:"distroversion" yaml:"distroversion"`
	RepoName      string `json:"reponame" yaml:"reponame"`
	Packages      []struct {
		Pkg struct {
			Name     string        `json:"name" yaml:"name"`
			Secfixes secfixesOrder `json:"secfixes" yaml:"secfixes"`
		} `json:"pkg" yaml:"pkg"`
	} `json:"packages" yaml:"packages"`
}

// secfixesOrder keeps a secfixes mapping (fixed version -> issue lines) in
// file order, tolerating null lists and non-string items.
type secfixesOrder []secfix

type secfix struct {
	Version string
	Lines   []string
	Bad     int // items that were not strings
}

func (s *secfixesOrder) UnmarshalJSON(b []byte) error {
	*s = nil
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("secfixes is not an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var raw []json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if _, ok := err.(*json.UnmarshalTypeError); !ok {
				return err
			}
		}
		f := secfix{Version: fmt.Sprint(kt)}
		for _, r := range raw {
			var line string
			if json.Unmarshal(r, &line) == nil {
				f.Lines = append(f.Lines, line)
			} else {
				f.Bad++
			}
		}
		*s = append(*s, f)
	}
	_, err = dec.Token()
	return err
}

func (s *secfixesOrder) UnmarshalYAML(n *yaml.Node) error {
	*s = nil
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: secfixes is not a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := secfix{Version: k.Value}
		if v.Kind == yaml.SequenceNode {
			for _, it := range v.Content {
				if it.Kind == yaml.ScalarNode {
					f.Lines = append(f.Lines, it.Value)
				} else {
					f.Bad++
				}
			}
		} else if !(v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "")) {
			f.Bad++
		}
		*s = append(*s, f)
	}
	return nil
}

// AlpineResult is what ParseAlpineSecdb read from one secdb file.
type AlpineResult struct {
	// Release is the file's distroversion ("v3.20"); Repo its reponame.
	Release, Repo string
	// Docs has one document per issue ID, scoped "<release>/<repo>".
	Docs     []*vulndb.Doc
	Warnings []Warning
}

// Scope is the scope of the file's documents in the database.
func (r *AlpineResult) Scope() string { return r.Release + "/" + r.Repo }

var (
	issueToken = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$`)
	// cveLoose finds CVE IDs written with a stray separator or suffix, as
	// some secdb lines do ("CVE_2019-2426", "CVE 2018-16859",
	// "CVE-2019-19451.patch").
	cveLoose = regexp.MustCompile(`CVE[-_ ]?([0-9]{4})[-_]([0-9]{4,})`)
)

// issueIDs returns the IDs a secfixes line names: its CVEs (normalised),
// then other ID-like tokens ("XSA-213").
func issueIDs(line string) []string {
	var ids []string
	for _, m := range cveLoose.FindAllStringSubmatch(line, -1) {
		id := "CVE-" + m[1] + "-" + m[2]
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, tok := range strings.Fields(line) {
		if !strings.Contains(strings.ToUpper(tok), "CVE") && issueToken.MatchString(tok) && validID(tok) && !slices.Contains(ids, tok) {
			ids = append(ids, tok)
		}
	}
	return ids
}

// ParseAlpineSecdb reads one secdb file, JSON or YAML. Every fixed version
// under a package's secfixes becomes an entry of ecosystem
// "Alpine:<release>" fixed at that version; the version "0" means the
// package was never affected (Status "not-affected"). A line may name
// several IDs ("CVE-2017-8903 XSA-213"): the first CVE is the document ID
// and the rest are aliases.
func ParseAlpineSecdb(r io.Reader) (*AlpineResult, error) {
	data, err := io.ReadAll(newLimitReader(r, MaxFeedSize))
	if err != nil {
		return nil, fmt.Errorf("feeds: alpine secdb: %w", err)
	}
	var f secdbFile
	t := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	if len(t) > 0 && t[0] == '{' {
		err = json.Unmarshal(data, &f)
	} else {
		err = yamlUnmarshal(data, &f)
	}
	if err != nil {
		return nil, fmt.Errorf("feeds: alpine secdb: %w", err)
	}
	if f.DistroVersion == "" || f.RepoName == "" || !validID(f.DistroVersion) || !validID(f.RepoName) {
		return nil, fmt.Errorf("feeds: alpine secdb: bad distroversion %q or reponame %q", f.DistroVersion, f.RepoName)
	}
	res := &AlpineResult{Release: f.DistroVersion, Repo: f.RepoName}
	warn := func(format string, args ...any) {
		res.Warnings = append(res.Warnings, Warning{Kind: Malformed, Message: "alpine secdb " + res.Scope() + ": " + fmt.Sprintf(format, args...)})
	}
	eco := "Alpine:" + f.DistroVersion
	docs := map[string]*vulndb.Doc{}
	var order []string
	for _, p := range f.Packages {
		name := strings.TrimSpace(p.Pkg.Name)
		if name == "" || hasCtl(name) {
			warn("package with bad name %q", name)
			continue
		}
		for _, fx := range p.Pkg.Secfixes {
			ver := strings.TrimSpace(fx.Version)
			if fx.Bad > 0 {
				warn("%s %s: %d entries are not strings", name, ver, fx.Bad)
			}
			if ver == "" || hasCtl(ver) || strings.ContainsAny(ver, " \t") {
				warn("%s: bad fixed version %q", name, ver)
				continue
			}
			for _, line := range fx.Lines {
				ids := issueIDs(line)
				if len(ids) == 0 {
					warn("%s %s: no issue ID in %q", name, ver, line)
					continue
				}
				id := ids[0]
				var aliases []string
				for _, x := range ids {
					if x != id {
						aliases = append(aliases, x)
					}
				}
				doc := docs[id]
				if doc == nil {
					doc = &vulndb.Doc{
						Source: vulndb.SourceAlpineSecdb,
						Scope:  res.Scope(),
						ID:     id,
						Feed:   vulndb.SourceAlpineSecdb + "/" + res.Scope(),
						Details: &vulndb.Details{
							ID:         id,
							References: []string{"https://security.alpinelinux.org/vuln/" + id},
						},
					}
					docs[id] = doc
					order = append(order, id)
				}
				doc.Details.Aliases = vulndb.SortAliases(append(doc.Details.Aliases, aliases...))
				a := vulndb.Affected{ID: id, Ecosystem: eco, Package: name, Source: vulndb.SourceAlpineSecdb}
				if ver == "0" {
					a.Status = vulndb.StatusNotAffected
				} else {
					a.Ranges = []vulndb.Range{{Type: vulndb.RangeEcosystem, Events: []vulndb.Event{{Introduced: "0"}, {Fixed: ver}}}}
				}
				doc.Affected = append(doc.Affected, a)
			}
		}
	}
	for _, id := range order {
		d := docs[id]
		for i := range d.Affected {
			d.Affected[i].Aliases = d.Details.Aliases
		}
		res.Docs = append(res.Docs, d)
	}
	return res, nil
}

// yamlUnmarshal decodes one document and turns a decoder panic (there
// should be none, but the input is hostile) into an error.
func yamlUnmarshal(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml decoder: %v", p)
		}
	}()
	return yaml.Unmarshal(data, v)
}
