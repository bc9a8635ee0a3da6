// Package imgconv holds what every image source shares: converting an image
// configuration into vigil's image.Config and history, checking it against
// the layer list, choosing one platform from a multi-platform index (with an
// error that lists what exists), and reading small JSON documents under a
// size cap with their digests verified.
package imgconv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigilsec/vigil/image"
)

// Size caps for the JSON documents of an image.
const (
	MaxManifestSize = 8 << 20  // manifests and indexes
	MaxConfigSize   = 32 << 20 // image configuration (long histories)
)

// ErrNoPlatform reports that an index holds no image for the wanted
// platform.
var ErrNoPlatform = errors.New("no image for the requested platform")

// ParseConfig parses an image configuration. what names the document in
// errors.
func ParseConfig(data []byte, what string) (*v1.ConfigFile, error) {
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("config %s is %d bytes, more than the %d allowed", what, len(data), MaxConfigSize)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("config %s is not a valid image configuration: %w", what, err)
	}
	return cf, nil
}

// Apply fills img's platform, creation time, config and history from cf.
func Apply(img *image.Image, cf *v1.ConfigFile) {
	img.Platform = image.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	img.Created = cf.Created.Time
	c := cf.Config
	img.Config = image.Config{
		User:         c.User,
		Env:          c.Env,
		Entrypoint:   c.Entrypoint,
		Cmd:          c.Cmd,
		WorkingDir:   c.WorkingDir,
		ExposedPorts: sortedKeys(c.ExposedPorts),
		Volumes:      sortedKeys(c.Volumes),
		Labels:       c.Labels,
		StopSignal:   c.StopSignal,
		Shell:        c.Shell,
	}
	if c.Healthcheck != nil {
		img.Config.Healthcheck = c.Healthcheck.Test
	}
	img.History = nil
	for _, h := range cf.History {
		img.History = append(img.History, image.History{
			Created:    timeOrZero(h.Created.Time),
			CreatedBy:  h.CreatedBy,
			Comment:    h.Comment,
			EmptyLayer: h.EmptyLayer,
		})
	}
}

func timeOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckLayerCount fails when the config's diff_ids and the manifest's
// layers differ in number.
func CheckLayerCount(cf *v1.ConfigFile, layers int, where string) error {
	if n := len(cf.RootFS.DiffIDs); n != layers {
		return fmt.Errorf("%s: the config lists %d diff_ids but the manifest has %d layers (corrupt image)", where, n, layers)
	}
	return nil
}

// ParseHash parses and validates "alg:hex" (sha256 or sha512 with the
// right number of lowercase hex digits), so it is safe in a blob path.
func ParseHash(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil {
		return v1.Hash{}, err
	}
	if h.Algorithm != "sha256" && h.Algorithm != "sha512" {
		return v1.Hash{}, fmt.Errorf("unsupported digest algorithm %q", h.Algorithm)
	}
	return h, nil
}

// BlobPath returns the OCI layout path of a blob: blobs/<alg>/<hex>.
func BlobPath(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// Verify checks that data has digest want (sha256 only; other algorithms
// are accepted unchecked).
func Verify(data []byte, want v1.Hash, what string) error {
	if want.Algorithm != "sha256" {
		return nil
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want.Hex {
		return fmt.Errorf("%s: content has digest sha256:%s, expected %s (corrupt or tampered blob)", what, got, want)
	}
	return nil
}

// Digest returns the sha256 digest of data as "sha256:<hex>".
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ReadLimited reads all of r, failing when it holds more than max bytes.
func ReadLimited(r io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than the %d bytes allowed", what, max)
	}
	return b, nil
}

// HostPlatform returns the platform vigil runs on, with the ARM variant
// this binary was built for.
func HostPlatform() image.Platform {
	p := image.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		p.Variant = "v7"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "GOARM" && s.Value != "" {
					v, _, _ := strings.Cut(s.Value, ",")
					p.Variant = "v" + v
				}
			}
		}
	}
	return p
}

// FromV1 converts a go-containerregistry platform.
func FromV1(p *v1.Platform) image.Platform {
	if p == nil {
		return image.Platform{}
	}
	return image.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// Matches reports whether have satisfies want: OS and architecture equal,
// and the variant equal when want names one (arm64's "v8" is its default).
func Matches(want, have image.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	norm := func(p image.Platform) string {
		if p.Architecture == "arm64" && p.Variant == "" {
			return "v8"
		}
		return p.Variant
	}
	return norm(want) == norm(have)
}

// ChoosePlatform picks the manifest for want (the host when nil) from an
// index. Entries without a platform, and attestation manifests
// ("unknown/unknown"), are never chosen. When several entries match, the one
// whose variant equals the wanted one exactly wins, then the first. The
// error for a missing platform wraps ErrNoPlatform and lists the platforms
// the index has.
func ChoosePlatform(im *v1.IndexManifest, want *image.Platform, where string) (v1.Descriptor, error) {
	w := HostPlatform()
	if want != nil {
		w = *want
	}
	var best *v1.Descriptor
	for i := range im.Manifests {
		d := &im.Manifests[i]
		if d.Platform == nil || !d.MediaType.IsImage() {
			continue
		}
		have := FromV1(d.Platform)
		if !Matches(w, have) {
			continue
		}
		if best == nil || (have.Variant == w.Variant && best.Platform.Variant != w.Variant) {
			best = d
		}
	}
	if best != nil {
		return *best, nil
	}
	return v1.Descriptor{}, fmt.Errorf("%s: %w %s; available: %s (choose one with --platform)", where, ErrNoPlatform, w, strings.Join(Platforms(im), ", "))
}

// Platforms lists the distinct platforms of an index's image manifests,
// sorted.
func Platforms(im *v1.IndexManifest) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range im.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			continue
		}
		s := FromV1(d.Platform).String()
		if s == "unknown/unknown" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	sort.Strings(out)
	return out
}

// CheckSingle enforces an explicitly requested platform on an image that is
// not part of an index: a mismatch is an error naming what the image is.
// A nil want (the host default) accepts any image.
func CheckSingle(want *image.Platform, have image.Platform, where string) error {
	if want == nil || have.OS == "" {
		return nil
	}
	if !Matches(*want, have) {
		return fmt.Errorf("%s: %w %s; available: %s (choose one with --platform)", where, ErrNoPlatform, *want, have)
	}
	return nil
}
