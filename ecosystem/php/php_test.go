package php

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/internal/testutil/extracttest"
)

func TestWants(t *testing.T) {
	inst, lock := New(), NewLockfile()
	small := extracttest.FileInfo{Sz: 100}
	tests := []struct {
		path       string
		fi         fs.FileInfo
		inst, lock bool
	}{
		{"var/www/html/vendor/composer/installed.json", small, true, false},
		{"app/lib/composer/installed.json", small, true, false},
		{"app/vendor/installed.json", small, false, false},
		{"app/node_modules/x/installed.json", small, false, false},
		{"var/www/html/composer.lock", small, false, true},
		{"var/www/html/composer.json", small, false, false},
		{"var/www/html/vendor/composer/installed.php", small, false, false},
		{"var/www/html/vendor/composer/installed.json", extracttest.FileInfo{Sz: 65 << 20}, false, false},
		{"var/www/html/composer.lock", extracttest.FileInfo{Sz: 100, Mod: fs.ModeSymlink}, false, false},
		{"var/www/html/composer.lock", extracttest.FileInfo{Sz: 0}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := inst.Wants(tt.path, tt.fi); got != tt.inst {
				t.Errorf("installed Wants = %v, want %v", got, tt.inst)
			}
			if got := lock.Wants(tt.path, tt.fi); got != tt.lock {
				t.Errorf("lockfile Wants = %v, want %v", got, tt.lock)
			}
		})
	}
}

type row struct {
	Name, Version, PURL string
	Licenses            []string
}

func rows(res *extract.Result) []row {
	var out []row
	for _, p := range res.Packages {
		if p.Ecosystem != "composer" || len(p.Locations) != 0 {
			out = append(out, row{Name: "unexpected ecosystem or locations: " + p.Name})
		}
		out = append(out, row{p.Name, p.Version, p.PURL, p.Licenses})
	}
	return out
}

func TestFixtures(t *testing.T) {
	mit := []string{"MIT"}
	tests := []struct {
		file  string
		ex    extract.Extractor
		want  []row
		warns []string
	}{{
		file: "composer2-path-repo/installed.json",
		ex:   New(),
		want: []row{
			{"acme/http", "2.0.0-RC1", "pkg:composer/acme/http@2.0.0-RC1", []string{"(LGPL-2.1-only or GPL-3.0-or-later)"}},
			{"acme/log", "1.2.0", "pkg:composer/acme/log@1.2.0", mit},
			{"acme/testkit", "0.9.1", "pkg:composer/acme/testkit@0.9.1", []string{"BSD-3-Clause"}},
		},
	}, {
		file: "composer2-path-repo/composer.lock",
		ex:   NewLockfile(),
		want: []row{
			{"acme/http", "2.0.0-RC1", "pkg:composer/acme/http@2.0.0-RC1", []string{"(LGPL-2.1-only or GPL-3.0-or-later)"}},
			{"acme/log", "1.2.0", "pkg:composer/acme/log@1.2.0", mit},
		},
	}, {
		file: "composer1/installed.json",
		ex:   New(),
		want: []row{
			{"psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", mit},
			{"symfony/http-foundation", "4.4.30", "pkg:composer/symfony/http-foundation@4.4.30", mit},
			{"twig/twig", "2.14.6", "pkg:composer/twig/twig@2.14.6", []string{"BSD-3-Clause"}},
			{"acme/internal-tools", "dev-master", "pkg:composer/acme/internal-tools@dev-master", nil},
		},
	}, {
		file: "composer2/installed.json",
		ex:   New(),
		want: []row{
			{"guzzlehttp/guzzle", "7.4.1", "pkg:composer/guzzlehttp/guzzle@7.4.1", mit},
			{"laravel/framework", "8.83.0", "pkg:composer/laravel/framework@8.83.0", mit},
			{"symfony/polyfill-mbstring", "1.24.0", "pkg:composer/symfony/polyfill-mbstring@1.24.0", mit},
			{"phpunit/phpunit", "9.5.13", "pkg:composer/phpunit/phpunit@9.5.13", []string{"BSD-3-Clause"}},
			{"acme/branch-pkg", "1.x-dev", "pkg:composer/acme/branch-pkg@1.x-dev", nil},
		},
		warns: []string{
			`package 5 ("" "1.0.0"): no valid name and version; skipped`,
			`package 6 ("broken/no-version" ""): no valid name and version; skipped`,
		},
	}, {
		file: "composer2/composer.lock",
		ex:   NewLockfile(),
		want: []row{
			{"guzzlehttp/guzzle", "7.4.1", "pkg:composer/guzzlehttp/guzzle@7.4.1", mit},
			{"laravel/framework", "8.83.0", "pkg:composer/laravel/framework@8.83.0", mit},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := extracttest.Run(t, tt.ex, "var/www/"+tt.file, b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstalledShapes(t *testing.T) {
	tests := []struct {
		name, src string
		want      []row
		wantErr   string
	}{
		{"BOM and whitespace before the array", "\ufeff \n[{\"name\":\"a/b\",\"version\":\"V2.0\"}]",
			[]row{{"a/b", "2.0", "pkg:composer/a/b@2.0", nil}}, ""},
		{"license of another shape is ignored", `{"packages":[{"name":"a/b","version":"1","license":{"x":1}}]}`,
			[]row{{"a/b", "1", "pkg:composer/a/b@1", nil}}, ""},
		{"repeated package reported once", `{"packages":[{"name":"a/b","version":"1"},{"name":"a/b","version":"v1"}]}`,
			[]row{{"a/b", "1", "pkg:composer/a/b@1", nil}}, ""},
		{"v not before a digit is kept", `[{"name":"a/b","version":"very-old"}]`,
			[]row{{"a/b", "very-old", "pkg:composer/a/b@very-old", nil}}, ""},
		{"object without packages", `{"dev": true}`, nil, `no "packages" array`},
		{"packages null", `{"packages": null}`, nil, `no "packages" array`},
		{"not JSON", `<?php return array();`, nil, "neither a JSON array nor an object"},
		{"truncated", `{"packages": [{"name": "a/b"`, nil, "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := extracttest.Run(t, New(), "vendor/composer/installed.json", []byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "php: parse vendor/composer/installed.json: ") {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzInstalled(f *testing.F) {
	for _, p := range []string{"composer1/installed.json", "composer2/installed.json", "composer2-path-repo/installed.json", "composer2/composer.lock"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ex := range []extract.Extractor{New(), NewLockfile()} {
			res, err := extracttest.Run(t, ex, "vendor/composer/installed.json", data)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "php: parse vendor/composer/installed.json: ") {
					t.Fatalf("error without context: %v", err)
				}
				continue
			}
			for _, p := range res.Packages {
				if !validName(p.Name) || !validVersion(p.Version) || strings.HasPrefix(p.Version, "v") && len(p.Version) > 1 && p.Version[1] >= '0' && p.Version[1] <= '9' {
					t.Fatalf("bad package %+v", p)
				}
			}
		}
	})
}
