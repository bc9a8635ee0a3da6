package audit

import "strings"

// minimalBase is a small base image of a distribution family, the yardstick
// the oversized-image check compares an image with. Sizes are the
// uncompressed size "docker images" shows for linux/amd64 and package
// counts what the package database lists, both approximate: they move a
// little with every point release.
type minimalBase struct {
	image    string
	sizeMB   int
	packages int
	// alternative names an even smaller option, for the evidence.
	alternative string
}

// minimalFor maps a distro family to its minimal base.
func minimalFor(family string) (minimalBase, bool) {
	switch strings.ToLower(family) {
	case "debian":
		// debian:bookworm-slim: ~75 MB, 88 packages (a debootstrap --variant=minbase
		// bookworm root, which slim is built from, lists 88);
		// https://hub.docker.com/_/debian and https://github.com/debuerreotype/debuerreotype
		// gcr.io/distroless/base-debian12: ~20 MB; https://github.com/GoogleContainerTools/distroless
		return minimalBase{"debian:bookworm-slim", 75, 88, "gcr.io/distroless/base-debian12 (~20 MB, no shell or package manager)"}, true
	case "ubuntu":
		// ubuntu:24.04: ~78 MB, about 90-100 packages; https://hub.docker.com/_/ubuntu
		// chiselled Ubuntu images are a few MB; https://ubuntu.com/containers/chiselled
		return minimalBase{"ubuntu:24.04", 78, 100, "chiselled Ubuntu images (a few MB)"}, true
	case "alpine":
		// alpine:3.20: ~7.8 MB, 14-15 packages; https://hub.docker.com/_/alpine
		return minimalBase{"alpine:3.22", 8, 15, "gcr.io/distroless/static (~2 MB) for static binaries"}, true
	case "rhel", "centos", "rocky", "almalinux", "oracle":
		// ubi9/ubi-minimal: ~100 MB, ~100 packages; ubi9/ubi-micro: ~25 MB;
		// https://catalog.redhat.com/software/base-images
		return minimalBase{"registry.access.redhat.com/ubi9/ubi-minimal", 100, 100, "ubi9/ubi-micro (~25 MB, no package manager)"}, true
	case "fedora":
		// fedora-minimal: ~ 100 MB; https://quay.io/repository/fedora/fedora-minimal
		return minimalBase{"quay.io/fedora/fedora-minimal", 100, 110, ""}, true
	case "amazon":
		// amazonlinux:2023 ~ 140 MB (about 100 packages); the minimal variant is ~35 MB;
		// https://docs.aws.amazon.com/linux/al2023/ug/minimal-container.html
		return minimalBase{"amazonlinux:2023 minimal container", 35, 100, ""}, true
	}
	return minimalBase{}, false
}
