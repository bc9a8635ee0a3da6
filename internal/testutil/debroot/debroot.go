// Package debroot builds, once per machine, a real Debian root file system
// with debootstrap and hands its path to tests that need one: the dpkg
// extractor's differential test against dpkg-query, image and scan tests
// that package a real root. It is imported only from _test files.
package debroot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/testutil"
)

// Suite is the Debian release Minbase bootstraps.
const Suite = "bookworm"

// buildTimeout bounds one debootstrap run (it takes one to three minutes
// with a reachable mirror).
const buildTimeout = 20 * time.Minute

// Minbase returns the path of a debootstrap --variant=minbase root file
// system of Debian bookworm. The first call on a machine builds it into
// testutil.CacheDir(t, "bookworm-minbase") and marks it complete; later calls
// (from any test binary) reuse it. A lock file keeps concurrent test binaries
// from building it twice. When debootstrap cannot run (not installed, not
// root) the test is skipped, except under CI=true where it fails: CI must
// install debootstrap.
//
// Set VIGIL_DEBIAN_MIRROR to bootstrap from a mirror other than
// debootstrap's default.
func Minbase(t testing.TB) string {
	t.Helper()
	dir := testutil.CacheDir(t, Suite+"-minbase")
	root := filepath.Join(dir, "rootfs")
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		unavailable(t, "debootstrap is not installed (apt-get install -y debootstrap)")
	}
	if os.Geteuid() != 0 {
		unavailable(t, "debootstrap needs root")
	}

	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("debroot: open lock in %s: %v", dir, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("debroot: lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too

	// Another test binary may have finished the build while we waited.
	if _, err := os.Stat(marker); err == nil {
		return root
	}
	if err := clearPartial(dir); err != nil {
		t.Fatalf("debroot: %v", err)
	}
	tmp := filepath.Join(dir, fmt.Sprintf("rootfs.tmp-%d", os.Getpid()))
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	if err := bootstrap(ctx, tmp, filepath.Join(dir, "debootstrap.log")); err != nil {
		t.Fatalf("debroot: %v", err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatalf("debroot: remove stale %s: %v", root, err)
	}
	if err := os.Rename(tmp, root); err != nil {
		t.Fatalf("debroot: rename %s: %v", tmp, err)
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		t.Fatalf("debroot: write marker %s: %v", marker, err)
	}
	t.Logf("debroot: built %s minbase in %s at %s", Suite, time.Since(start).Round(time.Second), root)
	return root
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("debroot: %s; CI must provide it", why)
	}
	t.Skipf("debroot: %s", why)
}

// bootstrap runs debootstrap into dir, keeping its output in logPath.
func bootstrap(ctx context.Context, dir, logPath string) error {
	args := []string{"--variant=minbase", Suite, dir}
	if m := os.Getenv("VIGIL_DEBIAN_MIRROR"); m != "" {
		args = append(args, m)
	}
	log, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create log %s: %w", logPath, err)
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debootstrap %s: %w (see %s; a partial tree is removed on the next run)",
			strings.Join(args, " "), err, logPath)
	}
	return nil
}

// clearPartial removes half-built trees a killed run left behind, first
// detaching anything debootstrap had mounted inside them (proc, sys) so that
// removal never reaches into the host's pseudo file systems.
func clearPartial(dir string) error {
	partial, err := filepath.Glob(filepath.Join(dir, "rootfs.tmp-*"))
	if err != nil {
		return fmt.Errorf("glob partial trees in %s: %w", dir, err)
	}
	if len(partial) == 0 {
		return nil
	}
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	// Deepest first.
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s left by an interrupted debootstrap: %w (unmount it by hand)", mounts[i], err)
		}
	}
	for _, p := range partial {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove partial tree %s: %w", p, err)
		}
	}
	return nil
}

// mountsUnder lists mount points below dir, in mount order.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if strings.HasPrefix(mp, prefix) {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			v := 0
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + int(c-'0')
			}
			if ok {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
