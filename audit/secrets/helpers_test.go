package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/extract"
)

// Fake secrets are generated, never written out literally, so that this
// repository does not trip secret scanners (vigil's own included) and no
// value here can be a live credential.

// fakeRand is a small deterministic generator (a 64-bit LCG).
type fakeRand uint64

func (r *fakeRand) next() byte {
	*r = *r*6364136223846793005 + 1442695040888963407
	return byte(*r >> 56)
}

func fakeFrom(alphabet string, seed uint64, n int) string {
	r := fakeRand(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(r.next())%len(alphabet)]
	}
	return string(b)
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64chr = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func fakeAlnum(seed uint64, n int) string { return fakeFrom(alnum, seed, n) }

func fakeBytes(seed uint64, n int) []byte {
	r := fakeRand(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = r.next()
	}
	return b
}

func fakeB64(seed uint64, nbytes int) string {
	return base64.StdEncoding.EncodeToString(fakeBytes(seed, nbytes))
}

// fakePEM returns a PEM block with the label and a fake body of n bytes,
// with real line breaks.
func fakePEM(label string, seed uint64, n int) string {
	body := fakeB64(seed, n)
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----\n")
	for len(body) > 64 {
		b.WriteString(body[:64] + "\n")
		body = body[64:]
	}
	b.WriteString(body + "\n-----END " + label + "-----\n")
	return b.String()
}

// Fake tokens of each shape.
var (
	fakeAWSKeyID  = "AK" + "IA" + fakeFrom(base32, 1, 16)
	fakeAWSSecret = fakeFrom(b64chr, 2, 20) + "Ab1/" + fakeFrom(b64chr, 3, 16)
	fakeGitHub    = "gh" + "p_" + fakeAlnum(4, 36)
	fakeGitHubPAT = "github" + "_pat_" + fakeAlnum(5, 22) + "_" + fakeAlnum(6, 59)
	fakeGitLab    = "gl" + "pat-" + fakeAlnum(7, 20)
	fakeSlack     = "xo" + "xb-" + "123456789012-1234567890123-" + fakeAlnum(8, 24)
	fakeSlackHook = "https://hooks." + "slack.com/services/T0A1B2C3D/B4E5F6G7H/" + fakeAlnum(9, 24)
	fakeStripe    = "sk" + "_live_" + fakeAlnum(10, 24)
	fakeNpmToken  = "np" + "m_" + fakeAlnum(11, 36)
	fakePyPI      = "pypi-" + "AgEIcHlwaS5vcmc" + fakeFrom(alnum+"_-", 12, 70)
	fakeAzureKey  = fakeB64(13, 64)
	fakeSASKey    = fakeB64(14, 32)
	fakeJWT       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1234567890","name":"Fake","iat":1516239022}`)) + "." +
		base64.RawURLEncoding.EncodeToString(fakeBytes(15, 32))
)

// fileInfo is a minimal fs.FileInfo for Wants and Extract.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

// extractText runs the extractor on one in-memory file.
func extractText(t testing.TB, e extract.Extractor, p, content string) *extract.Result {
	t.Helper()
	res, err := e.Extract(context.Background(), &extract.Input{
		Path: p, Info: fileInfo{name: p, size: int64(len(content))},
		Reader: bytes.NewReader([]byte(content)), Size: int64(len(content)),
	})
	if err != nil {
		t.Fatalf("Extract(%s): %v", p, err)
	}
	return res
}

// finding is the part of a finding the tables compare.
type finding struct {
	Rule     string
	Line     int
	Evidence string
}

func findings(res *extract.Result) []finding {
	if res == nil {
		return nil
	}
	var out []finding
	for _, f := range res.Files {
		out = append(out, finding{f.Rule, f.Line, f.Evidence})
	}
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
