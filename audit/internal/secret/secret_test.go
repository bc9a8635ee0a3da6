package secret

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecretName(t *testing.T) {
	secret := []string{"PASSWORD", "DB_PASSWORD", "dbPassword", "MYSQL_ROOT_PASSWORD", "API_KEY", "apiKey", "APIKEY",
		"NPM_TOKEN", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CLIENT_SECRET", "SECRET", "SSH_KEY", "LICENSE_KEY",
		"DB_PASS", "REDIS_PWD", "KEY", "PRIVATE_KEY", "AUTH_TOKEN", "BASIC_AUTH", "credentials", "SIGNING_KEYS", "NPMTOKEN"}
	notSecret := []string{"PATH", "PWD", "OLDPWD", "GPG_KEY", "GPG_KEYS", "RABBITMQ_PGP_KEY_ID", "PUBLIC_KEY",
		"POSTGRES_PASSWORD_FILE", "AWS_ACCESS_KEY_ID", "TOKEN_URL", "SECRET_NAME", "KEY_PATH", "JAVA_HOME",
		"NODE_VERSION", "PYTHON_SHA256", "PASSWORD_LENGTH", "KEYSERVER", "MONKEY", "TOKENIZER", ""}
	for _, n := range secret {
		if !IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = false, want true", n)
		}
	}
	for _, n := range notSecret {
		if IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = true, want false", n)
		}
	}
}

func TestIsLiteral(t *testing.T) {
	for v, want := range map[string]bool{"hunter2": true, `"s3cret"`: true, "": false, "  ": false, "$DB_PASSWORD": false,
		"${TOKEN}": false, "/run/secrets/db": false, "true": false, "changeme": true, `""`: false} {
		if got := IsLiteral(v); got != want {
			t.Errorf("IsLiteral(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	for v, want := range map[string]string{
		"":                       "",
		"abc":                    "***",
		"hunter22":               "********",
		"AKIAIOSFODNN7EXAMPLE":   "AKIA****************",
		strings.Repeat("x", 100): "xxxx****************",
		"pässwörd-längé":         "päss**********",
	} {
		if got := Mask(v); got != want {
			t.Errorf("Mask(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestScan(t *testing.T) {
	tests := []struct {
		text string
		want []Match
	}{
		{"RUN |2 NPM_TOKEN=npm_0123456789abcdef VERSION=1.2 /bin/sh -c npm ci", []Match{{"assignment", "NPM_TOKEN=npm_****************"}}},
		{`/bin/sh -c export DB_PASSWORD="correct horse battery" && ./migrate`, []Match{{"assignment", "DB_PASSWORD=corr****************"}}},
		{"/bin/sh -c git clone https://bob:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo.git", []Match{
			{"url-password", "https://bob:ghp_****************@github.com"},
			{"github-token", "ghp_****************"},
		}},
		{`curl -H "Authorization: Bearer eyJhbGciOi.payload.sig" https://api`, []Match{{"authorization-header", "Authorization: Bearer eyJh****************"}}},
		{"mysql --password=s3cretpw1 -h db", []Match{{"assignment", "password=s3cr*****"}}},
		{"aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", []Match{{"aws-access-key", "AKIA****************"}}},
		{"echo -----BEGIN OPENSSH PRIVATE KEY----- > key", []Match{{"private-key", "-----BEGIN OPENSSH PRIVATE KEY-----"}}},
		{"ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D PATH=/usr/local/bin:$PATH", nil},
		{"/bin/sh -c set -eux; apt-get install -y ca-certificates; postgres://user@db/app", nil},
		{"ARG TOKEN=${CI_TOKEN}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Scan(tt.text)); diff != "" {
				t.Errorf("Scan (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzScan(f *testing.F) {
	f.Add("RUN |1 TOKEN=abc /bin/sh -c x")
	f.Add("https://u:p@h/ Authorization: Basic abc AKIAIOSFODNN7EXAMPLE")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range Scan(s) {
			if m.Kind == "" || m.Evidence == "" {
				t.Fatalf("empty match %+v", m)
			}
		}
		IsSecretName(s)
		Mask(s)
	})
}
