// Package catalog is the one list of vigil's hardening rules: the ID, name,
// severity, category, explanation, fix and reference of every check the
// audit packages run. The audit packages build their report.Issue values
// from it, audit.Rules publishes it, and docs/audit-rules.md is generated
// from it, so the code and the documentation cannot drift apart.
//
// IDs are stable: VGL-<AREA>-<NNN>, where AREA is IMG (image config), CNT
// (image content), SEC (secrets found in image files), DKF (Dockerfile), MAN
// (compose and Kubernetes manifests) or CTR (running containers). A rule is
// never renumbered; a retired rule's ID is not reused.
package catalog

import (
	"path"

	"github.com/vigilsec/vigil/report"
)

// Rule describes one check.
type Rule struct {
	// ID is the stable identifier ("VGL-IMG-001").
	ID string `json:"id"`
	// Name is a short slug ("root-user").
	Name     string          `json:"name"`
	Title    string          `json:"title"`
	Severity report.Severity `json:"severity"`
	Category report.Category `json:"category"`
	// Description explains, in one paragraph, why the finding matters.
	Description string `json:"description"`
	// Fix says what to change.
	Fix string `json:"fix"`
	// Reference is a URL with the background.
	Reference string `json:"reference"`
	// Standard names the benchmark control the rule follows, when one does
	// ("CIS Docker Benchmark v1.6.0 4.1").
	Standard string `json:"standard,omitempty"`
	// FileRules are patterns (path.Match syntax) of the content observers'
	// rule names (inventory.FileFinding.Rule) this rule reports.
	FileRules []string `json:"fileRules,omitempty"`
}

// Issue returns an issue of this rule at a place. Layer is -1 when the
// issue belongs to no layer.
func (r *Rule) Issue(path string, line, layer int, evidence string) report.Issue {
	return report.Issue{
		ID:          r.ID,
		Title:       r.Title,
		Severity:    r.Severity,
		Category:    r.Category,
		Description: r.Description,
		Fix:         r.Fix,
		Reference:   r.Reference,
		Path:        path,
		Line:        line,
		Layer:       layer,
		Evidence:    evidence,
	}
}

// MatchesFileRule reports whether a content observer's rule name is one
// this rule reports.
func (r *Rule) MatchesFileRule(name string) bool {
	for _, p := range r.FileRules {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Get returns the rule with the given ID. It panics on an unknown ID: every
// caller passes one of the constants below, and a test proves each of them
// is in the catalogue.
func Get(id string) *Rule {
	for _, r := range All() {
		if r.ID == id {
			return &r
		}
	}
	panic("catalog: unknown rule " + id)
}

// Rule IDs.
const (
	ImgRootUser        = "VGL-IMG-001"
	ImgSecretEnv       = "VGL-IMG-002"
	ImgSecretLabel     = "VGL-IMG-003"
	ImgSecretHistory   = "VGL-IMG-004"
	ImgNoHealthcheck   = "VGL-IMG-005"
	ImgPrivilegedPort  = "VGL-IMG-006"
	ImgAddRemoteURL    = "VGL-IMG-007"
	ImgPipeToShell     = "VGL-IMG-008"
	ImgMutableTag      = "VGL-IMG-009"
	CntBuildTools      = "VGL-CNT-001"
	CntPackageCache    = "VGL-CNT-002"
	CntShellPkgManager = "VGL-CNT-003"
	CntEOLOS           = "VGL-CNT-004"
	CntStalePackages   = "VGL-CNT-005"
	CntOversized       = "VGL-CNT-006"
	CntSetuid          = "VGL-CNT-007"
	CntWorldWritable   = "VGL-CNT-008"
	CntOtherFile       = "VGL-CNT-009"
	SecPrivateKey      = "VGL-SEC-001"
	SecAWS             = "VGL-SEC-002"
	SecGCP             = "VGL-SEC-003"
	SecAzure           = "VGL-SEC-004"
	SecGitHub          = "VGL-SEC-005"
	SecGitLab          = "VGL-SEC-006"
	SecSlack           = "VGL-SEC-007"
	SecStripe          = "VGL-SEC-008"
	SecJWT             = "VGL-SEC-009"
	SecDatabaseURL     = "VGL-SEC-010"
	SecRegistryAuth    = "VGL-SEC-011"
	SecEnvFile         = "VGL-SEC-012"
	SecGitCredentials  = "VGL-SEC-013"
	SecOther           = "VGL-SEC-014"
	DkfRootUser        = "VGL-DKF-001"
	DkfBaseLatest      = "VGL-DKF-002"
	DkfBaseNoDigest    = "VGL-DKF-003"
	DkfAptRecommends   = "VGL-DKF-004"
	DkfAptLists        = "VGL-DKF-005"
	DkfApkCache        = "VGL-DKF-006"
	DkfCopyContext     = "VGL-DKF-007"
	DkfSecretArgEnv    = "VGL-DKF-008"
	DkfBuildTools      = "VGL-DKF-009"
	DkfAddLocal        = "VGL-DKF-010"
	DkfAddURL          = "VGL-DKF-011"
	DkfSudo            = "VGL-DKF-012"
	DkfNoHealthcheck   = "VGL-DKF-013"
	DkfPipeToShell     = "VGL-DKF-014"
	ManPrivileged      = "VGL-MAN-001"
	ManCapsNotDropped  = "VGL-MAN-002"
	ManDangerousCap    = "VGL-MAN-003"
	ManWritableRoot    = "VGL-MAN-004"
	ManRunAsRoot       = "VGL-MAN-005"
	ManPrivEscalation  = "VGL-MAN-006"
	ManHostNamespace   = "VGL-MAN-007"
	ManDockerSocket    = "VGL-MAN-008"
	ManNoLimits        = "VGL-MAN-009"
	ManMutableImage    = "VGL-MAN-010"
	ManUnconfined      = "VGL-MAN-011"
	CtrPrivileged      = "VGL-CTR-001"
	CtrCapsNotDropped  = "VGL-CTR-002"
	CtrDangerousCap    = "VGL-CTR-003"
	CtrWritableRoot    = "VGL-CTR-004"
	CtrRunAsRoot       = "VGL-CTR-005"
	CtrNoNewPrivileges = "VGL-CTR-006"
	CtrHostNamespace   = "VGL-CTR-007"
	CtrDockerSocket    = "VGL-CTR-008"
	CtrNoLimits        = "VGL-CTR-009"
	CtrMutableImage    = "VGL-CTR-010"
	CtrUnconfined      = "VGL-CTR-011"
	CtrImageVulns      = "VGL-CTR-012"
)

// References used by several rules.
const (
	refBestPractices = "https://docs.docker.com/build/building/best-practices/"
	refMultiStage    = "https://docs.docker.com/build/building/multi-stage/"
	refBuildSecrets  = "https://docs.docker.com/build/building/secrets/"
	refPSS           = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
	refOWASP         = "https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html"
	refRunSecurity   = "https://docs.docker.com/reference/cli/docker/container/run/#security-opt"
	refResources     = "https://docs.docker.com/engine/containers/resource_constraints/"
	refCapabilities  = "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities"
	refSocket        = "https://docs.docker.com/engine/security/protect-access/"
	refSeccomp       = "https://docs.docker.com/engine/security/seccomp/"
	refHealthcheck   = "https://docs.docker.com/reference/dockerfile/#healthcheck"
	refDockerignore  = "https://docs.docker.com/build/concepts/context/#dockerignore-files"
	refDistroless    = "https://github.com/GoogleContainerTools/distroless"
	refSecretLeak    = "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"
)

const cis = "CIS Docker Benchmark v1.6.0 "

// Shared explanations of the runtime checks: the manifest and container
// rules say the same thing about the same setting.
const (
	descPrivileged = "A privileged container gets every Linux capability, every host device and no seccomp or " +
		"AppArmor confinement; a process in it can mount the host's disks or load kernel modules, so a compromise of " +
		"the application is a compromise of the host."
	descCapsNotDropped = "Containers start with a default set of Linux capabilities (CHOWN, DAC_OVERRIDE, SETUID, " +
		"NET_RAW, ...) that most applications never use. Each one left in place widens what an attacker can do after " +
		"taking over the process."
	descDangerousCap = "This capability grants powers close to full root on the host: SYS_ADMIN allows mounts and " +
		"namespace tricks that lead to container escapes, SYS_PTRACE allows reading other processes' memory, NET_ADMIN " +
		"allows reconfiguring the network, and ALL is equivalent to privileged."
	descWritableRoot = "When the root file system is writable, an attacker who gets code execution can drop tools, " +
		"change binaries or persist a backdoor inside the container. A read-only root with explicit writable volumes " +
		"for data and tmpfs for scratch space blocks that."
	descRunAsRoot = "The process runs as UID 0. Root inside a container is root on the host's kernel: one kernel or " +
		"runtime bug away from the host, and able to read or change anything mounted into the container."
	descHostNamespace = "Sharing the host's network, PID or IPC namespace removes the isolation that namespace " +
		"provides: the container can see and signal host processes, bind host ports, sniff host traffic or attach " +
		"to host shared memory."
	descDockerSocket = "The Docker socket is the Engine's full API. A container that can reach it can start a " +
		"privileged container with the host's root file system mounted, which is root on the host."
	descNoLimits = "Without a memory and CPU limit, one runaway or attacked container can exhaust the host and " +
		"take every other workload on it down (denial of service)."
	descMutableImage = "A tag like latest, or no tag at all, names whatever was pushed last. Deployments stop being " +
		"reproducible, and a compromised or broken push is picked up silently on the next pull."
	descUnconfined = "Running with seccomp or AppArmor disabled removes the kernel-level filters that block " +
		"dangerous system calls and file accesses, so kernel exploits and escapes become much easier."
)

// All returns the catalogue, ordered by ID.
func All() []Rule {
	return []Rule{
		// ---- image configuration -------------------------------------------------
		{ID: ImgRootUser, Name: "root-user", Title: "Image runs as root", Severity: report.High, Category: report.CategoryConfig,
			Description: "The image configuration sets no USER, or sets root (UID 0), so every container started from " +
				"it runs its process as root unless the runtime overrides the user. Any remote code execution in the " +
				"application then runs with root privileges inside the container and is one kernel or runtime flaw away " +
				"from the host.",
			Fix:       "Create an unprivileged user in the Dockerfile (RUN useradd --uid 10001 app) and end the final stage with USER 10001 (a numeric UID lets Kubernetes verify runAsNonRoot).",
			Reference: refBestPractices + "#user", Standard: cis + "4.1"},
		{ID: ImgSecretEnv, Name: "secret-in-env", Title: "Secret in an environment variable of the image", Severity: report.High, Category: report.CategoryConfig,
			Description: "An environment variable whose name says it holds a password, token or key has a literal " +
				"value baked into the image configuration. Anyone who can pull the image reads it with docker inspect, " +
				"and every container and child process inherits it.",
			Fix:       "Remove the value from the image: pass it at run time from a secret store (Docker or Kubernetes secrets, a mounted file), and use RUN --mount=type=secret for values needed only during the build. Rotate the leaked value.",
			Reference: refBuildSecrets, Standard: cis + "4.10"},
		{ID: ImgSecretLabel, Name: "secret-in-label", Title: "Secret in an image label", Severity: report.High, Category: report.CategoryConfig,
			Description: "A label of the image holds what looks like a credential. Labels are public metadata: they are " +
				"shown by docker inspect and by registries to anyone who can see the image.",
			Fix:       "Remove the label (rebuild without the LABEL or --label) and rotate the credential.",
			Reference: refBuildSecrets, Standard: cis + "4.10"},
		{ID: ImgSecretHistory, Name: "secret-in-history", Title: "Secret in the image history", Severity: report.High, Category: report.CategoryConfig,
			Description: "A build step recorded in the image history contains a credential: a build argument with a " +
				"secret-looking name (BuildKit records the build arguments a RUN step used), a token, or a URL with a " +
				"password. The history ships with the image and docker history prints it.",
			Fix:       "Pass build-time secrets with RUN --mount=type=secret (docker build --secret) instead of ARG or inline values, rebuild, and rotate the leaked credential.",
			Reference: refBuildSecrets, Standard: cis + "4.10"},
		{ID: ImgNoHealthcheck, Name: "no-healthcheck", Title: "No HEALTHCHECK in the image", Severity: report.Low, Category: report.CategoryConfig,
			Description: "The image defines no health check, so Docker cannot tell a hung or broken service from a " +
				"healthy one and will not restart or stop routing to it. (Orchestrators with their own probes, such as " +
				"Kubernetes, ignore HEALTHCHECK; there this finding can be suppressed.)",
			Fix:       "Add a HEALTHCHECK instruction that exercises the service, e.g. HEALTHCHECK CMD [\"/app/healthcheck\"], or define probes in the orchestrator.",
			Reference: refHealthcheck, Standard: cis + "4.6"},
		{ID: ImgPrivilegedPort, Name: "privileged-port", Title: "Image exposes a privileged port", Severity: report.Low, Category: report.CategoryConfig,
			Description: "The image exposes a port below 1024. Binding such a port inside the container needs root or " +
				"the NET_BIND_SERVICE capability, which pushes operators towards running the service as root.",
			Fix:       "Listen on a port of 1024 or above inside the container (e.g. 8080) and map it to the public port at run time (-p 80:8080 or a Service).",
			Reference: refBestPractices + "#expose", Standard: cis + "5.8 (only needed ports are open)"},
		{ID: ImgAddRemoteURL, Name: "add-remote-url", Title: "Image built with ADD of a remote URL", Severity: report.Medium, Category: report.CategoryConfig,
			Description: "A layer was made by ADD from an http(s) URL. The download is not verified unless a checksum " +
				"is given, so whoever controls the URL or the network path controls what goes into the image, and the " +
				"build is not reproducible.",
			Fix:       "Download in a RUN step with curl or wget and verify a pinned checksum (sha256sum -c), or use ADD --checksum=sha256:... ; better, fetch it in a build stage and COPY --from the verified result.",
			Reference: refBestPractices + "#add-or-copy", Standard: cis + "4.9"},
		{ID: ImgPipeToShell, Name: "pipe-to-shell", Title: "Build step pipes a download into a shell", Severity: report.Medium, Category: report.CategoryConfig,
			Description: "A build step downloads a script and runs it at once (curl ... | sh, wget -O- ... | bash). " +
				"Nothing verifies what was downloaded, so a compromised server, mirror or network path runs arbitrary " +
				"code in the build, and a truncated download can run half a script.",
			Fix:       "Download the script to a file, verify its checksum or signature, then run it; or install the tool from the distribution's signed packages.",
			Reference: refOWASP, Standard: cis + "4.11 (only verified packages are installed)"},
		{ID: ImgMutableTag, Name: "mutable-tag", Title: "Image or base image referenced by a mutable tag", Severity: report.Medium, Category: report.CategoryConfig,
			Description: "The image, or the base image it records (org.opencontainers.image.base.name), is named by the " +
				"tag latest or by no tag at all. What that name points to changes with every push, so the build and the " +
				"deployment are not reproducible and a bad push is picked up silently.",
			Fix:       "Name images by a specific version tag and, for deployments and FROM lines, pin the digest too (name:1.2.3@sha256:...); let a bot (Renovate, Dependabot) propose updates.",
			Reference: refBestPractices + "#from", Standard: cis + "4.2"},

		// ---- image content -------------------------------------------------------
		{ID: CntBuildTools, Name: "build-tools", Title: "Build tools left in the final image", Severity: report.Medium, Category: report.CategoryContent,
			Description: "Compilers, build systems, version control, development headers or download tools are " +
				"installed in the image that ships. They are not needed to run the application, add size and " +
				"vulnerabilities, and give an attacker who gets in a ready toolchain to build and fetch exploits.",
			Fix:       "Use a multi-stage build: install the tools and compile in a build stage, then COPY --from=build only the built artefacts into a slim or distroless final stage.",
			Reference: refMultiStage, Standard: cis + "4.3"},
		{ID: CntPackageCache, Name: "package-cache", Title: "Package manager cache left in the image", Severity: report.Low, Category: report.CategoryContent,
			Description: "A package manager's download cache or index (apt lists and archives, apk, pip, npm, yum/dnf " +
				"caches) was left in a layer. It adds size to every pull and can pin stale package indexes into the image.",
			Fix:       "Clean the cache in the same RUN step that fills it (rm -rf /var/lib/apt/lists/*, apk add --no-cache, pip install --no-cache-dir, npm cache clean --force) or use RUN --mount=type=cache so it never enters a layer.",
			Reference: refBestPractices + "#apt-get", FileRules: []string{"*-cache-left"}},
		{ID: CntShellPkgManager, Name: "shell-package-manager", Title: "Shell and package manager in a runtime image", Severity: report.Negligible, Category: report.CategoryContent,
			Description: "The image ships a shell or an OS package manager although its entrypoint does not run a " +
				"shell. An attacker who gets code execution uses them to explore the container and install tooling; " +
				"images without them (distroless, scratch) leave far less to work with.",
			Fix:       "If the application does not need them, build the final stage from a distroless or scratch base (gcr.io/distroless/static or base, or an Alpine/UBI micro base) and COPY the application in.",
			Reference: refDistroless},
		{ID: CntEOLOS, Name: "eol-os", Title: "Operating system release is end of life", Severity: report.High, Category: report.CategoryContent,
			Description: "The base operating system release no longer receives security updates from its vendor. " +
				"New vulnerabilities in its packages stay unfixed, and vulnerability scanners may stop reporting " +
				"them because the vendor no longer tracks the release.",
			Fix:       "Move the base image to a supported release of the distribution (e.g. debian:bookworm-slim, ubuntu:24.04, alpine:3.22), rebuild and retest.",
			Reference: "https://endoflife.date/", Standard: cis + "4.4"},
		{ID: CntStalePackages, Name: "stale-packages", Title: "OS packages have fixed versions available: the image is stale", Severity: report.Medium, Category: report.CategoryContent,
			Description: "Installed OS packages have known vulnerabilities for which the distribution already " +
				"publishes fixed versions. The image was built from an old base or package index; rebuilding it picks " +
				"the fixes up without any code change.",
			Fix:       "Rebuild the image with a fresh base (docker build --pull --no-cache) and redeploy; rebuild on a schedule so fixes arrive without waiting for an application change.",
			Reference: refBestPractices + "#rebuild-your-images-often", Standard: cis + "4.4"},
		{ID: CntOversized, Name: "oversized-image", Title: "Image is much larger than a minimal base", Severity: report.Negligible, Category: report.CategoryContent,
			Description: "The image holds many more OS packages (and bytes) than a minimal base image of the same " +
				"distribution family. Every extra package is attack surface, vulnerability noise and pull time.",
			Fix:       "Start the final stage from a slim or distroless base and install only the runtime dependencies the application needs.",
			Reference: refMultiStage, Standard: cis + "4.3"},
		{ID: CntSetuid, Name: "setuid-binary", Title: "setuid or setgid file in the image", Severity: report.Low, Category: report.CategoryContent,
			Description: "A regular file has the setuid or setgid bit. Such programs run with their owner's privileges " +
				"(usually root) whoever starts them, so a flaw in any of them lets an unprivileged process in the " +
				"container become root.",
			Fix:       "Remove the bits in the Dockerfile when the program is not needed with them (RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +), and run containers with no-new-privileges.",
			Reference: refOWASP, Standard: cis + "4.8", FileRules: []string{"setuid-binary", "setgid-binary"}},
		{ID: CntWorldWritable, Name: "world-writable", Title: "World-writable file or directory", Severity: report.Medium, Category: report.CategoryContent,
			Description: "A file, or a directory without the sticky bit, is writable by every user. Any process in the " +
				"container, whatever its UID, can change or replace what is there, including files other users run or " +
				"trust.",
			Fix:       "Remove the write permission for others (chmod o-w), or set the sticky bit on shared directories (chmod +t), in the step that creates them.",
			Reference: refOWASP, FileRules: []string{"world-writable"}},
		{ID: CntOtherFile, Name: "file-finding", Title: "File-level finding", Severity: report.Low, Category: report.CategoryContent,
			Description: "A content check flagged a file in the image; the evidence names the check that fired.",
			Fix:         "Review the file and remove it or fix its permissions in the Dockerfile step that adds it.",
			Reference:   refOWASP},

		// ---- secrets in image files ------------------------------------------------
		secretRule(SecPrivateKey, "private-key", "Private key in the image", report.Critical,
			"A PEM or OpenSSH private key is stored in a file of the image. Anyone who pulls the image can impersonate the key's owner: decrypt its TLS traffic, log in to its servers or sign as it.",
			"secret-private-key*", "secret-*private-key*", "secret-ssh-*", "secret-pgp-*"),
		secretRule(SecAWS, "aws-credentials", "AWS credentials in the image", report.Critical,
			"An AWS access key ID or secret access key is stored in a file of the image. With it anyone who pulls the image can call AWS with the key owner's permissions.",
			"secret-aws*"),
		secretRule(SecGCP, "gcp-credentials", "Google Cloud service account key in the image", report.Critical,
			"A Google Cloud service account key file (JSON with a private key) is stored in the image. It grants the service account's permissions to anyone who reads it.",
			"secret-gcp*", "secret-google*"),
		secretRule(SecAzure, "azure-credentials", "Azure storage key or connection string in the image", report.Critical,
			"An Azure storage account key or connection string is stored in the image. It gives full access to the storage account's data.",
			"secret-azure*"),
		secretRule(SecGitHub, "github-token", "GitHub token in the image", report.Critical,
			"A GitHub personal access, OAuth, app or refresh token is stored in the image. It acts on GitHub with the token owner's access to repositories and organisations.",
			"secret-github*"),
		secretRule(SecGitLab, "gitlab-token", "GitLab token in the image", report.Critical,
			"A GitLab personal or project access token is stored in the image. It acts on GitLab with the token's scopes.",
			"secret-gitlab*"),
		secretRule(SecSlack, "slack-token", "Slack token or webhook in the image", report.High,
			"A Slack API token or incoming webhook URL is stored in the image. It lets anyone read or post messages as the app or bot.",
			"secret-slack*"),
		secretRule(SecStripe, "stripe-key", "Stripe live key in the image", report.Critical,
			"A Stripe live secret or restricted key is stored in the image. It can move money and read customer payment data.",
			"secret-stripe*"),
		secretRule(SecJWT, "jwt", "JSON Web Token in the image", report.Medium,
			"A JSON Web Token is stored in the image. If it is still valid it authenticates its bearer to the service that issued it; long-lived tokens are common in configuration files.",
			"secret-jwt*"),
		secretRule(SecDatabaseURL, "database-url", "Database URL with a password in the image", report.High,
			"A database connection URL with an embedded password (postgres://, mysql://, mongodb://, redis://) is stored in the image.",
			"secret-database*", "secret-db-*", "secret-*-url", "secret-postgres*", "secret-mysql*", "secret-mongo*", "secret-redis*"),
		secretRule(SecRegistryAuth, "registry-credentials", "Package or image registry credentials in the image", report.High,
			"A registry credential (.npmrc _authToken, .pypirc password, .docker/config.json auth) is stored in the image. It lets anyone publish to, or read private packages from, that registry as its owner.",
			"secret-npm*", "secret-pypi*", "secret-docker*", "secret-registry*"),
		secretRule(SecEnvFile, "env-file-secret", "Secret in a .env file in the image", report.High,
			"A dotenv file in the image assigns a value to a secret-looking variable (PASSWORD, SECRET, TOKEN, API_KEY). Such files are usually meant for local development and are copied in by accident with COPY . .",
			"secret-env*", "secret-dotenv*"),
		secretRule(SecGitCredentials, "git-credentials", "Git credentials in the image", report.High,
			"A .git-credentials file (or a git URL with a password) is stored in the image; it gives access to the repositories of the account it belongs to.",
			"secret-git-credentials*", "secret-git*"),
		secretRule(SecOther, "secret", "Secret in the image", report.High,
			"A file in the image holds a value that a secret rule recognises as a credential; the evidence names the rule.",
			"secret-*"),

		// ---- Dockerfile --------------------------------------------------------
		{ID: DkfRootUser, Name: "root-user", Title: "Final stage runs as root", Severity: report.High, Category: report.CategoryDockerfile,
			Description: "The final stage sets no USER, or its last USER is root (or UID 0), so the image runs its " +
				"process as root unless the base image sets another user. Any code execution in the application then " +
				"has root inside the container.",
			Fix:       "Create an unprivileged user and end the final stage with USER <uid> (a numeric UID, e.g. USER 10001).",
			Reference: refBestPractices + "#user", Standard: cis + "4.1"},
		{ID: DkfBaseLatest, Name: "base-latest", Title: "Base image uses latest or no tag", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "A FROM line names its image with the tag latest or with no tag (which means latest). Each " +
				"build may get a different base, so builds are not reproducible and an upstream change or compromise " +
				"flows in silently.",
			Fix:       "Name a specific version and pin its digest: FROM debian:12.8-slim@sha256:<digest>; let a bot propose updates.",
			Reference: refBestPractices + "#from", Standard: cis + "4.2"},
		{ID: DkfBaseNoDigest, Name: "base-no-digest", Title: "Base image not pinned by digest", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "A FROM line names a version tag but no digest. Tags can be moved, so the same Dockerfile can " +
				"build on different bases over time, and a re-pushed tag is trusted without notice.",
			Fix:       "Append the digest of the tested image: FROM name:tag@sha256:<digest> (docker buildx imagetools inspect name:tag prints it).",
			Reference: refBestPractices + "#pin-base-image-versions", Standard: cis + "4.2"},
		{ID: DkfAptRecommends, Name: "apt-install-recommends", Title: "apt-get install without --no-install-recommends", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "apt installs recommended packages by default, which typically adds many packages the " +
				"application does not use: more size, more vulnerabilities to patch.",
			Fix:       "Use apt-get install -y --no-install-recommends <packages>.",
			Reference: refBestPractices + "#apt-get", Standard: cis + "4.3"},
		{ID: DkfAptLists, Name: "apt-lists-left", Title: "apt package lists not removed in the same RUN", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "The RUN step installs packages with apt but does not remove /var/lib/apt/lists in the same " +
				"step, so the package index (tens of MB) is committed to the layer; removing it in a later step does not " +
				"shrink the image.",
			Fix:       "End the same RUN with && rm -rf /var/lib/apt/lists/*, or use RUN --mount=type=cache,target=/var/lib/apt/lists.",
			Reference: refBestPractices + "#apt-get", Standard: cis + "4.7"},
		{ID: DkfApkCache, Name: "apk-no-cache", Title: "apk add without --no-cache", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "apk add without --no-cache keeps the package index in /var/cache/apk in the layer, adding " +
				"size for nothing.",
			Fix:       "Use apk add --no-cache <packages> (no separate apk update needed).",
			Reference: refBestPractices + "#apt-get"},
		{ID: DkfCopyContext, Name: "copy-context-no-dockerignore", Title: "Whole build context copied without a .dockerignore", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "COPY . (or ADD .) copies the whole build context into the image, and there is no " +
				".dockerignore beside the Dockerfile. Local .env files, .git, credentials and build output end up in " +
				"a layer, and the image changes whenever any file does.",
			Fix:       "Add a .dockerignore (exclude .git, .env*, *.pem, node_modules, build output), or copy only the paths the image needs.",
			Reference: refDockerignore, Standard: cis + "4.10"},
		{ID: DkfSecretArgEnv, Name: "secret-in-arg-env", Title: "Secret in ARG or ENV", Severity: report.High, Category: report.CategoryDockerfile,
			Description: "An ARG or ENV with a secret-looking name (PASSWORD, SECRET, TOKEN, KEY, ...) is given a literal " +
				"value in the Dockerfile. ENV values are stored in the image configuration and ARG values in the image " +
				"history of every RUN that follows, readable by anyone who pulls the image, and the Dockerfile itself " +
				"sits in version control.",
			Fix:       "Remove the value; use RUN --mount=type=secret,id=name for build-time secrets and inject run-time secrets from the orchestrator. Rotate the value.",
			Reference: refBuildSecrets, Standard: cis + "4.10"},
		{ID: DkfBuildTools, Name: "build-tools", Title: "Build tools installed in the final stage", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "The final stage installs compilers, build systems, version control or development headers, " +
				"so they ship in the image that runs. They are not needed at run time and add size, vulnerabilities and " +
				"a toolchain for an attacker.",
			Fix:       "Use a multi-stage build: install the tools in a build stage (FROM ... AS build), compile there, and COPY --from=build only the artefacts into the final stage.",
			Reference: refMultiStage, Standard: cis + "4.3"},
		{ID: DkfAddLocal, Name: "add-local-file", Title: "ADD used where COPY would do", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "ADD of a local file that is not an archive behaves like COPY but also has implicit behaviours " +
				"(tar extraction, URL download) that make the step's effect depend on the source's content.",
			Fix:       "Use COPY for local files and directories; keep ADD for local tar archives you mean to extract.",
			Reference: refBestPractices + "#add-or-copy", Standard: cis + "4.9"},
		{ID: DkfAddURL, Name: "add-remote-url", Title: "ADD downloads a remote URL without a checksum", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "ADD fetches an http(s) or git URL at build time and nothing verifies what arrives, so the URL's " +
				"owner or anyone on the network path decides what goes into the image.",
			Fix:       "Add --checksum=sha256:<digest> to the ADD (BuildKit), or download with curl in a RUN step and verify the checksum before use.",
			Reference: refBestPractices + "#add-or-copy", Standard: cis + "4.9"},
		{ID: DkfSudo, Name: "sudo", Title: "sudo used in a RUN step", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "A RUN step uses sudo. Build steps run as the current USER and sudo's TTY and signal " +
				"behaviour is unpredictable there; shipping sudo also gives any process that gets in an easy path to root.",
			Fix:       "Run the privileged steps before switching USER (or switch back with USER root for them), and do not install sudo in the image; use gosu or setpriv at run time if a privilege drop is needed.",
			Reference: refBestPractices + "#user"},
		{ID: DkfNoHealthcheck, Name: "no-healthcheck", Title: "No HEALTHCHECK in the final stage", Severity: report.Low, Category: report.CategoryDockerfile,
			Description: "The final stage defines no HEALTHCHECK, so unless the base image has one Docker cannot tell " +
				"a hung service from a healthy one. (Kubernetes ignores HEALTHCHECK and uses its own probes.)",
			Fix:       "Add HEALTHCHECK CMD <a command that checks the service> to the final stage, or define probes in the orchestrator.",
			Reference: refHealthcheck, Standard: cis + "4.6"},
		{ID: DkfPipeToShell, Name: "pipe-to-shell", Title: "RUN pipes a download into a shell", Severity: report.Medium, Category: report.CategoryDockerfile,
			Description: "A RUN step downloads a script and executes it in one go (curl ... | sh). Nothing verifies the " +
				"script, so a compromised server or network path runs arbitrary code in the build.",
			Fix:       "Download to a file, verify a pinned checksum or signature, then execute; or install from signed distribution packages.",
			Reference: refOWASP, Standard: cis + "4.11 (only verified packages are installed)"},

		// ---- compose and Kubernetes manifests ---------------------------------------
		{ID: ManPrivileged, Name: "privileged", Title: "Privileged container", Severity: report.High, Category: report.CategoryManifest,
			Description: descPrivileged, Fix: "Remove privileged: true; grant only the specific capabilities or devices the workload needs.",
			Reference: refPSS + "#baseline", Standard: cis + "5.4; Pod Security Standards baseline (Privileged Containers)"},
		{ID: ManCapsNotDropped, Name: "capabilities-not-dropped", Title: "Linux capabilities not dropped", Severity: report.Medium, Category: report.CategoryManifest,
			Description: descCapsNotDropped,
			Fix:         "Drop every capability and add back only what is needed: compose cap_drop: [ALL] (plus cap_add: [NET_BIND_SERVICE] if required); Kubernetes securityContext.capabilities.drop: [\"ALL\"].",
			Reference:   refPSS + "#restricted", Standard: cis + "5.3; Pod Security Standards restricted (Capabilities)"},
		{ID: ManDangerousCap, Name: "dangerous-capability", Title: "Dangerous Linux capability added", Severity: report.High, Category: report.CategoryManifest,
			Description: descDangerousCap, Fix: "Remove the capability from cap_add / capabilities.add; find the narrower capability or a design that does not need it.",
			Reference: refPSS + "#baseline", Standard: cis + "5.3; Pod Security Standards baseline (Capabilities)"},
		{ID: ManWritableRoot, Name: "writable-root-filesystem", Title: "Root file system is writable", Severity: report.Low, Category: report.CategoryManifest,
			Description: descWritableRoot,
			Fix:         "Set read_only: true (compose) or securityContext.readOnlyRootFilesystem: true (Kubernetes), with a tmpfs or emptyDir for the paths that must be writable.",
			Reference:   refOWASP, Standard: cis + "5.12"},
		{ID: ManRunAsRoot, Name: "runs-as-root", Title: "Container may run as root", Severity: report.Medium, Category: report.CategoryManifest,
			Description: descRunAsRoot + " In Kubernetes, without runAsNonRoot: true the kubelet starts the container even when the image's user is root.",
			Fix:         "Compose: set user: \"10001:10001\". Kubernetes: set securityContext.runAsNonRoot: true and a non-zero runAsUser at pod or container level.",
			Reference:   refPSS + "#restricted", Standard: cis + "4.1; Pod Security Standards restricted (Running as Non-root)"},
		{ID: ManPrivEscalation, Name: "privilege-escalation", Title: "Privilege escalation not blocked", Severity: report.Medium, Category: report.CategoryManifest,
			Description: "Without no-new-privileges (Kubernetes allowPrivilegeEscalation: false) a process can gain " +
				"privileges through setuid binaries or file capabilities, turning a foothold as an unprivileged user into root.",
			Fix:       "Compose: security_opt: [\"no-new-privileges:true\"]. Kubernetes: securityContext.allowPrivilegeEscalation: false on every container.",
			Reference: refPSS + "#restricted", Standard: cis + "5.25; Pod Security Standards restricted (Privilege Escalation)"},
		{ID: ManHostNamespace, Name: "host-namespace", Title: "Host namespace shared", Severity: report.High, Category: report.CategoryManifest,
			Description: descHostNamespace,
			Fix:         "Remove network_mode/pid/ipc: host (compose) or hostNetwork/hostPID/hostIPC: true (Kubernetes); publish ports instead of sharing the host network.",
			Reference:   refPSS + "#baseline", Standard: cis + "5.9, 5.15, 5.16; Pod Security Standards baseline (Host Namespaces)"},
		{ID: ManDockerSocket, Name: "docker-socket", Title: "Docker socket mounted into the container", Severity: report.Critical, Category: report.CategoryManifest,
			Description: descDockerSocket,
			Fix:         "Remove the /var/run/docker.sock volume or hostPath. If the workload must drive containers, give it a narrowly scoped API proxy or a rootless engine of its own.",
			Reference:   refSocket, Standard: cis + "5.31; Pod Security Standards baseline (HostPath Volumes)"},
		{ID: ManNoLimits, Name: "no-resource-limits", Title: "No memory or CPU limit", Severity: report.Low, Category: report.CategoryManifest,
			Description: descNoLimits,
			Fix:         "Compose: deploy.resources.limits.memory and cpus (or mem_limit and cpus). Kubernetes: resources.limits.memory and cpu on every container.",
			Reference:   refResources, Standard: cis + "5.10, 5.11"},
		{ID: ManMutableImage, Name: "mutable-image-tag", Title: "Image referenced by latest or no tag", Severity: report.Medium, Category: report.CategoryManifest,
			Description: descMutableImage,
			Fix:         "Reference images by version tag and digest: image: name:1.2.3@sha256:<digest>.",
			Reference:   refBestPractices + "#from", Standard: cis + "4.2"},
		{ID: ManUnconfined, Name: "unconfined-profile", Title: "seccomp or AppArmor disabled", Severity: report.Medium, Category: report.CategoryManifest,
			Description: descUnconfined,
			Fix:         "Remove seccomp:unconfined / apparmor:unconfined (compose security_opt) or seccompProfile type Unconfined (Kubernetes); use RuntimeDefault or a custom profile.",
			Reference:   refPSS + "#baseline", Standard: cis + "5.21; Pod Security Standards baseline (Seccomp, AppArmor)"},

		// ---- running containers ----------------------------------------------------
		{ID: CtrPrivileged, Name: "privileged", Title: "Container runs privileged", Severity: report.High, Category: report.CategoryContainer,
			Description: descPrivileged, Fix: "Recreate the container without --privileged; add only the capabilities or --device entries it needs.",
			Reference: refCapabilities, Standard: cis + "5.4"},
		{ID: CtrCapsNotDropped, Name: "capabilities-not-dropped", Title: "Linux capabilities not dropped", Severity: report.Medium, Category: report.CategoryContainer,
			Description: descCapsNotDropped, Fix: "Recreate the container with --cap-drop ALL and --cap-add for each capability it really needs.",
			Reference: refCapabilities, Standard: cis + "5.3"},
		{ID: CtrDangerousCap, Name: "dangerous-capability", Title: "Dangerous Linux capability added", Severity: report.High, Category: report.CategoryContainer,
			Description: descDangerousCap, Fix: "Recreate the container without that --cap-add.",
			Reference: refCapabilities, Standard: cis + "5.3"},
		{ID: CtrWritableRoot, Name: "writable-root-filesystem", Title: "Root file system is writable", Severity: report.Low, Category: report.CategoryContainer,
			Description: descWritableRoot, Fix: "Recreate the container with --read-only, adding --tmpfs /tmp and volumes for the paths that must be writable.",
			Reference: refOWASP, Standard: cis + "5.12"},
		{ID: CtrRunAsRoot, Name: "runs-as-root", Title: "Container runs as root", Severity: report.Medium, Category: report.CategoryContainer,
			Description: descRunAsRoot, Fix: "Set a non-root USER in the image or start the container with --user <uid>:<gid>.",
			Reference: refOWASP, Standard: cis + "4.1"},
		{ID: CtrNoNewPrivileges, Name: "no-new-privileges", Title: "no-new-privileges not set", Severity: report.Medium, Category: report.CategoryContainer,
			Description: "Without the no-new-privileges security option a process in the container can gain privileges " +
				"through setuid binaries or file capabilities, turning a foothold as an unprivileged user into root.",
			Fix:       "Recreate the container with --security-opt no-new-privileges (or set \"no-new-privileges\": true in daemon.json for all containers).",
			Reference: refRunSecurity, Standard: cis + "5.25"},
		{ID: CtrHostNamespace, Name: "host-namespace", Title: "Host namespace shared", Severity: report.High, Category: report.CategoryContainer,
			Description: descHostNamespace, Fix: "Recreate the container without --network host, --pid host or --ipc host.",
			Reference: refOWASP, Standard: cis + "5.9, 5.15, 5.16"},
		{ID: CtrDockerSocket, Name: "docker-socket", Title: "Docker socket mounted into the container", Severity: report.Critical, Category: report.CategoryContainer,
			Description: descDockerSocket, Fix: "Recreate the container without the docker.sock mount; give tooling that needs the API a narrowly scoped proxy.",
			Reference: refSocket, Standard: cis + "5.31"},
		{ID: CtrNoLimits, Name: "no-resource-limits", Title: "No memory or CPU limit", Severity: report.Low, Category: report.CategoryContainer,
			Description: descNoLimits, Fix: "Recreate (or docker update) the container with --memory and --cpus.",
			Reference: refResources, Standard: cis + "5.10, 5.11"},
		{ID: CtrMutableImage, Name: "mutable-image-tag", Title: "Container started from latest or an untagged image", Severity: report.Medium, Category: report.CategoryContainer,
			Description: descMutableImage, Fix: "Start containers from a version tag pinned by digest (name:1.2.3@sha256:...).",
			Reference: refBestPractices + "#from", Standard: cis + "4.2"},
		{ID: CtrUnconfined, Name: "unconfined-profile", Title: "seccomp or AppArmor disabled", Severity: report.Medium, Category: report.CategoryContainer,
			Description: descUnconfined, Fix: "Recreate the container without --security-opt seccomp=unconfined / apparmor=unconfined.",
			Reference: refSeccomp, Standard: cis + "5.21"},
		{ID: CtrImageVulns, Name: "image-vulnerabilities", Title: "Container runs an image with known vulnerabilities", Severity: report.High, Category: report.CategoryContainer,
			Description: "The image this container was started from has packages with known vulnerabilities. A running container keeps the image it started with: fixing the image does nothing until the container is recreated from the rebuilt image. The finding's severity is that of the worst vulnerability; vigil image docker:ID lists them all.",
			Fix:         "Rebuild the image on a current base and bump the vulnerable dependencies (vigil image docker:ID says how), then recreate the container from the new image.",
			Reference:   "https://docs.docker.com/build/building/best-practices/#rebuild-your-images-often", Standard: cis + "4.3"},
	}
}

func secretRule(id, name, title string, sev report.Severity, desc string, fileRules ...string) Rule {
	return Rule{ID: id, Name: name, Title: title, Severity: sev, Category: report.CategorySecret,
		Description: desc,
		Fix: "Remove the file in the same build step that needs it (or never copy it in: use RUN --mount=type=secret " +
			"and a .dockerignore), rebuild, and rotate the credential: deleting it in a later layer does not remove it " +
			"from the image.",
		Reference: refSecretLeak, Standard: cis + "4.10", FileRules: fileRules}
}

// ForFileRule returns the rule that reports a content observer's finding
// with the given rule name: the first whose FileRules match, in catalogue
// order (specific secret rules before the catch-all), or the generic
// file-finding rule.
func ForFileRule(name string) *Rule {
	for _, r := range All() {
		if r.MatchesFileRule(name) {
			return &r
		}
	}
	return Get(CntOtherFile)
}
