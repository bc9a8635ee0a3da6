//go:build !unix

package update

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// lock creates path exclusively, waiting up to timeout for another update
// to remove it. Without flock a crashed update leaves the file behind; the
// error says to delete it.
func lock(ctx context.Context, path string, timeout time.Duration) (func(), error) {
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("update: create lock file %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s exists (waited %s); delete it if no update is running", ErrLocked, path, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("update: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
