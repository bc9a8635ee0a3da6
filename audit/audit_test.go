package audit

import (
	"testing"

	"github.com/vigilsec/vigil/report"
)

func TestContainerImageVulns(t *testing.T) {
	if _, ok := ContainerImageVulns("web", "app:1", "abc", map[report.Severity]int{}); ok {
		t.Error("an image without vulnerabilities gave an issue")
	}
	is, ok := ContainerImageVulns("web", "app:1", "abc", map[report.Severity]int{report.Medium: 2, report.Critical: 1})
	if !ok || is.Severity != report.Critical || is.Path != "web" || is.ID != "VGL-CTR-012" ||
		is.Evidence != "app:1 (abc): 3 known vulnerabilities: 1 critical, 2 medium" {
		t.Errorf("issue = %+v", is)
	}
}
