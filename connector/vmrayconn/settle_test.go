package vmrayconn_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
	"github.com/soarkit/soarkit/connector/vmrayconn"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// delayedSubmit is a VMRay whose first submissions take effect only some time
// after they were received, whether or not the client is still connected: it
// reads the whole request, answers nothing until the client gives up, and
// hands the request to the fake later.
type delayedSubmit struct {
	next  http.Handler
	delay time.Duration
	hold  atomic.Int32 // submissions still to delay
	wg    sync.WaitGroup
}

func (d *delayedSubmit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/rest/sample/submit") || d.hold.Add(-1) < 0 {
		d.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	late := r.Clone(context.Background())
	late.Body = io.NopCloser(bytes.NewReader(body))
	d.wg.Go(func() {
		time.Sleep(d.delay)
		d.next.ServeHTTP(httptest.NewRecorder(), late)
	})
	<-r.Context().Done()
}

// A submission that times out on the client's side but reaches VMRay later
// is found by FindTicket after the settle delay and awaited: exactly one
// submission. Without the settle delay the engine's retry submitted the file
// again before VMRay applied the first one.
func TestDelayedSubmissionIsNotRepeated(t *testing.T) {
	t.Parallel()
	srv := vmraytest.NewServer(t)
	slow := &delayedSubmit{next: srv.Handler(), delay: 100 * time.Millisecond}
	slow.hold.Store(1)
	ts := httptest.NewServer(slow)
	t.Cleanup(func() { ts.Close(); slow.wg.Wait() })
	c, err := vmray.New(ts.URL, vmraytest.DefaultAPIKey, vmray.WithRetry(vmray.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// The settle delay is far longer than the submit timeout plus VMRay's
	// delay, so that a busy machine cannot make the second look come early.
	a, err := vmrayconn.New(c, vmrayconn.Options{SettleDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	edr := connectortest.NewSource("edr")
	h := edr.AddFile(randomFile(t, 2048))
	edr.Add(connector.Evidence{Hashes: h, Sightings: []connector.Sighting{{DeviceID: "1"}}})
	store := memstore.New()
	p, err := connector.New(connector.Config{
		Store: store, Sources: []connector.Source{edr}, Analyzer: a,
		Submit:       connector.StageLimits{Timeout: 50 * time.Millisecond},
		PollInterval: 5 * time.Millisecond,
		// Max bounds the delays RetryLater asks for too: it must let the
		// settle delay through.
		Retry: connector.Backoff{Attempts: 5, Initial: time.Millisecond, Max: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slow.wg.Wait()

	if n := len(srv.SubmissionsFor(h.SHA256)); n != 1 {
		t.Errorf("submissions = %d, want 1", n)
	}
	key, _ := h.Key()
	_ = store.View(context.Background(), func(tx connector.Tx) error {
		it, _, err := tx.Item(key)
		if it.Failure != nil {
			t.Logf("dead letter: %+v", *it.Failure)
		}
		return err
	})
	if sum.Recovered != 1 || sum.FailureCount() != 0 || sum.Verdicts[connector.Clean] != 1 {
		t.Errorf("summary: recovered %d, failures %d, verdicts %v; want the delayed submission recovered and analysed",
			sum.Recovered, sum.FailureCount(), sum.Verdicts)
	}
}
