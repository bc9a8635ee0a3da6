// Package synth writes a synthetic OSV export for the vulnerability
// database benchmark: per ecosystem an all.zip and a modified_id.csv in
// the upstream layout, with record shapes, sizes and ecosystem mix modelled
// on the real export (GHSA records with CVSS vectors, references and
// enumerated versions; malicious-package records with versions only; Go
// records with symbols; distro records with one entry per release, Ubuntu's
// binary lists and version lists). Text comes from a word bigram model of a
// corpus the caller supplies (the bench uses the texts of the real fixture
// records): each word is drawn from the words that follow the previous one
// in the corpus, so the text has the word frequencies and short phrases of
// advisory prose without repeating whole sentences.
package synth

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// Mix is the share of records per OSV export folder.
var Mix = []struct {
	Folder string
	Weight float64
}{
	{"npm", 0.35}, {"Debian", 0.12}, {"Ubuntu", 0.12}, {"SUSE", 0.08}, {"PyPI", 0.06},
	{"Maven", 0.04}, {"Alpine", 0.04}, {"Wolfi", 0.04}, {"Go", 0.03}, {"Red Hat", 0.03},
	{"Packagist", 0.02}, {"AlmaLinux", 0.02}, {"Rocky Linux", 0.02}, {"crates.io", 0.01},
	{"RubyGems", 0.01}, {"NuGet", 0.01},
}

// Options configure Generate.
type Options struct {
	Records int
	Seed    uint64
	// Words is the corpus text is modelled on, in reading order.
	Words []string
	// Base is the time records are modified around.
	Base time.Time
}

// Manifest describes a generated export.
type Manifest struct {
	Records int `json:"records"`
	// JSONBytes is the total size of the records' JSON, uncompressed.
	JSONBytes int64 `json:"jsonBytes"`
	// ZipBytes is the total size of the all.zip files.
	ZipBytes int64          `json:"zipBytes"`
	PerEco   map[string]int `json:"perEcosystem"`
	Newest   time.Time      `json:"newest"`
	Keys     [][2]string    `json:"keys"` // a sample of (ecosystem, package) pairs that have advisories
}

// Gen generates records deterministically from a seed.
type Gen struct {
	rng   *rand.Rand
	opts  Options
	pools map[string]*pool
	seq   int
	next  map[string][]string // word -> the words that follow it in the corpus
}

type pool struct {
	names []string
	zipf  *rand.Zipf
}

// New returns a generator.
func New(opts Options) *Gen {
	if len(opts.Words) == 0 {
		opts.Words = strings.Fields("the a an of in to and for via allows attacker remote code execution denial service memory buffer overflow crafted input request vulnerability version before after affected issue fixed")
	}
	if opts.Base.IsZero() {
		opts.Base = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &Gen{rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed)), opts: opts, pools: map[string]*pool{}, next: map[string][]string{}}
	for i := 0; i+1 < len(opts.Words); i++ {
		g.next[opts.Words[i]] = append(g.next[opts.Words[i]], opts.Words[i+1])
	}
	return g
}

var poolSizes = map[string]int{
	"npm": 60000, "PyPI": 12000, "Maven": 10000, "Go": 4000, "crates.io": 3000, "RubyGems": 3000,
	"NuGet": 3000, "Packagist": 4000, "Debian": 15000, "Ubuntu": 15000, "Alpine": 6000,
	"Wolfi": 5000, "AlmaLinux": 8000, "Rocky Linux": 8000, "Red Hat": 10000, "SUSE": 12000,
}

var syllables = strings.Fields("ab ac ad al am an ar as at ba be bi bo bu ca ce ci co cu da de di do du el em en er es et fa fe fi fo ga ge gi go ha he hi ho il im in is it ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu ob oc od ol om on op or os ot pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu ul um un ur us va ve vi vo xa xe yo za ze zi")

func (g *Gen) word() string {
	n := 2 + g.rng.IntN(3)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[g.rng.IntN(len(syllables))])
	}
	return b.String()
}

func (g *Gen) pool(folder string) *pool {
	p := g.pools[folder]
	if p != nil {
		return p
	}
	n := poolSizes[folder]
	p = &pool{}
	seen := map[string]bool{}
	for len(p.names) < n {
		var name string
		switch folder {
		case "Maven":
			name = "org." + g.word() + "." + g.word() + ":" + g.word() + "-" + g.word()
		case "Go":
			name = "github.com/" + g.word() + "/" + g.word()
		case "npm":
			if g.rng.IntN(4) == 0 {
				name = "@" + g.word() + "/" + g.word()
			} else {
				name = g.word() + "-" + g.word()
			}
		case "Packagist":
			name = g.word() + "/" + g.word()
		case "PyPI":
			name = g.word() + []string{"-", "_", ".", ""}[g.rng.IntN(4)] + g.word()
		default:
			name = "lib" + g.word() + []string{"", "-dev", "2", "-utils"}[g.rng.IntN(4)]
		}
		if !seen[name] {
			seen[name] = true
			p.names = append(p.names, name)
		}
	}
	// With s=1.05, v=20 the busiest package of a pool gets a few hundred
	// advisories and the 99th percentile a few dozen, as in the real data
	// (outliers like Debian's linux, with thousands, are left out).
	p.zipf = rand.NewZipf(g.rng, 1.05, 20, uint64(n-1))
	g.pools[folder] = p
	return p
}

func (g *Gen) pkg(folder string) string {
	p := g.pool(folder)
	return p.names[p.zipf.Uint64()]
}

func (g *Gen) text(minWords, maxWords int) string {
	n := minWords + g.rng.IntN(maxWords-minWords+1)
	var b strings.Builder
	w := g.opts.Words[g.rng.IntN(len(g.opts.Words))]
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
			if f := g.next[w]; len(f) > 0 && g.rng.IntN(20) != 0 {
				w = f[g.rng.IntN(len(f))]
			} else {
				w = g.opts.Words[g.rng.IntN(len(g.opts.Words))]
			}
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

func (g *Gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *Gen) ghsaID() string {
	const cs = "23456789cfghjmpqrvwx"
	part := func() string {
		b := make([]byte, 4)
		for i := range b {
			b[i] = cs[g.rng.IntN(len(cs))]
		}
		return string(b)
	}
	return "GHSA-" + part() + "-" + part() + "-" + part()
}

func (g *Gen) cve() string {
	return fmt.Sprintf("CVE-%d-%d", 2015+g.rng.IntN(11), 1000+g.rng.IntN(60000))
}

var cvssMetrics = [][]string{
	{"AV:N", "AV:A", "AV:L", "AV:P"}, {"AC:L", "AC:H"}, {"PR:N", "PR:L", "PR:H"}, {"UI:N", "UI:R"},
	{"S:U", "S:C"}, {"C:N", "C:L", "C:H"}, {"I:N", "I:L", "I:H"}, {"A:N", "A:L", "A:H"},
}

func (g *Gen) cvss() string {
	parts := []string{"CVSS:3.1"}
	for _, m := range cvssMetrics {
		parts = append(parts, m[g.rng.IntN(len(m))])
	}
	return strings.Join(parts, "/")
}

func (g *Gen) semver() (string, string) {
	maj, min, pat := g.rng.IntN(8), g.rng.IntN(30), g.rng.IntN(20)
	return fmt.Sprintf("%d.%d.%d", maj, min, pat), fmt.Sprintf("%d.%d.%d", maj, min, pat+1+g.rng.IntN(5))
}

func (g *Gen) versionsUpTo(fixed string, n int) []string {
	var maj, mn, pat int
	fmt.Sscanf(fixed, "%d.%d.%d", &maj, &mn, &pat)
	out := make([]string, 0, n)
	for i := n; i > 0; i-- {
		p := pat - i
		m := mn
		for p < 0 {
			p += 10
			m--
		}
		if m < 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%d.%d.%d", maj, m, p))
	}
	return out
}

func (g *Gen) when() (published, modified time.Time) {
	age := time.Duration(g.rng.Int64N(int64(6*365*24*time.Hour))) + time.Second
	published = g.opts.Base.Add(-age)
	modified = published.Add(time.Duration(g.rng.Int64N(int64(age))))
	return published.Truncate(time.Second), modified.Truncate(time.Millisecond)
}

func (g *Gen) refs(n int, pkg string) []map[string]string {
	var out []map[string]string
	kinds := []string{"ADVISORY", "WEB", "PACKAGE", "FIX", "REPORT"}
	for i := range n {
		var u string
		switch i % 5 {
		case 0:
			u = "https://nvd.nist.gov/vuln/detail/" + g.cve()
		case 1:
			u = "https://github.com/" + g.word() + "/" + g.word() + "/commit/" + g.hex(40)
		case 2:
			u = "https://github.com/" + g.word() + "/" + g.word() + "/issues/" + fmt.Sprint(g.rng.IntN(20000))
		case 3:
			u = "https://" + g.word() + ".org/security/" + g.word() + "-" + fmt.Sprint(g.rng.IntN(1000))
		default:
			u = "https://security." + g.word() + ".com/advisories/" + strings.ReplaceAll(pkg, "/", "-")
		}
		out = append(out, map[string]string{"type": kinds[i%len(kinds)], "url": u})
	}
	return out
}

// Record returns one record for the folder, as a JSON-ready map, with its
// ID and modified time.
func (g *Gen) Record(folder string) (id string, modified time.Time, rec map[string]any) {
	g.seq++
	pub, mod := g.when()
	rec = map[string]any{"schema_version": "1.6.0", "published": pub.Format(time.RFC3339), "modified": mod.Format(time.RFC3339Nano)}
	cve := g.cve()
	switch folder {
	case "Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "Wolfi":
		id = g.distroRecord(folder, cve, rec)
	case "Go":
		id = g.goRecord(cve, rec)
	default:
		if (folder == "npm" && g.rng.IntN(2) == 0) || (folder == "PyPI" && g.rng.IntN(3) == 0) {
			id = g.malRecord(folder, rec)
		} else {
			id = g.ghsaRecord(folder, cve, rec)
		}
	}
	rec["id"] = id
	return id, mod, rec
}

func (g *Gen) ghsaRecord(folder, cve string, rec map[string]any) string {
	id := g.ghsaID()
	name := g.pkg(folder)
	rec["aliases"] = []string{cve}
	rec["summary"] = g.text(5, 12)
	rec["details"] = g.text(40, 260)
	if g.rng.IntN(10) < 8 {
		rec["severity"] = []map[string]string{{"type": "CVSS_V3", "score": g.cvss()}}
	} else {
		rec["severity"] = []map[string]string{}
	}
	var affected []map[string]any
	for range 1 + g.rng.IntN(2) {
		intro, fixed := g.semver()
		a := map[string]any{
			"package": map[string]string{"ecosystem": folder, "name": name, "purl": "pkg:" + strings.ToLower(folder) + "/" + name},
			"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": []map[string]string{{"introduced": intro}, {"fixed": fixed}}}},
			"database_specific": map[string]any{
				"source": "https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/" + id + ".json",
			},
		}
		if folder == "PyPI" || g.rng.IntN(4) == 0 {
			a["versions"] = g.versionsUpTo(fixed, 3+g.rng.IntN(40))
		}
		affected = append(affected, a)
	}
	rec["affected"] = affected
	rec["references"] = g.refs(3+g.rng.IntN(8), name)
	rec["database_specific"] = map[string]any{
		"cwe_ids":            []string{fmt.Sprintf("CWE-%d", 20+g.rng.IntN(900))},
		"severity":           []string{"LOW", "MODERATE", "HIGH", "CRITICAL"}[g.rng.IntN(4)],
		"github_reviewed":    true,
		"github_reviewed_at": g.opts.Base.Add(-time.Duration(g.rng.IntN(1000)) * time.Hour).Format(time.RFC3339),
		"nvd_published_at":   nil,
	}
	return id
}

func (g *Gen) malRecord(folder string, rec map[string]any) string {
	id := fmt.Sprintf("MAL-%d-%d", 2022+g.rng.IntN(4), g.seq)
	name := g.word() + "-" + g.word() + fmt.Sprint(g.rng.IntN(100))
	vs := []string{fmt.Sprintf("%d.%d.%d", g.rng.IntN(3), g.rng.IntN(10), g.rng.IntN(10))}
	if g.rng.IntN(3) == 0 {
		vs = append(vs, fmt.Sprintf("%d.%d.%d", 1+g.rng.IntN(3), g.rng.IntN(10), g.rng.IntN(10)))
	}
	rec["summary"] = "Malicious code in " + name + " (" + folder + ")"
	rec["details"] = "\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ossf-package-analysis (" + g.hex(64) + ")\n" + g.text(20, 80)
	rec["affected"] = []map[string]any{{"package": map[string]string{"ecosystem": folder, "name": name}, "versions": vs}}
	rec["credits"] = []map[string]any{{"name": "OpenSSF: Package Analysis", "type": "FINDER", "contact": []string{"https://github.com/ossf/package-analysis"}}}
	rec["database_specific"] = map[string]any{"malicious-packages-origins": []map[string]any{{"sha256": g.hex(64), "source": "ossf-package-analysis", "versions": vs}}}
	return id
}

func (g *Gen) goRecord(cve string, rec map[string]any) string {
	id := fmt.Sprintf("GO-%d-%d", 2020+g.rng.IntN(6), g.seq)
	name := g.pkg("Go")
	intro, fixed := g.semver()
	var syms []string
	for range 1 + g.rng.IntN(6) {
		syms = append(syms, strings.ToUpper(g.word()[:1])+g.word())
	}
	rec["aliases"] = []string{cve, g.ghsaID()}
	rec["summary"] = g.text(5, 12)
	rec["details"] = g.text(30, 120)
	rec["affected"] = []map[string]any{{
		"package":            map[string]string{"ecosystem": "Go", "name": name},
		"ranges":             []map[string]any{{"type": "SEMVER", "events": []map[string]string{{"introduced": "0"}, {"introduced": intro}, {"fixed": fixed}}}},
		"ecosystem_specific": map[string]any{"imports": []map[string]any{{"path": name + "/" + g.word(), "symbols": syms}}},
	}}
	rec["references"] = g.refs(2+g.rng.IntN(4), name)
	rec["database_specific"] = map[string]any{"url": "https://pkg.go.dev/vuln/" + id, "review_status": "REVIEWED"}
	return id
}

var distroReleases = map[string][]string{
	"Debian":      {"Debian:11", "Debian:12", "Debian:13"},
	"Ubuntu":      {"Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS", "Ubuntu:Pro:18.04:LTS", "Ubuntu:Pro:16.04:LTS"},
	"Alpine":      {"Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.20", "Alpine:v3.21"},
	"AlmaLinux":   {"AlmaLinux:8", "AlmaLinux:9"},
	"Rocky Linux": {"Rocky Linux:8", "Rocky Linux:9"},
	"Red Hat":     {"Red Hat:enterprise_linux:8::appstream", "Red Hat:enterprise_linux:9::baseos"},
	"SUSE":        {"SUSE:SUSE Linux Enterprise Server 15 SP5", "SUSE:SUSE Linux Enterprise Server 15 SP6"},
	"Wolfi":       {"Wolfi"},
}

func (g *Gen) distroRecord(folder, cve string, rec map[string]any) string {
	rels := distroReleases[folder]
	var id string
	switch folder {
	case "Debian":
		id = "DEBIAN-" + cve + fmt.Sprintf("-%d", g.seq)
		rec["upstream"] = []string{cve}
	case "Ubuntu":
		id = "UBUNTU-" + cve + fmt.Sprintf("-%d", g.seq)
		rec["upstream"] = []string{cve}
	case "Alpine":
		id = "ALPINE-" + cve + fmt.Sprintf("-%d", g.seq)
		rec["upstream"] = []string{cve}
	case "Wolfi":
		id = fmt.Sprintf("CGA-%s-%s-%s", g.hex(4), g.hex(4), g.hex(4))
		rec["aliases"] = []string{cve}
	default:
		prefix := map[string]string{"AlmaLinux": "ALSA", "Rocky Linux": "RLSA", "Red Hat": "RHSA", "SUSE": "SUSE-SU"}[folder]
		id = fmt.Sprintf("%s-%d:%d", prefix, 2019+g.rng.IntN(7), g.seq)
		var rel []string
		for range 1 + g.rng.IntN(8) {
			rel = append(rel, g.cve())
		}
		rec["related"] = rel
		rec["summary"] = []string{"Moderate", "Important", "Low", "Critical"}[g.rng.IntN(4)] + ": " + g.word() + " security update"
	}
	rec["details"] = g.text(15, 150)
	src := g.pkg(folder)
	var affected []map[string]any
	nrel := 1 + g.rng.IntN(len(rels))
	start := g.rng.IntN(len(rels) - nrel + 1)
	for _, eco := range rels[start : start+nrel] {
		names := []string{src}
		if folder == "AlmaLinux" || folder == "Rocky Linux" || folder == "Red Hat" || folder == "SUSE" {
			for range g.rng.IntN(10) {
				names = append(names, src+"-"+g.word())
			}
		}
		fixed := fmt.Sprintf("%d.%d.%d-%d", g.rng.IntN(5), g.rng.IntN(30), g.rng.IntN(20), 1+g.rng.IntN(5))
		switch folder {
		case "Debian":
			fixed += "+deb12u" + fmt.Sprint(1+g.rng.IntN(5))
		case "Ubuntu":
			fixed += "ubuntu0." + fmt.Sprint(g.rng.IntN(5))
		case "Alpine", "Wolfi":
			fixed = fmt.Sprintf("%d.%d.%d-r%d", g.rng.IntN(5), g.rng.IntN(30), g.rng.IntN(20), g.rng.IntN(5))
		default:
			fixed += ".el9_" + fmt.Sprint(g.rng.IntN(5))
		}
		for _, n := range names {
			a := map[string]any{
				"package": map[string]string{"ecosystem": eco, "name": n},
				"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": []map[string]string{{"introduced": "0"}, {"fixed": fixed}}}},
			}
			switch folder {
			case "Debian":
				a["ecosystem_specific"] = map[string]string{"urgency": []string{"low", "medium", "high", "unimportant", "not yet assigned"}[g.rng.IntN(5)]}
			case "Ubuntu":
				var bins []map[string]string
				for range 2 + g.rng.IntN(12) {
					bins = append(bins, map[string]string{"binary_name": n + "-" + g.word(), "binary_version": fixed})
				}
				a["ecosystem_specific"] = map[string]any{"binaries": bins, "ubuntu_priority": []string{"low", "medium", "high", "negligible"}[g.rng.IntN(4)]}
				var vs []string
				for i := range 5 + g.rng.IntN(30) {
					vs = append(vs, fmt.Sprintf("%s~%d", fixed, i))
				}
				a["versions"] = vs
			}
			affected = append(affected, a)
		}
	}
	rec["affected"] = affected
	rec["references"] = g.refs(1+g.rng.IntN(5), src)
	if g.rng.IntN(3) == 0 {
		rec["severity"] = []map[string]string{{"type": "CVSS_V3", "score": g.cvss()}}
	}
	return id
}

// Generate writes the export under dir and returns its manifest.
func Generate(dir string, opts Options) (*Manifest, error) {
	g := New(opts)
	m := &Manifest{Records: opts.Records, PerEco: map[string]int{}}
	counts := map[string]int{}
	total := 0
	for i, mx := range Mix {
		n := int(math.Round(mx.Weight * float64(opts.Records)))
		if i == len(Mix)-1 {
			n = opts.Records - total
		}
		counts[mx.Folder] = n
		total += n
	}
	keys := map[[2]string]bool{}
	for _, mx := range Mix {
		folder := mx.Folder
		n := counts[folder]
		fdir := filepath.Join(dir, folder)
		if err := os.MkdirAll(fdir, 0o755); err != nil {
			return nil, err
		}
		zf, err := os.Create(filepath.Join(fdir, "all.zip"))
		if err != nil {
			return nil, err
		}
		bw := bufio.NewWriterSize(zf, 1<<20)
		zw := zip.NewWriter(bw)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, 5) })
		type mod struct {
			t  time.Time
			id string
		}
		var mods []mod
		seen := map[string]bool{}
		for len(mods) < n {
			id, modified, rec := g.Record(folder)
			if seen[id] {
				continue
			}
			seen[id] = true
			data, err := json.MarshalIndent(rec, "", "  ")
			if err != nil {
				return nil, err
			}
			w, err := zw.CreateHeader(&zip.FileHeader{Name: id + ".json", Method: zip.Deflate, Modified: opts.Base})
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(data); err != nil {
				return nil, err
			}
			m.JSONBytes += int64(len(data))
			mods = append(mods, mod{modified, id})
			if modified.After(m.Newest) {
				m.Newest = modified
			}
			if affs, ok := rec["affected"].([]map[string]any); ok && len(keys) < 200000 && g.rng.IntN(4) == 0 {
				p := affs[0]["package"].(map[string]string)
				keys[[2]string{p["ecosystem"], p["name"]}] = true
			}
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		if err := bw.Flush(); err != nil {
			return nil, err
		}
		if fi, err := zf.Stat(); err == nil {
			m.ZipBytes += fi.Size()
		}
		if err := zf.Close(); err != nil {
			return nil, err
		}
		sort.Slice(mods, func(i, j int) bool { return mods[i].t.After(mods[j].t) })
		var csv strings.Builder
		for _, md := range mods {
			fmt.Fprintf(&csv, "%s,%s\n", md.t.Format(time.RFC3339Nano), md.id)
		}
		if err := os.WriteFile(filepath.Join(fdir, "modified_id.csv"), []byte(csv.String()), 0o644); err != nil {
			return nil, err
		}
		m.PerEco[folder] = n
	}
	for k := range keys {
		m.Keys = append(m.Keys, k)
	}
	slices.SortFunc(m.Keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	mf, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	return m, os.WriteFile(filepath.Join(dir, "manifest.json"), mf, 0o644)
}

// Change returns a modified copy of a record: a later modified time and a
// moved fixed version, as a real advisory update looks.
func Change(rec map[string]any, when time.Time, n int) map[string]any {
	out := map[string]any{}
	for k, v := range rec {
		out[k] = v
	}
	out["modified"] = when.Format(time.RFC3339Nano)
	out["details"] = fmt.Sprintf("%v (updated %d)", rec["details"], n)
	return out
}
