package secrets

import "strings"

// noisePath reports whether the file at p (no leading slash) is not worth
// reading for secrets: binary or media formats by extension; trees of
// documentation, translations and public certificates; package-manager
// databases; the Go distribution and module cache (public source, verified
// against Go's checksum database, whose keys are test data); and tests,
// fixtures, examples and documentation inside other dependency trees
// (node_modules, Python's lib directories, Ruby gems, vendor), whose fake
// keys are the library authors' test data, not the image owner's secrets.
// Dotfiles in home directories, application directories and configuration
// files are always read.
//
// It runs for every file of every layer, so it is a handful of string
// comparisons and, for most paths, no allocation.
func noisePath(p string) bool {
	base := p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		base = p[i+1:]
	}
	if noiseExt(base) || noiseTree(p) {
		return true
	}
	if i := dependencyTree(p); i >= 0 {
		return dependencyNoise(p[i:], base)
	}
	return false
}

// noiseExt reports binary, media and compiled formats, and public
// certificates, by file name.
func noiseExt(base string) bool {
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return false
	}
	if strings.Contains(base, ".so.") { // libfoo.so.1.2.3
		return true
	}
	switch strings.ToLower(base[dot+1:]) {
	case
		// images, fonts, media, documents
		"png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "svg", "svgz", "tif", "tiff", "psd", "xcf",
		"woff", "woff2", "ttf", "otf", "eot", "pfb", "pcf",
		"mp3", "mp4", "m4a", "ogg", "oga", "wav", "flac", "avi", "mov", "webm", "mkv", "pdf",
		// archives and packages
		"zip", "gz", "tgz", "bz2", "xz", "zst", "lz4", "lzma", "7z", "rar", "tar", "deb", "udeb", "rpm", "apk", "whl", "egg", "jar", "war", "ear", "nupkg", "gem", "crate",
		// compiled code and object files
		"so", "a", "o", "ko", "dll", "exe", "dylib", "node", "wasm", "pyc", "pyo", "class", "dex", "beam", "elc", "mo", "gmo", "qm",
		// databases and indexes
		"db", "sqlite", "sqlite3", "pack", "idx", "cache",
		// public keys and certificates (public by definition), source maps
		"crt", "cer", "der", "p7b", "p7c", "pub", "map":
		return true
	}
	return false
}

// noiseTree reports directories that hold no secrets worth scanning:
// documentation, manual pages, translations, time zones, CA bundles
// (certificates are public), package-manager databases and caches, the Go
// distribution and Go's module and build caches.
func noiseTree(p string) bool {
	switch {
	case strings.HasPrefix(p, "usr/share/"):
		rest := p[len("usr/share/"):]
		for _, d := range [...]string{"doc/", "man/", "info/", "locale/", "i18n/", "zoneinfo/", "icons/", "fonts/", "mime/", "terminfo/", "ca-certificates/", "X11/locale/", "help/", "gtk-doc/", "javadoc/", "bash-completion/", "lintian/", "go/", "go-"} {
			if strings.HasPrefix(rest, d) {
				return true
			}
		}
	case strings.HasPrefix(p, "etc/ssl/certs/"), strings.HasPrefix(p, "etc/pki/ca-trust/"), strings.HasPrefix(p, "etc/pki/tls/certs/"),
		strings.HasPrefix(p, "etc/ca-certificates/"):
		return true
	case strings.HasPrefix(p, "var/lib/dpkg/"), strings.HasPrefix(p, "var/lib/apt/"), strings.HasPrefix(p, "var/cache/apt/"),
		strings.HasPrefix(p, "var/lib/rpm/"), strings.HasPrefix(p, "usr/lib/sysimage/rpm/"), strings.HasPrefix(p, "lib/apk/db/"),
		strings.HasPrefix(p, "var/cache/apk/"), strings.HasPrefix(p, "var/cache/yum/"), strings.HasPrefix(p, "var/cache/dnf/"):
		return true
	case strings.HasPrefix(p, "usr/lib/locale/"), strings.HasPrefix(p, "usr/lib/x86_64-linux-gnu/gconv/"), strings.HasPrefix(p, "usr/lib/aarch64-linux-gnu/gconv/"):
		return true
	case strings.HasPrefix(p, "proc/"), strings.HasPrefix(p, "sys/"), strings.HasPrefix(p, "dev/"):
		return true
	case strings.HasPrefix(p, "usr/local/go/"), strings.HasPrefix(p, "usr/lib/go-"), strings.HasPrefix(p, "usr/lib/go/"):
		return true // the Go distribution
	}
	// The Go module and build caches, wherever GOPATH is.
	return strings.Contains(p, "pkg/mod/") || strings.Contains(p, ".cache/go-build/")
}

// dependencyTree returns the offset in p just past the marker of a tree of
// installed third-party code, or -1.
func dependencyTree(p string) int {
	for _, m := range [...]string{"node_modules/", "site-packages/", "dist-packages/", "lib/python", "/gems/", "/vendor/", "usr/share/perl", "usr/lib/ruby/"} {
		if i := strings.Index(p, m); i >= 0 {
			return i + len(m)
		}
	}
	return -1
}

// dependencyNoise reports, for the part of a path inside a dependency tree,
// test suites and test data (any name containing "test"), fixtures,
// examples, benchmarks and documentation, and the metadata directories of
// Python distributions (whose METADATA and PKG-INFO repeat the README).
func dependencyNoise(rest, base string) bool {
	l := rest
	if hasUpper(rest) {
		l = strings.ToLower(rest)
	}
	if strings.Contains(l, "test") || strings.Contains(l, "spec/") || strings.Contains(l, ".dist-info/") || strings.Contains(l, ".egg-info/") {
		return true
	}
	for _, seg := range [...]string{"fixtures/", "example/", "examples/", "doc/", "docs/", "benchmark/", "benchmarks/"} {
		if strings.HasPrefix(l, seg) || strings.Contains(l, "/"+seg) {
			return true
		}
	}
	lb := base
	if len(base) <= len(l) {
		lb = l[len(l)-len(base):]
	}
	switch {
	case strings.HasPrefix(lb, "readme"), strings.HasPrefix(lb, "changelog"), strings.HasPrefix(lb, "changes"), strings.HasPrefix(lb, "history"),
		strings.HasPrefix(lb, "license"), strings.HasPrefix(lb, "licence"), strings.HasPrefix(lb, "copying"), strings.HasPrefix(lb, "authors"),
		strings.HasSuffix(lb, ".md"), strings.HasSuffix(lb, ".markdown"), strings.HasSuffix(lb, ".rst"), strings.HasSuffix(lb, ".txt"),
		strings.HasSuffix(lb, ".html"), strings.HasSuffix(lb, ".d.ts"):
		return true
	}
	return false
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
