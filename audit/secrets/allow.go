package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
)

// Allow is an allow-list: findings it covers are not reported. It is plain
// data so that the CLI can fill it from .vigil.yaml or flags.
type Allow struct {
	// Rules are rule IDs to switch off ("secret-jwt").
	Rules []string `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Paths are globs over paths inside the image, without or with a leading
	// slash. A segment "*" matches within one path segment (path.Match
	// syntax); a segment "**" matches any number of segments:
	// "app/test/**", "**/*.pem", "/etc/app/dev.env".
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Values are secret values to ignore wherever they appear, either
	// exactly or as "sha256:<hex>" of the value (so that the allow-list
	// itself need not hold the secret).
	Values []string `json:"values,omitempty" yaml:"values,omitempty"`
}

// Validate reports malformed entries: unknown rule IDs, bad globs, and
// sha256 values that are not 64 hex digits.
func (a Allow) Validate() error {
	var errs []error
	known := map[string]bool{}
	for _, r := range builtinRules() {
		known[r.ID] = true
	}
	for _, id := range a.Rules {
		if !known[id] {
			errs = append(errs, fmt.Errorf("secrets: allow-list rule %q is not a secret rule (see docs/secrets.md for the IDs)", id))
		}
	}
	for _, g := range a.Paths {
		if err := checkGlob(g); err != nil {
			errs = append(errs, fmt.Errorf("secrets: allow-list path %q: %w (use path.Match syntax per segment, ** for any depth)", g, err))
		}
	}
	for _, v := range a.Values {
		if h, ok := strings.CutPrefix(v, "sha256:"); ok {
			if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("secrets: allow-list value %q: want sha256: and 64 hex digits", v))
			}
		}
	}
	return errors.Join(errs...)
}

func (a Allow) empty() bool { return len(a.Rules) == 0 && len(a.Paths) == 0 && len(a.Values) == 0 }

type compiledAllow struct {
	rules  map[string]bool
	globs  [][]string // split on "/"
	values map[string]bool
	hashes map[[sha256.Size]byte]bool
}

func (a Allow) compile() compiledAllow {
	c := compiledAllow{rules: map[string]bool{}}
	for _, r := range a.Rules {
		c.rules[r] = true
	}
	for _, g := range a.Paths {
		if checkGlob(g) == nil {
			c.globs = append(c.globs, strings.Split(strings.Trim(g, "/"), "/"))
		}
	}
	for _, v := range a.Values {
		if h, ok := strings.CutPrefix(v, "sha256:"); ok {
			var sum [sha256.Size]byte
			if b, err := hex.DecodeString(h); err == nil && len(b) == sha256.Size {
				copy(sum[:], b)
				if c.hashes == nil {
					c.hashes = map[[sha256.Size]byte]bool{}
				}
				c.hashes[sum] = true
				continue
			}
		}
		if c.values == nil {
			c.values = map[string]bool{}
		}
		c.values[v] = true
	}
	return c
}

// path reports whether p (no leading slash) matches an allow-listed glob.
func (c *compiledAllow) path(p string) bool {
	if len(c.globs) == 0 {
		return false
	}
	segs := strings.Split(p, "/")
	for _, g := range c.globs {
		if matchSegments(g, segs) {
			return true
		}
	}
	return false
}

// value reports whether a secret value is allow-listed.
func (c *compiledAllow) value(v string) bool {
	if c.values[v] {
		return true
	}
	return len(c.hashes) > 0 && c.hashes[sha256.Sum256([]byte(v))]
}

func checkGlob(g string) error {
	t := strings.Trim(g, "/")
	if t == "" {
		return errors.New("empty pattern")
	}
	for _, s := range strings.Split(t, "/") {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return err
		}
	}
	return nil
}

// matchSegments matches path segments against glob segments, where "**"
// stands for zero or more whole segments.
func matchSegments(g, p []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for len(g) > 0 && g[0] == "**" {
				g = g[1:]
			}
			if len(g) == 0 {
				return true
			}
			for i := range p {
				if matchSegments(g, p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], p[0]); err != nil || !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0
}
