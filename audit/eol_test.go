package audit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilsec/vigil/audit/internal/catalog"
	"github.com/vigilsec/vigil/inventory"
	"github.com/vigilsec/vigil/report"
)

func TestEOLTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range eolTable() {
		k := r.family + " " + r.version
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		if _, err := time.Parse(time.DateOnly, r.end); err != nil || r.name == "" {
			t.Errorf("%s: bad row %+v: %v", k, r, err)
		}
	}
}

func TestEOL(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(12 * time.Hour)
	}
	tests := []struct {
		name   string
		distro inventory.Distro
		now    string
		want   string // evidence, "" for no finding
	}{
		{"buster after LTS", inventory.Distro{Family: "debian", Version: "10"}, "2024-07-01", "Debian 10 (buster): vendor security support ended 2024-06-30"},
		{"buster on its last day", inventory.Distro{Family: "debian", Version: "10"}, "2024-06-30", ""},
		{"debian point release", inventory.Distro{Family: "debian", Version: "11.11"}, "2026-09-01", "Debian 11 (bullseye): vendor security support ended 2026-08-31"},
		{"bookworm supported", inventory.Distro{Family: "debian", Version: "12"}, "2026-11-28", ""},
		{"debian testing without a version", inventory.Distro{Family: "debian", Codename: "trixie"}, "2040-01-01", ""},
		{"alpine patch version", inventory.Distro{Family: "alpine", Version: "3.18.4"}, "2025-06-01", "Alpine 3.18: vendor security support ended 2025-05-09"},
		{"alpine v-prefixed", inventory.Distro{Family: "alpine", Version: "v3.22"}, "2026-11-28", ""},
		{"ubuntu 20.04", inventory.Distro{Family: "ubuntu", Version: "20.04"}, "2025-06-01", "Ubuntu 20.04 LTS (Focal Fossa): vendor security support ended 2025-05-31"},
		{"ubuntu unknown interim", inventory.Distro{Family: "ubuntu", Version: "25.04"}, "2030-01-01", ""},
		{"centos 8", inventory.Distro{Family: "centos", Version: "8", Name: "CentOS Linux 8"}, "2022-01-01", "CentOS Linux 8: vendor security support ended 2021-12-31"},
		{"centos stream 9", inventory.Distro{Family: "centos", Version: "9", Name: "CentOS Stream 9"}, "2026-11-28", ""},
		{"rhel minor", inventory.Distro{Family: "rhel", Version: "7.9"}, "2024-07-01", "Red Hat Enterprise Linux 7: vendor security support ended 2024-06-30"},
		{"amazon 2", inventory.Distro{Family: "amazon", Version: "2"}, "2026-07-01", "Amazon Linux 2: vendor security support ended 2026-06-30"},
		{"amazon 2018.03", inventory.Distro{Family: "amazon", Version: "2018.03"}, "2024-01-01", "Amazon Linux AMI 2018.03: vendor security support ended 2023-12-31"},
		{"unknown family", inventory.Distro{Family: "wolfi", Version: "20230201"}, "2030-01-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.distro
			r := &report.Report{Target: report.Target{Kind: report.KindRootFS}, Inventory: &inventory.Inventory{Distro: &d}}
			var got string
			for _, i := range Image(r, date(tt.now)) {
				if i.ID == catalog.CntEOLOS {
					got = i.Evidence
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EOL evidence (-want +got):\n%s", diff)
			}
		})
	}
}
