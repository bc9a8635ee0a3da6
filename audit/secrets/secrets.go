// Package secrets finds credentials committed to an image: private keys,
// cloud and SaaS access tokens, database URLs with passwords, and the
// credential files of common tools (.npmrc, .pypirc, docker's config.json,
// .git-credentials, .env files). It is an extractor: the layer walk offers
// it every text-like file of every layer once, and each finding is
// Persistent, so a secret written in one layer and deleted in a later one is
// still reported, with the layer whose blob holds it.
//
// Speed: Wants rejects by path and size alone (binary and media extensions,
// documentation and locale trees, CA bundles, package-manager databases,
// the Go distribution and module cache, test and doc files inside
// dependency trees); Extract drops files with a NUL byte in their first KiB,
// finds which rule keywords occur in one pass (an Aho-Corasick automaton),
// and runs a rule only when one of its keywords occurs, its expression
// anchored at each occurrence rather than over the whole file.
//
// The rules, with positive and negative examples, are listed in
// docs/secrets.md.
//
// Evidence never holds a whole secret: at most its first four characters
// (and never more than a quarter of it) are kept, the rest are stars.
package secrets

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/vigilsec/vigil/extract"
)

// Name is the extractor's name.
const Name = "secrets"

// version is bumped whenever the findings for the same input change.
const version = 2

// DefaultMaxFileSize is the largest file read for secrets. Credentials live
// in small text files; larger files are skipped unread.
const DefaultMaxFileSize = 1 << 20

// maxFindingsPerFile bounds the findings one file can produce: a hostile
// file full of key-shaped strings must not blow up the report.
const maxFindingsPerFile = 50

// binaryProbe is how many leading bytes are checked for a NUL byte.
const binaryProbe = 1024

// Rule describes one secret rule.
type Rule struct {
	// ID is the stable rule identifier ("secret-aws-access-key"), the value
	// an allow-list names and inventory.FileFinding.Rule carries.
	ID string `json:"id"`
	// Title is a short human description.
	Title string `json:"title"`
	// Severity is "critical", "high", "medium" or "low".
	Severity string `json:"severity"`
}

// Rules returns every rule the extractor applies, in priority order (when two
// rules match the same bytes, the earlier one is reported).
func Rules() []Rule {
	rs := builtinRules()
	out := make([]Rule, len(rs))
	for i := range rs {
		out[i] = rs[i].Rule
	}
	return out
}

// Option configures New.
type Option func(*options)

type options struct {
	maxSize int64
	allow   Allow
}

// WithAllow ignores the findings an allow-list covers. The CLI builds one
// from .vigil.yaml or flags; call Allow.Validate first to report bad globs.
// Several WithAllow options add up.
func WithAllow(a Allow) Option {
	return func(o *options) {
		o.allow.Rules = append(o.allow.Rules, a.Rules...)
		o.allow.Paths = append(o.allow.Paths, a.Paths...)
		o.allow.Values = append(o.allow.Values, a.Values...)
	}
}

// WithMaxFileSize sets the largest file read (default DefaultMaxFileSize).
// Values of zero or less keep the default.
func WithMaxFileSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxSize = n
		}
	}
}

// New returns the secrets extractor.
func New(opts ...Option) extract.Extractor {
	o := options{maxSize: DefaultMaxFileSize}
	for _, f := range opts {
		f(&o)
	}
	e := &extractor{maxSize: o.maxSize, allow: o.allow.compile()}
	var words []string
	bit := map[string]uint64{}
	for _, r := range builtinRules() {
		if e.allow.rules[r.ID] {
			continue
		}
		for _, k := range r.keywords {
			if _, ok := bit[k]; !ok {
				bit[k] = 1 << uint(len(words))
				words = append(words, k)
			}
			r.mask |= bit[k]
		}
		e.rules = append(e.rules, r)
	}
	ks, err := newKeywordSet(words)
	if err != nil {
		// The keywords are the built-in rules' constants: a failure here is
		// a programming error that every test run catches.
		panic(err)
	}
	e.keywords = ks
	e.version = version
	if !o.allow.empty() || o.maxSize != DefaultMaxFileSize {
		// The layer cache keys results by name and version: fold the
		// configuration in so that results computed under a different
		// allow-list or size cap are never served.
		h := fnv.New32a()
		fmt.Fprintf(h, "%d\x00%q\x00%q\x00%q", o.maxSize, o.allow.Rules, o.allow.Paths, o.allow.Values)
		e.version = version*1_000_000 + int(h.Sum32()%1_000_000)
	}
	return e
}

type extractor struct {
	maxSize  int64
	keywords *keywordSet
	allow    compiledAllow
	rules    []rule
	version  int
}

func (*extractor) Name() string   { return Name }
func (e *extractor) Version() int { return e.version }

// Wants selects non-empty regular files up to the size cap whose path is not
// noise (see noisePath) and not allow-listed.
func (e *extractor) Wants(p string, fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	if n := fi.Size(); n <= 0 || n > e.maxSize {
		return false
	}
	if noisePath(p) {
		return false
	}
	return !e.allow.path(p)
}

// Extract reads one file and reports the secrets in it.
func (e *extractor) Extract(ctx context.Context, in *extract.Input) (*extract.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	size := min(in.Size, e.maxSize)
	if size <= 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	head := min(size, binaryProbe)
	if _, err := io.ReadFull(io.NewSectionReader(in.Reader, 0, head), buf[:head]); err != nil {
		return nil, fmt.Errorf("secrets: read %s: %w", in.Path, err)
	}
	if bytes.IndexByte(buf[:head], 0) >= 0 {
		return nil, nil // binary
	}
	if size > head {
		if _, err := io.ReadFull(io.NewSectionReader(in.Reader, head, size-head), buf[head:]); err != nil {
			return nil, fmt.Errorf("secrets: read %s: %w", in.Path, err)
		}
	}
	files, truncated := e.scan(in.Path, buf)
	if len(files) == 0 && !truncated {
		return nil, nil
	}
	res := &extract.Result{Files: files}
	if truncated {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"secrets: more than %d findings in %s; only the first %d are reported (allow-list the path if it is test data)",
			maxFindingsPerFile, in.Path, maxFindingsPerFile))
	}
	return res, nil
}

// scan applies every rule to data, the contents of the file at path p. It
// reports whether findings were dropped over the per-file cap.
func (e *extractor) scan(p string, data []byte) ([]extract.FileFinding, bool) {
	hits := e.hits(p, data)
	if len(hits) == 0 {
		return nil, false
	}
	truncated := false
	if len(hits) > maxFindingsPerFile {
		hits, truncated = hits[:maxFindingsPerFile], true
	}
	out := make([]extract.FileFinding, 0, len(hits))
	line, at := 1, 0
	for _, h := range hits {
		line += bytes.Count(data[at:h.start], []byte{'\n'})
		at = h.start
		f := extract.FileFinding{Persistent: true}
		f.Rule = e.rules[h.rule].ID
		f.Line = line
		f.Evidence = h.evidence()
		out = append(out, f)
	}
	return out, truncated
}

// hits runs the rules over data and returns the surviving matches in file
// order: placeholders and allow-listed values are dropped, and of two
// matches over the same bytes only the higher-priority rule's is kept.
func (e *extractor) hits(p string, data []byte) []hit {
	var all []hit
	present := e.keywords.scan(data)
	for i := range e.rules {
		r := &e.rules[i]
		if r.file != nil && !r.file(p) {
			continue
		}
		if r.mask != 0 && present&r.mask == 0 {
			continue
		}
		n := 0
		r.find(data, func(h hit) bool {
			if h.value == "" || placeholderIn(p, h.value) || knownPublic(h.value) || e.allow.value(h.value) {
				return true
			}
			h.rule = i
			all = append(all, h)
			n++
			return n <= maxFindingsPerFile
		})
	}
	if len(all) == 0 {
		return nil
	}
	// all is in rule (priority) order; keep a hit only when no earlier kept
	// hit overlaps it.
	kept := all[:0:0]
	for _, h := range all {
		if !slices.ContainsFunc(kept, h.overlaps) {
			kept = append(kept, h)
		}
	}
	slices.SortStableFunc(kept, func(a, b hit) int { return a.start - b.start })
	return kept
}

// hit is one match before it becomes a finding. [start, end) is the span of
// bytes it covers (for line numbers and overlap); the evidence is pre, then
// the masked value, then post.
type hit struct {
	rule             int
	start, end       int
	pre, value, post string
}

func (h hit) overlaps(o hit) bool { return h.start < o.end && o.start < h.end }

func (h hit) evidence() string {
	m := mask(h.value)
	pre, post := h.pre, h.post
	if len(h.value) >= 4 {
		// The secret must not leak through its context either (a URL whose
		// user name equals its password).
		pre = strings.ReplaceAll(pre, h.value, m)
		post = strings.ReplaceAll(post, h.value, m)
	}
	return sanitize(pre + m + post)
}
