package connector_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
)

func tapFinding() connector.Finding {
	h := connector.Hashes{SHA256: strings.Repeat("ab", 32), MD5: strings.Repeat("cd", 16)}
	s := connector.Sighting{Source: "cbc", DeviceID: "98765", DeviceName: "WS-0042", ProcessGUID: "7DESJ9GN-00181b7a",
		PID: 7212, FilePath: `c:\users\alice\invoice.exe`, MessageID: "<x@example.com>", Recipient: "alice@example.com"}
	return connector.Finding{
		Key:      connector.Key{Kind: connector.SHA256, Hex: h.SHA256},
		Evidence: connector.Evidence{Hashes: h, FileName: "invoice.exe", Sightings: []connector.Sighting{s}},
		Verdict:  connector.Verdict{Kind: connector.Malicious, Score: 100, Analyzer: "tap"},
		Sighting: &s, Target: s.Key(),
	}
}

type webhookRequest struct {
	header http.Header
	body   []byte
	path   string
	method string
}

func webhookServer(t *testing.T, statuses ...int) (*httptest.Server, func() []webhookRequest) {
	var mu sync.Mutex
	var reqs []webhookRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, webhookRequest{r.Header.Clone(), body, r.URL.RequestURI(), r.Method})
		n := len(reqs)
		mu.Unlock()
		status := http.StatusNoContent
		if n <= len(statuses) {
			status = statuses[n-1]
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"try again"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []webhookRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]webhookRequest(nil), reqs...)
	}
}

func TestWebhookSignedDelivery(t *testing.T) {
	srv, requests := webhookServer(t, http.StatusServiceUnavailable, http.StatusTooManyRequests)
	secret := []byte("s3cr3t-hmac-key")
	wh, err := connector.NewWebhook(srv.URL+"/hooks/soar?token=abc", connector.WebhookOptions{
		Secret: secret, Header: http.Header{"Authorization": {"Bearer xyz"}},
		Retry: connector.Backoff{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := tapFinding()
	res, err := wh.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted || !strings.Contains(res.Detail, "HTTP 204") {
		t.Fatalf("Respond = %+v, %v; want delivered after two transient failures", res, err)
	}
	reqs := requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (503 and 429 retried)", len(reqs))
	}
	ids := map[string]bool{}
	for _, r := range reqs {
		if r.method != http.MethodPost || r.path != "/hooks/soar?token=abc" {
			t.Errorf("request %s %s", r.method, r.path)
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("Authorization") != "Bearer xyz" {
			t.Errorf("headers = %v", r.header)
		}
		if err := connector.VerifyWebhook(secret, r.header, r.body, "", time.Minute, time.Now()); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
		if err := connector.VerifyWebhook([]byte("wrong"), r.header, r.body, "", time.Minute, time.Now()); err == nil {
			t.Errorf("signature verified with the wrong secret")
		}
		if err := connector.VerifyWebhook(secret, r.header, append(r.body, ' '), "", time.Minute, time.Now()); err == nil {
			t.Errorf("signature verified a changed body")
		}
		if err := connector.VerifyWebhook(secret, r.header, r.body, "", time.Minute, time.Now().Add(time.Hour)); err == nil {
			t.Errorf("an old delivery verified")
		}
		ids[r.header.Get(connector.HeaderDelivery)] = true
	}
	if len(ids) != 1 || ids[""] {
		t.Errorf("delivery ids %v; want one stable id across retries", ids)
	}
	var p connector.WebhookPayload
	if err := json.Unmarshal(reqs[2].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != connector.DeliveryID("webhook", f) || p.Key != f.Key || p.Sighting == nil || p.Sighting.PID != 7212 ||
		p.Verdict.Kind != connector.Malicious || p.Evidence.FileName != "invoice.exe" || p.Target != f.Target {
		t.Errorf("payload = %+v", p)
	}
	var raw map[string]any
	json.Unmarshal(reqs[2].body, &raw)
	if raw["verdict"].(map[string]any)["kind"] != "malicious" || raw["key"] != f.Key.String() {
		t.Errorf("wire format: verdict kind and key must be strings: %s", reqs[2].body)
	}
}

func TestWebhookFailures(t *testing.T) {
	srv, requests := webhookServer(t, http.StatusBadRequest)
	wh, _ := connector.NewWebhook(srv.URL+"/hook?token=do-not-leak", connector.WebhookOptions{
		Retry: connector.Backoff{Attempts: 3, Initial: time.Millisecond}})
	_, err := wh.Respond(context.Background(), tapFinding())
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "try again") {
		t.Errorf("400: err = %v; want a permanent error with status and body excerpt", err)
	}
	if strings.Contains(err.Error(), "do-not-leak") {
		t.Errorf("error leaks the URL's token: %v", err)
	}
	if n := len(requests()); n != 1 {
		t.Errorf("400 was sent %d times, want once", n)
	}

	// A dead endpoint: retried, then a transient error without the token.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/x?token=do-not-leak"
	dead.Close()
	wh, _ = connector.NewWebhook(url, connector.WebhookOptions{Retry: connector.Backoff{Attempts: 2, Initial: time.Millisecond}})
	_, err = wh.Respond(context.Background(), tapFinding())
	if err == nil || connector.IsPermanent(err) || strings.Contains(err.Error(), "do-not-leak") {
		t.Errorf("connection refused: err = %v; want a transient error without the token", err)
	}

	// Redirects are not followed (a POST must not turn into a GET elsewhere, credentials must not travel).
	redirect := httptest.NewServer(http.RedirectHandler("https://elsewhere.example/", http.StatusFound))
	defer redirect.Close()
	wh, _ = connector.NewWebhook(redirect.URL, connector.WebhookOptions{})
	if _, err := wh.Respond(context.Background(), tapFinding()); !connector.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 302") {
		t.Errorf("redirect: err = %v; want a permanent HTTP 302 error", err)
	}

	for _, bad := range []string{"", "ftp://x", "/relative", "http://"} {
		if _, err := connector.NewWebhook(bad, connector.WebhookOptions{}); err == nil {
			t.Errorf("NewWebhook(%q) accepted", bad)
		}
	}
}

func TestCommandRunsWithoutShell(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	// The test subject is a tiny script run by /bin/sh as the program (the responder itself never uses a shell):
	// it writes its arguments one per line.
	cmd, err := connector.NewCommand([]string{"/bin/sh", "-c", `printf '%s\n' "$@" > "$0"`, out,
		"--device_id", "{device_id}", "--pid", "{pid}", "--file_path", "{file_path}", "--hash={sha256}", "{\"json\":1}"},
		connector.CommandOptions{Name: "live-response"})
	if err != nil {
		t.Fatal(err)
	}
	f := tapFinding()
	f.Sighting.FilePath = `c:\temp\evil.exe; rm -rf /` // a hostile value stays one argument
	res, err := cmd.Respond(context.Background(), f)
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("Respond = %+v, %v", res, err)
	}
	got, _ := os.ReadFile(out)
	want := "--device_id\n98765\n--pid\n7212\n--file_path\nc:\\temp\\evil.exe; rm -rf /\n--hash=" + f.Evidence.Hashes.SHA256 + "\n{\"json\":1}\n"
	if string(got) != want {
		t.Errorf("arguments:\n%s\nwant\n%s", got, want)
	}
	if cmd.Name() != "live-response" || cmd.Scope() != connector.ScopeSighting {
		t.Errorf("name %q scope %v", cmd.Name(), cmd.Scope())
	}
}

func TestCommandOutcomes(t *testing.T) {
	f := tapFinding()
	echo, err := connector.NewCommand([]string{"echo", "isolating", "{device_name}"}, connector.CommandOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := echo.Respond(context.Background(), f)
	if err != nil || !strings.Contains(res.Detail, `isolating WS-0042`) || echo.Name() != "echo" {
		t.Errorf("echo: %+v, %v; want the captured output in the detail", res, err)
	}

	noPID := f
	s := *f.Sighting
	s.PID = 0
	noPID.Sighting = &s
	kill, _ := connector.NewCommand([]string{"true", "{pid}"}, connector.CommandOptions{})
	if res, err := kill.Respond(context.Background(), noPID); err != nil || res.Status != connector.Skipped || !strings.Contains(res.Detail, "{pid}") {
		t.Errorf("missing pid: %+v, %v; want Skipped naming the placeholder", res, err)
	}
	perEvidence := f
	perEvidence.Sighting, perEvidence.Target = nil, ""
	if res, _ := kill.Respond(context.Background(), perEvidence); res.Status != connector.Skipped {
		t.Errorf("no sighting: %+v; want Skipped", res)
	}

	fail, _ := connector.NewCommand([]string{"false"}, connector.CommandOptions{})
	if _, err := fail.Respond(context.Background(), f); err == nil || connector.IsPermanent(err) || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("false: err = %v; want a retryable error with the exit status", err)
	}

	slow, _ := connector.NewCommand([]string{"sleep", "10"}, connector.CommandOptions{Timeout: 50 * time.Millisecond})
	if _, err := slow.Respond(context.Background(), f); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("sleep: err = %v; want a timeout", err)
	}

	loud, _ := connector.NewCommand([]string{"head", "-c", "200000", "/dev/zero"}, connector.CommandOptions{MaxOutput: 100})
	if res, err := loud.Respond(context.Background(), f); err != nil || len(res.Detail) > 600 {
		t.Errorf("big output: detail of %d bytes, err %v; want it capped", len(res.Detail), err)
	}

	if _, err := connector.NewCommand([]string{"echo", "{nope}"}, connector.CommandOptions{}); err == nil {
		t.Errorf("unknown placeholder accepted")
	}
	if _, err := connector.NewCommand([]string{"/no/such/program"}, connector.CommandOptions{}); err == nil {
		t.Errorf("missing program accepted")
	}
	if _, err := connector.NewCommand(nil, connector.CommandOptions{}); err == nil {
		t.Errorf("empty argv accepted")
	}
	if args, missing := echo.Args(f); missing != "" || strings.Join(args, " ") != "isolating WS-0042" {
		t.Errorf("Args = %q, %q", args, missing)
	}
}

func TestCommandConforms(t *testing.T) {
	out := filepath.Join(t.TempDir(), "isolated")
	connectortest.TestResponder(t, connectortest.ResponderHarness{
		New: func(t *testing.T) connector.Responder {
			c, err := connector.NewCommand([]string{"/bin/sh", "-c", `echo "$1" >> "$0"`, out, "{device_id}"}, connector.CommandOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Finding: func(testing.TB) connector.Finding { return connectortest.ExampleFinding(connector.ScopeSighting) },
		Effects: func(testing.TB) int {
			b, _ := os.ReadFile(out)
			return strings.Count(string(b), "\n")
		},
		Repeatable: true,
	})
}
