package catalog

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/report"
)

var idRe = regexp.MustCompile(`^VGL-(IMG|CNT|SEC|DKF|MAN|CTR)-\d{3}$`)

var areaCategory = map[string][]report.Category{
	"IMG": {report.CategoryConfig}, "CNT": {report.CategoryContent}, "SEC": {report.CategorySecret},
	"DKF": {report.CategoryDockerfile}, "MAN": {report.CategoryManifest}, "CTR": {report.CategoryContainer},
}

// TestCatalogue holds every rule to the catalogue's contract: a well-formed
// unique ID in order, a category matching its area, and every text field a
// finding shows filled in.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for _, r := range All() {
		if !idRe.MatchString(r.ID) {
			t.Errorf("%s: malformed ID", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("%s: duplicate ID", r.ID)
		}
		seen[r.ID] = true
		if r.ID < prev && r.ID[:7] == prev[:7] {
			t.Errorf("%s listed after %s", r.ID, prev)
		}
		prev = r.ID
		area := r.ID[4:7]
		if cats := areaCategory[area]; len(cats) == 0 || cats[0] != r.Category {
			t.Errorf("%s: category %q does not match area %s", r.ID, r.Category, area)
		}
		if r.Severity.Rank() == 0 {
			t.Errorf("%s: severity %q", r.ID, r.Severity)
		}
		if r.Name == "" || r.Title == "" || len(r.Description) < 40 || len(r.Fix) < 20 || !strings.HasPrefix(r.Reference, "https://") {
			t.Errorf("%s: incomplete rule %+v", r.ID, r)
		}
		if Get(r.ID).ID != r.ID {
			t.Errorf("Get(%s) returned another rule", r.ID)
		}
	}
	// Every constant names a rule (Get panics otherwise).
	for _, id := range []string{ImgRootUser, ImgSecretEnv, ImgSecretLabel, ImgSecretHistory, ImgNoHealthcheck, ImgPrivilegedPort,
		ImgAddRemoteURL, ImgPipeToShell, ImgMutableTag, CntBuildTools, CntPackageCache, CntShellPkgManager, CntEOLOS,
		CntStalePackages, CntOversized, CntSetuid, CntWorldWritable, CntOtherFile, SecPrivateKey, SecAWS, SecGCP, SecAzure,
		SecGitHub, SecGitLab, SecSlack, SecStripe, SecJWT, SecDatabaseURL, SecRegistryAuth, SecEnvFile, SecGitCredentials,
		SecOther, DkfRootUser, DkfBaseLatest, DkfBaseNoDigest, DkfAptRecommends, DkfAptLists, DkfApkCache, DkfCopyContext,
		DkfSecretArgEnv, DkfBuildTools, DkfAddLocal, DkfAddURL, DkfSudo, DkfNoHealthcheck, DkfPipeToShell, ManPrivileged,
		ManCapsNotDropped, ManDangerousCap, ManWritableRoot, ManRunAsRoot, ManPrivEscalation, ManHostNamespace,
		ManDockerSocket, ManNoLimits, ManMutableImage, ManUnconfined, CtrPrivileged, CtrCapsNotDropped, CtrDangerousCap,
		CtrWritableRoot, CtrRunAsRoot, CtrNoNewPrivileges, CtrHostNamespace, CtrDockerSocket, CtrNoLimits,
		CtrMutableImage, CtrUnconfined, CtrImageVulns} {
		delete(seen, Get(id).ID)
	}
	for id := range seen {
		t.Errorf("%s has no constant", id)
	}
}

// TestForFileRule maps the content observers' rule names (as the secrets
// and content extractors name them) to catalogue rules.
func TestForFileRule(t *testing.T) {
	for name, want := range map[string]string{
		"secret-private-key":         SecPrivateKey,
		"secret-ssh-private-key":     SecPrivateKey,
		"secret-aws-access-key":      SecAWS,
		"secret-aws-secret-key":      SecAWS,
		"secret-gcp-service-account": SecGCP,
		"secret-azure-storage-key":   SecAzure,
		"secret-github-token":        SecGitHub,
		"secret-gitlab-token":        SecGitLab,
		"secret-slack-webhook":       SecSlack,
		"secret-stripe-key":          SecStripe,
		"secret-jwt":                 SecJWT,
		"secret-database-url":        SecDatabaseURL,
		"secret-npmrc-auth":          SecRegistryAuth,
		"secret-docker-config-auth":  SecRegistryAuth,
		"secret-pypirc-password":     SecRegistryAuth,
		"secret-env-file":            SecEnvFile,
		"secret-dotenv":              SecEnvFile,
		"secret-git-credentials":     SecGitCredentials,
		"secret-something-new":       SecOther,
		"setuid-binary":              CntSetuid,
		"world-writable":             CntWorldWritable,
		"apt-cache-left":             CntPackageCache,
		"pip-cache-left":             CntPackageCache,
		"core-dump":                  CntOtherFile,
	} {
		if got := ForFileRule(name).ID; got != want {
			t.Errorf("ForFileRule(%q) = %s, want %s", name, got, want)
		}
	}
}
