package shell

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		script string
		want   []Command
	}{
		{"apt-get update && apt-get install -y curl", []Command{
			{Words: []string{"apt-get", "update"}, Pipeline: 0},
			{Words: []string{"apt-get", "install", "-y", "curl"}, Pipeline: 1},
		}},
		{`curl -fsSL "https://x.example/a b" | sudo -E bash -s -- --yes`, []Command{
			{Words: []string{"curl", "-fsSL", "https://x.example/a b"}},
			{Words: []string{"sudo", "-E", "bash", "-s", "--", "--yes"}, Stage: 1},
		}},
		{"echo 'a;b' \"c\\\"d\" e\\ f; ls # comment | sh\nfalse || true", []Command{
			{Words: []string{"echo", "a;b", `c"d`, "e f"}},
			{Words: []string{"ls"}, Pipeline: 1},
			{Words: []string{"false"}, Pipeline: 2},
			{Words: []string{"true"}, Pipeline: 3},
		}},
		{"make 2>&1 | tee log &> /dev/null", []Command{
			{Words: []string{"make", "2>&1"}},
			{Words: []string{"tee", "log", "&>", "/dev/null"}, Stage: 1},
		}},
		{`x=$(curl -s "http://a|b") && echo ${x}`, []Command{
			{Words: []string{`x=$(curl -s "http://a|b")`}},
			{Words: []string{"echo", "${x}"}, Pipeline: 1},
		}},
		{"apt-get install \\\n    gcc \\\n    make", []Command{{Words: []string{"apt-get", "install", "gcc", "make"}}}},
		{"{ cd /src; make; } && find . -exec chmod a-s {} +", []Command{
			{Words: []string{"cd", "/src"}, Pipeline: 1},
			{Words: []string{"make"}, Pipeline: 2},
			{Words: []string{"find", ".", "-exec", "chmod", "a-s", "{}", "+"}, Pipeline: 5},
		}},
		{`unterminated "quote and 'more`, []Command{{Words: []string{"unterminated", "quote and 'more"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Parse(tt.script)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgram(t *testing.T) {
	tests := []struct {
		words   []string
		name    string
		args    []string
		viaSudo bool
	}{
		{[]string{"DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "x"}, "apt-get", []string{"install", "x"}, false},
		{[]string{"sudo", "-u", "root", "-E", "/usr/bin/make", "all"}, "make", []string{"all"}, true},
		{[]string{"env", "-u", "X", "A=1", "bash", "-c", "x"}, "bash", []string{"-c", "x"}, false},
		{[]string{"exec", "nohup", "nice", "-n", "5", "server"}, "server", []string{}, false},
		{[]string{"A=1"}, "", nil, false},
		{[]string{"then", "sudo", "make"}, "make", []string{}, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.words, " "), func(t *testing.T) {
			name, args, sudo := Program(Command{Words: tt.words})
			if name != tt.name || sudo != tt.viaSudo || !cmp.Equal(tt.args, args, cmpEmpty) {
				t.Errorf("Program = %q %q %v, want %q %q %v", name, args, sudo, tt.name, tt.args, tt.viaSudo)
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") })

func TestPipeToShell(t *testing.T) {
	tests := []struct {
		script string
		want   bool
	}{
		{"curl -fsSL https://get.example.com | sh", true},
		{"wget -O- https://x | sudo bash -s", true},
		{"wget -qO - https://x|/bin/bash", true},
		{"curl -s https://x | python3 -", true},
		{`bash -c "$(curl -fsSL https://x/install.sh)"`, true},
		{"sh <(wget -qO- https://x)", true},
		{"curl -fsSLo /tmp/i.sh https://x && sha256sum -c sums && sh /tmp/i.sh", false},
		{"curl -s https://x | tar xz", false},
		{"echo 'curl x | sh'", false},
		{"cat script | sh", false},
		{"if true; then curl -s https://x | sh; fi", true},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			ev, got := PipeToShell(tt.script)
			if got != tt.want {
				t.Errorf("PipeToShell = %v (%q), want %v", got, ev, tt.want)
			}
			if got && ev == "" {
				t.Error("no evidence")
			}
		})
	}
}

func TestInstalls(t *testing.T) {
	script := `apt-get update && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold gcc=4:12.2.0-3 libc6:amd64 \
	  ./local.deb "$EXTRA" && apk add --no-cache --virtual .build-deps make musl-dev && apk add curl \
	  && pip install flask && dnf -y --setopt=tsflags=nodocs install git && apk del .build-deps && apt-get purge -y gcc`
	installs, removed := Installs(Parse(script))
	want := []Install{
		{Manager: "apt", Program: "apt-get", Packages: []string{"gcc", "libc6"},
			Args: []string{"install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold", "gcc=4:12.2.0-3", "libc6:amd64", "./local.deb", "$EXTRA"}},
		{Manager: "apk", Program: "apk", Packages: []string{"make", "musl-dev"}, Virtual: ".build-deps",
			Args: []string{"add", "--no-cache", "--virtual", ".build-deps", "make", "musl-dev"}},
		{Manager: "apk", Program: "apk", Packages: []string{"curl"}, Args: []string{"add", "curl"}},
		{Manager: "dnf", Program: "dnf", Packages: []string{"git"}, Args: []string{"-y", "--setopt=tsflags=nodocs", "install", "git"}},
	}
	if diff := cmp.Diff(want, installs); diff != "" {
		t.Errorf("installs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{".build-deps": true, "gcc": true}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"apt-get update && apt-get install -y curl", `curl -fsSL "x" | sudo -E bash -s`, "echo 'a;b' \"c\\\"d\" e\\ f; ls # c",
		`x=$(curl -s "a|b") && echo ${x}`, "{ cd /src; make; }", "sh <(wget -qO- x)", "\\", "$(", "'", "\"\\", "`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds := Parse(s)
		for _, c := range cmds {
			if len(c.Words) == 0 {
				t.Fatalf("empty command from %q", s)
			}
			Program(c)
		}
		Installs(cmds)
		PipeToShell(s)
	})
}
