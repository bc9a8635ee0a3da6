package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/extract"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AKIAABCDEFGHIJKLMNOP", "AKIA****************"},                    // 20: four kept
		{strings.Repeat("k", 100), "kkkk****************"},                  // long: stars capped
		{"hunter2", "h******"},                                              // 7: a quarter, rounded down
		{"abc", "***"},                                                      // short: nothing kept
		{"a", "*"},                                                          //
		{"ééééééééé", "éé" + strings.Repeat("*", 14)},                       // 18 bytes: 4 bytes = 2 runes kept
		{"abcé" + strings.Repeat("y", 12), "abc" + strings.Repeat("*", 14)}, // no cut inside a rune
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := mask(tc.in); got != tc.want {
				t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"ansi \x1b[31mred\x1b[0m", "ansi ?[31mred?[0m"},
		{"tab\tand\nnewline\r", "tab?and?newline?"},
		{"bad \xff utf8", "bad ? utf8"},
		{"bidi \u202egnp.exe", "bidi ?gnp.exe"},
		{"c1 \u009b control", "c1 ? control"},
		{strings.Repeat("a", 500), strings.Repeat("a", maxEvidence)},
		{strings.Repeat("é", 100), strings.Repeat("é", maxEvidence/2)},
	}
	for _, tc := range tests {
		t.Run(tc.in[:min(len(tc.in), 20)], func(t *testing.T) {
			if got := sanitize(tc.in); got != tc.want {
				t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPlaceholder(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"${NPM_TOKEN}", true},
		{"$PASSWORD", true},
		{"%s", true},
		{"<your token>", true},
		{"{{ .Values.password }}", true},
		{"********", true},
		{"xxxxxxxxxxxx", true},
		{"abcdXXXXXXXXXXXX", true},
		{"AKIAIOSFODNN7EXAMPLE", true},
		{"your-api-key-here", true},
		{"REDACTED", true},
		{"sk_live_...", true},
		{"hunter2", false},
		{"s3cr3t-Pa55", false},
		{fakeGitHub, false},
		{"changeme", false}, // a real (weak) default password, reported
	}
	for _, tc := range tests {
		t.Run(tc.v, func(t *testing.T) {
			if got := placeholder(tc.v); got != tc.want {
				t.Errorf("placeholder(%q) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}

func TestWants(t *testing.T) {
	reg := fileInfo{size: 100}
	tests := []struct {
		path string
		fi   fs.FileInfo
		want bool
	}{
		// read: dotfiles in homes and app directories, configuration
		{"root/.aws/credentials", reg, true},
		{"home/app/.npmrc", reg, true},
		{"app/.env", reg, true},
		{"app/config/production.yml", reg, true},
		{"etc/app/db.conf", reg, true},
		{"root/.ssh/id_rsa", reg, true},
		{"root/.docker/config.json", reg, true},
		{"var/cache/debconf/passwords.dat", reg, true},
		{"usr/local/bin/entrypoint.sh", reg, true},
		{"app/server.pem", reg, true},
		{"app/node_modules/mylib/config.js", reg, true},
		{"usr/lib/python3/dist-packages/app/settings.py", reg, true},
		// not regular, empty or too large
		{"app/.env", fileInfo{size: 100, mode: fs.ModeDir}, false},
		{"app/.env", fileInfo{size: 100, mode: fs.ModeSymlink}, false},
		{"app/.env", fileInfo{size: 0}, false},
		{"app/big.log", fileInfo{size: DefaultMaxFileSize + 1}, false},
		// noise trees
		{"usr/share/doc/openssl/README", reg, false},
		{"usr/share/man/man1/ls.1.gz", reg, false},
		{"usr/share/locale/de/LC_MESSAGES/x.mo", reg, false},
		{"usr/share/zoneinfo/UTC", reg, false},
		{"etc/ssl/certs/ca-certificates.crt", reg, false},
		{"etc/ssl/certs/Go_Daddy_Class_2_CA.pem", reg, false},
		{"usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", reg, false},
		{"var/lib/dpkg/info/libc6.list", reg, false},
		{"var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", reg, false},
		// binary and media extensions
		{"usr/lib/x86_64-linux-gnu/libssl.so.3", reg, false},
		{"app/logo.PNG", reg, false},
		{"usr/lib/python3/dist-packages/jwt/__pycache__/utils.cpython-311.pyc", reg, false},
		{"app/lib/app.jar", reg, false},
		{"app/public/main.js.map", reg, false},
		// tests, fixtures and docs inside dependency trees
		{"usr/lib/python3.11/test/keycert.pem", reg, false},
		{"usr/local/lib/python3.12/test/certdata/keycert.pem", reg, false},
		{"app/node_modules/jws/test/data/private.pem", reg, false},
		{"app/node_modules/@scope/pkg/__tests__/fixture.js", reg, false},
		{"app/node_modules/pkg/README.md", reg, false},
		{"usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", reg, false},
		{"usr/local/go/src/crypto/tls/handshake_server_test.go", reg, false},
		{"root/go/pkg/mod/github.com/x/y@v1.0.0/testdata/key.pem", reg, false},
		{"go/pkg/mod/github.com/x/y@v1.0.0/internal/certs/private.pem", reg, false},
		{"usr/local/go/src/crypto/x509/platform_root_key.pem", reg, false},
		{"usr/share/go-1.19/src/crypto/tls/testdata/example-key.pem", reg, false},
		{"app/node_modules/some-lib/lib/keys_test_data.js", reg, false},
		{"app/node_modules/pkg/Examples/key.pem", reg, false},
		{"usr/lib/python", reg, true},
		// but a test directory of the application itself is read
		{"app/test/.env", reg, true},
	}
	e := New()
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := e.Wants(tc.path, tc.fi); got != tc.want {
				t.Errorf("Wants(%s) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestExtractSkipsBinaryAndCapsSize(t *testing.T) {
	key := "export GH=" + fakeGitHub + "\n"
	tests := []struct {
		name    string
		opts    []Option
		content string
		want    []finding
	}{
		{"text", nil, key, []finding{{"secret-github-token", 1, "ghp_" + stars}}},
		{"nul in the first KiB", nil, "\x7fELF\x00\x01" + key, nil},
		{"nul after the first KiB is text", nil, strings.Repeat("#\n", 600) + "\x00\n" + key,
			[]finding{{"secret-github-token", 602, "ghp_" + stars}}},
		{"secret beyond the size cap", []Option{WithMaxFileSize(64)}, strings.Repeat("#", 64) + key, nil},
		{"secret within the size cap", []Option{WithMaxFileSize(64)}, key, []finding{{"secret-github-token", 1, "ghp_" + stars}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := findings(extractText(t, New(tc.opts...), "app/x.sh", tc.content))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractCapsFindingsPerFile(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3*maxFindingsPerFile; i++ {
		b.WriteString("AKIA" + fakeFrom(base32, uint64(100+i), 16) + "\n")
	}
	res := extractText(t, New(), "app/keys.txt", b.String())
	if len(res.Files) != maxFindingsPerFile {
		t.Errorf("got %d findings, want the cap %d", len(res.Files), maxFindingsPerFile)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "more than 50 findings in app/keys.txt") {
		t.Errorf("warnings = %q, want one about the cap", res.Warnings)
	}
	for i, f := range res.Files {
		if f.Line != i+1 || !f.Persistent {
			t.Errorf("finding %d: line %d persistent %v, want line %d persistent", i, f.Line, f.Persistent, i+1)
		}
	}
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Extract(ctx, &extract.Input{Path: "a", Reader: bytes.NewReader([]byte("x")), Size: 1})
	if err == nil {
		t.Fatal("Extract on a cancelled context: want an error")
	}
}

func TestAllow(t *testing.T) {
	sum := sha256.Sum256([]byte(fakeGitHub))
	content := "A=" + fakeGitHub + "\nB=" + fakeStripe + "\n"
	tests := []struct {
		name  string
		allow Allow
		path  string
		want  []finding
	}{
		{"nothing allowed", Allow{}, "app/x", []finding{
			{"secret-github-token", 1, "ghp_" + stars}, {"secret-stripe-key", 2, "sk_l" + stars}}},
		{"rule", Allow{Rules: []string{"secret-github-token"}}, "app/x", []finding{{"secret-stripe-key", 2, "sk_l" + stars}}},
		{"exact value", Allow{Values: []string{fakeStripe}}, "app/x", []finding{{"secret-github-token", 1, "ghp_" + stars}}},
		{"sha256 of value", Allow{Values: []string{"sha256:" + hex.EncodeToString(sum[:])}}, "app/x",
			[]finding{{"secret-stripe-key", 2, "sk_l" + stars}}},
		{"path glob not matching", Allow{Paths: []string{"app/test/**"}}, "app/x", []finding{
			{"secret-github-token", 1, "ghp_" + stars}, {"secret-stripe-key", 2, "sk_l" + stars}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.allow.Validate(); err != nil {
				t.Fatal(err)
			}
			got := findings(extractText(t, New(WithAllow(tc.allow)), tc.path, content))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllowPaths(t *testing.T) {
	e := New(WithAllow(Allow{Paths: []string{"app/test/**", "**/*.pem", "/etc/app/dev.env", "srv/*/fixtures"}}))
	reg := fileInfo{size: 10}
	tests := []struct {
		path string
		want bool // Wants
	}{
		{"app/test/.env", false},
		{"app/test/a/b/c.yml", false},
		{"app/tests/.env", true},
		{"app/key.pem", false},
		{"key.pem", false},
		{"a/b/c/key.pem", false},
		{"a/b/c/key.pem.bak", true},
		{"etc/app/dev.env", false},
		{"etc/app/prod.env", true},
		{"srv/x/fixtures", false},
		{"srv/x/y/fixtures", true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := e.Wants(tc.path, reg); got != tc.want {
				t.Errorf("Wants(%s) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestAllowValidate(t *testing.T) {
	tests := []struct {
		name  string
		allow Allow
		want  []string // substrings of the error; none for valid
	}{
		{"valid", Allow{Rules: []string{"secret-jwt"}, Paths: []string{"**/x", "a/*.env"}, Values: []string{"abc", "sha256:" + strings.Repeat("ab", 32)}}, nil},
		{"unknown rule", Allow{Rules: []string{"secret-nope"}}, []string{`rule "secret-nope"`}},
		{"bad glob", Allow{Paths: []string{"a/[b"}}, []string{`path "a/[b"`}},
		{"empty glob", Allow{Paths: []string{"/"}}, []string{`path "/"`, "empty pattern"}},
		{"bad hash", Allow{Values: []string{"sha256:abc"}}, []string{`value "sha256:abc"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.allow.Validate()
			if (err != nil) != (len(tc.want) > 0) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestVersionFollowsConfiguration(t *testing.T) {
	base := New().Version()
	if base != version {
		t.Errorf("Version() = %d, want %d without options", base, version)
	}
	a := New(WithAllow(Allow{Rules: []string{"secret-jwt"}})).Version()
	b := New(WithAllow(Allow{Rules: []string{"secret-env-file"}})).Version()
	c := New(WithMaxFileSize(4096)).Version()
	if a == base || b == base || c == base || a == b || a == c || b == c {
		t.Errorf("versions base=%d jwt=%d env=%d size=%d: each configuration needs its own (it is part of the cache key)", base, a, b, c)
	}
	if again := New(WithAllow(Allow{Rules: []string{"secret-jwt"}})).Version(); again != a {
		t.Errorf("same allow-list gave versions %d and %d", a, again)
	}
	if n := New().Name(); n != "secrets" {
		t.Errorf("Name() = %q", n)
	}
}

func TestRulesAreDistinctAndDescribed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if !strings.HasPrefix(r.ID, "secret-") || r.Title == "" {
			t.Errorf("rule %+v: want a secret- ID and a title", r)
		}
		switch r.Severity {
		case "critical", "high", "medium", "low":
		default:
			t.Errorf("rule %s: severity %q", r.ID, r.Severity)
		}
	}
}

// TestExampleKeyInCredentialFile: AWS's documented example key is skipped
// in prose and source, but reported in a credentials file, where a key is
// there to be used (the reference image bakes exactly that file).
func TestExampleKeyInCredentialFile(t *testing.T) {
	body := "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	e := New().(*extractor)
	if got := e.hits("root/.aws/credentials", []byte(body)); len(got) != 2 {
		t.Errorf("credentials file: %d hits, want the key ID and the secret", len(got))
	}
	if got := e.hits("usr/share/doc/aws/README.txt", []byte(body)); len(got) != 0 {
		t.Errorf("documentation: %d hits, want none", len(got))
	}
}
