package ruby

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/vigilsec/vigil/extract"
)

// maxLockfile caps a Gemfile.lock.
const maxLockfile = 16 << 20

type lockfileExtractor struct{}

// NewLockfile returns the extractor for Bundler's Gemfile.lock (and
// gems.locked). It reports the gems of the lockfile's GEM sections, the
// ones installed from a gem server; GIT and PATH gems have no registry
// version to match advisories against. Gems not named in DEPENDENCIES are
// marked Indirect. Lockfiles inside an unpacked gem (".../gems/x-1.0/") are
// that gem's development files and are skipped.
func NewLockfile() extract.Extractor { return lockfileExtractor{} }

func (lockfileExtractor) Name() string { return "gemfile-lock" }
func (lockfileExtractor) Version() int { return 1 }

func (lockfileExtractor) Wants(p string, fi fs.FileInfo) bool {
	if b := path.Base(p); b != "Gemfile.lock" && b != "gems.locked" {
		return false
	}
	return !insideInstalledGem(p) && sizeOK(fi, maxLockfile)
}

func (lockfileExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in, maxLockfile)
	if err != nil {
		return nil, fmt.Errorf("ruby: read lockfile %s: %w", in.Path, err)
	}
	gems, warnings := parseLockfile(string(b))
	res := &extract.Result{Warnings: warnings}
	for _, g := range gems {
		res.Packages = append(res.Packages, g.pkg())
	}
	return res, nil
}

// parseLockfile reads a Gemfile.lock as Bundler's LockfileParser does:
// sections start with an unindented title; in a source section the
// four-space lines under "specs:" are "NAME (VERSION[-PLATFORM])" and the
// six-space lines below them are that gem's dependencies; DEPENDENCIES
// lists the Gemfile's own gems at two spaces ("rails (~> 7.0)", "mygem!").
// The version ends at the first '-', after which Bundler reads the
// platform. A gem locked for several platforms is reported once.
func parseLockfile(s string) ([]gem, []string) {
	var (
		gems     []gem
		warnings []string
		section  string
		inSpecs  bool
		direct   = map[string]bool{}
		seen     = map[string]bool{}
	)
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			inSpecs = false
			continue
		}
		if line[0] != ' ' {
			section, inSpecs = strings.TrimSpace(line), false
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		body := line[indent:]
		switch {
		case section == "DEPENDENCIES" && indent == 2:
			name, _, _ := strings.Cut(body, " ")
			direct[strings.TrimSuffix(name, "!")] = true
		case section != "GEM":
		case indent == 2:
			inSpecs = body == "specs:"
		case indent == 4 && inSpecs:
			name, version, ok := specLine(body)
			if !ok {
				if len(warnings) < 20 {
					warnings = append(warnings, fmt.Sprintf("line %d: unreadable spec %q", n+1, body))
				}
				continue
			}
			if k := name + "\x00" + version; !seen[k] {
				seen[k] = true
				gems = append(gems, gem{Name: name, Version: version})
			}
		}
	}
	if len(direct) > 0 {
		for i := range gems {
			gems[i].Indirect = !direct[gems[i].Name]
		}
	}
	return gems, warnings
}

// specLine splits "nokogiri (1.13.10-x86_64-linux)" into the name and the
// version without its platform.
func specLine(body string) (name, version string, ok bool) {
	name, rest, found := strings.Cut(body, " (")
	if !found || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	version, _, _ = strings.Cut(strings.TrimSuffix(rest, ")"), "-")
	if !validName(name) || !validVersion(version) {
		return "", "", false
	}
	return name, version, true
}
