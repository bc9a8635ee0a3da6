package manifest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/report"
)

// hit is what the fixture tests compare: the rule and the line.
type hit struct {
	ID   string
	Line int
}

func hits(is []report.Issue) []hit {
	out := []hit{}
	for _, i := range is {
		out = append(out, hit{i.ID, i.Line})
	}
	return out
}

const (
	priv   = catalog.ManPrivileged
	caps   = catalog.ManCapsNotDropped
	dcap   = catalog.ManDangerousCap
	rw     = catalog.ManWritableRoot
	root   = catalog.ManRunAsRoot
	esc    = catalog.ManPrivEscalation
	hostNS = catalog.ManHostNamespace
	sock   = catalog.ManDockerSocket
	limits = catalog.ManNoLimits
	tag    = catalog.ManMutableImage
	unconf = catalog.ManUnconfined
)

// TestFixtures checks every fixture file and asserts exactly the findings
// (rule and line) each bad setting in it should produce.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []hit
	}{
		{"compose/bad.yaml", []hit{
			{dcap, 5}, // cap_add SYS_ADMIN merged into service caps from x-common
			{caps, 8}, {rw, 8}, {root, 8}, {esc, 8}, {limits, 8},
			{tag, 9}, {priv, 10},
			{limits, 11},
			{tag, 13}, {caps, 14}, {rw, 15}, {root, 16}, {esc, 17}, {unconf, 18},
			{caps, 19}, {rw, 19}, {root, 19}, {esc, 19},
			{hostNS, 21}, {hostNS, 22}, {hostNS, 23},
			{sock, 25}, {sock, 26},
			{limits, 32},
			{caps, 34}, {rw, 34}, {esc, 34}, {limits, 34},
			{root, 36}, {dcap, 37},
		}},
		{"compose/good.yaml", []hit{}},
		{"kubernetes/helm-output.yaml", []hit{
			{unconf, 21}, {hostNS, 23}, {hostNS, 24},
			{root, 26}, {root, 26},
			{sock, 30},
			{tag, 47}, {priv, 49}, {esc, 50}, {rw, 51}, {dcap, 53}, {dcap, 53}, {caps, 54}, {unconf, 56},
			{limits, 58},
		}},
		{"kubernetes/cronjob.yaml", []hit{
			{hostNS, 11}, {root, 13},
			{caps, 16}, {rw, 16}, {esc, 16}, {limits, 16},
			{tag, 17},
		}},
		{"kubernetes/list.yaml", []hit{{root, 17}, {sock, 33}}},
		{"kubernetes/good.yaml", []hit{}},
		{"kubernetes/not-a-workload.yaml", []hit{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", filepath.FromSlash(tt.file))
			is, err := CheckFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sortHits(tt.want), hits(is)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, i := range is {
				if i.Path != path || i.Category != report.CategoryManifest || i.Layer != -1 || i.Evidence == "" || i.Title == "" {
					t.Errorf("malformed issue %+v", i)
				}
			}
		})
	}
}

// sortHits orders expected hits as Check orders issues (line, then ID).
func sortHits(h []hit) []hit {
	out := append([]hit{}, h...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Line < out[j-1].Line || out[j].Line == out[j-1].Line && out[j].ID < out[j-1].ID); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestEvidence(t *testing.T) {
	is, err := CheckFile(filepath.Join("testdata", "kubernetes", "helm-output.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range is {
		if i.ID == dcap || i.ID == sock || i.ID == limits {
			got = append(got, i.Evidence)
		}
	}
	want := []string{
		"Deployment/web volume docker: hostPath /var/run/docker.sock",
		"Deployment/web container web: capabilities.add: SYS_ADMIN",
		"Deployment/web container web: capabilities.add: SYS_PTRACE",
		"Deployment/web container web: no resources.limits.cpu",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad, err := os.ReadFile(filepath.Join("testdata", "compose", "bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write("deploy/compose.yml", string(bad))
	write("chart/templates/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec: {{ .Values.spec | toYaml }}\n  bad: [\n")
	write("node_modules/pkg/compose.yaml", string(bad)) // skipped directory
	write("README.md", "services: {}")                  // not YAML by extension

	res, err := Walk(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, "deploy", "compose.yml")}, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != filepath.Join(dir, "chart", "templates", "deployment.yaml") ||
		!strings.Contains(res.Skipped[0].Reason, "helm template") {
		t.Errorf("skipped = %+v, want the Helm template with a note to render it", res.Skipped)
	}
	direct, err := CheckFile(filepath.Join("testdata", "compose", "bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hits(direct), hits(res.Issues)); diff != "" {
		t.Errorf("walk findings differ from the file's (-want +got):\n%s", diff)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: err = %v, want context.Canceled", err)
	}
	if _, err := Walk(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Error("walk of a missing path: no error")
	}
}

// TestHostileYAML feeds documents that would be expensive or cyclic if the
// walk expanded aliases naively.
func TestHostileYAML(t *testing.T) {
	var lol strings.Builder
	lol.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		lol.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				lol.WriteString(", ")
			}
			lol.WriteString("*a" + string(rune('0'+i-1)))
		}
		lol.WriteString("]\n")
	}
	// 10^10 leaves if expanded; services' cap_add walks only its direct items.
	lol.WriteString("services:\n  s:\n    image: x:1\n    cap_add: *a9\n")

	var merges strings.Builder
	merges.WriteString("m0: &m0 {a: 1}\n")
	for i := 1; i < 30; i++ {
		merges.WriteString("m" + itoa(i) + ": &m" + itoa(i) + " {<<: [*m" + itoa(i-1) + ", *m" + itoa(i-1) + "]}\n")
	}
	merges.WriteString("services:\n  s:\n    <<: *m29\n    image: x:1\n")

	tests := []struct {
		name    string
		doc     string
		wantErr error
	}{
		{"billion laughs", lol.String(), nil},
		{"merge key bomb", merges.String(), errBudget},
		{"self-referencing merge", "services:\n  s: &s\n    <<: *s\n    image: x:1\n", nil},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check([]byte(tt.doc), "hostile.yaml")
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	big := make([]byte, MaxFileSize+1)
	if _, err := Check(big, "big.yaml"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized input: err = %v, want ErrTooLarge", err)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func FuzzCheck(f *testing.F) {
	for _, p := range []string{"compose/bad.yaml", "compose/good.yaml", "kubernetes/helm-output.yaml", "kubernetes/cronjob.yaml",
		"kubernetes/list.yaml", "kubernetes/good.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(p)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("services:\n  s: &s\n    <<: *s\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nservices: {s: {cap_add: *b, <<: [*b]}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		is, _ := Check(b, "fuzz.yaml")
		lines := strings.Count(string(b), "\n") + 1
		for _, i := range is {
			if i.ID == "" || i.Line < 1 || i.Line > lines {
				t.Fatalf("issue %+v: line outside the %d-line input", i, lines)
			}
		}
	})
}
