package rest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/time/rate"
)

// eventLog is an Observer that keeps every event.
type eventLog struct {
	mu     sync.Mutex
	events []RequestEvent
}

func (l *eventLog) ObserveRequest(e RequestEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RequestEvent(nil), l.events...)
}

// ignoreTimings drops the durations, which tests must not assert.
var ignoreTimings = cmpopts.IgnoreFields(RequestEvent{}, "Latency", "LimiterWait")

func TestObserverSeesEveryAttemptWithTheRouteTemplate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int // of the two failures; 0 drops the connection
	}{{"rate limited", 429}, {"server error", 503}, {"dropped connection", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			log := &eventLog{}
			c, _ := newTestClient(t, flaky(&calls, 2, tc.status, ""), func(cfg *Config) { cfg.Observer = log })
			_, err := c.Do(context.Background(), &Request{Op: "Samples.VTIs", Path: "/sample/{}/vtis", PathArgs: []string{"4711"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			event := func(attempt, status int) RequestEvent {
				return RequestEvent{Vendor: "testvendor", Op: "Samples.VTIs", Method: "GET", Route: "/sample/{}/vtis",
					Attempt: attempt, StatusCode: status}
			}
			want := []RequestEvent{event(1, tc.status), event(2, tc.status), event(3, 200)}
			got := log.all()
			if diff := cmp.Diff(want, got, ignoreTimings); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if got[0].Retry() || !got[1].Retry() || !got[2].Retry() {
				t.Errorf("retry flags of %+v", got)
			}
			for _, e := range got {
				if strings.Contains(e.Route, "4711") {
					t.Errorf("route %q carries the id", e.Route)
				}
			}
		})
	}
}

func TestObserverRoutes(t *testing.T) {
	log := &eventLog{}
	c, srv := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == basePath+"/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{}`)
	}, func(cfg *Config) { cfg.Observer = log })
	ctx := context.Background()
	c.Do(ctx, &Request{Op: "Agents.Get", Path: "/agents/{}", PathArgs: []string{"1"}, Route: "/agents/*"}, nil)
	c.Do(ctx, &Request{Op: "Links.Open", URL: srv.URL + basePath + "/presigned?sig=abc"}, nil)
	c.Do(ctx, &Request{Op: "Missing", Method: http.MethodPost, Path: "missing"}, nil)
	got := log.all()
	want := []RequestEvent{
		{Vendor: "testvendor", Op: "Agents.Get", Method: "GET", Route: "/agents/*", Attempt: 1, StatusCode: 200},
		{Vendor: "testvendor", Op: "Links.Open", Method: "GET", Route: ExternalRoute, Attempt: 1, StatusCode: 200},
		{Vendor: "testvendor", Op: "Missing", Method: "POST", Route: "/missing", Attempt: 1, StatusCode: 404},
	}
	if diff := cmp.Diff(want, got, ignoreTimings); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestObserverReportsTheLimiterWait(t *testing.T) {
	// The fake clock makes the limiter's wait exact: one request per minute
	// means the second request waits a minute.
	synctest.Test(t, func(t *testing.T) {
		log := &eventLog{}
		ok := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
		})
		c, err := New(Config{Vendor: "v", BaseURL: "https://api.example", HTTPClient: &http.Client{Transport: ok},
			RateLimit: rate.Every(time.Minute), RateBurst: 1, Observer: log})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := c.Do(context.Background(), &Request{Path: "/x"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		got := log.all()
		if len(got) != 2 || got[0].LimiterWait != 0 || got[1].LimiterWait != time.Minute {
			t.Fatalf("events %+v, want waits 0 and 1m", got)
		}
	})
}
