package rootfs

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/image"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	file := filepath.Join(dir, "etc", "os-release")
	os.WriteFile(file, []byte("ID=x\n"), 0o644)
	t.Chdir(dir)
	for _, tc := range []struct {
		name    string
		in      string
		want    *image.Image
		wantErr string
	}{
		{name: "absolute", in: dir, want: &image.Image{Source: "dir", Ref: dir, Name: dir, RootDir: dir}},
		{name: "relative", in: ".", want: &image.Image{Source: "dir", Ref: ".", Name: dir, RootDir: dir}},
		{name: "missing", in: filepath.Join(dir, "nope"), wantErr: "no such file or directory"},
		{name: "a file", in: file, wantErr: "not a directory (for an image tarball use docker-archive: or oci-archive:)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Open(context.Background(), tc.in, image.Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.in) {
					t.Fatalf("err = %v, want %q naming the input", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Platform = image.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
			if runtime.GOARCH == "arm" {
				tc.want.Platform.Variant = img.Platform.Variant
			}
			if d := cmp.Diff(tc.want, img, cmp.AllowUnexported(image.Image{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
