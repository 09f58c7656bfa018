package ops

import (
	"context"
	"encoding/json"
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
	addr, err := Serve(ctx, "127.0.0.1:0", Handler(reg, health, nil), slog.New(slog.DiscardHandler))
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
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"ready": false`) ||
		!strings.Contains(body, "no source has collected successfully yet") {
		t.Errorf("readyz before a collection = %d %q", code, body)
	}
	health.SourceCollected("alerts", time.Now())
	m.SourceCollected("alerts", time.Unix(1700000000, 0))
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"ready": true`) {
		t.Errorf("readyz after a collection = %d %s", code, body)
	}
	// An unauthorized component makes the process unready (and says which), healthz stays 200.
	health.ComponentHealth(connector.KindAnalyzer, "vmray", false, "401 Unauthorized")
	m.ComponentHealth(connector.KindAnalyzer, "vmray", false, "401 Unauthorized")
	code, body = get("/readyz")
	var rd Readiness
	if err := json.Unmarshal([]byte(body), &rd); err != nil || code != 503 || rd.Ready ||
		len(rd.Reasons) != 1 || !strings.Contains(rd.Reasons[0], "analyzer vmray unauthorized: 401") {
		t.Errorf("readyz with an unauthorized analyzer = %d %s (%v)", code, body, err)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz with an unauthorized analyzer = %d", code)
	}
	_, body = get("/metrics")
	for _, want := range []string{
		`soarkit_component_healthy{component="vmray",connector="cbc-vmray",kind="analyzer"} 0`,
		`soarkit_source_last_success_timestamp_seconds{connector="cbc-vmray",source="alerts"} 1.7e+09`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	health.ComponentHealth(connector.KindAnalyzer, "vmray", true, "")
	health.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if rd := health.Ready(); rd.Ready || len(rd.Reasons) != 1 || !strings.Contains(rd.Reasons[0], "for 2m") {
		t.Errorf("stale health = %+v", rd)
	}
	cancel()
	deadline := time.Now().Add(30 * time.Second) // a safety bound, not a claim: shutdown is prompt
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
