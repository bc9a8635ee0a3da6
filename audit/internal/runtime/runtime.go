// Package runtime holds the judgements the manifest and container checks
// share about container runtime settings: which capabilities are
// dangerous, which host paths expose the Docker Engine, and how the
// no-new-privileges and unconfined security options are spelled.
package runtime

import "strings"

// Cap normalises a capability name: upper case, without the CAP_ prefix.
func Cap(s string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
}

// DangerousCap reports whether adding a capability amounts to (or easily
// leads to) root on the host: ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE,
// SYS_MODULE, SYS_RAWIO, SYS_BOOT, SYS_TIME, SYS_RESOURCE, DAC_READ_SEARCH,
// BPF, PERFMON, MAC_ADMIN, MAC_OVERRIDE and SYSLOG.
func DangerousCap(name string) bool {
	switch Cap(name) {
	case "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME",
		"SYS_RESOURCE", "DAC_READ_SEARCH", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE", "SYSLOG":
		return true
	}
	return false
}

// DropsAll reports whether a cap_drop / CapDrop list drops every
// capability.
func DropsAll(drop []string) bool {
	for _, d := range drop {
		if Cap(d) == "ALL" {
			return true
		}
	}
	return false
}

// DockerSocket reports whether a host path is the Docker Engine's socket
// or a directory that holds it (/var/run, /run).
func DockerSocket(p string) bool {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	switch p {
	case "/var/run", "/run", "/var/run/docker", "/run/docker":
		return true
	}
	return strings.HasSuffix(p, "/docker.sock")
}

// normOpt lower-cases a security option and writes its separator as "=".
func normOpt(o string) string {
	o = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(o), " ", ""))
	return strings.Replace(o, ":", "=", 1)
}

// NoNewPrivileges reports whether a security option turns no-new-privileges
// on ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true").
func NoNewPrivileges(opt string) bool {
	o := normOpt(opt)
	return o == "no-new-privileges" || o == "no-new-privileges=true"
}

// Unconfined reports whether a security option disables seccomp or
// AppArmor ("seccomp=unconfined", "apparmor:unconfined").
func Unconfined(opt string) bool {
	o := normOpt(opt)
	return o == "seccomp=unconfined" || o == "apparmor=unconfined"
}
