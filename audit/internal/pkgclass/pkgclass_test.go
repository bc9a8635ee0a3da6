package pkgclass

import "testing"

func TestBuildTool(t *testing.T) {
	tests := []struct {
		name string
		apk  bool
		kind Kind
		ok   bool
	}{
		{"gcc", false, Compiler, true},
		{"gcc-12", false, Compiler, true},
		{"g++-12", false, Compiler, true},
		{"cpp-12", false, Compiler, true},
		{"clang-16", false, Compiler, true},
		{"gcc-14-x86-64-linux-gnu", false, Compiler, true},
		{"gcc-12-base", false, "", false}, // runtime support library package, not the compiler
		{"libgcc-s1", false, "", false},
		{"make", false, BuildSys, true},
		{"build-essential", false, BuildSys, true},
		{"build-base", true, BuildSys, true},
		{"git", false, VCS, true},
		{"git-man", false, "", false},
		{"libssl-dev", false, Headers, true},
		{"openssl-devel", false, Headers, true},
		{"musl-dev", true, Headers, true},
		{"udev", false, "", false},
		{"curl", false, Downloader, true},
		{"libcurl4", false, "", false},
		{"go", true, Compiler, true},
		{"go", false, "", false},
		{"openjdk-17-jdk-headless", false, Compiler, true},
		{"openjdk-17-jre-headless", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := BuildTool(tt.name, tt.apk)
			if k != tt.kind || ok != tt.ok {
				t.Errorf("BuildTool(%q, %v) = %q %v, want %q %v", tt.name, tt.apk, k, ok, tt.kind, tt.ok)
			}
		})
	}
}

func TestShellsAndManagers(t *testing.T) {
	for _, n := range []string{"bash", "dash", "busybox"} {
		if !IsShell(n) || IsPackageManager(n) {
			t.Errorf("%s: want a shell", n)
		}
	}
	for _, n := range []string{"apt", "dpkg", "apk-tools", "rpm", "microdnf"} {
		if IsShell(n) || !IsPackageManager(n) {
			t.Errorf("%s: want a package manager", n)
		}
	}
	for prog, want := range map[string]bool{"/bin/sh": true, "bash": true, "/docker-entrypoint.sh": true,
		"/usr/local/bin/app": false, "python3": false, "env": false} {
		if ShellCommand(prog) != want {
			t.Errorf("ShellCommand(%q) = %v, want %v", prog, !want, want)
		}
	}
}
