package ops

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/soarkit/soarkit/connector"
)

func TestMetricsAndEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "cbc-vmray")
	if err != nil {
		t.Fatal(err)
	}
	m.Add(connector.CounterCollected, 3, "alerts")
	m.Add(connector.CounterActions, 1, "watchlist", "acted")
	m.Add(connector.CounterVerdicts, 1) // wrong label count: ignored, not a panic
	m.Latency(connector.StageSubmit, "vmray", "ok", 250*time.Millisecond)
	m.CycleDone(time.Unix(1700000000, 0), nil)
	if _, err := NewMetrics(reg, "cbc-vmray"); err == nil {
		t.Fatal("registering twice succeeded")
	}

	health := NewHealth(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := Serve(ctx, "127.0.0.1:0", Handler(reg, health), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`soarkit_evidence_collected_total{connector="cbc-vmray",source="alerts"} 3`,
		`soarkit_actions_total{connector="cbc-vmray",responder="watchlist",status="acted"} 1`,
		`soarkit_stage_duration_seconds_count{component="vmray",connector="cbc-vmray",outcome="ok",stage="submit"} 1`,
		`soarkit_cycles_total{connector="cbc-vmray",result="ok"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "no cycle") {
		t.Errorf("readyz before a cycle = %d %q", code, body)
	}
	health.CycleDone(time.Now(), nil)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz after a cycle = %d", code)
	}
	health.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if ok, why := health.Ready(); ok || !strings.Contains(why, "ago") {
		t.Errorf("stale health = %v %q", ok, why)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get("http://" + addr.String() + "/healthz"); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server still up after the context ended")
}

func TestServeBadAddress(t *testing.T) {
	_, err := Serve(context.Background(), "256.1.1.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "ops listener") {
		t.Fatalf("err = %v", err)
	}
}
