package update

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HTTPError is a response with an unexpected status.
type HTTPError struct {
	URL        string
	StatusCode int
	retryAfter time.Duration
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// Errors a download can end with besides HTTP and network errors.
var (
	ErrTooLarge = errors.New("download exceeds size limit")
	ErrChecksum = errors.New("checksum mismatch")
	ErrSize     = errors.New("size mismatch")
	ErrStalled  = errors.New("download stalled")
)

// fetcher downloads with retries, size limits and integrity checks.
type fetcher struct {
	client   *http.Client
	retries  int
	backoff  time.Duration
	stall    time.Duration
	progress Progress
	retried  atomic.Int64
}

// cond carries a previous response's validators for a conditional GET.
type cond struct {
	ETag, LastModified string
}

type fetched struct {
	// Exactly one of file and data is set unless notModified.
	file         string
	data         []byte
	size         int64
	notModified  bool
	etag, lastMo string
}

func (f *fetched) open() (io.ReadCloser, error) {
	if f.file != "" {
		return os.Open(f.file)
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

func (f *fetched) cleanup() {
	if f != nil && f.file != "" {
		os.Remove(f.file)
	}
}

// retryable reports whether another attempt may succeed.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests || he.StatusCode == http.StatusRequestTimeout
	}
	if errors.Is(err, ErrTooLarge) {
		return false
	}
	return true // network errors, timeouts, truncated bodies, checksum and size mismatches
}

// get downloads url. With tmpDir set the body goes to a temporary file
// there, else into memory. limit caps the body size.
func (f *fetcher) get(ctx context.Context, url string, c cond, tmpDir string, limit int64) (*fetched, error) {
	var last error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			f.retried.Add(1)
			d := f.backoff << (attempt - 1)
			d = d/2 + time.Duration(rand.Int64N(int64(d)/2+1))
			var he *HTTPError
			if errors.As(last, &he) {
				if ra := he.retryAfter; ra > 0 && ra <= 30*time.Second {
					d = max(d, ra)
				}
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("GET %s: %w (after: %v)", url, ctx.Err(), last)
			case <-t.C:
			}
		}
		res, err := f.attempt(ctx, url, c, tmpDir, limit)
		if err == nil {
			return res, nil
		}
		last = err
		if !retryable(ctx, err) {
			break
		}
	}
	if f.retries > 0 && retryable(ctx, last) {
		return nil, fmt.Errorf("%w (gave up after %d attempts)", last, f.retries+1)
	}
	return nil, last
}

func (f *fetcher) attempt(ctx context.Context, url string, c cond, tmpDir string, limit int64) (_ *fetched, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if c.ETag != "" {
		req.Header.Set("If-None-Match", c.ETag)
	}
	if c.LastModified != "" {
		req.Header.Set("If-Modified-Since", c.LastModified)
	}
	req.Header.Set("User-Agent", "vigil-vulndb-update")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && (c.ETag != "" || c.LastModified != ""):
		return &fetched{notModified: true, etag: c.ETag, lastMo: c.LastModified}, nil
	case resp.StatusCode != http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		he := &HTTPError{URL: url, StatusCode: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			he.retryAfter = time.Duration(s) * time.Second
		}
		return nil, he
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("GET %s: %w: %d bytes announced, limit %d", url, ErrTooLarge, resp.ContentLength, limit)
	}
	res := &fetched{etag: resp.Header.Get("ETag"), lastMo: resp.Header.Get("Last-Modified")}
	var w io.Writer
	var file *os.File
	var buf bytes.Buffer
	if tmpDir != "" {
		file, err = os.CreateTemp(tmpDir, "vigil.db.dl-*")
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		defer func() {
			file.Close()
			if err != nil {
				os.Remove(file.Name())
			}
		}()
		w = file
	} else {
		w = &buf
	}
	// Hash only what the server will be checked against, and only one of
	// the two when it sends both: CRC-32C (hardware-assisted) catches a
	// damaged or truncated body as well as MD5 does, at a fraction of the
	// CPU (MD5 of the full OSV export is about a CPU-second).
	hashes := []io.Writer{w}
	var md5h, crch hash.Hash
	switch sent := googHashKinds(resp.Header.Values("X-Goog-Hash")); {
	case sent["crc32c"]:
		crch = crc32.New(crc32.MakeTable(crc32.Castagnoli))
		hashes = append(hashes, crch)
	case sent["md5"]:
		md5h = md5.New()
		hashes = append(hashes, md5h)
	}
	id := url
	// Progress is for the large downloads (archives, feeds), not for each
	// record of a delta.
	if f.progress != nil && tmpDir != "" {
		f.progress.Start(id, url, resp.ContentLength)
		defer func() { f.progress.Done(id, err) }()
	}
	body := &stallReader{r: resp.Body, stall: f.stall, cancel: cancel}
	body.arm()
	defer body.disarm()
	n, err := copyLimited(io.MultiWriter(hashes...), body, limit, func(k int) {
		if f.progress != nil && tmpDir != "" {
			f.progress.Advance(id, int64(k))
		}
	})
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
			err = cause
		}
		return nil, fmt.Errorf("GET %s: body after %d bytes: %w", url, n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return nil, fmt.Errorf("GET %s: %w: got %d bytes, Content-Length %d", url, ErrSize, n, resp.ContentLength)
	}
	if err := checkGoogHash(resp.Header.Values("X-Goog-Hash"), md5h, crch); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	res.size = n
	if file != nil {
		if err := file.Close(); err != nil {
			return nil, fmt.Errorf("GET %s: write %s: %w", url, file.Name(), err)
		}
		res.file = file.Name()
	} else {
		res.data = buf.Bytes()
	}
	return res, nil
}

func copyLimited(w io.Writer, r io.Reader, limit int64, advance func(int)) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if n+int64(k) > limit {
				return n, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
			}
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
			advance(k)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// googHashKinds returns the digests an X-Goog-Hash header names.
func googHashKinds(values []string) map[string]bool {
	kinds := map[string]bool{}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if k, _, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
				kinds[k] = true
			}
		}
	}
	return kinds
}

// checkGoogHash verifies the X-Goog-Hash header Google Cloud Storage (the
// OSV bucket) sends: "crc32c=<base64>,md5=<base64>". A nil hash was not
// computed and is not checked.
func checkGoogHash(values []string, md5h, crch hash.Hash) error {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			k, want, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			var h hash.Hash
			switch k {
			case "md5":
				h = md5h
			case "crc32c":
				h = crch
			}
			if h == nil {
				continue
			}
			got := h.Sum(nil)
			if base64.StdEncoding.EncodeToString(got) != want {
				return fmt.Errorf("%w: %s is %s, server says %s", ErrChecksum, k, base64.StdEncoding.EncodeToString(got), want)
			}
		}
	}
	return nil
}

// stallReader cancels the request when no byte arrives for stall.
type stallReader struct {
	r      io.Reader
	stall  time.Duration
	cancel context.CancelCauseFunc
	t      *time.Timer
}

func (s *stallReader) arm() {
	if s.stall > 0 {
		s.t = time.AfterFunc(s.stall, func() { s.cancel(fmt.Errorf("%w: no data for %s", ErrStalled, s.stall)) })
	}
}

func (s *stallReader) disarm() {
	if s.t != nil {
		s.t.Stop()
	}
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && s.t != nil {
		s.t.Reset(s.stall)
	}
	return n, err
}

// defaultClient has connection-level timeouts but no overall one: a large
// download on a slow link is fine as long as data keeps coming (the stall
// timer covers the rest).
func defaultClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}
}
