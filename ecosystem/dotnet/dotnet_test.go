package dotnet

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
	deps, lock := New(), NewLockfile()
	small := extracttest.FileInfo{Sz: 100}
	tests := []struct {
		path       string
		fi         fs.FileInfo
		deps, lock bool
	}{
		{"app/WebApi.deps.json", small, true, false},
		{"usr/share/dotnet/shared/Microsoft.NETCore.App/6.0.16/Microsoft.NETCore.App.deps.json", small, true, false},
		{"app/.deps.json", small, false, false},
		{"app/WebApi.runtimeconfig.json", small, false, false},
		{"src/WebApi/packages.lock.json", small, false, true},
		{"src/WebApi/packages.config", small, false, false},
		{"app/WebApi.deps.json", extracttest.FileInfo{Sz: 65 << 20}, false, false},
		{"app/WebApi.deps.json", extracttest.FileInfo{Sz: 100, Mod: fs.ModeSymlink}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := deps.Wants(tt.path, tt.fi); got != tt.deps {
				t.Errorf("deps Wants = %v, want %v", got, tt.deps)
			}
			if got := lock.Wants(tt.path, tt.fi); got != tt.lock {
				t.Errorf("lockfile Wants = %v, want %v", got, tt.lock)
			}
		})
	}
}

type row struct {
	Name, Version string
	Indirect      bool
}

func rows(t *testing.T, res *extract.Result) []row {
	var out []row
	for _, p := range res.Packages {
		if p.Ecosystem != "nuget" || p.PURL != "pkg:nuget/"+p.Name+"@"+strings.ReplaceAll(p.Version, "+", "%2B") || len(p.Locations) != 0 {
			t.Errorf("%s: ecosystem %q PURL %q locations %v", p.Name, p.Ecosystem, p.PURL, p.Locations)
		}
		out = append(out, row{p.Name, p.Version, p.Indirect})
	}
	return out
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		ex    extract.Extractor
		want  []row
		warns []string
	}{{
		file: "webapi-framework-dependent.deps.json",
		ex:   New(),
		want: []row{
			{"Microsoft.Extensions.ApiDescription.Server", "3.0.0", true},
			{"Microsoft.OpenApi", "1.2.3", true},
			{"Newtonsoft.Json", "13.0.1", false},
			{"Swashbuckle.AspNetCore", "6.2.3", false},
			{"Swashbuckle.AspNetCore.Swagger", "6.2.3", true},
			{"System.Data.SqlClient", "4.8.3", false}, // direct dependency of the Data project
		},
	}, {
		file: "worker-self-contained-linux-x64.deps.json",
		ex:   New(),
		want: []row{
			// Microsoft.CodeAnalysis.Analyzers is not in the runtime target.
			{"Microsoft.Extensions.Hosting", "7.0.0", false},
			{"Microsoft.NETCore.App.Runtime.linux-x64", "7.0.5", false}, // the bundled runtime
			{"System.Text.Encodings.Web", "4.7.1", false},
		},
	}, {
		file: "packages.lock.json",
		ex:   NewLockfile(),
		want: []row{
			{"Newtonsoft.Json", "13.0.1", false},
			{"Serilog", "2.10.0", true},
			{"Serilog.AspNetCore", "6.0.1", false},
			{"System.Text.Json", "6.0.0", true},
			{"runtime.linux-x64.Microsoft.NETCore.App", "2.2.8", true},
		},
		warns: []string{`dependency "Broken" "": no valid name and resolved version; skipped`},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := extracttest.Run(t, tt.ex, "app/"+tt.file, b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(t, res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDepsShapes(t *testing.T) {
	tests := []struct {
		name, src string
		want      []row
		warns     []string
		wantErr   string
	}{
		{"no targets: every package library, none marked indirect",
			`{"libraries":{"App/1.0.0":{"type":"project"},"A/1.0.0":{"type":"package"},"R/1.0.0":{"type":"reference"}}}`,
			[]row{{"A", "1.0.0", false}}, nil, ""},
		{"runtime target not listed: all libraries",
			`{"runtimeTarget":{"name":"x"},"targets":{"y":{}},"libraries":{"A/1.0.0":{"type":"package"}}}`,
			[]row{{"A", "1.0.0", false}}, nil, ""},
		{"byte order mark",
			"\ufeff{\"libraries\":{\"A/2.0.0-preview.1+build\":{\"type\":\"package\"}}}",
			[]row{{"A", "2.0.0-preview.1+build", false}}, nil, ""},
		{"malformed keys are warned about",
			`{"libraries":{"NoVersion":{"type":"package"},"A/B/C":{"type":"package"},"/1.0":{"type":"package"}}}`,
			nil, []string{`library "/1.0": not Name/Version; skipped`, `library "A/B/C": not Name/Version; skipped`, `library "NoVersion": not Name/Version; skipped`}, ""},
		{"no libraries", `{"runtimeTarget":{"name":"x"}}`, nil, nil, `no "libraries" object`},
		{"not JSON", `Microsoft.NETCore.App`, nil, nil, "invalid character"},
		{"libraries of the wrong shape", `{"libraries":[1,2]}`, nil, nil, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := extracttest.Run(t, New(), "app/x.deps.json", []byte(tt.src))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "dotnet: parse app/x.deps.json: ") {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(t, res)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLockShapes(t *testing.T) {
	if _, err := extracttest.Run(t, NewLockfile(), "packages.lock.json", []byte(`{"version":1}`)); err == nil || !strings.Contains(err.Error(), `no "dependencies" object`) {
		t.Errorf("error %v, want the missing dependencies", err)
	}
	if _, err := extracttest.Run(t, NewLockfile(), "packages.lock.json", []byte(`{"version":1,"dependencies":{"net6.0":[]}}`)); err == nil {
		t.Error("no error for dependencies of the wrong shape")
	}
}

func FuzzDeps(f *testing.F) {
	for _, p := range []string{"webapi-framework-dependent.deps.json", "worker-self-contained-linux-x64.deps.json", "packages.lock.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ex := range []extract.Extractor{New(), NewLockfile()} {
			res, err := extracttest.Run(t, ex, "app/x.deps.json", data)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "dotnet: parse app/x.deps.json: ") {
					t.Fatalf("error without context: %v", err)
				}
				continue
			}
			seen := map[string]bool{}
			for _, p := range res.Packages {
				if !validName(p.Name) || !validVersion(p.Version) || seen[p.Name+"/"+p.Version] {
					t.Fatalf("bad or repeated package %+v", p)
				}
				seen[p.Name+"/"+p.Version] = true
			}
			if len(res.Warnings) > 20 {
				t.Fatalf("%d warnings", len(res.Warnings))
			}
		}
	})
}
