// Package rootfs opens an unpacked root file system (a directory, such as a
// debootstrap result or an extracted container) as an image: RootDir is
// set, there are no layers, no config, and the platform is the host's.
package rootfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/internal/imgconv"
)

// Open opens dir as a root file system.
func Open(ctx context.Context, dir string, opts image.Options) (*image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("rootfs: open %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("rootfs: open %s: %w (give the directory of an unpacked root file system)", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("rootfs: open %s: not a directory (for an image tarball use docker-archive: or oci-archive:)", dir)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("rootfs: open %s: %w (check read permission)", dir, err)
	}
	f.Close()
	return &image.Image{
		Source:   "dir",
		Ref:      dir,
		Name:     abs,
		Platform: imgconv.HostPlatform(),
		RootDir:  abs,
	}, nil
}
