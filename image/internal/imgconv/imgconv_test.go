package imgconv

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vigilsec/vigil/image"
)

func desc(os, arch, variant string) v1.Descriptor {
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 63) + string(rune('a'+len(arch)%6))},
		Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant}}
}

func TestChoosePlatform(t *testing.T) {
	im := &v1.IndexManifest{Manifests: []v1.Descriptor{
		desc("linux", "amd64", ""),
		desc("linux", "arm", "v6"),
		desc("linux", "arm", "v7"),
		desc("linux", "arm64", "v8"),
		desc("unknown", "unknown", ""),
		{MediaType: types.OCIManifestSchema1}, // no platform
	}}
	for _, tc := range []struct {
		want    image.Platform
		got     string
		wantErr string
	}{
		{want: image.Platform{OS: "linux", Architecture: "amd64"}, got: "linux/amd64"},
		{want: image.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, got: "linux/arm/v7"},
		{want: image.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, got: "linux/arm/v6"},
		{want: image.Platform{OS: "linux", Architecture: "arm"}, got: "linux/arm/v6"},
		{want: image.Platform{OS: "linux", Architecture: "arm64"}, got: "linux/arm64/v8"},
		{want: image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, got: "linux/arm64/v8"},
		{want: image.Platform{OS: "windows", Architecture: "amd64"}, wantErr: "x: no image for the requested platform windows/amd64; available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8 (choose one with --platform)"},
		{want: image.Platform{OS: "linux", Architecture: "arm", Variant: "v5"}, wantErr: "linux/arm/v5"},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			w := tc.want
			d, err := ChoosePlatform(im, &w, "x")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr && !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNoPlatform) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Platform.String(); got != tc.got {
				t.Errorf("chose %s, want %s", got, tc.got)
			}
		})
	}
}

func TestApply(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cf := &v1.ConfigFile{
		OS: "linux", Architecture: "arm64", Variant: "v8", Created: v1.Time{Time: ts},
		Config: v1.Config{
			User: "app", Env: []string{"A=1"}, ExposedPorts: map[string]struct{}{"9090/udp": {}, "80/tcp": {}},
			Volumes: map[string]struct{}{"/b": {}, "/a": {}}, Healthcheck: &v1.HealthConfig{Test: []string{"NONE"}},
			Shell: []string{"/bin/bash", "-c"},
		},
		History: []v1.History{{Created: v1.Time{Time: ts}, CreatedBy: "x", EmptyLayer: true}, {CreatedBy: "y", Comment: "c"}},
	}
	var img image.Image
	Apply(&img, cf)
	want := image.Image{
		Platform: image.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Created:  ts,
		Config: image.Config{User: "app", Env: []string{"A=1"}, ExposedPorts: []string{"80/tcp", "9090/udp"},
			Volumes: []string{"/a", "/b"}, Healthcheck: []string{"NONE"}, Shell: []string{"/bin/bash", "-c"}},
		History: []image.History{{Created: ts, CreatedBy: "x", EmptyLayer: true}, {CreatedBy: "y", Comment: "c"}},
	}
	if d := cmp.Diff(want, img, cmp.AllowUnexported(image.Image{})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseConfigAndHash(t *testing.T) {
	if _, err := ParseConfig([]byte("<html>"), "c.json"); err == nil || !strings.Contains(err.Error(), "config c.json is not a valid image configuration") {
		t.Errorf("ParseConfig(html) err = %v", err)
	}
	if _, err := ParseConfig([]byte(`{"rootfs":{"diff_ids":["sha256:zz"]}}`), "c.json"); err == nil {
		t.Error("ParseConfig accepted a bad diff_id")
	}
	for _, s := range []string{"sha256:../../etc", "md5:" + strings.Repeat("0", 32), "sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("0", 63)} {
		if _, err := ParseHash(s); err == nil {
			t.Errorf("ParseHash(%q) accepted", s)
		}
	}
	h, err := ParseHash("sha256:" + strings.Repeat("0", 64))
	if err != nil || BlobPath(h) != "blobs/sha256/"+strings.Repeat("0", 64) {
		t.Errorf("ParseHash/BlobPath = %v, %v", BlobPath(h), err)
	}
	if err := Verify([]byte("x"), h, "blob"); err == nil || !strings.Contains(err.Error(), "blob: content has digest sha256:2d711642") {
		t.Errorf("Verify err = %v", err)
	}
	if _, err := ReadLimited(strings.NewReader("12345"), 4, "doc"); err == nil || !strings.Contains(err.Error(), "doc is larger than the 4 bytes allowed") {
		t.Errorf("ReadLimited err = %v", err)
	}
}
