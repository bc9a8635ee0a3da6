package audit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/dockerfile"
	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

const mapDockerfile = `FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM debian:12-slim AS base
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*

FROM base
ENV API_TOKEN=abcdef0123456789
COPY --from=build /out/app /usr/local/bin/app
RUN curl -fsSL https://example.com/i.sh | sh
EXPOSE 80
USER root
ENTRYPOINT ["/usr/local/bin/app"]
`

func layersOf(steps ...string) []inventory.Layer {
	var out []inventory.Layer
	for i, s := range steps {
		out = append(out, inventory.Layer{Index: i, CreatedBy: s})
	}
	return out
}

type placed struct {
	ID   string
	Path string
	Line int
}

func TestMapToDockerfile(t *testing.T) {
	df, err := dockerfile.Parse(strings.NewReader(mapDockerfile), "build/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	histories := map[string][]inventory.Layer{
		"buildkit": layersOf(
			"# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'",
			"RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* # buildkit",
			"COPY /out/app /usr/local/bin/app # buildkit",
			"RUN /bin/sh -c curl -fsSL https://example.com/i.sh | sh # buildkit",
		),
		"classic": layersOf(
			"/bin/sh -c #(nop) ADD file:0a1b2c3d in / ",
			"/bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*",
			"/bin/sh -c #(nop) COPY file:4e5f6a7b in /usr/local/bin/app ",
			"/bin/sh -c curl -fsSL https://example.com/i.sh | sh",
		),
	}
	issues := func() []report.Issue {
		return []report.Issue{
			issue(catalog.ImgRootUser, "", 0, -1, "USER root"),
			issue(catalog.ImgSecretEnv, "", 0, -1, "API_TOKEN=abcd************"),
			issue(catalog.ImgPrivilegedPort, "", 0, -1, "EXPOSE 80/tcp"),
			issue(catalog.ImgNoHealthcheck, "", 0, -1, "no HEALTHCHECK in the image config"),
			issue(catalog.CntEOLOS, "", 0, -1, "x"),
			issue(catalog.CntShellPkgManager, "", 0, 0, "shells: bash"),
			issue(catalog.CntBuildTools, "", 0, 1, "download tool: curl"),
			issue(catalog.ImgPipeToShell, "", 0, 3, "curl -fsSL https://example.com/i.sh | sh"),
			issue(catalog.CntSetuid, "usr/bin/su", 0, 0, "4755 -rwsr-xr-x"),
			issue(catalog.CntWorldWritable, "usr/local/bin/app", 0, 2, "0777 -rwxrwxrwx"),
		}
	}
	want := []placed{
		{catalog.ImgRootUser, "build/Dockerfile", 14},
		{catalog.ImgSecretEnv, "build/Dockerfile", 10},
		{catalog.ImgPrivilegedPort, "build/Dockerfile", 13},
		{catalog.ImgNoHealthcheck, "build/Dockerfile", 9},
		{catalog.CntEOLOS, "build/Dockerfile", 6},
		{catalog.CntShellPkgManager, "build/Dockerfile", 6},
		{catalog.CntBuildTools, "build/Dockerfile", 7},
		{catalog.ImgPipeToShell, "build/Dockerfile", 12},
		{catalog.CntSetuid, "usr/bin/su", 0},
		{catalog.CntWorldWritable, "usr/local/bin/app", 0},
	}
	for name, layers := range histories {
		t.Run(name, func(t *testing.T) {
			is := issues()
			MapToDockerfile(is, layers, df)
			var got []placed
			for _, i := range is {
				got = append(got, placed{i.ID, i.Path, i.Line})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("placement (-want +got):\n%s", diff)
			}
			if !strings.HasSuffix(is[8].Description, "Introduced by build/Dockerfile line 6: FROM debian:12-slim AS base") ||
				!strings.HasSuffix(is[9].Description, "Introduced by build/Dockerfile line 11: COPY --from=build /out/app /usr/local/bin/app") {
				t.Errorf("file issues' descriptions: %q / %q", is[8].Description, is[9].Description)
			}
		})
	}
}

// TestMapFallback: a RUN whose recorded text differs from the Dockerfile
// (a build argument expanded) is placed by position and kind.
func TestMapFallback(t *testing.T) {
	df, err := dockerfile.Parse(strings.NewReader("FROM alpine:3.22\nARG V=1.2.3\nRUN apk add --no-cache tool=${V}\nCOPY app /app\n"), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	layers := layersOf("ADD alpine-minirootfs.tar.gz / # buildkit",
		"RUN |1 V=1.2.3 /bin/sh -c apk add --no-cache tool=1.2.3 # buildkit",
		"COPY app /app # buildkit")
	is := []report.Issue{
		issue(catalog.CntBuildTools, "", 0, 1, "x"),
		issue(catalog.CntShellPkgManager, "", 0, 0, "x"),
		issue(catalog.CntWorldWritable, "", 0, 2, "x"),
		issue(catalog.CntBuildTools, "", 0, 7, "layer unknown to the history"),
	}
	MapToDockerfile(is, layers, df)
	var got []int
	for _, i := range is {
		got = append(got, i.Line)
	}
	if diff := cmp.Diff([]int{3, 1, 4, 1}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	MapToDockerfile(is, layers, nil) // no Dockerfile: nothing to do, no panic
}

func TestDockerfileSteps(t *testing.T) {
	df, err := dockerfile.Parse(strings.NewReader(mapDockerfile), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	layers := layersOf(
		"# debian.sh --arch 'amd64' out/ 'bookworm' '@1700000000'",
		"RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* # buildkit",
		"WORKDIR /app",
		"COPY /out/app /usr/local/bin/app # buildkit",
		"RUN /bin/sh -c curl -fsSL https://example.com/i.sh | sh # buildkit",
	)
	want := []report.DockerfileStep{
		{Layer: 0, Line: 6, Instruction: "FROM debian:12-slim AS base"},
		{Layer: 1, Line: 7, Instruction: "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*"},
		{Layer: 3, Line: 11, Instruction: "COPY --from=build /out/app /usr/local/bin/app"},
		{Layer: 4, Line: 12, Instruction: "RUN curl -fsSL https://example.com/i.sh | sh"},
	}
	if diff := cmp.Diff(want, DockerfileSteps(layers, df)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	multi, err := dockerfile.Parse(strings.NewReader("FROM a:1@sha256:00\nRUN echo one \\\n  two\n"), "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	got := DockerfileSteps(layersOf("base", "RUN /bin/sh -c echo one   two # buildkit"), multi)
	if len(got) != 2 || got[1].Line != 2 || got[1].EndLine != 3 || got[0].EndLine != 0 {
		t.Errorf("multi-line steps: %+v", got)
	}
}
