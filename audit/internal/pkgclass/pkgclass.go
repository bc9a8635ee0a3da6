// Package pkgclass classifies OS package names for the audit: which are
// build tools that should not ship in a runtime image, which are shells and
// which are package managers. The same lists serve the image content check
// (installed deb, apk and rpm packages) and the Dockerfile check (packages a
// RUN step installs).
package pkgclass

import (
	"regexp"
	"strings"
)

// Kind is a class of build tool.
type Kind string

// The kinds of build tool, in the order evidence lists them.
const (
	Compiler   Kind = "compiler"
	BuildSys   Kind = "build system"
	VCS        Kind = "version control"
	Headers    Kind = "development headers"
	Downloader Kind = "download tool"
)

// Kinds lists the kinds in display order.
func Kinds() []Kind { return []Kind{Compiler, BuildSys, VCS, Headers, Downloader} }

// versioned matches versioned toolchain packages: gcc-12, g++-12, cpp-12,
// clang-16, golang-1.21, the cross/arch variants (gcc-14-x86-64-linux-gnu)
// and JDKs (openjdk-17-jdk-headless), but not their runtime libraries
// (gcc-12-base).
var versioned = regexp.MustCompile(`^(?:(?:gcc|g\+\+|cpp|clang|clang\+\+|llvm|gfortran|golang)-[0-9][0-9.]*(?:-[a-z0-9_-]+-linux-gnu[a-z]*)?|openjdk-[0-9]+-jdk(?:-headless)?)$`)

var tools = map[string]Kind{
	"gcc": Compiler, "g++": Compiler, "cpp": Compiler, "clang": Compiler, "clang++": Compiler, "llvm": Compiler,
	"gfortran": Compiler, "rustc": Compiler, "cargo": Compiler, "golang": Compiler, "golang-go": Compiler,
	"tcc": Compiler, "gcc-c++": Compiler, "cc": Compiler, "musl-gcc": Compiler,
	"make": BuildSys, "cmake": BuildSys, "ninja-build": BuildSys, "ninja": BuildSys, "meson": BuildSys,
	"autoconf": BuildSys, "automake": BuildSys, "libtool": BuildSys, "build-essential": BuildSys,
	"build-base": BuildSys, "alpine-sdk": BuildSys, "binutils": BuildSys, "pkg-config": BuildSys,
	"pkgconf": BuildSys, "pkgconfig": BuildSys, "bison": BuildSys, "flex": BuildSys, "m4": BuildSys,
	"git": VCS, "git-core": VCS, "subversion": VCS, "mercurial": VCS,
	"linux-headers": Headers, "kernel-headers": Headers, "kernel-devel": Headers,
	"curl": Downloader, "wget": Downloader,
}

// BuildTool reports whether a package is a build tool and of which kind.
// Development packages ("-dev" for deb and apk, "-devel" for rpm) count as
// headers; "go" counts as a compiler on Alpine only, where it is the Go
// toolchain's package name.
func BuildTool(name string, apk bool) (Kind, bool) {
	n := strings.ToLower(name)
	if k, ok := tools[n]; ok {
		return k, true
	}
	if apk && n == "go" {
		return Compiler, true
	}
	if versioned.MatchString(n) {
		return Compiler, true
	}
	if strings.HasSuffix(n, "-dev") || strings.HasSuffix(n, "-devel") {
		return Headers, true
	}
	return "", false
}

var shells = map[string]bool{"bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "tcsh": true,
	"csh": true, "fish": true, "busybox": true, "busybox-binsh": true, "ash": true}

var managers = map[string]bool{"apt": true, "dpkg": true, "apk-tools": true, "rpm": true, "yum": true, "dnf": true,
	"microdnf": true, "tdnf": true, "zypper": true, "dnf5": true}

// IsShell reports whether the package provides a command shell.
func IsShell(name string) bool { return shells[strings.ToLower(name)] }

// IsPackageManager reports whether the package is an OS package manager.
func IsPackageManager(name string) bool { return managers[strings.ToLower(name)] }

// ShellCommand reports whether a program path is a shell or a shell script
// (entrypoints like /bin/sh, bash, /docker-entrypoint.sh), i.e. whether the
// image needs a shell to start.
func ShellCommand(prog string) bool {
	b := prog
	if i := strings.LastIndexByte(b, '/'); i >= 0 {
		b = b[i+1:]
	}
	switch b {
	case "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return strings.HasSuffix(b, ".sh")
}
