package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type listOptions struct {
	Limit  int      `url:"limit,omitempty"`
	Cursor string   `url:"cursor,omitempty"`
	IDs    []string `url:"ids,comma,omitempty"`
	Empty  string   `url:"empty,omitempty"`
}

func TestDoRequestShape(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name":"sample","size":42,"unknown_field":[1,2,3]}`)
	}, func(c *Config) { c.UserAgent = "cbc-vmray/1.2" })

	var out struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	}
	resp, err := c.Do(context.Background(), &Request{
		Op:       "Things.Create",
		Method:   http.MethodPost,
		Path:     "/things/{}/items/{}",
		PathArgs: []string{"a b/c", "ü?x"},
		Query:    listOptions{Limit: 10, IDs: []string{"1", "2"}},
		Body:     JSONBody(map[string]any{"comment": "hi"}),
		Header:   http.Header{"X-Extra": {"1"}},
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || out.Name != "sample" || out.Size != 42 {
		t.Fatalf("decoded %+v from %d", out, resp.StatusCode)
	}
	if got.Method != http.MethodPost {
		t.Errorf("method = %s", got.Method)
	}
	if want := basePath + "/things/a%20b%2Fc/items/%C3%BC%3Fx"; got.URL.EscapedPath() != want {
		t.Errorf("path = %s, want %s", got.URL.EscapedPath(), want)
	}
	if diff := cmp.Diff(url.Values{"limit": {"10"}, "ids": {"1,2"}}, got.URL.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if string(gotBody) != `{"comment":"hi"}` || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("body %q content type %q", gotBody, got.Header.Get("Content-Type"))
	}
	if ua := got.Header.Get("User-Agent"); ua != "soarkit/"+Version+" cbc-vmray/1.2" {
		t.Errorf("user agent = %q", ua)
	}
	if a := got.Header.Get("Authorization"); a != "api_key "+testSecret {
		t.Errorf("auth header = %q", a)
	}
	if got.Header.Get("X-Extra") != "1" || got.Header.Get("Accept") != "application/json" {
		t.Errorf("headers = %v", got.Header)
	}
}

func TestFormBodyAndURLValuesQuery(t *testing.T) {
	var form url.Values
	var query url.Values
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		r.ParseForm()
		form = r.PostForm
	})
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/form",
		Query: url.Values{"a": {"1", "2"}}, Body: FormBody(url.Values{"comment": {"x y"}, "tags": {"t1,t2"}})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(url.Values{"comment": {"x y"}, "tags": {"t1,t2"}}, form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(url.Values{"a": {"1", "2"}}, query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

func TestPathArgumentsRefused(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	for _, tc := range []struct {
		path string
		args []string
	}{
		{"/x/{}", []string{".."}},
		{"/x/{}", []string{"."}},
		{"/x/{}", []string{""}},
		{"/x/{}/{}", []string{"a"}},
		{"/x/{}", []string{"a", "b"}},
		{"/x/../admin", nil},
	} {
		_, err := c.Do(context.Background(), &Request{Path: tc.path, PathArgs: tc.args}, nil)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s %q: err = %v, want ErrInvalidRequest", tc.path, tc.args, err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("%d invalid requests reached the server", calls.Load())
	}
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status   int
		sentinel error
	}{
		{400, ErrBadRequest},
		{401, ErrUnauthorized},
		{403, ErrForbidden},
		{404, ErrNotFound},
		{409, ErrConflict},
		{429, ErrRateLimited},
		{500, ErrServer},
		{503, ErrServer},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-77")
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tc.status)
				io.WriteString(w, `vendor says no; key=`+testSecret)
			}, func(c *Config) { c.Retry.MaxAttempts = 1 })
			_, err := c.Do(context.Background(), &Request{Op: "Things.Get", Path: "/things/{}", PathArgs: []string{"7"}}, nil)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T", err)
			}
			if e.StatusCode != tc.status || e.RequestID != "req-77" || e.Vendor != "testvendor" || e.Op != "Things.Get" ||
				e.Path != basePath+"/things/7" || e.Method != "GET" {
				t.Errorf("error fields: %+v", e)
			}
			if !strings.Contains(e.Message, "vendor says no") || strings.Contains(e.Body, testSecret) {
				t.Errorf("message %q body %q", e.Message, e.Body)
			}
			for _, other := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrRateLimited} {
				if other != tc.sentinel && errors.Is(err, other) {
					t.Errorf("also matches %v", other)
				}
			}
			assertNoSecret(t, err)
		})
	}
}

func TestVendorDecoderMatches(t *testing.T) {
	errAlreadyExists := errors.New("already exists")
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"errors":[{"code":4000030,"title":"Already exists"},{"code":4000010,"title":"Validation"}]}`)
	}, func(cfg *Config) {
		cfg.DecodeError = func(e *Error, body []byte) {
			var env struct {
				Errors []struct {
					Code  int    `json:"code"`
					Title string `json:"title"`
				} `json:"errors"`
			}
			if json.Unmarshal(body, &env) != nil {
				return
			}
			for i, x := range env.Errors {
				d := ErrorDetail{Code: strings.TrimSpace(jsonNumber(x.Code)), Message: x.Title}
				if i == 0 {
					e.Code, e.Message = d.Code, d.Message
				} else {
					e.Details = append(e.Details, d)
				}
				if x.Code == 4000030 {
					e.Matches = append(e.Matches, errAlreadyExists)
				}
			}
		}
	})
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/restrictions"}, nil)
	if !errors.Is(err, errAlreadyExists) || !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
	want := "testvendor: POST " + basePath + "/restrictions: 400 Bad Request: code 4000030: Already exists; 4000010 Validation"
	if err.Error() != want {
		t.Fatalf("Error() = %q\nwant      %q", err.Error(), want)
	}
}

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestErrorBodyExcerptIsBoundedAndRedacted(t *testing.T) {
	long := strings.Repeat("x", 5000)
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(422)
		io.WriteString(w, `{"password":"`+testPassword+`","api_key":"abc123456","note":"`+long+`"}`)
	}, func(cfg *Config) { cfg.DecodeError = nil })
	_, err := c.Do(context.Background(), &Request{Path: "/x"}, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if len(e.Body) > 1024 {
		t.Errorf("excerpt is %d bytes", len(e.Body))
	}
	if strings.Contains(e.Body, testPassword) || strings.Contains(e.Body, "abc123456") || !strings.Contains(e.Body, redacted) {
		t.Errorf("excerpt not redacted: %s", e.Body[:200])
	}
}

func TestMalformedJSON(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data": [1, 2`)
	})
	var out map[string]any
	_, err := c.Do(context.Background(), &Request{Path: "/x"}, &out)
	if !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 200 || e.Body == "" {
		t.Fatalf("error = %+v", e)
	}
}

func TestResponseSizeCap(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `"`+strings.Repeat("a", 2000)+`"`)
	}, func(cfg *Config) { cfg.MaxResponseBytes = 1000 })
	var s string
	_, err := c.Do(context.Background(), &Request{Path: "/big"}, &s)
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if s != "" {
		t.Fatal("a truncated body was decoded")
	}
	// A per-request cap can raise the limit.
	if _, err := c.Do(context.Background(), &Request{Path: "/big", MaxResponseBytes: 4000}, &s); err != nil || len(s) != 2000 {
		t.Fatalf("per-request cap: %v, len %d", err, len(s))
	}
}

func TestStream(t *testing.T) {
	payload := strings.Repeat("0123456789", 1000)
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == basePath+"/missing" {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, payload)
	}, func(cfg *Config) { cfg.MaxDownloadBytes = 5000; cfg.AttemptTimeout = 2 * time.Second })
	resp, err := c.Stream(context.Background(), &Request{Path: "/file"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrResponseTooLarge) || string(got) != payload[:5000] {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	_, err = c.Stream(context.Background(), &Request{Path: "/missing"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestStreamWithinCap(t *testing.T) {
	payload := strings.Repeat("z", 4096)
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, payload) },
		func(cfg *Config) { cfg.AttemptTimeout = 20 * time.Millisecond })
	resp, err := c.Stream(context.Background(), &Request{Path: "/file"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(40 * time.Millisecond) // past the header timeout: the body must stay readable
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != payload {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
}

func TestNoAuthAndAbsoluteURL(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			w.WriteHeader(400)
			io.WriteString(w, "credentials sent to the storage host")
			return
		}
		io.WriteString(w, "file-bytes")
	}))
	defer other.Close()
	var sawAuth atomic.Bool
	c, srv := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization") != "")
		io.WriteString(w, "ok")
	})
	// Another host: no credentials, even without NoAuth.
	resp, err := c.Stream(context.Background(), &Request{URL: other.URL + "/bucket/obj?X-Amz-Signature=abc"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "file-bytes" {
		t.Fatalf("got %q", b)
	}
	// Same host with NoAuth: none either.
	if _, err := c.Do(context.Background(), &Request{URL: srv.URL + basePath + "/presigned", NoAuth: true}, nil); err != nil {
		t.Fatal(err)
	}
	if sawAuth.Load() {
		t.Fatal("NoAuth request carried credentials")
	}
	_, err = c.Do(context.Background(), &Request{URL: "ftp://x/y?sig=secret"}, nil)
	if !errors.Is(err, ErrInvalidRequest) || strings.Contains(err.Error(), "sig=secret") {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestRedirectStripsCredentialsAcrossHosts(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") + r.Header.Get("X-Auth-Token"))
		io.WriteString(w, `{"ok":true}`)
	}))
	defer other.Close()
	// Same IP, other port: a different host for credentials.
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/same") {
			http.Redirect(w, r, basePath+"/target", http.StatusFound)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/target") {
			if r.Header.Get("X-Auth-Token") == "" {
				w.WriteHeader(401)
			}
			return
		}
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}, func(cfg *Config) {
		cfg.Auth = func(r *http.Request) {
			r.Header.Set("Authorization", "api_key "+testSecret)
			r.Header.Set("X-Auth-Token", testSecret+"/ID")
		}
	})
	if _, err := c.Do(context.Background(), &Request{Path: "/go"}, nil); err != nil {
		t.Fatal(err)
	}
	if v := leaked.Load(); v != "" {
		t.Fatalf("credentials forwarded to another host: %q", v)
	}
	if _, err := c.Do(context.Background(), &Request{Path: "/same"}, nil); err != nil {
		t.Fatalf("same-host redirect lost credentials: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "not a url"},
		{BaseURL: "ftp://host/x"},
		{BaseURL: "https://user:pw@host/x"},
		{BaseURL: "https://host/x?token=1"},
		{BaseURL: "https://host", HTTPClient: http.DefaultClient, InsecureSkipVerify: true},
		{BaseURL: "https://host", CACertPEM: []byte("not pem")},
	} {
		_, err := New(cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("New(%+v) = %v, want ConfigError", cfg.BaseURL, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error leaks credentials: %v", err)
		}
	}
}

func TestTLSDefaults(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), &Request{Path: "/"}, nil); err == nil {
		t.Fatal("an untrusted certificate was accepted by default")
	}
	insecure, err := New(Config{BaseURL: srv.URL, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insecure.Do(context.Background(), &Request{Path: "/"}, nil); err != nil {
		t.Fatalf("explicit insecure switch: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The handler answers only after 5 s or once the request is cancelled: a
	// call that ignored ctx would get that answer instead of the deadline.
	_, err := c.Do(ctx, &Request{Path: "/slow"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestDialErrorIsTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{Vendor: "x", BaseURL: "http://" + addr, Retry: RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &Request{Path: "/x"}, nil)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 0 || e.Attempts != 2 || !e.Temporary() {
		t.Fatalf("err = %#v", err)
	}
	if !isDialError(e.Err) {
		t.Fatalf("cause is not a dial error: %v", e.Err)
	}
}
