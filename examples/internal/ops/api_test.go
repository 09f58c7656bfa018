package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/memstore"
)

// seedState stores a dead letter (respond failed, one action done), an open item waiting on a backoff and a done
// item.
func seedState(t *testing.T, store connector.Store) (dead, waiting, done connector.Item) {
	t.Helper()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	dead = connectortest.SampleItem(1, connector.StateFailed)
	dead.Failure = &connector.Failure{Stage: connector.StageRespond, Reason: "ban: 400 list full", At: now}
	waiting = connectortest.SampleItem(2, connector.StateNew)
	waiting.Verdict, waiting.Ticket = nil, nil
	waiting.Retry = &connector.RetryState{Stage: connector.StageLookup, Attempts: 3, Since: now, Next: now.Add(time.Hour),
		LastError: "vmray: 503"}
	done = connectortest.SampleItem(3, connector.StateDone)
	err := store.Update(context.Background(), func(tx connector.Tx) error {
		for _, it := range []connector.Item{dead, waiting, done} {
			if err := tx.PutItem(it); err != nil {
				return err
			}
			for _, h := range it.HashKeys() {
				if err := tx.PutAlias(h, it.Key); err != nil {
					return err
				}
			}
		}
		return tx.PutAction(connector.Action{ActionKey: connector.ActionKey{Responder: "note", Item: dead.Key},
			Status: connector.Acted, At: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	return dead, waiting, done
}

// The state API and its Client run the same operations as StoreOps, behind the bearer token.
func TestStateAPIThroughTheClient(t *testing.T) {
	store := memstore.New()
	dead, waiting, done := seedState(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := prometheus.NewRegistry()
	if _, err := NewStateCollector(reg, "s1-vmray", store); err != nil {
		t.Fatal(err)
	}
	api := &API{Ops: StoreOps{Store: store}, Token: "s3cret"}
	addr, err := Serve(ctx, "127.0.0.1:0", Handler(reg, NewHealth(0), api), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	anon := &Client{BaseURL: base}
	if _, err := anon.List(ctx, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("List without the token = %v, want 401", err)
	}
	c := &Client{BaseURL: base, Token: "s3cret"}
	items, err := c.List(ctx, "failed")
	if err != nil || len(items) != 1 || items[0].Key != dead.Key {
		t.Fatalf("List(failed) = %v, %v", items, err)
	}
	if items, err := c.List(ctx, "open"); err != nil || len(items) != 1 || items[0].Retry == nil || items[0].Retry.Attempts != 3 {
		t.Errorf("List(open) = %+v, %v; want the waiting item with its retry state", items, err)
	}
	if _, err := c.List(ctx, "dead"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("List(dead) = %v, want 400", err)
	}
	d, err := c.Show(ctx, dead.Evidence.Hashes.SHA1)
	if err != nil || d.Item.Key != dead.Key || len(d.Actions) != 1 || d.Item.Failure == nil {
		t.Errorf("Show by SHA1 = %+v, %v", d, err)
	}
	if _, err := c.Show(ctx, strings.Repeat("ab", 32)); !errors.Is(err, connector.ErrItemNotFound) {
		t.Errorf("Show of an unknown hash = %v, want ErrItemNotFound", err)
	}
	if _, err := c.Retry(ctx, done.Key.String()); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("Retry of a done item = %v, want 409", err)
	}
	keys, err := c.RetryFailed(ctx)
	if err != nil || len(keys) != 1 || keys[0] != dead.Key {
		t.Fatalf("RetryFailed = %v, %v", keys, err)
	}
	if keys, err := c.Retry(ctx, waiting.Key.String()); err != nil || len(keys) != 1 {
		t.Errorf("Retry of a waiting item = %v, %v", keys, err)
	}
	local := StoreOps{Store: store}
	if d, err := local.Show(ctx, dead.Key.String()); err != nil || d.Item.State != connector.StateResponding || len(d.Actions) != 1 {
		t.Errorf("after the remote retry: %+v, %v; want responding with its action log", d.Item.State, err)
	}
	if keys, err := c.Forget(ctx, done.Key.String()); err != nil || len(keys) != 1 {
		t.Errorf("Forget = %v, %v", keys, err)
	}
	if items, _ := local.List(ctx, ""); len(items) != 2 {
		t.Errorf("%d items after forgetting one of 3", len(items))
	}
	// The gauges read the same state.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, resp.Body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`soarkit_items{connector="s1-vmray",state="responding"} 1`,
		`soarkit_items{connector="s1-vmray",state="failed"} 0`, `soarkit_items_waiting{connector="s1-vmray"} 1`,
		`soarkit_oldest_open_item_age_seconds{connector="s1-vmray"}`, `soarkit_state_scrape_error{connector="s1-vmray"} 0`} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:9464": true, "[::1]:9464": true, "localhost:1": true,
		":9464": false, "0.0.0.0:9464": false, "10.0.0.5:9464": false, "bad": false} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
