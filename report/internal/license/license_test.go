package license

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"MIT", "MIT", true},
		{"mit", "MIT", true},
		{" Apache-2.0 ", "Apache-2.0", true},
		{"bsd-3-clause", "BSD-3-Clause", true},
		{"curl", "curl", true},
		{"Zlib", "Zlib", true},
		{"Classpath-exception-2.0", "Classpath-exception-2.0", true},
		{"GPL-2+", "", false},
		{"Expat", "", false},
		{"Apache License 2.0", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := ID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExpression(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"MIT", "MIT", true},
		{"GPL-2.0+", "GPL-2.0+", true},
		{"MIT OR Apache-2.0", "MIT OR Apache-2.0", true},
		{"mit or apache-2.0", "MIT OR Apache-2.0", true},
		{"(MIT OR Apache-2.0)", "(MIT OR Apache-2.0)", true},
		{"( MIT  OR\tApache-2.0 ) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause", true},
		{"GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0", true},
		{"LicenseRef-Proprietary AND MIT", "LicenseRef-Proprietary AND MIT", true},
		{"DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2", true},
		{"((MIT))", "((MIT))", true},
		{"GPL-2+", "", false},
		{"MIT/X11", "", false},
		{"Apache License 2.0", "", false},
		{"MIT AND", "", false},
		{"AND MIT", "", false},
		{"(MIT", "", false},
		{"MIT)", "", false},
		{"()", "", false},
		{"MIT WITH", "", false},
		{"MIT WITH (Apache-2.0)", "", false},
		{"LicenseRef-", "", false},
		{"", "", false},
		{strings.Repeat("(", 70) + "MIT" + strings.Repeat(")", 70), "", false},
		{strings.Repeat("MIT AND ", 200) + "MIT", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Expression(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Expression(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIsCompound(t *testing.T) {
	for expr, want := range map[string]bool{"MIT": false, "GPL-2.0+": false, "MIT OR 0BSD": true, "(MIT)": true} {
		if got := IsCompound(expr); got != want {
			t.Errorf("IsCompound(%q) = %v, want %v", expr, got, want)
		}
	}
}

// TestIDsMatchCycloneDXSchema checks the embedded list against the SPDX
// enumeration the CycloneDX 1.6 schema references (kept in the cyclonedx
// encoder's testdata): an ID this package accepts must pass that schema.
func TestIDsMatchCycloneDXSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "cyclonedx", "testdata", "schema", "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(idsText)
	slices.Sort(got)
	want := slices.Clone(schema.Enum)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ids.txt has %d IDs, the schema %d; regenerate ids.txt from the schema's enum", len(got), len(want))
	}
}

func FuzzExpression(f *testing.F) {
	for _, s := range []string{"MIT", "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-2.0-or-later WITH Classpath-exception-2.0", "LicenseRef-x", "GPL-2.0+", "mit and (0bsd or isc)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, ok := Expression(s)
		if !ok {
			return
		}
		again, ok := Expression(norm)
		if !ok || again != norm {
			t.Errorf("Expression(%q) = %q is not a fixed point: %q, %v", s, norm, again, ok)
		}
	})
}
