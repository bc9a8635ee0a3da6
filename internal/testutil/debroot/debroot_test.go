package debroot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`/a/b`, "/a/b"},
		{`/a\040b`, "/a b"},
		{`/a\011b\134`, "/a\tb\\"},
		{`/a\09`, `/a\09`},
		{`/a\`, `/a\`},
	} {
		if got := unescapeMount(tc.in); got != tc.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMinbase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Debian root file system on first use")
	}
	root := Minbase(t)
	for _, p := range []string{"etc/os-release", "var/lib/dpkg/status", "usr/bin/dpkg"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("minbase root lacks %s: %v", p, err)
		}
	}
	// A second call returns the same tree without rebuilding.
	if again := Minbase(t); again != root {
		t.Errorf("second Minbase = %s, want %s", again, root)
	}
}
