package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
)

func TestDoCustomSendsAndFillsMetadata(t *testing.T) {
	var gotPath, gotQuery, gotBody, gotHeader, gotMethod string
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotPath, gotQuery, gotHeader = r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("X-Extra")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Request-Id", "req-42")
		w.Header().Set("X-RateLimit-Remaining", "17")
		w.Header().Set("X-RateLimit-Limit", "20")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})
	var md ResponseMetadata
	var out struct{ OK bool }
	err := c.DoCustom(WithResponseMetadata(context.Background(), &md), "Client.Do", Custom{
		Method: "post", Path: "/users/{}/roles", Query: url.Values{"limit": {"5"}},
		Header: http.Header{"X-Extra": {"yes"}}, Body: map[string]string{"role": "viewer"},
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !out.OK || gotMethod != http.MethodPost || gotPath != basePath+"/users/%7B%7D/roles" || gotQuery != "limit=5" ||
		gotHeader != "yes" || gotBody != `{"role":"viewer"}` {
		t.Errorf("sent %s %s?%s header %q body %s; decoded %+v", gotMethod, gotPath, gotQuery, gotHeader, gotBody, out)
	}
	if md.StatusCode != 200 || md.RequestID != "req-42" || md.Attempts != 1 ||
		md.RateLimit.Get("X-Ratelimit-Remaining") != "17" || md.RateLimit.Get("X-Ratelimit-Limit") != "20" ||
		len(md.RateLimit) != 2 || md.Header.Get("Content-Type") != "application/json" {
		t.Errorf("metadata %+v", md)
	}
}

func TestDoCustomErrorsGoThroughWrapError(t *testing.T) {
	type vendorError = wrappedError
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-7")
		http.Error(w, "no such thing", http.StatusNotFound)
	}, func(cfg *Config) {
		cfg.WrapError = func(e *Error) error { return vendorError{e} }
	})
	md := ResponseMetadata{StatusCode: -1}
	err := c.DoCustom(WithResponseMetadata(context.Background(), &md), "Client.Do", Custom{Path: "/things/1"}, nil)
	var ve vendorError
	if !errors.As(err, &ve) || ve.e.Op != "Client.Do" || ve.e.RequestID != "req-7" || !errors.Is(ve.e, ErrNotFound) {
		t.Fatalf("err = %#v", err)
	}
	if md.StatusCode != -1 {
		t.Errorf("a failed call filled metadata: %+v", md)
	}
	for _, p := range []string{"/a/../b", "/a/%2E%2E/b", "/a?b=c", "/a#frag", "http://other.example/a", "/a/./b"} {
		err := c.DoCustom(context.Background(), "Client.Do", Custom{Path: p}, nil)
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("path %q: %v", p, err)
		}
	}
	// A body that cannot be encoded fails before sending.
	err = c.DoCustom(context.Background(), "Client.Do", Custom{Method: http.MethodPost, Path: "/x", Body: json.RawMessage("{")}, nil)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("bad body: %v", err)
	}
}

// wrappedError stands for a vendor package's own error type.
type wrappedError struct{ e *Error }

func (w wrappedError) Error() string { return w.e.Error() }
func (w wrappedError) Unwrap() error { return w.e }
