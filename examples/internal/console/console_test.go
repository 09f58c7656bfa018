package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
)

// client drives a console in process, like a browser on the same host: it keeps the cookies it is given.
type client struct {
	t       *testing.T
	h       http.Handler
	host    string
	cookies []*http.Cookie
	header  http.Header
}

func newClient(t *testing.T, h http.Handler) *client {
	return &client{t: t, h: h, host: "127.0.0.1:9464", header: http.Header{}}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.Host = c.host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, ck := range resp.Cookies() {
		c.cookies = slices.DeleteFunc(c.cookies, func(have *http.Cookie) bool { return have.Name == ck.Name })
		c.cookies = append(c.cookies, ck)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string, want int) string {
	c.t.Helper()
	resp, body := c.do(http.MethodGet, path, nil)
	if resp.StatusCode != want {
		c.t.Fatalf("GET %s: status %d, want %d; body:\n%s", path, resp.StatusCode, want, body)
	}
	return body
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token returns the CSRF token of the first form in a page.
func token(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func mustContain(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func itemState(t *testing.T, s connector.Store, k connector.Key) connector.State {
	t.Helper()
	d, err := connector.ShowItem(context.Background(), s, k)
	if err != nil {
		t.Fatal(err)
	}
	return d.Item.State
}

func TestOverview(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	resp, page := c.do(http.MethodGet, "/console/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, page)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") || !strings.Contains(got, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", got)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	mustContain(t, page,
		// items by state and dead letters
		`<span class="n">2</span> done`, `<span class="n">1</span> awaiting`, `<span class="n">2</span> dead letters`,
		`7 items stored; <a href="/console/items?state=waiting">2 open items wait on a backoff</a>`,
		// the source's checkpoint and lag (last collection at 12:55:01, the page at 13:00:00)
		`{&#34;since&#34;:&#34;2026-12-03T12:55:00Z&#34;`, "<td>4m59s</td>",
		// charts
		"<h2>Last 6 hours</h2>", `<svg viewBox="0 0 360 64"`, "Verdicts by kind", `class="s-malicious"`, "dead letters 2",
		// vendor health: vmray had 429s and a 503 three minutes ago
		"<td>vmray</td>", "3m ago</span>: 503 Service Unavailable: GET /rest/submission/{}",
		// components
		"<td>cbc-quarantine</td>")
	if n := strings.Count(page, "<g><title>"); n != 3*36 {
		t.Errorf("%d bars, want 36 in each of 3 charts", n)
	}
	if !strings.Contains(page, "429s") {
		t.Error("no 429 column")
	}
}

func TestItemsSearch(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	link := regexp.MustCompile(`href="/console/items/([a-z0-9]+:[0-9a-f]+)"`)
	for _, tc := range []struct {
		query string
		want  []connector.Key
	}{
		{"", []connector.Key{w.ransomware, w.offline, w.unfetchable, w.awaiting, w.throttled, w.clean, w.responding}},
		{"q=" + w.ransomware.Hex[:12], []connector.Key{w.ransomware}},
		{"q=SHA256:" + strings.ToUpper(w.clean.Hex), []connector.Key{w.clean}},
		{"q=" + hashesOf("putty.exe").MD5, []connector.Key{w.throttled}},
		{"q=.MSI", []connector.Key{w.offline}},
		{"state=failed", []connector.Key{w.offline, w.unfetchable}},
		{"state=open", []connector.Key{w.awaiting, w.throttled, w.responding}},
		{"state=waiting", []connector.Key{w.awaiting, w.throttled}},
		{"state=waiting&verdict=none&q=putty", []connector.Key{w.throttled}},
		{"verdict=malicious", []connector.Key{w.ransomware, w.responding}},
		{"verdict=none", []connector.Key{w.unfetchable, w.awaiting, w.throttled}},
		{"device=ws-fin-042", []connector.Key{w.ransomware, w.responding}},
		{"device=3402311", []connector.Key{w.ransomware}},
		{"state=done&verdict=malicious&device=WS-FIN", []connector.Key{w.ransomware}},
		{"q=ffffffffffff", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			page := c.get("/console/items?"+tc.query, http.StatusOK)
			var got []connector.Key
			for _, m := range link.FindAllStringSubmatch(page, -1) {
				k, err := connector.ParseKey(m[1])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
			}
			key := func(a, b connector.Key) int { return strings.Compare(a.String(), b.String()) }
			slices.SortFunc(got, key)
			want := slices.Clone(tc.want)
			slices.SortFunc(want, key)
			if !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
		})
	}
	for _, bad := range []string{"state=sleeping", "verdict=evil"} {
		c.get("/console/items?"+bad, http.StatusBadRequest)
	}
	page := c.get("/console/items?state=failed", http.StatusOK)
	mustContain(t, page, `<option value="failed" selected>failed</option>`, "2 of 2 items match")
	page = c.get("/console/items?state=waiting", http.StatusOK)
	mustContain(t, page, `<option value="waiting" selected>waiting on a backoff</option>`,
		`<span title="vmray: GET /rest/submission/{}: 503 Service Unavailable">await (vmray): 3 tries, next in 4m</span>`,
		"lookup (vmray): 1 try, next in 30s")
}

func TestItemPage(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	page := c.get("/console/items/"+w.ransomware.String(), http.StatusOK)
	mustContain(t, page,
		"<h1 class=\"wrap\">invoice_0423.exe</h1>",
		`<a href="https://eu.cloud.vmray.com/samples/4711" rel="noreferrer noopener" target="_blank">analysis report</a>`,
		"Win32.Ransomware.LockBit", "9 of 10", "471.5 KiB",
		// ticket
		"{&#34;submission_id&#34;:9001,&#34;sample_id&#34;:4711}",
		// sightings on two devices
		"Sightings (2)", "WS-FIN-042", "WS-FIN-017", `C:\Users\aweber\AppData\Local\Temp\invoice_0423.exe`,
		// every action with its result
		"Actions (4)", "cbc-watchlist", "report soarkit-4711 added to feed soarkit-vmray", "device:3402311",
		`<span class="status status-unchanged">unchanged</span>`,
		// every hash of the file
		hashesOf("invoice_0423.exe").SHA1, hashesOf("invoice_0423.exe").MD5)
	if strings.Contains(page, "Retry now") {
		t.Error("a done item offers a retry")
	}
	if page := c.get("/console/items/"+w.responding.String(), http.StatusOK); strings.Contains(page, "Retry now") {
		t.Error("an item responding without a backoff offers a retry")
	}
	// an item waiting on a backoff: attempts and next attempt; it may be retried now
	page = c.get("/console/items/"+w.awaiting.String(), http.StatusOK)
	mustContain(t, page, "Waiting to retry", "3 since 2026-12-03 12:51:00 UTC", "2026-12-03 13:04:00 UTC (in 4m)",
		"vmray: GET /rest/submission/{}: 503 Service Unavailable", "Retry now", "No action recorded yet.")
	// any hash of the file names the item (an alias is not needed when the hash is in the evidence)
	c.get("/console/items/"+hashesOf("putty.exe").SHA1, http.StatusNotFound)
	c.get("/console/items/md5:"+strings.Repeat("0", 32), http.StatusNotFound)
	page = c.get("/console/items/not-a-hash", http.StatusBadRequest)
	mustContain(t, page, "neither kind:hex nor a SHA256")
	c.get("/console/nowhere", http.StatusNotFound)
}

func TestFailedPageAndRetry(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	page := c.get("/console/failed", http.StatusOK)
	mustContain(t, page, "setup_helper.msi", "409 Conflict: device is not online", "Q4-report.docm",
		"the binary store does not hold it (404)", "Retry all 2", `data-confirm="Requeue all 2 dead letters?"`)
	tok := token(t, page)
	retry := "/console/items/" + w.offline.String() + "/retry"

	t.Run("without a token", func(t *testing.T) {
		resp, body := c.do(http.MethodPost, retry, url.Values{})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF token is missing") {
			t.Errorf("status %d:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("with a token of another browser", func(t *testing.T) {
		other := newClient(t, c.h)
		otherTok := token(t, other.get("/console/failed", http.StatusOK))
		resp, _ := c.do(http.MethodPost, retry, url.Values{"csrf": {otherTok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("without the cookie", func(t *testing.T) {
		bare := newClient(t, c.h)
		resp, _ := bare.do(http.MethodPost, retry, url.Values{"csrf": {tok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("cross-origin with the token", func(t *testing.T) {
		c.header.Set("Sec-Fetch-Site", "cross-site")
		c.header.Set("Origin", "https://evil.example")
		defer func() { c.header = http.Header{} }()
		resp, _ := c.do(http.MethodPost, retry, url.Values{"csrf": {tok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("an Origin of another site, without Sec-Fetch-Site", func(t *testing.T) {
		c.header.Set("Origin", "http://evil.example")
		defer func() { c.header = http.Header{} }()
		resp, _ := c.do(http.MethodPost, retry, url.Values{"csrf": {tok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	if got := itemState(t, w.store, w.offline); got != connector.StateFailed {
		t.Fatalf("a refused form changed the item: %s", got)
	}

	c.header.Set("Sec-Fetch-Site", "same-origin")
	c.header.Set("Origin", "http://127.0.0.1:9464")
	resp, body := c.do(http.MethodPost, retry, url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: status %d:\n%s", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); loc != "/console/items/"+w.offline.String()+"?requeued=1" {
		t.Errorf("Location = %q", loc)
	}
	// It failed responding with a verdict: it goes back to responding, verdict and action log kept.
	d, err := connector.ShowItem(context.Background(), w.store, w.offline)
	if err != nil {
		t.Fatal(err)
	}
	if d.Item.State != connector.StateResponding || d.Item.Verdict == nil || d.Item.Failure != nil || len(d.Actions) != 1 {
		t.Errorf("after the retry: state %s, verdict %v, failure %v, %d actions", d.Item.State, d.Item.Verdict, d.Item.Failure, len(d.Actions))
	}
	page = c.get("/console/items/"+w.offline.String()+"?requeued=1", http.StatusOK)
	mustContain(t, page, "Requeued 1 item: the next cycle works on it again.")

	// a done item has nothing to retry
	resp, body = c.do(http.MethodPost, "/console/items/"+w.ransomware.String()+"/retry", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "nothing to retry") {
		t.Errorf("retrying a done item: status %d:\n%s", resp.StatusCode, body)
	}

	// retry all: the other dead letter goes back to new
	resp, _ = c.do(http.MethodPost, "/console/failed/retry", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/failed?requeued=1" {
		t.Fatalf("retry all: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := itemState(t, w.store, w.unfetchable); got != connector.StateNew {
		t.Errorf("after retry all: %s", got)
	}
	mustContain(t, c.get("/console/failed", http.StatusOK), "No dead letters.")
}

func TestAuth(t *testing.T) {
	w := seedWorld(t)
	const bearer, password = "tok-3f9a1c55e0b7", "pw-8d2e6b1a4c9f"
	h := newTestConsole(t, w, Auth{Token: bearer, User: "operator", Password: password})
	retry := "/console/items/" + w.offline.String() + "/retry"

	anon := newClient(t, h)
	resp, _ := anon.do(http.MethodGet, "/console/", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("no credentials: status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for name, auth := range map[string]string{
		"wrong bearer":   "Bearer tok-wrong",
		"wrong password": "Basic " + basic("operator", "nope"),
		"wrong user":     "Basic " + basic("root", password),
		"token as basic": "Basic " + basic("operator", bearer),
	} {
		c := newClient(t, h)
		c.header.Set("Authorization", auth)
		if resp, _ := c.do(http.MethodGet, "/console/", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
	}

	for name, auth := range map[string]string{"bearer": "Bearer " + bearer, "basic": "Basic " + basic("operator", password)} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, h)
			c.host = "soar.example.net:9464" // exposed: any host name, credentials required
			c.header.Set("Authorization", auth)
			page := c.get("/console/failed", http.StatusOK)
			for _, secret := range []string{bearer, password} {
				if strings.Contains(page, secret) {
					t.Errorf("the page shows a secret")
				}
			}
			tok := token(t, page)
			// the CSRF token is required with credentials too
			if resp, _ := c.do(http.MethodPost, retry, url.Values{}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("no CSRF token: status %d", resp.StatusCode)
			}
			// and credentials with a CSRF token
			c.header.Del("Authorization")
			if resp, _ := c.do(http.MethodPost, retry, url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("no credentials: status %d", resp.StatusCode)
			}
			if got := itemState(t, w.store, w.offline); got != connector.StateFailed {
				t.Fatalf("a refused form changed the item: %s", got)
			}
		})
	}
	c := newClient(t, h)
	c.header.Set("Authorization", "Basic "+basic("operator", password))
	tok := token(t, c.get("/console/failed", http.StatusOK))
	if resp, body := c.do(http.MethodPost, retry, url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry with credentials and token: status %d:\n%s", resp.StatusCode, body)
	}
	if got := itemState(t, w.store, w.offline); got != connector.StateResponding {
		t.Errorf("after the retry: %s", got)
	}
}

func basic(user, password string) string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestOpenConsoleAnswersOnlyLoopbackHosts(t *testing.T) {
	w := seedWorld(t)
	h := newTestConsole(t, w, Auth{})
	for host, want := range map[string]int{
		"127.0.0.1:9464": http.StatusOK, "localhost:9464": http.StatusOK, "[::1]:9464": http.StatusOK,
		"LOCALHOST": http.StatusOK, "rebind.attacker.example:9464": http.StatusForbidden, "10.0.0.5:9464": http.StatusForbidden,
	} {
		c := newClient(t, h)
		c.host = host
		if resp, _ := c.do(http.MethodGet, "/console/", nil); resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	w := seedWorld(t)
	hostile := hashesOf("hostile")
	key := mustKey(t, hostile)
	it := connector.Item{Key: key, State: connector.StateFailed,
		Evidence: connector.Evidence{Hashes: hostile, FileName: `<script>alert("file")</script>.exe`, Source: "carbonblack",
			Sightings: []connector.Sighting{{Source: "carbonblack", DeviceName: `"><img src=x onerror=alert(1)>`,
				FilePath: `C:\<svg onload=alert(2)>`, ID: `</td><script>alert(3)</script>`}}},
		Verdict: &connector.Verdict{Kind: connector.Malicious, ReportURL: "javascript:alert(4)", ThreatNames: []string{"<b>bold</b>"}},
		Failure: &connector.Failure{Stage: connector.StageRespond, Reason: `<iframe src="//evil.example">`, At: testNow},
		Created: testNow, Updated: testNow}
	err := w.store.Update(context.Background(), func(tx connector.Tx) error {
		if err := tx.SetCheckpoint("carbonblack", connector.Checkpoint(`</code><script>alert(5)</script>`)); err != nil {
			return err
		}
		if err := tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "r", Item: key, Target: "<x>"},
			Status: connector.Acted, Detail: `<a href="javascript:alert(6)">x</a>`, At: testNow}); err != nil {
			return err
		}
		return tx.PutItem(it)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.activity.ObserveRequest(restEvent("<script>vendor</script>", "/<script>route</script>", 500))
	w.activity.ComponentHealth(connector.KindResponder, "<script>component</script>", false, `401: <img src=x onerror=alert(8)>`)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	for _, path := range []string{"/console/", "/console/items", "/console/items/" + key.String(), "/console/failed",
		"/console/items?q=" + url.QueryEscape(`<script>alert(7)</script>`) + "&device=" + url.QueryEscape(`"><b>`)} {
		page := c.get(path, http.StatusOK)
		for _, raw := range []string{"<script>alert", "<img", "<svg onload", "<iframe", "<b>", `href="javascript:`,
			"<script>vendor", "<script>route", "<script>component", "<x>", `"><b>`} {
			if strings.Contains(page, raw) {
				t.Errorf("%s: the page contains %q unescaped", path, raw)
			}
		}
	}
	page := c.get("/console/items/"+key.String(), http.StatusOK)
	mustContain(t, page, "&lt;script&gt;alert(&#34;file&#34;)&lt;/script&gt;.exe", `href="#ZgotmplZ"`, "&lt;b&gt;bold&lt;/b&gt;")
	mustContain(t, c.get("/console/", http.StatusOK), `<span class="bad">unauthorized: 401: &lt;img src=x onerror=alert(8)&gt;</span>`)
}

func TestStaticFiles(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	for path, ctype := range map[string]string{"/console/static/console.css": "text/css; charset=utf-8",
		"/console/static/console.js": "text/javascript; charset=utf-8", "/console/static/favicon.svg": "image/svg+xml"} {
		resp, body := c.do(http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype || len(body) < 100 {
			t.Errorf("%s: status %d, Content-Type %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no Content-Security-Policy", path)
		}
	}
}

func TestNoDirectoryListing(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	for _, path := range []string{"/console/static/", "/console/static", "/console/static/nope.css", "/console/static/../console.go"} {
		if resp, body := c.do(http.MethodGet, path, nil); resp.StatusCode == http.StatusOK || strings.Contains(body, `href="console.css"`) {
			t.Errorf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
	}
}

func TestStoreErrorsArePages(t *testing.T) {
	w := seedWorld(t)
	c := newClient(t, newTestConsole(t, w, Auth{}))
	w.store.Close()
	for _, path := range []string{"/console/", "/console/items", "/console/failed", "/console/items/" + w.clean.String()} {
		page := c.get(path, http.StatusServiceUnavailable)
		mustContain(t, page, "store closed")
	}
}
