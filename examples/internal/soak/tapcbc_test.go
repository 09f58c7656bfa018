package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// tap-cbc's counts: a webhook delivery repeated under its id is allowed, a
// second delivery id for one sighting is a duplicate, a delivery with a bad
// signature is not counted; Live Response is done when the device no longer
// runs the process nor holds the file.
func TestTapCBCCounts(t *testing.T) {
	e := tapCBC()
	w, err := e.start(Options{Items: 10}.withDefaults(e), rand.New(rand.NewPCG(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	tw := w.(*tapCBCWorld)
	var sha string
	var sg tapSighting
	for _, f := range tw.files {
		if s, ok := tw.seen[f]; ok {
			sha, sg = f, s
			break
		}
	}
	if sha == "" {
		t.Fatal("no attachment seen on an endpoint")
	}
	deliver := func(id string, secret []byte) {
		t.Helper()
		p := connector.WebhookPayload{ID: id, Responder: "webhook", Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: sha}},
			Sighting: &connector.Sighting{DeviceID: strconv.FormatInt(sg.device, 10), PID: sg.pid}}
		body, _ := json.Marshal(p)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest(http.MethodPost, tw.hook.URL(), bytes.NewReader(body))
		req.Header.Set(connector.HeaderTimestamp, ts)
		req.Header.Set(connector.DefaultSignatureHeader, connector.SignWebhook(secret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	deliver("one", []byte(tapWebhookSecret))
	deliver("one", []byte(tapWebhookSecret))
	deliver("forged", []byte("wrong secret"))

	var r Result
	w.count(&r)
	hooks := r.Responders[5]
	if hooks.Name != "webhook" || hooks.Done != 1 || hooks.Duplicates != 0 || r.WebhookDeliveries != 2 || r.RepeatedDeliveries != 1 {
		t.Errorf("webhook = %+v, %d deliveries, %d repeated; want 1 done, no duplicate, 2 deliveries, 1 repeated", hooks,
			r.WebhookDeliveries, r.RepeatedDeliveries)
	}
	if lr := r.Responders[4]; lr.Done != 0 || lr.Missing != r.Actionable {
		t.Errorf("live response = %+v before any command, want every device missing", lr)
	}

	deliver("two", []byte(tapWebhookSecret))
	ctx := context.Background()
	sess, err := tw.cbc.Client().LiveResponse.Open(ctx, sg.device)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Kill(ctx, sg.pid); err != nil {
		t.Fatal(err)
	}
	if err := sess.DeleteFile(ctx, sg.path); err != nil {
		t.Fatal(err)
	}
	r = Result{}
	w.count(&r)
	if hooks := r.Responders[5]; hooks.Duplicates != 1 {
		t.Errorf("webhook = %+v, want the second delivery id a duplicate", hooks)
	}
	if lr := r.Responders[4]; lr.Done != 1 || lr.Missing != r.Actionable-1 {
		t.Errorf("live response = %+v, want one device done", lr)
	}
	if slices.Contains(r.Lost, sha) {
		t.Errorf("%s is lost although it was acted on", sha)
	}
}
