// Package content makes the file-level hardening checks that need only an
// entry's path and mode, never its bytes: setuid and setgid executables,
// world-writable files and directories, and package-manager caches left
// behind in a layer (apt, apk, pip, npm). It is an extract.Observer: the
// layer walk shows it every entry of every layer (directories and links
// too); it reads no file.
//
// The observer is stateless, so layers can be walked in parallel and their
// results cached. A cache directory is therefore reported once per entry
// directly inside it (a .deb in var/cache/apt/archives, a list file in
// var/lib/apt/lists, the first level of pip's and npm's caches), and
// Aggregate folds those into one finding per cache directory and layer.
package content

import (
	"context"
	"io/fs"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/extract"
)

// Name is the extractor's name.
const Name = "content"

// version is bumped whenever the findings for the same input change.
const version = 1

// Rule IDs.
const (
	RuleSetuid        = "setuid-binary"
	RuleWorldWritable = "world-writable"
	RuleAptCache      = "apt-cache-left"
	RuleApkCache      = "apk-cache-left"
	RulePipCache      = "pip-cache-left"
	RuleNpmCache      = "npm-cache-left"
)

// Rule describes one content rule.
type Rule struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Severity is "critical", "high", "medium" or "low".
	Severity string `json:"severity"`
	// Persistent rules report an entry even when a later layer deletes it:
	// a cache removed in a later RUN step still ships in the image.
	Persistent bool `json:"persistent,omitempty"`
}

// Rules returns the content rules.
func Rules() []Rule {
	return []Rule{
		{RuleSetuid, "Executable with the setuid or setgid bit", "medium", false},
		{RuleWorldWritable, "World-writable file, or world-writable directory without the sticky bit", "medium", false},
		{RuleAptCache, "apt package cache or package lists left in the image", "low", true},
		{RuleApkCache, "apk package cache left in the image", "low", true},
		{RulePipCache, "pip cache left in the image", "low", true},
		{RuleNpmCache, "npm cache left in the image", "low", true},
	}
}

// New returns the content observer. Its Wants is always false: everything
// happens in Observe.
func New() extract.Extractor { return observer{} }

type observer struct{}

func (observer) Name() string                   { return Name }
func (observer) Version() int                   { return version }
func (observer) Wants(string, fs.FileInfo) bool { return false }
func (observer) Observe(p string, fi fs.FileInfo) []extract.FileFinding {
	return observe(p, fi.Mode(), fi.Size())
}

// Extract is never called (Wants is false); it reads nothing.
func (observer) Extract(context.Context, *extract.Input) (*extract.Result, error) {
	return nil, nil
}

func observe(p string, mode fs.FileMode, size int64) []extract.FileFinding {
	var out []extract.FileFinding
	add := func(rule, evidence string, persistent bool) {
		f := extract.FileFinding{Persistent: persistent}
		f.Rule, f.Evidence = rule, evidence
		out = append(out, f)
	}
	switch {
	case mode.IsRegular():
		if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			add(RuleSetuid, modeEvidence(mode), false)
		}
		if mode.Perm()&0o002 != 0 {
			add(RuleWorldWritable, modeEvidence(mode), false)
		}
	case mode.IsDir():
		if mode.Perm()&0o002 != 0 && mode&fs.ModeSticky == 0 {
			add(RuleWorldWritable, modeEvidence(mode), false)
		}
	}
	if rule, _, ok := cacheEntry(p, mode); ok {
		ev := "directory"
		if mode.IsRegular() {
			ev = strconv.FormatInt(size, 10) + " bytes"
		}
		add(rule, ev, true)
	}
	return out
}

// cacheEntry reports whether the entry at p is directly inside a package
// manager cache, with the rule and the cache directory.
func cacheEntry(p string, mode fs.FileMode) (rule, dir string, ok bool) {
	// Cheap rejection first: this runs for every entry of every layer.
	if len(p) < 12 || (p[0] != 'v' && p[0] != 'r' && p[0] != 'h') {
		return "", "", false
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", "", false
	}
	dir, base := p[:i], p[i+1:]
	switch dir {
	case "var/cache/apt/archives":
		return RuleAptCache, dir, mode.IsRegular() && strings.HasSuffix(base, ".deb")
	case "var/lib/apt/lists":
		return RuleAptCache, dir, mode.IsRegular() && base != "lock"
	case "var/cache/apk":
		return RuleApkCache, dir, mode.IsRegular()
	case "root/.cache/pip":
		return RulePipCache, dir, mode.IsRegular() || mode.IsDir()
	case "root/.npm/_cacache":
		return RuleNpmCache, dir, mode.IsRegular() || mode.IsDir()
	}
	if strings.HasPrefix(dir, "home/") {
		user, rest, _ := strings.Cut(dir[len("home/"):], "/")
		if user == "" {
			return "", "", false
		}
		switch rest {
		case ".cache/pip":
			return RulePipCache, dir, mode.IsRegular() || mode.IsDir()
		case ".npm/_cacache":
			return RuleNpmCache, dir, mode.IsRegular() || mode.IsDir()
		}
	}
	return "", "", false
}

// modeEvidence renders a mode the way ls and chmod do: "4755 -rwsr-xr-x".
func modeEvidence(m fs.FileMode) string {
	oct := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		oct |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		oct |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		oct |= 0o1000
	}
	s := strconv.FormatUint(uint64(oct), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s + " " + lsMode(m)
}

// lsMode is the ten-character mode string of ls -l.
func lsMode(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special := func(pos int, set bool, lower, upper byte) {
		if !set {
			return
		}
		if b[pos] == 'x' {
			b[pos] = lower
		} else {
			b[pos] = upper
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}
