package audit

import (
	"strings"
	"time"

	"github.com/vigilsec/vigil/inventory"
)

// eolRelease is when a distribution release stopped (or stops) receiving
// free security updates from its vendor. Where the vendor gives only a
// month, the last day of that month is used.
type eolRelease struct {
	family  string // inventory.Distro.Family
	version string // release as matched: major ("12"), major.minor ("3.20", "22.04"), or "stream-9"
	name    string // human-readable name for the evidence
	end     string // YYYY-MM-DD
}

// eolTable returns the end-of-life dates vigil knows. Each row notes its
// source; the Debian dates are the end of Debian LTS (the last free
// security support), the Ubuntu dates the end of standard support (ESM
// beyond it needs Ubuntu Pro), the RHEL-family dates the end of
// maintenance support. Releases not listed are not judged.
func eolTable() []eolRelease {
	return []eolRelease{
		// Debian: https://wiki.debian.org/LTS (LTS end dates per release)
		{"debian", "7", "Debian 7 (wheezy)", "2018-05-31"},     // https://wiki.debian.org/LTS
		{"debian", "8", "Debian 8 (jessie)", "2020-06-30"},     // https://wiki.debian.org/LTS
		{"debian", "9", "Debian 9 (stretch)", "2022-06-30"},    // https://wiki.debian.org/LTS
		{"debian", "10", "Debian 10 (buster)", "2024-06-30"},   // https://wiki.debian.org/LTS
		{"debian", "11", "Debian 11 (bullseye)", "2026-08-31"}, // https://wiki.debian.org/LTS
		{"debian", "12", "Debian 12 (bookworm)", "2028-06-30"}, // https://wiki.debian.org/LTS
		{"debian", "13", "Debian 13 (trixie)", "2030-06-30"},   // https://wiki.debian.org/LTS

		// Ubuntu: https://ubuntu.com/about/release-cycle (end of standard support, month precision)
		{"ubuntu", "14.04", "Ubuntu 14.04 LTS (Trusty Tahr)", "2019-04-30"},     // https://ubuntu.com/about/release-cycle
		{"ubuntu", "16.04", "Ubuntu 16.04 LTS (Xenial Xerus)", "2021-04-30"},    // https://ubuntu.com/about/release-cycle
		{"ubuntu", "18.04", "Ubuntu 18.04 LTS (Bionic Beaver)", "2023-05-31"},   // https://ubuntu.com/about/release-cycle
		{"ubuntu", "20.04", "Ubuntu 20.04 LTS (Focal Fossa)", "2025-05-31"},     // https://ubuntu.com/about/release-cycle
		{"ubuntu", "20.10", "Ubuntu 20.10 (Groovy Gorilla)", "2021-07-31"},      // https://ubuntu.com/about/release-cycle
		{"ubuntu", "21.04", "Ubuntu 21.04 (Hirsute Hippo)", "2022-01-31"},       // https://ubuntu.com/about/release-cycle
		{"ubuntu", "21.10", "Ubuntu 21.10 (Impish Indri)", "2022-07-31"},        // https://ubuntu.com/about/release-cycle
		{"ubuntu", "22.04", "Ubuntu 22.04 LTS (Jammy Jellyfish)", "2027-05-31"}, // https://ubuntu.com/about/release-cycle
		{"ubuntu", "22.10", "Ubuntu 22.10 (Kinetic Kudu)", "2023-07-31"},        // https://ubuntu.com/about/release-cycle
		{"ubuntu", "23.04", "Ubuntu 23.04 (Lunar Lobster)", "2024-01-31"},       // https://ubuntu.com/about/release-cycle
		{"ubuntu", "23.10", "Ubuntu 23.10 (Mantic Minotaur)", "2024-07-31"},     // https://ubuntu.com/about/release-cycle
		{"ubuntu", "24.04", "Ubuntu 24.04 LTS (Noble Numbat)", "2029-04-30"},    // https://ubuntu.com/about/release-cycle
		{"ubuntu", "24.10", "Ubuntu 24.10 (Oracular Oriole)", "2025-07-31"},     // https://ubuntu.com/about/release-cycle

		// Alpine: https://alpinelinux.org/releases/ (end of support of the main repository)
		{"alpine", "3.12", "Alpine 3.12", "2022-05-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.13", "Alpine 3.13", "2022-11-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.14", "Alpine 3.14", "2023-05-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.15", "Alpine 3.15", "2023-11-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.16", "Alpine 3.16", "2024-05-23"}, // https://alpinelinux.org/releases/
		{"alpine", "3.17", "Alpine 3.17", "2024-11-22"}, // https://alpinelinux.org/releases/
		{"alpine", "3.18", "Alpine 3.18", "2025-05-09"}, // https://alpinelinux.org/releases/
		{"alpine", "3.19", "Alpine 3.19", "2025-11-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.20", "Alpine 3.20", "2026-04-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.21", "Alpine 3.21", "2026-11-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.22", "Alpine 3.22", "2027-05-01"}, // https://alpinelinux.org/releases/
		{"alpine", "3.23", "Alpine 3.23", "2027-11-01"}, // https://alpinelinux.org/releases/

		// Red Hat Enterprise Linux: https://access.redhat.com/support/policy/updates/errata (end of maintenance support)
		{"rhel", "7", "Red Hat Enterprise Linux 7", "2024-06-30"}, // https://access.redhat.com/support/policy/updates/errata
		{"rhel", "8", "Red Hat Enterprise Linux 8", "2029-05-31"}, // https://access.redhat.com/support/policy/updates/errata
		{"rhel", "9", "Red Hat Enterprise Linux 9", "2032-05-31"}, // https://access.redhat.com/support/policy/updates/errata
		// CentOS: https://www.centos.org/centos-linux-eol/ and https://www.centos.org/cl-vs-cs/
		{"centos", "7", "CentOS Linux 7", "2024-06-30"},                 // https://www.centos.org/centos-linux-eol/
		{"centos", "8", "CentOS Linux 8", "2021-12-31"},                 // https://www.centos.org/centos-linux-eol/
		{"centos", "stream-8", "CentOS Stream 8", "2024-05-31"},         // https://www.centos.org/cl-vs-cs/
		{"centos", "stream-9", "CentOS Stream 9", "2027-05-31"},         // https://www.centos.org/cl-vs-cs/
		{"rocky", "8", "Rocky Linux 8", "2029-05-31"},                   // https://wiki.rockylinux.org/rocky/version/
		{"rocky", "9", "Rocky Linux 9", "2032-05-31"},                   // https://wiki.rockylinux.org/rocky/version/
		{"almalinux", "8", "AlmaLinux 8", "2029-03-01"},                 // https://wiki.almalinux.org/release-notes/
		{"almalinux", "9", "AlmaLinux 9", "2032-05-31"},                 // https://wiki.almalinux.org/release-notes/
		{"oracle", "7", "Oracle Linux 7", "2024-12-31"},                 // https://www.oracle.com/a/ocom/docs/elsp-lifetime-069338.pdf (premier support)
		{"oracle", "8", "Oracle Linux 8", "2029-07-31"},                 // https://www.oracle.com/a/ocom/docs/elsp-lifetime-069338.pdf (premier support)
		{"oracle", "9", "Oracle Linux 9", "2032-06-30"},                 // https://www.oracle.com/a/ocom/docs/elsp-lifetime-069338.pdf (premier support)
		{"fedora", "36", "Fedora 36", "2023-05-16"},                     // https://docs.fedoraproject.org/en-US/releases/eol/
		{"fedora", "37", "Fedora 37", "2023-12-05"},                     // https://docs.fedoraproject.org/en-US/releases/eol/
		{"fedora", "38", "Fedora 38", "2024-05-21"},                     // https://docs.fedoraproject.org/en-US/releases/eol/
		{"fedora", "39", "Fedora 39", "2024-11-26"},                     // https://docs.fedoraproject.org/en-US/releases/eol/
		{"fedora", "40", "Fedora 40", "2025-05-13"},                     // https://docs.fedoraproject.org/en-US/releases/eol/
		{"amazon", "2018.03", "Amazon Linux AMI 2018.03", "2023-12-31"}, // https://aws.amazon.com/amazon-linux-ami/faqs/
		{"amazon", "2", "Amazon Linux 2", "2026-06-30"},                 // https://aws.amazon.com/amazon-linux-2/faqs/
		{"amazon", "2023", "Amazon Linux 2023", "2029-06-30"},           // https://docs.aws.amazon.com/linux/al2023/ug/release-cadence.html
	}
}

// eolOf returns the end-of-life row for a distro release, if the table has
// one.
func eolOf(d *inventory.Distro) (eolRelease, time.Time, bool) {
	if d == nil {
		return eolRelease{}, time.Time{}, false
	}
	fam := strings.ToLower(d.Family)
	switch fam {
	case "ol":
		fam = "oracle"
	case "rocky linux":
		fam = "rocky"
	case "amzn":
		fam = "amazon"
	}
	key := releaseKey(fam, d)
	if key == "" {
		return eolRelease{}, time.Time{}, false
	}
	for _, r := range eolTable() {
		if r.family == fam && r.version == key {
			end, err := time.Parse(time.DateOnly, r.end)
			if err != nil {
				return eolRelease{}, time.Time{}, false
			}
			return r, end, true
		}
	}
	return eolRelease{}, time.Time{}, false
}

// releaseKey reduces a distro version to the precision the table uses:
// major.minor for Alpine and Ubuntu, major for the others (Debian
// "12.11" -> "12", RHEL "9.3" -> "9"), "stream-N" for CentOS Stream, and
// "2018.03" for the first Amazon Linux.
func releaseKey(fam string, d *inventory.Distro) string {
	v := strings.TrimPrefix(strings.TrimSpace(d.Version), "v")
	if v == "" {
		return ""
	}
	parts := strings.Split(v, ".")
	switch fam {
	case "alpine", "ubuntu":
		if len(parts) < 2 {
			return ""
		}
		return parts[0] + "." + parts[1]
	case "amazon":
		if strings.HasPrefix(v, "2018.03") {
			return "2018.03"
		}
		return parts[0]
	case "centos":
		if strings.Contains(strings.ToLower(d.Name), "stream") {
			return "stream-" + parts[0]
		}
		return parts[0]
	}
	return parts[0]
}
