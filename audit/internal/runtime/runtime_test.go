package runtime

import "testing"

func TestRuntime(t *testing.T) {
	for c, want := range map[string]bool{"SYS_ADMIN": true, "cap_sys_admin": true, " ALL ": true, "NET_BIND_SERVICE": false,
		"CHOWN": false, "NET_ADMIN": true, "SYS_PTRACE": true} {
		if DangerousCap(c) != want {
			t.Errorf("DangerousCap(%q) = %v", c, !want)
		}
	}
	if !DropsAll([]string{"NET_RAW", "all"}) || DropsAll([]string{"NET_RAW"}) || DropsAll(nil) {
		t.Error("DropsAll")
	}
	for p, want := range map[string]bool{"/var/run/docker.sock": true, "/run/docker.sock/": true, "/var/run": true,
		"/home/u/.docker/run/docker.sock": true, "/var/lib/docker": false, "./docker.socket": false, "/srv": false} {
		if DockerSocket(p) != want {
			t.Errorf("DockerSocket(%q) = %v", p, !want)
		}
	}
	for o, want := range map[string]bool{"no-new-privileges": true, "no-new-privileges:true": true,
		"no-new-privileges=true": true, "no-new-privileges=false": false, "seccomp=unconfined": false} {
		if NoNewPrivileges(o) != want {
			t.Errorf("NoNewPrivileges(%q) = %v", o, !want)
		}
	}
	for o, want := range map[string]bool{"seccomp=unconfined": true, "seccomp:unconfined": true, "apparmor=unconfined": true,
		"apparmor=docker-default": false, "seccomp=/etc/profile.json": false} {
		if Unconfined(o) != want {
			t.Errorf("Unconfined(%q) = %v", o, !want)
		}
	}
}
