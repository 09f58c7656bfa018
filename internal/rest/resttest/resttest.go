package resttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
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
