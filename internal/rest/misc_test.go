package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRouteMatching(t *testing.T) {
	ls := newRouteLimiters([]RouteLimit{
		{Prefix: "/threats", Limit: 1},
		{Prefix: "/threats/fetch-file", Limit: 2},
		{Prefix: "/agents/*/uploads", Limit: 3},
		{Method: "POST", Prefix: "/dv/init-query", Limit: 4},
	})
	for _, tc := range []struct {
		method, path string
		want         rate.Limit // 0: no match
	}{
		{"GET", "/threats", 1},
		{"GET", "/threats/notes", 1},
		{"POST", "/threats/fetch-file", 2},
		{"GET", "/threatsx", 0},
		{"GET", "/agents/123/uploads/9", 3},
		{"GET", "/agents/123/actions", 0},
		{"POST", "/dv/init-query", 4},
		{"GET", "/dv/init-query", 0},
	} {
		l := matchRoute(ls, tc.method, tc.path)
		var got rate.Limit
		if l != nil {
			got = l.Limit()
		}
		if got != tc.want {
			t.Errorf("%s %s: limit %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestRateLimitsApplied(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {}, func(cfg *Config) {
		cfg.RouteLimits = []RouteLimit{{Prefix: "/slow", Limit: rate.Every(time.Hour), Burst: 1}}
	})
	// One request an hour on /slow: the burst lets the first through, and the
	// second would wait far past the deadline, so the limiter refuses it at
	// once. /fast shares no limit and goes through under the same deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Do(ctx, &Request{Path: "/slow/x"}, nil); err != nil {
		t.Fatalf("first request on the limited route: %v", err)
	}
	if _, err := c.Do(ctx, &Request{Path: "/slow/y"}, nil); err == nil {
		t.Fatal("second request on the limited route was not throttled")
	}
	for range 3 {
		if _, err := c.Do(ctx, &Request{Path: "/fast"}, nil); err != nil {
			t.Fatalf("unlimited route was throttled: %v", err)
		}
	}

	c2, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {}, func(cfg *Config) {
		cfg.RateLimit, cfg.RateBurst = rate.Every(time.Hour), 1
	})
	c2.Do(context.Background(), &Request{Path: "/x"}, nil)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err := c2.Do(ctx2, &Request{Path: "/x"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client limit with short deadline: %v", err)
	}
}

func TestMultipartStreamsFieldsAndFile(t *testing.T) {
	var fields = map[string]string{}
	var fileName, fileCT string
	var fileSum [32]byte
	var fileLen int64
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != -1 {
			t.Errorf("content length %d, want chunked", r.ContentLength)
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FileName() == "" {
				b, _ := io.ReadAll(p)
				fields[p.FormName()] = string(b)
				continue
			}
			fileName, fileCT = p.FileName(), p.Header.Get("Content-Type")
			h := sha256.New()
			fileLen, _ = io.Copy(h, p)
			copy(fileSum[:], h.Sum(nil))
		}
	})
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/upload", Body: MultipartBody(
		[]Field{{Name: "comment", Value: "from soarkit"}, {Name: "tags", Value: "a,b"}},
		FilePart{Field: "sample_file", FileName: `we"ird\name ü.exe`, Reader: bytes.NewReader(data)},
	)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fields["comment"] != "from soarkit" || fields["tags"] != "a,b" {
		t.Errorf("fields %v", fields)
	}
	if fileName != `we"ird\name ü.exe` || fileCT != "application/octet-stream" {
		t.Errorf("file name %q type %q", fileName, fileCT)
	}
	if fileLen != int64(len(data)) || fileSum != sha256.Sum256(data) {
		t.Errorf("file arrived with %d bytes, checksum mismatch", fileLen)
	}
}

func TestMultipartSourceError(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/upload",
		Body: MultipartBody(nil, FilePart{Field: "f", FileName: "x", Reader: io.MultiReader(strings.NewReader("part"), errReader{})})}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("source error not reported: %v", err)
	}
	_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/upload", Body: MultipartBody(nil, FilePart{Field: "f"})}, nil)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty part: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestMultipartLazyStart(t *testing.T) {
	var reads atomic.Int32
	src := readFunc(func(p []byte) (int, error) { reads.Add(1); return 0, io.EOF })
	body := MultipartBody(nil, FilePart{Field: "f", FileName: "x", Reader: src})
	rc, err := body.Open()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	rc.Close()
	time.Sleep(10 * time.Millisecond)
	if reads.Load() != 0 {
		t.Fatal("the source was read before the transport asked for the body")
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

func TestJSONBodyEncodingError(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/x", Body: JSONBody(make(chan int))}, nil)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("err = %v", err)
	}
	_, err = c.Do(context.Background(), &Request{Path: "/x", Query: 42}, nil)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("bad query: %v", err)
	}
}

// TestSecretsNeverLogged drives every logging path (success, retry, transport
// failure, HTTP error) and lets the helper scan the captured log.
func TestSecretsNeverLogged(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(503)
			io.WriteString(w, "token "+testSecret)
		case 2:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		default:
			w.WriteHeader(400)
			io.WriteString(w, `{"api_key":"`+testSecret+`","password":"`+testPassword+`"}`)
		}
	})
	_, err := c.Do(context.Background(), &Request{Path: "/x"}, nil)
	assertNoSecret(t, err)
	_, err = c.Do(context.Background(), &Request{URL: "http://127.0.0.1:1/?password=" + testPassword}, nil)
	assertNoSecret(t, err)
}

func TestDebugRecordFields(t *testing.T) {
	var buf bytes.Buffer
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {}, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c.Do(context.Background(), &Request{Op: "Things.List", Path: "/things"}, nil)
	line := buf.String()
	for _, want := range []string{"op=Things.List", "method=GET", "path=" + basePath + "/things", "status=200", "attempt=1", "duration="} {
		if !strings.Contains(line, want) {
			t.Errorf("log record lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "Authorization") || strings.Contains(line, testSecret) {
		t.Errorf("log record carries credentials: %s", line)
	}
}

func TestOptions(t *testing.T) {
	type vendor struct{ Lookback time.Duration }
	withLookback := func(d time.Duration) Option[vendor] {
		return func(s *Settings[vendor]) {
			if d <= 0 {
				s.Fail(&ConfigError{Field: "lookback", Reason: "must be positive"})
				return
			}
			s.Vendor.Lookback = d
		}
	}
	logger := slog.New(slog.DiscardHandler)
	s, err := Apply(Config{BaseURL: "https://x"}, vendor{}, []Option[vendor]{
		WithRetry[vendor](RetryPolicy{MaxAttempts: 7}),
		WithRateLimit[vendor](5, 2),
		WithRouteLimit[vendor](RouteLimit{Prefix: "/a", Limit: 1}),
		WithRouteLimit[vendor](RouteLimit{Prefix: "/a", Limit: 3}),
		WithLogger[vendor](logger),
		WithUserAgent[vendor]("tool/1"),
		WithMaxResponseBytes[vendor](10),
		WithMaxDownloadBytes[vendor](20),
		WithAttemptTimeout[vendor](time.Second),
		WithCACertPEM[vendor]([]byte("pem")),
		WithInsecureSkipVerify[vendor](),
		WithProxy[vendor]("http://proxy:3128"),
		withLookback(time.Hour),
		nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Config
	if cfg.Retry.MaxAttempts != 7 || cfg.RateLimit != 5 || cfg.RateBurst != 2 || len(cfg.RouteLimits) != 1 ||
		cfg.RouteLimits[0].Limit != 3 || cfg.Logger != logger || cfg.UserAgent != "tool/1" || cfg.MaxResponseBytes != 10 ||
		cfg.MaxDownloadBytes != 20 || cfg.AttemptTimeout != time.Second || string(cfg.CACertPEM) != "pem" ||
		!cfg.InsecureSkipVerify || cfg.Proxy.Host != "proxy:3128" || s.Vendor.Lookback != time.Hour {
		t.Fatalf("settings %+v", s)
	}
	_, err = Apply(Config{}, vendor{}, []Option[vendor]{withLookback(-1), WithProxy[vendor]("::")})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "lookback" {
		t.Fatalf("err = %v", err)
	}
	hc := &http.Client{}
	s, _ = Apply(Config{}, vendor{}, []Option[vendor]{WithHTTPClient[vendor](hc)})
	if s.Config.HTTPClient != hc {
		t.Fatal("WithHTTPClient ignored")
	}
}

func TestPages(t *testing.T) {
	pages := map[string]struct {
		items []int
		next  string
	}{
		"":   {[]int{1, 2}, "c1"},
		"c1": {[]int{3}, "c2"},
		"c2": {[]int{4, 5}, ""},
	}
	var cursors []string
	fetch := func(ctx context.Context, cursor string) ([]int, string, error) {
		cursors = append(cursors, cursor)
		p := pages[cursor]
		return p.items, p.next, nil
	}
	got, err := Collect(Pages(context.Background(), fetch))
	if err != nil || fmt.Sprint(got) != "[1 2 3 4 5]" || fmt.Sprint(cursors) != "[ c1 c2]" {
		t.Fatalf("got %v %v cursors %q", got, err, cursors)
	}

	// Breaking early stops fetching.
	cursors = nil
	for v := range Pages(context.Background(), fetch) {
		if v == 2 {
			break
		}
	}
	if len(cursors) != 1 {
		t.Fatalf("fetched %d pages after break", len(cursors))
	}

	loop := func(ctx context.Context, cursor string) ([]int, string, error) { return []int{1}, "same", nil }
	got, err = Collect(Pages(context.Background(), loop))
	if !errors.Is(err, ErrRepeatedCursor) || len(got) != 2 {
		t.Fatalf("repeated cursor: %v after %v", err, got)
	}

	boom := errors.New("boom")
	failing := func(ctx context.Context, cursor string) ([]int, string, error) {
		if cursor == "" {
			return []int{1}, "next", nil
		}
		return nil, "", boom
	}
	got, err = Collect(Pages(context.Background(), failing))
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Fatalf("error page: %v after %v", err, got)
	}
}

func TestPoll(t *testing.T) {
	n := 0
	err := Poll(context.Background(), PollPolicy{Interval: time.Millisecond, Timeout: time.Second}, func(ctx context.Context) (bool, error) {
		n++
		return n == 3, nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err %v after %d checks", err, n)
	}
	err = Poll(context.Background(), PollPolicy{Interval: 5 * time.Millisecond, Timeout: 30 * time.Millisecond}, func(ctx context.Context) (bool, error) {
		return false, nil
	})
	if !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	boom := errors.New("job failed")
	if err := Poll(context.Background(), PollPolicy{}, func(ctx context.Context) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("check error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Poll(ctx, PollPolicy{Interval: time.Hour}, func(ctx context.Context) (bool, error) { return false, nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
