package sentinelone_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestThreatsRequestFileAndFindUpload(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("POST /threats/fetch-file", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"filter":{"ids":["1000000000000000000"]},"data":{"password":"S1BinaryVault"}}`)
		w.Header().Set("Date", "Wed, 27 Sep 2023 12:16:40 GMT")
		writeBody(w, 200, []byte(`{"data":{"affected":1}}`))
	})
	calls := 0
	env.handle("GET /activities", func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls > 1 {
			writeBody(w, 200, fixture(t, "activities_type86_threat_file_upload.json"))
			return
		}
		testQuery(t, r, url.Values{"activityTypes": {"86"}, "threatIds": {"1000000000000000000"}, "createdAt__gt": {"2023-09-27T12:16:39.000000Z"},
			"sortBy": {"createdAt"}, "sortOrder": {"desc"}, "limit": {"100"}})
		writeBody(w, 200, fixture(t, "activities_type86_threat_file_upload.json"))
	})
	req, err := env.client.Threats.RequestFile(ctx, "1000000000000000000", sentinelone.BinaryVaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	want := &sentinelone.FetchRequest{ThreatID: "1000000000000000000", ActivityType: 86, RequestedAt: time.Date(2023, 9, 27, 12, 16, 39, 0, time.UTC)}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Error(diff)
	}
	a, err := env.client.Activities.FindUpload(ctx, req)
	if err != nil || a == nil || a.ID != "1000000000000000000" {
		t.Fatalf("upload: %+v %v", a, err)
	}
	// The request survives a restart as JSON.
	b, _ := json.Marshal(req)
	var back sentinelone.FetchRequest
	if err := json.Unmarshal(b, &back); err != nil || !back.RequestedAt.Equal(req.RequestedAt) || back.ThreatID != req.ThreatID {
		t.Fatalf("round trip: %s %v", b, err)
	}
	// An activity older than the request is never taken.
	req.RequestedAt = time.Date(2023, 9, 27, 12, 16, 44, 0, time.UTC)
	if a, err := env.client.Activities.FindUpload(ctx, &sentinelone.FetchRequest{ThreatID: req.ThreatID, ActivityType: 86, RequestedAt: req.RequestedAt}); err != nil || a != nil {
		t.Fatalf("stale activity returned: %+v %v", a, err)
	}
}

func TestThreatsRequestFileNothingMatched(t *testing.T) {
	env := setup(t)
	env.handle("POST /threats/fetch-file", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"affected":0}}`))
	})
	_, err := env.client.Threats.RequestFile(context.Background(), "1", "Long-enough-123")
	if !errors.Is(err, sentinelone.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if _, err := env.client.Threats.RequestFile(context.Background(), "1", "alllowercase"); !errors.Is(err, sentinelone.ErrInvalidPassword) {
		t.Fatalf("weak password: %v", err)
	}
}

func TestAllIteratorsFollowCursors(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	page := func(w http.ResponseWriter, r *http.Request, item string) {
		if r.URL.Query().Get("cursor") == "" {
			writeBody(w, 200, []byte(`{"data":[`+item+`],"pagination":{"nextCursor":"bmV4dA==","totalItems":2}}`))
			return
		}
		writeBody(w, 200, []byte(`{"data":[`+item+`],"pagination":{"nextCursor":null,"totalItems":2}}`))
	}
	env.handle("/accounts", func(w http.ResponseWriter, r *http.Request) { page(w, r, `{"id":"1"}`) })
	env.handle("/agents", func(w http.ResponseWriter, r *http.Request) { page(w, r, `{"id":"1"}`) })
	env.handle("/restrictions", func(w http.ResponseWriter, r *http.Request) { page(w, r, `{"id":"1"}`) })
	env.handle("/threats/9/timeline", func(w http.ResponseWriter, r *http.Request) { page(w, r, `{"id":"1","activityType":86}`) })
	count := func(name string, n int, err error) {
		t.Helper()
		if err != nil || n != 2 {
			t.Errorf("%s: %d items, %v", name, n, err)
		}
	}
	n, err := drain(env.client.Accounts.All(ctx, sentinelone.AccountListOptions{}))
	count("accounts", n, err)
	n, err = drain(env.client.Agents.All(ctx, sentinelone.AgentListOptions{}))
	count("agents", n, err)
	n, err = drain(env.client.Blocklist.All(ctx, sentinelone.RestrictionListOptions{}))
	count("restrictions", n, err)
	n, err = drain(env.client.Threats.AllTimeline(ctx, "9", sentinelone.TimelineListOptions{}))
	count("timeline", n, err)
}

func drain[T any](seq func(func(T, error) bool)) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func TestTimeDecoding(t *testing.T) {
	cases := map[string]time.Time{
		`"2019-09-15T12:05:49.095889Z"`: time.Date(2019, 9, 15, 12, 5, 49, 95889000, time.UTC),
		`"2022-04-19T19:19:09.177Z"`:    time.Date(2022, 4, 19, 19, 19, 9, 177000000, time.UTC),
		`"2019-06-27T08:00:31Z"`:        time.Date(2019, 6, 27, 8, 0, 31, 0, time.UTC),
		`"2022-07-19T21:20:54+00:00"`:   time.Date(2022, 7, 19, 21, 20, 54, 0, time.UTC),
		`"2022-07-19T23:20:54+02:00"`:   time.Date(2022, 7, 19, 21, 20, 54, 0, time.UTC),
		`"1900-01-01T00:00:00"`:         time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		`"2024-05-02 09:30:00.120000"`:  time.Date(2024, 5, 2, 9, 30, 0, 120000000, time.UTC),
		`1724151854609`:                 time.UnixMilli(1724151854609).UTC(),
		`"1724151854609"`:               time.UnixMilli(1724151854609).UTC(),
		`null`:                          {},
		`"None"`:                        {},
		`""`:                            {},
		`true`:                          {},
		`"not a time"`:                  {},
	}
	for in, want := range cases {
		var got sentinelone.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("%s = %v, want %v", in, got.Time, want)
		}
	}
	b, _ := json.Marshal(sentinelone.NewTime(time.Date(2024, 5, 2, 11, 14, 3, 118204000, time.FixedZone("CEST", 7200))))
	if string(b) != `"2024-05-02T09:14:03.118204Z"` {
		t.Errorf("marshal = %s", b)
	}
	if b, _ := json.Marshal(sentinelone.Time{}); string(b) != "null" {
		t.Errorf("zero = %s", b)
	}
}

func TestLenientScalars(t *testing.T) {
	var v struct {
		A, B, C, D sentinelone.FlexBool
		S, N, L, Z sentinelone.FlexString
		I, J, K    sentinelone.FlexInt
	}
	if err := json.Unmarshal([]byte(`{"A":true,"B":"True","C":"false","D":null,"S":"x","N":1000000000000000000,"L":["2163822725049635476"],"Z":null,"I":68,"J":"482304","K":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A || !v.B || v.C || v.D || v.S != "x" || v.N != "1000000000000000000" || v.L != "2163822725049635476" || v.Z != "" ||
		v.I != 68 || v.J != 482304 || v.K != 0 {
		t.Errorf("decoded = %+v", v)
	}
}

func TestPasswords(t *testing.T) {
	for pw, ok := range map[string]bool{
		"S1BinaryVault":            true,
		"SentinelEvidenceFile.!":   true,
		"PossiblyInfected0987&*()": true,
		"Elastic@123":              true,
		"short1A!":                 false,
		"alllowercaseletters":      false,
		"lower and UPPER 123":      false,
		"NoDigitsOrSymbolsHere":    false,
		strings.Repeat("aA1", 86):  false,
		strings.Repeat("aA1", 85):  true,
	} {
		if err := sentinelone.ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%q) = %v", pw, err)
		} else if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("password in error %q", err)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		pw := sentinelone.GeneratePassword()
		if err := sentinelone.ValidatePassword(pw); err != nil || seen[pw] || strings.ContainsAny(pw, `"'\ `) {
			t.Fatalf("generated %q: %v", pw, err)
		}
		seen[pw] = true
	}
}

func TestDefaultRouteLimits(t *testing.T) {
	byPrefix := map[string]sentinelone.RouteLimit{}
	for _, l := range sentinelone.DefaultRouteLimits() {
		byPrefix[l.Prefix] = l
	}
	for prefix, perSecond := range map[string]float64{
		"/threats": 10, "/threats/*": 100, "/agents": 25, "/activities": 10, "/dv/init-query": 1.0 / 60, "/dv/query-status": 1,
		"/threat-intelligence": 0.5, "/dv/events/pq": 4,
	} {
		l, ok := byPrefix[prefix]
		if !ok || float64(l.Limit) < perSecond*0.999 || float64(l.Limit) > perSecond*1.001 {
			t.Errorf("%s: %+v, want %v/s", prefix, l, perSecond)
		}
	}
}

func TestRouteLimitsApplied(t *testing.T) {
	// In a synctest bubble the clock moves only while every goroutine waits: the calls are spaced exactly by the
	// route's limit (10/s, burst 1), so the fourth is sent 300 ms after the first.
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		rt := roundTrip(func(r *http.Request) (*http.Response, error) {
			at = append(at, time.Now())
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"data":{"responseState":"RUNNING"}}`)), Request: r}, nil
		})
		c, err := sentinelone.New("https://usea1.sentinelone.net", "token", sentinelone.WithHTTPClient(&http.Client{Transport: rt}),
			sentinelone.WithRouteLimit(sentinelone.RouteLimit{Prefix: "/dv/query-status", Limit: 10, Burst: 1}))
		if err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if _, err := c.DeepVisibility.QueryStatus(context.Background(), "q1"); err != nil {
				t.Fatal(err)
			}
		}
		if len(at) != 4 || at[3].Sub(at[0]) != 300*time.Millisecond {
			t.Errorf("requests at %v, want 4 spaced 100 ms apart", at)
		}
	})
}

// roundTrip answers a client's requests in process.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// plainZip builds an unencrypted fetched-file zip (OpenArchive ignores the
// password for entries that are not encrypted).
func plainZip(t *testing.T, manifest string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if manifest != "" {
		add("manifest.json", manifest)
	}
	for n, b := range files {
		add(n, b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOpenUploadLinkForms(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	body := "payload"
	zipBytes := plainZip(t, `[{"path":"C:\\Temp\\p.exe","sha1":"`+sha1hex([]byte(body))+`","reason":""}]`, map[string]string{"C/Temp/p.exe": body})
	env.handle("GET /agents/1742210398743211002/uploads/1857340410000000001", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "ApiToken "+testToken)
		w.Write(zipBytes)
	})
	for name, data := range map[string]string{
		"downloadUrl":          `{"downloadUrl":"/agents/1742210398743211002/uploads/1857340410000000001"}`,
		"prefixed downloadUrl": `{"downloadUrl":"/web/api/v2.1/agents/1742210398743211002/uploads/1857340410000000001"}`,
		"filePath only":        `{"filePath":"/agents/1742210398743211002/uploads/1857340410000000001"}`,
		"absolute same host":   `{"downloadUrl":"` + env.srv.URL + apiBase + `/agents/1742210398743211002/uploads/1857340410000000001"}`,
		"no link":              `{}`,
	} {
		var a sentinelone.Activity
		if err := json.Unmarshal([]byte(`{"id":"1857340410000000001","agentId":"1742210398743211002","activityType":80,"data":`+data+`}`), &a); err != nil {
			t.Fatal(err)
		}
		f, err := env.client.Agents.OpenUpload(ctx, &a, "ignored-for-plain-zips", sentinelone.ArchiveOptions{RequireManifest: true, Path: `c:/temp/P.EXE`})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(got) != body || !f.Verified() || f.Path != `C:\Temp\p.exe` {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	var bad sentinelone.Activity
	json.Unmarshal([]byte(`{"id":"1","agentId":"2","data":{"downloadUrl":"/somewhere/else"}}`), &bad)
	if _, err := env.client.Agents.OpenUpload(ctx, &bad, "x", sentinelone.ArchiveOptions{}); !errors.Is(err, sentinelone.ErrInvalidRequest) {
		t.Errorf("odd link: %v", err)
	}
}

func TestOpenArchiveProblems(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		zip  []byte
		opts sentinelone.ArchiveOptions
		want error
	}{
		"not a zip":          {[]byte("<html>expired</html>"), sentinelone.ArchiveOptions{}, sentinelone.ErrBadArchive},
		"manifest required":  {plainZip(t, "", map[string]string{"a": "b"}), sentinelone.ArchiveOptions{RequireManifest: true}, sentinelone.ErrBadArchive},
		"manifest not JSON":  {plainZip(t, "{oops", map[string]string{"a": "b"}), sentinelone.ArchiveOptions{}, sentinelone.ErrBadArchive},
		"empty manifest":     {plainZip(t, "[]", map[string]string{"a": "b"}), sentinelone.ArchiveOptions{}, sentinelone.ErrBadArchive},
		"reason":             {plainZip(t, `[{"path":"/x","sha1":null,"reason":"Access denied"}]`, nil), sentinelone.ArchiveOptions{}, sentinelone.ErrNotCollected},
		"two files, no hint": {plainZip(t, "", map[string]string{"a": "1", "b": "2"}), sentinelone.ArchiveOptions{}, sentinelone.ErrBadArchive},
		"expected mismatch":  {plainZip(t, `{"path":"/x","sha1":"AA","reason":""}`, map[string]string{"x": "1"}), sentinelone.ArchiveOptions{ExpectedSHA1: "bb"}, sentinelone.ErrHashMismatch},
	}
	for name, tc := range cases {
		_, err := sentinelone.OpenArchive(ctx, bytes.NewReader(tc.zip), "pw", tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	// A file cap: the file of its size opens, one byte more is a limit breach (no retry mends it).
	for _, size := range []int{64, 65} {
		content := strings.Repeat("M", size)
		f, err := sentinelone.OpenArchive(ctx, bytes.NewReader(plainZip(t, "", map[string]string{"sample.bin": content})), "pw",
			sentinelone.ArchiveOptions{MaxFileBytes: 64})
		switch {
		case size == 64 && err != nil:
			t.Errorf("a %d-byte file under a 64-byte cap: %v", size, err)
		case size == 65 && (!errors.Is(err, sentinelone.ErrBadArchive) || !strings.Contains(fmt.Sprint(err), "limit")):
			t.Errorf("a %d-byte file under a 64-byte cap: %v, want a limit breach", size, err)
		}
		if f != nil {
			f.Close()
		}
	}
	// A vault zip: one file, no manifest, hash given by the caller.
	f, err := sentinelone.OpenArchive(ctx, bytes.NewReader(plainZip(t, "", map[string]string{"sample.bin": "vault"})), sentinelone.BinaryVaultPassword,
		sentinelone.ArchiveOptions{ExpectedSHA1: strings.ToUpper(sha1hex([]byte("vault")))})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); err != nil || string(b) != "vault" || !f.Verified() || f.Name != "sample.bin" {
		t.Fatalf("vault: %q %v", b, err)
	}
}
