// Package dotnet finds NuGet packages in an image: what a built .NET
// application carries, from the <app>.deps.json the SDK writes beside it,
// and what a project locked, from NuGet's packages.lock.json.
//
// In a deps.json, "libraries" lists every library by "Name/Version" with a
// type: "package" is a NuGet package; "runtimepack" is the .NET runtime
// bundled into a self-contained app ("runtimepack.Microsoft.NETCore.App.
// Runtime.linux-x64/6.0.16"), reported under its NuGet package name
// without the "runtimepack." prefix because .NET runtime advisories name
// that package; "project" (the application and its project references) and
// "reference" are not packages. Only libraries present in the runtime target
// ("runtimeTarget.name", e.g. ".NETCoreApp,Version=v6.0/linux-x64") are
// reported when that target is listed. A package that no project library
// depends on directly is marked Indirect.
package dotnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigilsec/vigil/extract"
	"github.com/vigilsec/vigil/inventory"
)

// maxJSON caps deps.json and packages.lock.json; large applications have a
// few MiB.
const maxJSON = 64 << 20

type depsExtractor struct{}

// New returns the extractor for .NET *.deps.json files.
func New() extract.Extractor { return depsExtractor{} }

func (depsExtractor) Name() string { return "dotnet-deps" }
func (depsExtractor) Version() int { return 1 }

func (depsExtractor) Wants(p string, fi fs.FileInfo) bool {
	b := path.Base(p)
	return strings.HasSuffix(b, ".deps.json") && len(b) > len(".deps.json") && sizeOK(fi)
}

// depsFile is the part of a deps.json read here.
type depsFile struct {
	RuntimeTarget struct {
		Name string `json:"name"`
	} `json:"runtimeTarget"`
	Targets   map[string]map[string]targetLib `json:"targets"`
	Libraries map[string]library              `json:"libraries"`
}

type targetLib struct {
	Dependencies map[string]string `json:"dependencies"`
}

type library struct {
	Type string `json:"type"`
}

func (depsExtractor) Extract(_ context.Context, in *extract.Input) (*extract.Result, error) {
	b, err := readAll(in)
	if err != nil {
		return nil, fmt.Errorf("dotnet: read %s: %w", in.Path, err)
	}
	pkgs, warnings, err := parseDeps(b)
	if err != nil {
		return nil, fmt.Errorf("dotnet: parse %s: %w (is it a .NET deps.json?)", in.Path, err)
	}
	return &extract.Result{Packages: pkgs, Warnings: warnings}, nil
}

func parseDeps(b []byte) ([]inventory.Package, []string, error) {
	var d depsFile
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, nil, err
	}
	if d.Libraries == nil {
		return nil, nil, errors.New(`no "libraries" object`)
	}
	target, haveTarget := d.Targets[d.RuntimeTarget.Name]
	direct := map[string]bool{}
	projects := false
	for key, lib := range d.Libraries {
		if lib.Type != "project" || !haveTarget {
			continue
		}
		projects = true
		for dep := range target[key].Dependencies {
			direct[strings.ToLower(strings.TrimPrefix(dep, "runtimepack."))] = true
		}
	}
	keys := make([]string, 0, len(d.Libraries))
	for k := range d.Libraries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var (
		pkgs     []inventory.Package
		warnings []string
	)
	for _, key := range keys {
		typ := d.Libraries[key].Type
		if typ != "package" && typ != "runtimepack" {
			continue
		}
		if haveTarget {
			if _, ok := target[key]; !ok {
				continue // not deployed for the runtime target
			}
		}
		name, version, ok := strings.Cut(key, "/")
		if typ == "runtimepack" {
			name = strings.TrimPrefix(name, "runtimepack.")
		}
		if !ok || !validName(name) || !validVersion(version) {
			if len(warnings) < 20 {
				warnings = append(warnings, fmt.Sprintf("library %q: not Name/Version; skipped", key))
			}
			continue
		}
		p := nugetPackage(name, version)
		p.Indirect = projects && !direct[strings.ToLower(name)]
		pkgs = append(pkgs, p)
	}
	sort.SliceStable(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	return pkgs, warnings, nil
}

func nugetPackage(name, version string) inventory.Package {
	return inventory.Package{
		Ecosystem: inventory.NuGet,
		Name:      name,
		Version:   version,
		PURL:      packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString(),
	}
}

func sizeOK(fi fs.FileInfo) bool {
	return fi == nil || (fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= maxJSON)
}

func readAll(in *extract.Input) ([]byte, error) {
	if in.Size > maxJSON {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit; skipped", in.Size, maxJSON)
	}
	b := make([]byte, in.Size)
	n, err := in.Reader.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return bytes.TrimPrefix(b[:n], []byte("\ufeff")), nil // encoding/json rejects a byte order mark
}

// validName reports whether s is a NuGet package ID: letters, digits, '.',
// '-' and '_', not starting with a separator.
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validVersion accepts a NuGet (semver-like) version: it starts with a digit
// and holds letters, digits, '.', '-' and '+'.
func validVersion(s string) bool {
	if s == "" || len(s) > 200 || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '+':
		default:
			return false
		}
	}
	return true
}
