package secrets

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const stars = "****************" // 16, the most a mask shows

// ruleCase is one file and the findings it must give. Every rule has
// positive and negative cases; docs/secrets.md lists the same ones.
type ruleCase struct {
	name    string
	path    string
	content string
	want    []finding
	// secrets are the values that must never appear in evidence.
	secrets []string
}

func ruleCases() []ruleCase {
	rsa := fakePEM("RSA PRIVATE KEY", 20, 600)
	rsaBody := strings.Split(rsa, "\n")[1]
	openssh := fakePEM("OPENSSH PRIVATE KEY", 21, 400)
	opensshBody := strings.Split(openssh, "\n")[1]
	pkcs8 := fakePEM("PRIVATE KEY", 22, 600)
	pkcs8Body := strings.Split(pkcs8, "\n")[1]
	pgpBody := fakeB64(23, 300)
	pgp := "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: fake\n\n" + pgpBody + "\n-----END PGP PRIVATE KEY BLOCK-----\n"
	encBody := fakeB64(24, 300)
	encrypted := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n" + encBody + "\n-----END RSA PRIVATE KEY-----\n"
	escaped := `{"key": "` + strings.ReplaceAll(pkcs8, "\n", `\n`) + `"}`
	gcpID := fakeFrom("0123456789abcdef", 25, 40)
	gcp := `{
  "type": "service_account",
  "project_id": "fake-project",
  "private_key_id": "` + gcpID + `",
  "private_key": "` + strings.ReplaceAll(pkcs8, "\n", `\n`) + `",
  "client_email": "builder@fake-project.iam.gserviceaccount.com",
  "client_id": "123456789012345678901"
}
`
	dbPass := "s3cr3t-" + fakeAlnum(26, 8)
	dockerAuth := b64("ci-bot:" + fakeAlnum(27, 20))
	npmAuth := b64("ci-bot:" + fakeAlnum(28, 16))
	pypiPass := fakeAlnum(29, 18)
	gitTok := fakeAlnum(30, 32)

	return []ruleCase{
		// secret-private-key
		{name: "pem rsa key", path: "root/.ssh/id_rsa", content: rsa,
			want:    []finding{{"secret-private-key", 1, "-----BEGIN RSA PRIVATE KEY----- " + rsaBody[:4] + stars}},
			secrets: []string{rsaBody}},
		{name: "openssh key", path: "home/app/.ssh/id_ed25519", content: openssh,
			want:    []finding{{"secret-private-key", 1, "-----BEGIN OPENSSH PRIVATE KEY----- " + opensshBody[:4] + stars}},
			secrets: []string{opensshBody}},
		{name: "pkcs8 key after other text", path: "app/certs/server.pem", content: "# server key\n\n" + pkcs8,
			want:    []finding{{"secret-private-key", 3, "-----BEGIN PRIVATE KEY----- " + pkcs8Body[:4] + stars}},
			secrets: []string{pkcs8Body}},
		{name: "pgp private key block with armour headers", path: "root/signing.asc", content: pgp,
			want:    []finding{{"secret-private-key", 1, "-----BEGIN PGP PRIVATE KEY BLOCK----- " + pgpBody[:4] + stars}},
			secrets: []string{pgpBody[:64]}},
		{name: "encrypted pem with proc-type headers", path: "etc/app/key.pem", content: encrypted,
			want:    []finding{{"secret-private-key", 1, "-----BEGIN RSA PRIVATE KEY----- " + encBody[:4] + stars}},
			secrets: []string{encBody[:64]}},
		{name: "key inside a json string with escaped newlines", path: "app/config/keys.json", content: escaped,
			want:    []finding{{"secret-private-key", 1, "-----BEGIN PRIVATE KEY----- " + pkcs8Body[:4] + stars}},
			secrets: []string{pkcs8Body}},
		{name: "negative: public key and certificate", path: "etc/app/pub.pem",
			content: fakePEM("PUBLIC KEY", 31, 300) + fakePEM("CERTIFICATE", 32, 800)},
		{name: "negative: code that names the header", path: "app/lib/pem.py",
			content: "if data.startswith(b\"-----BEGIN RSA PRIVATE KEY-----\"):\n    return load(data)\nMARK = '-----BEGIN OPENSSH PRIVATE KEY-----'\n"},
		{name: "negative: header with a short body", path: "app/notes.txt",
			content: "-----BEGIN PRIVATE KEY-----\nMIIEvQ...\n-----END PRIVATE KEY-----\n"},

		// secret-gcp-service-account
		{name: "gcp service account key file", path: "app/gcp-sa.json", content: gcp,
			want: []finding{{"secret-gcp-service-account", 5,
				"service account builder@fake-project.iam.gserviceaccount.com private_key_id " + gcpID[:4] + stars}},
			secrets: []string{gcpID, pkcs8Body}},
		{name: "gcp key file without a key id", path: "app/sa.json",
			content: `{"type": "service_account", "private_key": "` + strings.ReplaceAll(pkcs8, "\n", `\n`) + `"}`,
			want:    []finding{{"secret-gcp-service-account", 1, "service account private_key " + pkcs8Body[:4] + stars}},
			secrets: []string{pkcs8Body}},
		{name: "negative: authorized_user credentials without a key", path: "root/.config/gcloud/adc.json",
			content: `{"type": "authorized_user", "client_id": "x.apps.googleusercontent.com", "quota_project_id": "p"}`},
		{name: "negative: service_account mentioned without a private key", path: "app/docs.json",
			content: `{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"}`},

		// secret-aws-access-key
		{name: "aws access key id", path: "app/deploy.sh", content: "#!/bin/sh\nexport AWS_ACCESS_KEY_ID=" + fakeAWSKeyID + "\n",
			want: []finding{{"secret-aws-access-key", 2, "AKIA" + stars}}, secrets: []string{fakeAWSKeyID}},
		{name: "aws temporary key id", path: "app/x.yaml", content: "key: ASIA" + fakeFrom(base32, 33, 16) + "\n",
			want: []finding{{"secret-aws-access-key", 1, "ASIA" + stars}}},
		{name: "negative: aws documentation example key", path: "app/README", content: "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"},
		{name: "negative: digits outside base32 and longer words", path: "app/ids.txt",
			content: "AKIA0123456789ABCDEF\nXAKIA" + fakeFrom(base32, 34, 16) + "\nAKIA" + fakeFrom(base32, 35, 20) + "\n"},

		// secret-aws-secret-key
		{name: "aws credentials file", path: "root/.aws/credentials",
			content: "[default]\naws_access_key_id = " + fakeAWSKeyID + "\naws_secret_access_key = " + fakeAWSSecret + "\n",
			want: []finding{
				{"secret-aws-access-key", 2, "AKIA" + stars},
				{"secret-aws-secret-key", 3, "aws_secret_access_key = " + fakeAWSSecret[:4] + stars},
			},
			secrets: []string{fakeAWSKeyID, fakeAWSSecret}},
		{name: "aws secret in json output", path: "app/creds.json", content: `{"AccessKey": {"SecretAccessKey": "` + fakeAWSSecret + `"}}`,
			want:    []finding{{"secret-aws-secret-key", 1, `SecretAccessKey": "` + fakeAWSSecret[:4] + stars}},
			secrets: []string{fakeAWSSecret}},
		{name: "negative: documentation secret and a sha1", path: "app/aws.cfg",
			content: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws_secret_access_key = da39a3ee5e6b4b0d3255bfef95601890afd80709\naws_secret_access_key = ${AWS_SECRET}\n"},

		// secret-azure-storage-key, secret-azure-sas-key
		{name: "azure storage connection string", path: "app/appsettings.json",
			content: `{"Storage": "DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey=` + fakeAzureKey + `;EndpointSuffix=core.windows.net"}`,
			want:    []finding{{"secret-azure-storage-key", 1, "AccountKey=" + fakeAzureKey[:4] + stars}},
			secrets: []string{fakeAzureKey}},
		{name: "negative: azurite emulator key is public", path: "app/appsettings.Development.json",
			content: "UseDevelopmentStorage: AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\n"},
		{name: "azure service bus shared access key", path: "app/.config",
			content: "Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + fakeSASKey + "\n",
			want:    []finding{{"secret-azure-sas-key", 1, "SharedAccessKey=" + fakeSASKey[:4] + stars}},
			secrets: []string{fakeSASKey}},
		{name: "negative: shared access key placeholder", path: "app/.config",
			content: "Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=x;SharedAccessKey=<your-key>\n"},

		// secret-github-token
		{name: "github classic token", path: "app/.github-token", content: fakeGitHub + "\n",
			want: []finding{{"secret-github-token", 1, "ghp_" + stars}}, secrets: []string{fakeGitHub}},
		{name: "github fine-grained token", path: "app/ci.yml", content: "env:\n  GH_TOKEN: " + fakeGitHubPAT + "\n",
			want: []finding{{"secret-github-token", 2, "gith" + stars}}, secrets: []string{fakeGitHubPAT}},
		{name: "negative: short, filler and embedded github-like strings", path: "app/x.txt",
			content: fakeGitHub[:39] + "\nghp_abcdefghijklmnopqrstuvwxyzabcdefghij\nx" + fakeGitHub + "\n"},

		// secret-gitlab-token
		{name: "gitlab token", path: "app/.gitlab", content: "token=" + fakeGitLab + "\n",
			want: []finding{{"secret-gitlab-token", 1, "glpa" + stars}}, secrets: []string{fakeGitLab}},
		{name: "negative: gitlab prefix with short body", path: "app/x", content: "glpat-abc123\n"},

		// secret-slack-token, secret-slack-webhook
		{name: "slack bot token", path: "app/bot.py", content: "TOKEN = '" + fakeSlack + "'\n",
			want: []finding{{"secret-slack-token", 1, "xoxb" + stars}}, secrets: []string{fakeSlack}},
		{name: "negative: slack prefix in prose", path: "app/x.py", content: "# tokens look like xoxb-<team>-<bot>-<secret>\n"},
		{name: "slack webhook", path: "app/notify.sh", content: "curl -X POST " + fakeSlackHook + " -d @msg.json\n",
			want: []finding{{"secret-slack-webhook", 1,
				"https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/" + fakeSlackHook[len(fakeSlackHook)-24:][:4] + stars}},
			secrets: []string{fakeSlackHook[len(fakeSlackHook)-24:]}},
		{name: "negative: slack webhook placeholder", path: "app/x.sh",
			content: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n"},

		// secret-stripe-key
		{name: "stripe live key", path: "app/config.js", content: "module.exports = { stripe: '" + fakeStripe + "' };\n",
			want: []finding{{"secret-stripe-key", 1, "sk_l" + stars}}, secrets: []string{fakeStripe}},
		{name: "stripe restricted key", path: "app/config.js", content: "rk" + "_live_" + fakeAlnum(36, 30) + "\n",
			want: []finding{{"secret-stripe-key", 1, "rk_l" + stars}}},
		{name: "negative: stripe test key", path: "app/config.js", content: "sk" + "_test_" + fakeAlnum(37, 24) + "\n"},

		// secret-npm-token, secret-pypi-token
		{name: "npm token anywhere", path: "app/publish.sh", content: "NODE_AUTH=" + fakeNpmToken + "\n",
			want: []finding{{"secret-npm-token", 1, "npm_" + stars}}, secrets: []string{fakeNpmToken}},
		{name: "negative: npm_ identifiers", path: "app/x.sh", content: "echo $npm_config_cache $npm_package_version\n"},
		{name: "pypi token anywhere", path: "app/upload.sh", content: "twine upload -p " + fakePyPI + "\n",
			want: []finding{{"secret-pypi-token", 1, "pypi" + stars}}, secrets: []string{fakePyPI}},
		{name: "negative: pypi token prefix only", path: "app/x.sh", content: "pypi-AgEIcHlwaS5vcmc\n"},

		// secret-jwt
		{name: "jwt", path: "app/test-token.txt", content: "Authorization: Bearer " + fakeJWT + "\n",
			want: []finding{{"secret-jwt", 1, "eyJh" + stars}}, secrets: []string{fakeJWT}},
		{name: "negative: eyJ-shaped text that is not a token", path: "app/x.txt",
			content: "eyJub3RqU09O.eyJub3RqU09OYXRhbGw.c2lnbmF0dXJlc2lnbmF0dXJl\n"},

		// secret-docker-auth
		{name: "docker config auth", path: "root/.docker/config.json",
			content: "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \"" + dockerAuth + "\"\n    }\n  }\n}\n",
			want:    []finding{{"secret-docker-auth", 4, `auths["registry.example.com"].auth: ` + dockerAuth[:4] + stars}},
			secrets: []string{dockerAuth}},
		{name: "podman auth.json identity token", path: "run/containers/0/auth.json",
			content: `{"auths": {"quay.io": {"identitytoken": "` + fakeAlnum(38, 40) + `"}}}`,
			want:    []finding{{"secret-docker-auth", 1, `auths["quay.io"].identitytoken: ` + fakeAlnum(38, 40)[:4] + stars}}},
		{name: "legacy dockercfg", path: "root/.dockercfg",
			content: `{"https://index.docker.io/v1/": {"auth": "` + dockerAuth + `", "email": "a@b.c"}}`,
			want:    []finding{{"secret-docker-auth", 1, `["https://index.docker.io/v1/"].auth: ` + dockerAuth[:4] + stars}}},
		{name: "negative: credential helper and empty password", path: "root/.docker/config.json",
			content: `{"credsStore": "desktop", "auths": {"ghcr.io": {}, "docker.io": {"auth": "` + b64("user:") + `"}}}`},
		{name: "negative: same content outside a docker config path", path: "app/config.json",
			content: `{"auths": {"registry.example.com": {"auth": "` + dockerAuth + `"}}}`},

		// secret-npmrc-auth
		{name: "npmrc registry auth token", path: "app/.npmrc",
			content: "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=" + fakeAlnum(39, 36) + "\n",
			want:    []finding{{"secret-npmrc-auth", 2, "//registry.npmjs.org/:_authToken=" + fakeAlnum(39, 36)[:4] + stars}}},
		{name: "npmrc legacy _auth", path: "root/.npmrc", content: "_auth = " + npmAuth + "\nalways-auth=true\n",
			want: []finding{{"secret-npmrc-auth", 1, "_auth=" + npmAuth[:4] + stars}}, secrets: []string{npmAuth}},
		{name: "negative: npmrc token from the environment", path: "app/.npmrc",
			content: "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n; _authToken=commented\n"},

		// secret-pypirc-password
		{name: "pypirc password", path: "root/.pypirc",
			content: "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = " + pypiPass + "\n",
			want:    []finding{{"secret-pypirc-password", 6, "password = " + pypiPass[:4] + strings.Repeat("*", 14)}}, secrets: []string{pypiPass}},
		{name: "negative: pypirc without password", path: "root/.pypirc", content: "[pypi]\nusername = me\npassword =\n"},

		// secret-netrc-password
		{name: "netrc", path: "root/.netrc",
			content: "machine git.example.com\n  login ci-bot\n  password " + gitTok + "\n\nmachine other login x password hunter22\n",
			want: []finding{
				{"secret-netrc-password", 3, "machine git.example.com password " + gitTok[:4] + stars},
				{"secret-netrc-password", 5, "machine other password hu******"},
			},
			secrets: []string{gitTok, "hunter22"}},
		{name: "apt auth.conf", path: "etc/apt/auth.conf.d/private.conf", content: "machine apt.example.com/debian login u password " + gitTok + "\n",
			want: []finding{{"secret-netrc-password", 1, "machine apt.example.com/debian password " + gitTok[:4] + stars}}},
		{name: "negative: netrc without password, and a login named password", path: "root/.netrc",
			content: "machine a login password\ndefault login anonymous\n"},

		// secret-git-credentials
		{name: "git credential store", path: "root/.git-credentials",
			content: "https://ci-bot:" + gitTok + "@git.example.com\n",
			want:    []finding{{"secret-git-credentials", 1, "https://ci-bot:" + gitTok[:4] + stars + "@git.example.com"}},
			secrets: []string{gitTok}},
		{name: "negative: git credentials without password", path: "root/.git-credentials", content: "https://git.example.com\n"},

		// secret-database-url
		{name: "postgres url", path: "app/config/database.yml",
			content: "production:\n  url: postgres://app:" + dbPass + "@db.internal:5432/app\n",
			want:    []finding{{"secret-database-url", 2, "postgres://app:" + dbPass[:3] + strings.Repeat("*", 12) + "@db.internal:5432"}},
			secrets: []string{dbPass}},
		{name: "mongodb srv url with empty-looking user", path: "app/settings.py",
			content: "MONGO = 'mongodb+srv://svc:" + dbPass + "@cluster0.mongodb.net/db?retryWrites=true'\n",
			want:    []finding{{"secret-database-url", 1, "mongodb+srv://svc:" + dbPass[:3] + strings.Repeat("*", 12) + "@cluster0.mongodb.net"}}},
		{name: "redis url without user", path: "app/app.ini", content: "cache = redis://:" + dbPass + "@cache:6379/0\n",
			want: []finding{{"secret-database-url", 1, "redis://:" + dbPass[:3] + strings.Repeat("*", 12) + "@cache:6379"}}},
		{name: "password equal to the user name is masked in the user too", path: "app/x.conf", content: "mysql://rootpw1:rootpw1@db/x\n",
			want: []finding{{"secret-database-url", 1, "mysql://r******:r******@db"}}, secrets: []string{"rootpw1"}},
		{name: "negative: documentation and template urls", path: "app/README.txt",
			content: "postgres://user:password@localhost/db\npostgres://app:${DB_PASSWORD}@db/app\npostgres://db.internal/app\nhttp://user:" + dbPass + "@proxy:3128\n"},

		// secret-env-file
		{name: "dotenv secrets", path: "app/.env",
			content: "# settings\nLOG_LEVEL=debug\nDB_PASSWORD=hunter2\nexport API_KEY=\"" + fakeAlnum(40, 24) + "\" # prod\nSECRET_KEY_BASE='" + fakeAlnum(41, 30) + "'\n",
			want: []finding{
				{"secret-env-file", 3, "DB_PASSWORD=h******"},
				{"secret-env-file", 4, "API_KEY=" + fakeAlnum(40, 24)[:4] + stars},
				{"secret-env-file", 5, "SECRET_KEY_BASE=" + fakeAlnum(41, 30)[:4] + stars},
			},
			secrets: []string{"hunter2", fakeAlnum(40, 24), fakeAlnum(41, 30)}},
		{name: "production env file with windows line ends", path: "srv/app/.env.production", content: "REDIS_PASSWORD=s0mething\r\n",
			want: []finding{{"secret-env-file", 1, "REDIS_PASSWORD=s0*******"}}},
		{name: "negative: unset, numeric, references and paths", path: "app/.env",
			content: "PASSWORD=\nTOKEN_TTL=3600\nDB_PASSWORD=${DB_PASSWORD}\nDB_PASSWORD_FILE=/run/secrets/db\nSECRET=true\nPWD=/app\n"},
		{name: "negative: templates are not env files", path: "app/.env.example", content: "DB_PASSWORD=hunter2\n"},
		{name: "negative: env-looking file that is not a dotenv file", path: "app/settings.conf", content: "DB_PASSWORD=hunter2\n"},

		// Overlaps: the most specific rule wins.
		{name: "aws secret in an env file is reported once", path: "app/.env",
			content: "AWS_SECRET_ACCESS_KEY=" + fakeAWSSecret + "\n",
			want:    []finding{{"secret-aws-secret-key", 1, "AWS_SECRET_ACCESS_KEY=" + fakeAWSSecret[:4] + stars}}},
		{name: "database url in an env file", path: "app/.env", content: "DATABASE_URL=postgres://app:" + dbPass + "@db/app\n",
			want: []finding{{"secret-database-url", 1, "postgres://app:" + dbPass[:3] + strings.Repeat("*", 12) + "@db"}}},
	}
}

func TestRules(t *testing.T) {
	e := New()
	covered := map[string][2]bool{} // rule -> {positive, negative}
	for _, tc := range ruleCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := findings(extractText(t, e, tc.path, tc.content))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range got {
				for _, s := range tc.secrets {
					if strings.Contains(f.Evidence, s) {
						t.Errorf("evidence %q holds the secret %q", f.Evidence, s)
					}
				}
			}
		})
		for _, f := range tc.want {
			c := covered[f.Rule]
			c[0] = true
			covered[f.Rule] = c
		}
		if id, ok := negativeOf[tc.name]; ok {
			c := covered[id]
			c[1] = true
			covered[id] = c
		}
	}
	for _, r := range Rules() {
		if c := covered[r.ID]; !c[0] || !c[1] {
			t.Errorf("rule %s lacks a positive (%v) or a negative (%v) case", r.ID, c[0], c[1])
		}
	}
}

// negativeOf names the rule each negative case guards; TestRules fails
// when a rule has no positive or no negative case.
var negativeOf = map[string]string{
	"negative: public key and certificate":                         "secret-private-key",
	"negative: code that names the header":                         "secret-private-key",
	"negative: header with a short body":                           "secret-private-key",
	"negative: authorized_user credentials without a key":          "secret-gcp-service-account",
	"negative: service_account mentioned without a private key":    "secret-gcp-service-account",
	"negative: aws documentation example key":                      "secret-aws-access-key",
	"negative: digits outside base32 and longer words":             "secret-aws-access-key",
	"negative: documentation secret and a sha1":                    "secret-aws-secret-key",
	"negative: azurite emulator key is public":                     "secret-azure-storage-key",
	"negative: shared access key placeholder":                      "secret-azure-sas-key",
	"negative: short, filler and embedded github-like strings":     "secret-github-token",
	"negative: gitlab prefix with short body":                      "secret-gitlab-token",
	"negative: slack prefix in prose":                              "secret-slack-token",
	"negative: slack webhook placeholder":                          "secret-slack-webhook",
	"negative: stripe test key":                                    "secret-stripe-key",
	"negative: npm_ identifiers":                                   "secret-npm-token",
	"negative: pypi token prefix only":                             "secret-pypi-token",
	"negative: eyJ-shaped text that is not a token":                "secret-jwt",
	"negative: credential helper and empty password":               "secret-docker-auth",
	"negative: same content outside a docker config path":          "secret-docker-auth",
	"negative: npmrc token from the environment":                   "secret-npmrc-auth",
	"negative: pypirc without password":                            "secret-pypirc-password",
	"negative: netrc without password, and a login named password": "secret-netrc-password",
	"negative: git credentials without password":                   "secret-git-credentials",
	"negative: documentation and template urls":                    "secret-database-url",
	"negative: unset, numeric, references and paths":               "secret-env-file",
	"negative: templates are not env files":                        "secret-env-file",
	"negative: env-looking file that is not a dotenv file":         "secret-env-file",
}
