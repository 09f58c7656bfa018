package soak

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

// receiver takes the connector's webhook deliveries, behind the same fault
// injection as the vendor fakes, and keeps every delivery with a valid
// signature.
type receiver struct {
	*fakehttp.Middleware
	srv    *fakehttp.Server
	secret []byte

	mu  sync.Mutex
	got []connector.WebhookPayload
	bad int
}

func startReceiver(secret string) (*receiver, error) {
	r := &receiver{secret: []byte(secret)}
	r.Middleware = fakehttp.NewMiddleware(http.HandlerFunc(r.serve))
	srv, err := fakehttp.Start(r.Middleware, fakehttp.Options{})
	if err != nil {
		return nil, err
	}
	r.srv = srv
	return r, nil
}

// URL is where deliveries go.
func (r *receiver) URL() string { return r.srv.URL() + "/hook" }

func (r *receiver) close() { r.srv.Close() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var p connector.WebhookPayload
	if err == nil {
		err = connector.VerifyWebhook(r.secret, req.Header, body, "", 5*time.Minute, time.Now())
	}
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.bad++
		http.Error(w, fmt.Sprintf("bad delivery: %v", err), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, p)
	w.WriteHeader(http.StatusNoContent)
}

// deliveries returns the valid deliveries received and the count of
// refused ones.
func (r *receiver) deliveries() ([]connector.WebhookPayload, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]connector.WebhookPayload(nil), r.got...), r.bad
}
