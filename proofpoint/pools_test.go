package proofpoint_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
)

type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestPoolTrackerRollingWindowAndReserve(t *testing.T) {
	clk := &stepClock{now: testNow}
	tr := proofpoint.NewPoolTracker(clk.Now)
	if got := tr.Status(proofpoint.PoolPeopleVAP); got.Limit != 50 || got.Reserve != 1 || got.Remaining != 50 || got.Available != 49 {
		t.Fatalf("default VAP status = %+v", got)
	}
	if l, r := proofpoint.DefaultPoolLimit(proofpoint.PoolSIEM); l != 1800 || r != 18 {
		t.Errorf("SIEM default = %d/%d", l, r)
	}
	tr.SetLimit(proofpoint.PoolCampaignIDs, 3, 1)
	start := clk.Now()
	for i := range 2 {
		if err := tr.Acquire(proofpoint.PoolCampaignIDs, false); err != nil {
			t.Fatalf("acquire %d: %v", i, err)
		}
		clk.Advance(time.Hour)
	}
	// Two used, one left, and that one is the reserve.
	err := tr.Acquire(proofpoint.PoolCampaignIDs, false)
	var pe *proofpoint.PoolError
	if !errors.As(err, &pe) || !errors.Is(err, proofpoint.ErrPoolExhausted) || !errors.Is(err, proofpoint.ErrRateLimited) {
		t.Fatalf("err = %v, want a PoolError", err)
	}
	want := proofpoint.PoolStatus{Pool: proofpoint.PoolCampaignIDs, Limit: 3, Reserve: 1, Used: 2, Remaining: 1, Available: 0,
		NextRelease: start.Add(24 * time.Hour)}
	if diff := cmp.Diff(want, pe.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if !pe.RetryAt.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("RetryAt = %v, want %v", pe.RetryAt, start.Add(24*time.Hour))
	}
	if tr.Check(proofpoint.PoolCampaignIDs, true) != nil || tr.Acquire(proofpoint.PoolCampaignIDs, true) != nil {
		t.Error("the reserve should be usable on request")
	}
	if err := tr.Check(proofpoint.PoolCampaignIDs, true); err == nil {
		t.Error("a spent pool should refuse even with the reserve")
	}
	// The oldest request leaves the window 24 h after it was made.
	clk.Set(start.Add(24*time.Hour + time.Second))
	if got := tr.Remaining(proofpoint.PoolCampaignIDs); got != 1 {
		t.Errorf("remaining after the oldest aged out = %d, want 1", got)
	}
	if got := len(tr.Sent(proofpoint.PoolCampaignIDs)); got != 2 {
		t.Errorf("sent = %d, want 2", got)
	}
	if got := len(tr.Statuses()); got != len(proofpoint.Pools()) {
		t.Errorf("statuses = %d", got)
	}
}

func (c *stepClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func TestPoolTrackerRecordRestoresUsage(t *testing.T) {
	clk := &stepClock{now: testNow}
	tr := proofpoint.NewPoolTracker(clk.Now)
	tr.Record(proofpoint.PoolPeopleTopClickers, testNow.Add(-25*time.Hour), testNow.Add(-time.Hour), testNow.Add(-2*time.Hour))
	sent := tr.Sent(proofpoint.PoolPeopleTopClickers)
	want := []time.Time{testNow.Add(-2 * time.Hour), testNow.Add(-time.Hour)}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

// The client refuses a call before sending once the pool is down to its
// reserve, counts retries, and spends the reserve only when asked.
func TestClientPoolRefusal(t *testing.T) {
	ts := setup(t, proofpoint.WithPoolLimit(proofpoint.PoolPeopleVAP, 4, 1))
	n := 0
	ts.mux.HandleFunc("/v2/people/vap", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Write([]byte(`{"users":[],"totalVapUsers":0,"interval":"x"}`))
	})
	ctx := context.Background()
	q := proofpoint.PeopleOptions{Window: 30}
	if _, err := ts.client.People.ListVAP(ctx, q); err != nil { // two attempts
		t.Fatal(err)
	}
	if _, err := ts.client.People.ListVAP(ctx, q); err != nil { // third request
		t.Fatal(err)
	}
	if st := ts.client.Pools().Status(proofpoint.PoolPeopleVAP); st.Used != 3 || st.Available != 0 || st.Remaining != 1 {
		t.Fatalf("status = %+v", st)
	}
	_, err := ts.client.People.ListVAP(ctx, q)
	var pe *proofpoint.Error
	if !errors.Is(err, proofpoint.ErrPoolExhausted) || !errors.Is(err, proofpoint.ErrRateLimited) || !errors.As(err, &pe) || pe.Op != "People.ListVAP" {
		t.Fatalf("err = %v, want a refused pool", err)
	}
	if n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
	if _, err := ts.client.People.ListVAP(proofpoint.UseReserve(ctx), q); err != nil {
		t.Fatalf("with reserve: %v", err)
	}
	if _, err := ts.client.People.ListVAP(proofpoint.UseReserve(ctx), q); !errors.Is(err, proofpoint.ErrPoolExhausted) {
		t.Errorf("spent pool err = %v", err)
	}
	// Other pools are unaffected.
	if st := ts.client.Pools().Status(proofpoint.PoolPeopleTopClickers); st.Used != 0 {
		t.Errorf("top clickers used = %d", st.Used)
	}
}

// A retry that would dip into the reserve is refused at the transport.
func TestClientPoolCountsRetries(t *testing.T) {
	ts := setup(t, proofpoint.WithPoolLimit(proofpoint.PoolClicksPermitted, 3, 1))
	ts.mux.HandleFunc("/v2/siem/clicks/permitted", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	_, err := ts.client.SIEM.ClicksPermitted(context.Background(), proofpoint.SIEMOptions{Interval: hourBefore(time.Hour)})
	if !errors.Is(err, proofpoint.ErrPoolExhausted) {
		t.Fatalf("err = %v, want the pool refusal after two attempts", err)
	}
	if ts.requests() != 2 {
		t.Errorf("requests = %d, want 2", ts.requests())
	}
	if st := ts.client.Pools().Status(proofpoint.PoolSIEM); st.Used != 0 {
		t.Errorf("shared SIEM pool used = %d, want 0 (clicks/permitted has its own)", st.Used)
	}
}

func TestSharedPoolTracker(t *testing.T) {
	tr := proofpoint.NewPoolTracker(func() time.Time { return testNow })
	tr.SetLimit(proofpoint.PoolURLDecode, 2, 0)
	a := setup(t, proofpoint.WithPoolTracker(tr))
	b := setup(t, proofpoint.WithPoolTracker(tr))
	for _, ts := range []*testServer{a, b} {
		ts.mux.HandleFunc("/v2/url/decode", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"urls":[]}`)) })
	}
	ctx := context.Background()
	for _, ts := range []*testServer{a, b} {
		if _, err := ts.client.URLs.Decode(ctx, []string{"u"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.client.URLs.Decode(ctx, []string{"u"}); !errors.Is(err, proofpoint.ErrPoolExhausted) {
		t.Errorf("err = %v, want the shared pool spent", err)
	}
	if a.client.Pools() != tr {
		t.Error("Pools() is not the shared tracker")
	}
}

// Concurrent calls never spend more than the pool allows.
func TestClientPoolConcurrent(t *testing.T) {
	ts := setup(t, proofpoint.WithPoolLimit(proofpoint.PoolURLDecode, 10, 0))
	ts.mux.HandleFunc("/v2/url/decode", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"urls":[]}`)) })
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 25 {
		wg.Go(func() {
			_, err := ts.client.URLs.Decode(context.Background(), []string{"https://urldefense.com/v3/__https://a.example__;!!x$"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, proofpoint.ErrPoolExhausted):
				refused++
			default:
				t.Errorf("err = %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 10 || refused != 15 || ts.requests() != 10 {
		t.Errorf("ok %d, refused %d, requests %d", ok, refused, ts.requests())
	}
}
