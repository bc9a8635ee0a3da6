package imgref

import "testing"

func TestMutable(t *testing.T) {
	tests := []struct {
		ref, reason string
		mutable     bool
		name, tag   string
	}{
		{"nginx", "no tag", true, "nginx", ""},
		{"nginx:latest", "latest tag", true, "nginx", "latest"},
		{"nginx:LATEST", "latest tag", true, "nginx", "LATEST"},
		{"nginx:1.27", "", false, "nginx", "1.27"},
		{"localhost:5000/app", "no tag", true, "localhost:5000/app", ""},
		{"localhost:5000/app:2", "", false, "localhost:5000/app", "2"},
		{"ghcr.io/o/app:latest@sha256:abc", "", false, "ghcr.io/o/app", "latest"},
		{"app@sha256:abc", "", false, "app", ""},
		{"scratch", "", false, "scratch", ""},
		{"${BASE}:${TAG}", "", false, "${BASE}", "${TAG}"},
		{"", "", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			reason, ok := Mutable(tt.ref)
			if ok != tt.mutable || reason != tt.reason {
				t.Errorf("Mutable = %q %v, want %q %v", reason, ok, tt.reason, tt.mutable)
			}
			if r := Parse(tt.ref); r.Name != tt.name || r.Tag != tt.tag {
				t.Errorf("Parse = %+v, want name %q tag %q", r, tt.name, tt.tag)
			}
		})
	}
}
