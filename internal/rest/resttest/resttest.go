package resttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/soarkit/soarkit/internal/rest"
)

// Canned is an http.RoundTripper that answers every request with 200, a JSON
// content type and the body last given to Set. It is safe for concurrent use.
type Canned struct {
	mu   sync.Mutex
	body []byte
}

// Set makes b the body of the next answers.
func (c *Canned) Set(b []byte) {
	c.mu.Lock()
	c.body = b
	c.mu.Unlock()
}

// RoundTrip answers r with the canned body.
func (c *Canned) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	b := c.body
	c.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: r}, nil
}

// Client returns an HTTP client that uses c.
func (c *Canned) Client() *http.Client { return &http.Client{Transport: c} }

// maxSeed bounds a seed: the fuzzer minimises every input that finds new
// coverage one exec per step, for up to a minute, so multi-kilobyte seeds
// leave it minimising instead of fuzzing.
const maxSeed = 384

// Seeds reads the named recordings from the package's testdata directory
// and cuts each to a small seed that keeps its shape: every array keeps
// only its first element, and while the seed is still over 384 bytes the longest
// strings are shortened. A recording that holds only a JSON array is passed
// to wrap (when not nil), which returns the whole document.
func Seeds(f *testing.F, wrap func([]byte) []byte, names ...string) [][]byte {
	f.Helper()
	out := make([][]byte, 0, len(names))
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		if b = bytes.TrimSpace(b); wrap != nil && len(b) > 0 && b[0] == '[' {
			b = wrap(b)
		}
		small, err := shrink(b)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		out = append(out, small)
	}
	return out
}

// shrink cuts a JSON document as [Seeds] describes.
func shrink(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = firstElements(v)
	for limit := 256; ; limit /= 2 {
		b, err := json.Marshal(truncateStrings(v, limit))
		if err != nil || len(b) <= maxSeed || limit <= 8 {
			return b, err
		}
	}
}

func firstElements(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return t
		}
		return []any{firstElements(t[0])}
	case map[string]any:
		for k, e := range t {
			t[k] = firstElements(e)
		}
	}
	return v
}

func truncateStrings(v any, limit int) any {
	switch t := v.(type) {
	case string:
		if len(t) > limit {
			return t[:limit]
		}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = truncateStrings(e, limit)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = truncateStrings(e, limit)
		}
		return out
	}
	return v
}

// CheckError fails t unless err is nil or a *rest.Error (every vendor's
// Error type is an alias of it) whose text holds none of secrets.
func CheckError(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	var re *rest.Error
	if !errors.As(err, &re) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error shows a secret: %v", err)
		}
	}
}

// Call is one vendor call whose response a fuzz target decodes.
type Call func(ctx context.Context) error

// FuzzCalls runs the fuzz target f over inputs (kind uint8, body []byte):
// canned serves body to calls[kind % len(calls)], whose outcome must pass
// [CheckError] with secrets. Add seeds as f.Add(kind, body) before calling.
func FuzzCalls(f *testing.F, canned *Canned, secrets []string, calls ...Call) {
	f.Helper()
	if len(calls) == 0 {
		f.Fatal("resttest: FuzzCalls needs at least one call")
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		canned.Set(body)
		CheckError(t, calls[int(kind)%len(calls)](t.Context()), secrets...)
	})
}
