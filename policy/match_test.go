package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/report"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"app", "app/bin/x", true}, // a directory matches what is below it
		{"app", "application/x", false},
		{"app/*", "app/x", true},
		{"app/*", "app/x/y", true}, // below a matched directory
		{"app/*.json", "app/package.json", true},
		{"app/*.json", "app/x/package.json", false},
		{"**/package.json", "package.json", true},
		{"**/package.json", "a/b/c/package.json", true},
		{"a/**/z", "a/z", true},
		{"a/**/z", "a/b/c/z", true},
		{"a/**/z", "a/b/c/y", false},
		{"**", "anything/at/all", true},
		{"/app/./bin", "app/bin/demo", true},
		{"app/[bc]in", "app/bin", true},
		{"app/[", "app/[", false}, // a bad pattern matches nothing
		{"", "app", false},
		{"x", "", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestNormIDs(t *testing.T) {
	tests := map[string][]string{
		"cve-2024-1":           {"CVE-2024-1"},
		"DEBIAN-CVE-2024-2398": {"DEBIAN-CVE-2024-2398", "CVE-2024-2398"},
		"UBUNTU-CVE-2024-1":    {"UBUNTU-CVE-2024-1", "CVE-2024-1"},
		"GHSA-xxxx":            {"GHSA-XXXX"},
		"A-B-CVE-1":            {"A-B-CVE-1"},
		" ":                    nil,
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, normIDs(in)); diff != "" {
			t.Errorf("normIDs(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestMatchesImage(t *testing.T) {
	target := &report.Target{Name: "docker.io/library/vigil-demo:1.0", Ref: "vigil-demo.tar", Digest: "sha256:dd", ID: "sha256:ee", RepoTags: []string{"vigil-demo:1.0"}}
	tests := map[string]bool{
		"docker.io/library/vigil-demo:1.0":  true,
		"vigil-demo:1.0":                    true,
		"sha256:dd":                         true,
		"pkg:oci/vigil-demo":                true,
		"pkg:oci/vigil-demo@sha256:dd":      true,
		"pkg:oci/vigil-demo@sha256:ff":      false,
		"pkg:oci/VIGIL-DEMO?arch=amd64":     true,
		"pkg:docker/library/vigil-demo@1.0": true,
		"pkg:docker/other/vigil-demo":       false,
		"pkg:oci/other":                     false,
		"pkg:npm/vigil-demo":                false,
		"vigil-demo":                        false,
		"":                                  false,
	}
	for id, want := range tests {
		if got := matchesImage(id, target); got != want {
			t.Errorf("matchesImage(%q) = %v, want %v", id, got, want)
		}
	}
}
