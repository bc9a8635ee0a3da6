// Package builtin is THE list of vigil's extractors. Adding an ecosystem is
// one new package under ecosystem/ plus one line here; a test fails when an
// ecosystem package is not listed.
package builtin

import (
	"github.com/vigilsec/vigil/ecosystem/apk"
	"github.com/vigilsec/vigil/ecosystem/dotnet"
	"github.com/vigilsec/vigil/ecosystem/dpkg"
	"github.com/vigilsec/vigil/ecosystem/golang"
	"github.com/vigilsec/vigil/ecosystem/java"
	"github.com/vigilsec/vigil/ecosystem/npm"
	"github.com/vigilsec/vigil/ecosystem/osrelease"
	"github.com/vigilsec/vigil/ecosystem/php"
	"github.com/vigilsec/vigil/ecosystem/python"
	"github.com/vigilsec/vigil/ecosystem/rpm"
	"github.com/vigilsec/vigil/ecosystem/ruby"
	"github.com/vigilsec/vigil/ecosystem/rust"
	"github.com/vigilsec/vigil/extract"
)

// Image returns the extractors for installed packages: what an image
// actually contains.
func Image() []extract.Extractor {
	return []extract.Extractor{
		osrelease.New(),
		dpkg.New(),
		apk.New(),
		rpm.New(),
		golang.New(),
		rust.New(),
		npm.New(),
		python.New(),
		java.New(),
		ruby.New(),
		php.New(),
		dotnet.New(),
	}
}

// Lockfiles returns the extractors for dependency lock files. They describe
// what a build would install, so they run for source trees (vigil rootfs),
// not for images, where the installed packages are the truth.
func Lockfiles() []extract.Extractor {
	return []extract.Extractor{
		npm.NewLockfiles(),
		ruby.NewLockfile(),
		php.NewLockfile(),
		dotnet.NewLockfile(),
	}
}

// ImageRegistry returns a registry of the image extractors.
func ImageRegistry() *extract.Registry { return extract.NewRegistry(Image()...) }

// RootFSRegistry returns a registry of the image extractors plus the lock
// file extractors.
func RootFSRegistry() *extract.Registry {
	return extract.NewRegistry(append(Image(), Lockfiles()...)...)
}
