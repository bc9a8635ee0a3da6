package dockerfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/report"
)

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

// TestCheckFixtures asserts exactly the findings (rule and line) of each
// fixture Dockerfile.
func TestCheckFixtures(t *testing.T) {
	tests := []struct {
		dir  string
		want []hit
	}{
		{"bad", []hit{
			{catalog.DkfSecretArgEnv, 4},
			{catalog.DkfBaseNoDigest, 5}, // FROM ${BASE}:${TAG} resolves to debian:bookworm
			{catalog.DkfSecretArgEnv, 6},
			{catalog.DkfSecretArgEnv, 7},
			{catalog.DkfSecretArgEnv, 8},
			{catalog.DkfPipeToShell, 13},
			{catalog.DkfBaseLatest, 17}, {catalog.DkfNoHealthcheck, 17},
			{catalog.DkfAddURL, 19},
			{catalog.DkfAddLocal, 21},
			{catalog.DkfCopyContext, 23},
			{catalog.DkfApkCache, 24}, {catalog.DkfBuildTools, 24}, {catalog.DkfSudo, 24},
			{catalog.DkfAptRecommends, 25}, {catalog.DkfAptLists, 25}, {catalog.DkfBuildTools, 25},
			{catalog.DkfRootUser, 28},
		}},
		{"good", []hit{}},
		{"chain", []hit{{catalog.DkfCopyContext, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			path := filepath.Join("testdata", tt.dir, "Dockerfile")
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			is := Check(f)
			if diff := cmp.Diff(tt.want, hits(is)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, i := range is {
				if i.Path != path || i.Category != report.CategoryDockerfile || i.Layer != -1 || i.Evidence == "" {
					t.Errorf("malformed issue %+v", i)
				}
			}
		})
	}
}

func TestEvidenceMasked(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "bad", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range Check(f) {
		switch i.ID {
		case catalog.DkfSecretArgEnv, catalog.DkfBuildTools, catalog.DkfBaseNoDigest, catalog.DkfRootUser:
			got = append(got, i.Evidence)
		}
	}
	want := []string{
		"ARG REGISTRY_PASSWORD=hunt**********",
		"FROM debian:bookworm",
		"ENV DB_PASSWORD=s3cr********",
		"ENV OLD_TOKEN=abc1********",
		"ARG NPM_TOKEN=npm_****************",
		"installs gcc",
		"installs curl",
		"USER root",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
	for _, i := range Check(f) {
		for _, s := range []string{"hunter2hunter2", "s3cr3t-value", "abc123def456", "abcdefghijklmnop"} {
			if strings.Contains(i.Evidence, s) || strings.Contains(i.Description, s) {
				t.Errorf("%s leaks %q", i.ID, s)
			}
		}
	}
}

func TestParseStructure(t *testing.T) {
	src := "ARG V=3.22\nFROM alpine:${V} AS Base\nENV A=1 B=\"two words\"\nLABEL x=y\nFROM base\nRUN [\"sh\", \"-c\", \"echo hi\"]\nONBUILD RUN make\n"
	f, err := Parse(strings.NewReader(src), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 2 || f.Stages[0].Name != "base" || f.Stages[0].Base != "alpine:3.22" || !f.Stages[0].BaseResolved ||
		f.Stages[1].Parent != 0 || f.Final() != f.Stages[1] || len(f.Chain(f.Final())) != 2 {
		t.Fatalf("stages: %+v", f.Stages)
	}
	env := f.Stages[0].Instructions[0]
	if diff := cmp.Diff([]KeyValue{{Key: "A", Value: "1", Raw: "1", HasValue: true}, {Key: "B", Value: "two words", Raw: `"two words"`, HasValue: true}}, env.KeyValues); diff != "" {
		t.Errorf("ENV (-want +got):\n%s", diff)
	}
	run := f.Stages[1].Instructions[0]
	if !run.JSON || run.Script() != "echo hi" || run.Line != 6 {
		t.Errorf("RUN %+v script %q", run, run.Script())
	}
	if ob := f.Stages[1].Instructions[1]; ob.Cmd != "ONBUILD" || len(ob.Args) != 1 || ob.Args[0] != "RUN make" {
		t.Errorf("ONBUILD %+v", ob)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      error
	}{
		{"empty", "", nil},
		{"no FROM", "RUN echo\n", nil},
		{"unterminated heredoc", "FROM a\nRUN <<EOF\necho\n", nil},
		{"too large", "FROM a\n" + strings.Repeat("#", MaxSize), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), "Dockerfile")
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "Dockerfile") {
				t.Errorf("err = %v, want an error naming the file (%v)", err, tt.want)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of a directory: no error")
	}
}

func TestDockerignore(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "app.Dockerfile")
	if err := os.WriteFile(df, []byte("FROM scratch\nCOPY . /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		f, err := Load(df)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, i := range Check(f) {
			if i.ID == catalog.DkfCopyContext {
				n++
			}
		}
		return n
	}
	if count() != 1 {
		t.Error("no .dockerignore: want the COPY . finding")
	}
	// BuildKit's per-Dockerfile ignore file counts too.
	if err := os.WriteFile(df+".dockerignore", []byte(".git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if count() != 0 {
		t.Error("app.Dockerfile.dockerignore present: want no COPY . finding")
	}
	if HasDockerignore(filepath.Join(dir, "Dockerfile"), t.TempDir()) {
		t.Error("HasDockerignore in an empty context")
	}
}

func FuzzParseCheck(f *testing.F) {
	for _, d := range []string{"bad", "good", "chain"} {
		b, err := os.ReadFile(filepath.Join("testdata", d, "Dockerfile"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("FROM a\nRUN <<EOF\nx\nEOF\nFROM a AS a\nFROM a\nUSER\nADD\nCOPY\nENV\nARG =\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		df, err := Parse(bytes.NewReader(b), "Dockerfile")
		if err != nil {
			return
		}
		lines := bytes.Count(b, []byte("\n")) + 1
		for _, i := range Check(df) {
			if i.ID == "" || i.Line < 1 || i.Line > lines {
				t.Fatalf("issue %+v: line outside the %d-line input", i, lines)
			}
		}
	})
}
