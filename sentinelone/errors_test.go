package sentinelone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestErrors(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		want     []error
		code     string
		details  int
		attempts int
	}{
		{name: "401", status: 401, body: `{"errors":[{"code":4010010,"detail":null,"title":"Authentication Failed"}]}`,
			want: []error{sentinelone.ErrUnauthorized}, code: "4010010", attempts: 1},
		{name: "400 several", status: 400, body: `{"errors":[{"code":4000010,"detail":"2FA must be enabled for this User to use Remote Shell","title":"Validation Error"},{"code":4000010,"detail":"Remote Shell can run on a single endpoint only","title":"Validation Error"},{"code":4000010,"detail":"limit: Must be between 1 and 1000.","title":"Validation Error"}]}`,
			want: []error{sentinelone.ErrBadRequest, sentinelone.ErrValidation}, code: "4000010", details: 3, attempts: 1},
		{name: "400 siteIds", status: 400, body: string(fixtureBytes("error_400_validation_siteids.json")),
			want: []error{sentinelone.ErrBadRequest, sentinelone.ErrValidation}, code: "4000010", attempts: 1},
		{name: "403", status: 403, body: `{"errors":[{"code":4030010,"detail":"Action is not allowed to site users","title":"Insufficient permissions"}]}`,
			want: []error{sentinelone.ErrForbidden}, code: "4030010", attempts: 1},
		{name: "404", status: 404, body: `{"errors":[{"code":4040010,"detail":"Not found","title":"Resource not found"}]}`,
			want: []error{sentinelone.ErrNotFound}, code: "4040010", attempts: 1},
		{name: "500 retried", status: 500, body: `{"errors":[{"code":5000010,"detail":null,"title":"Server Error"}]}`,
			want: []error{sentinelone.ErrServer}, code: "5000010", attempts: 3},
		{name: "502 without body", status: 502, body: ``, want: []error{sentinelone.ErrServer}, attempts: 3},
		{name: "200 with errors", status: 200, body: `{"data":null,"errors":[{"code":4000010,"detail":"bad filter","title":"Validation Error"}]}`,
			want: []error{sentinelone.ErrValidation}, code: "4000010", attempts: 1},
		{name: "string code", status: 400, body: `{"errors":[{"code":"4000030","detail":null,"title":"Already Exists Error"}]}`,
			want: []error{sentinelone.ErrBadRequest, sentinelone.ErrAlreadyExists}, code: "4000030", attempts: 1},
		{name: "400 empty member", status: 400, body: `{"errors":[{}]}`, want: []error{sentinelone.ErrBadRequest}, attempts: 1},
		{name: "200 empty member", status: 200, body: `{"data":[{"id":"1"}],"errors":[{}]}`, attempts: 1},
		{name: "200 member without code or title", status: 200, body: `{"data":null,"errors":[{"detail":"filter too broad"}]}`, attempts: 1},
		{name: "404 detail only", status: 404, body: `{"errors":[{"detail":"Not found"}]}`, want: []error{sentinelone.ErrNotFound}, attempts: 1},
		{name: "400 null members", status: 400, body: `{"errors":[{"code":null,"title":null,"detail":{"siteIds":["bad"]}}]}`,
			want: []error{sentinelone.ErrBadRequest}, attempts: 1},
		{name: "400 strings", status: 400, body: `{"errors":["Validation failed","second"]}`, want: []error{sentinelone.ErrBadRequest}, details: 2, attempts: 1},
		{name: "400 object", status: 400, body: `{"errors":{"code":4000010,"title":"Validation Error"}}`,
			want: []error{sentinelone.ErrBadRequest, sentinelone.ErrValidation}, code: "4000010", attempts: 1},
		{name: "200 errors object", status: 200, body: `{"data":[],"errors":{"code":4000030,"title":"Already Exists Error"}}`,
			want: []error{sentinelone.ErrAlreadyExists}, code: "4000030", attempts: 1},
		{name: "malformed", status: 200, body: `{"data":[{"id":"1"`, want: []error{sentinelone.ErrMalformedResponse}, attempts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := setup(t)
			var calls atomic.Int32
			env.handle("/accounts", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeBody(w, tc.status, []byte(tc.body))
			})
			_, err := env.client.Accounts.List(context.Background(), sentinelone.AccountListOptions{})
			var e *sentinelone.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v", err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("errors.Is(%v, %v) = false", err, w)
				}
			}
			if e.Code != tc.code || len(e.Details) != tc.details || e.Vendor != "sentinelone" || e.Op != "Accounts.List" || e.StatusCode != tc.status {
				t.Errorf("error = %+v", e)
			}
			if int(calls.Load()) != tc.attempts {
				t.Errorf("attempts = %d, want %d", calls.Load(), tc.attempts)
			}
			if !strings.Contains(env.logs.String(), "Accounts.List") {
				t.Error("no debug log records to check")
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(env.logs.String(), testToken) || strings.Contains(e.Body, testToken) {
				t.Error("token leaked")
			}
			if tc.code != "" && sentinelone.VendorCode(err) == 0 {
				t.Error("VendorCode = 0")
			}
		})
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	env := setup(t)
	var calls atomic.Int32
	env.handle("POST /threats/notes", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			writeBody(w, 429, []byte(`{"errors":[{"code":4290010,"detail":null,"title":"Too Many Requests"}]}`))
			return
		}
		writeBody(w, 200, []byte(`{"data":{"affected":1}}`))
	})
	n, err := env.client.Threats.AddNote(context.Background(), sentinelone.ThreatFilter{IDs: []string{"1"}}, "note")
	if err != nil || n != 1 || calls.Load() != 2 {
		t.Fatalf("n %d err %v calls %d", n, err, calls.Load())
	}
}

func TestPostNotRetriedOn500(t *testing.T) {
	env := setup(t)
	var calls atomic.Int32
	env.handle("POST /threats/mitigate/kill", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeBody(w, 503, []byte(`{}`))
	})
	_, err := env.client.Threats.Mitigate(context.Background(), sentinelone.MitigateKill, []string{"1"}, sentinelone.Scope{})
	if !errors.Is(err, sentinelone.ErrServer) || calls.Load() != 1 {
		t.Fatalf("err %v calls %d", err, calls.Load())
	}
}

func TestOversizedAndCancelled(t *testing.T) {
	env := setup(t, sentinelone.WithMaxResponseBytes(64))
	env.handle("/accounts", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":[`+strings.Repeat(`{"id":"433241117337583618"},`, 10)+`{}]}`))
	})
	if _, err := env.client.Accounts.List(context.Background(), sentinelone.AccountListOptions{}); !errors.Is(err, sentinelone.ErrResponseTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := env.client.Accounts.List(ctx, sentinelone.AccountListOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	if _, err := sentinelone.New("https://usea1.sentinelone.net", " "); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := sentinelone.New("usea1.sentinelone.net", "t"); err == nil {
		t.Error("relative URL accepted")
	}
	for in, want := range map[string]string{
		"https://usea1.sentinelone.net":               "https://usea1.sentinelone.net/web/api/v2.1",
		"https://usea1.sentinelone.net/":              "https://usea1.sentinelone.net/web/api/v2.1",
		"https://usea1.sentinelone.net/web/api/v2.1/": "https://usea1.sentinelone.net/web/api/v2.1",
	} {
		c, err := sentinelone.New(in, "t")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, c.BaseURL()); diff != "" {
			t.Error(diff)
		}
	}
}

func TestFlowErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		is   error
		want string
	}{
		{&sentinelone.FetchFailedError{Path: `C:\a.exe`, Reason: "File not found"}, sentinelone.ErrNotCollected,
			`sentinelone: agent did not collect "C:\\a.exe": File not found`},
		{&sentinelone.HashMismatchError{Source: "content", Expected: "aa", Actual: "bb"}, sentinelone.ErrHashMismatch,
			"sentinelone: content SHA1 bb, expected aa"},
		{&sentinelone.QueryError{QueryID: "q1", State: "FAILED", Message: "syntax"}, sentinelone.ErrQueryFailed,
			"sentinelone: query q1 ended in state FAILED: syntax"},
	} {
		if tc.err.Error() != tc.want || !errors.Is(tc.err, tc.is) {
			t.Errorf("%q (is %v)", tc.err.Error(), errors.Is(tc.err, tc.is))
		}
	}
}

// TestGetNotFoundFrom200 checks that a get-by-id answered 200 with an empty
// data list is ErrNotFound, with or without an error list of empty members.
func TestGetNotFoundFrom200(t *testing.T) {
	for _, body := range []string{
		`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`,
		`{"data":null}`,
		`{"data":[],"errors":[{}]}`,
		`{"data":[],"errors":[{"code":null,"title":null}]}`,
	} {
		env := setup(t)
		env.handle("/threats", func(w http.ResponseWriter, r *http.Request) { writeBody(w, 200, []byte(body)) })
		_, err := env.client.Threats.Get(context.Background(), "1")
		var e *sentinelone.Error
		if !errors.Is(err, sentinelone.ErrNotFound) || !errors.As(err, &e) || e.StatusCode != 200 {
			t.Errorf("%s: %v", body, err)
		}
	}
	env := setup(t)
	env.handle("/threats", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":[{"id":"1"}],"errors":[{}]}`))
	})
	if _, err := env.client.Threats.Get(context.Background(), "1"); err == nil || errors.Is(err, sentinelone.ErrNotFound) {
		t.Errorf("data with an error list: %v", err)
	}
}
