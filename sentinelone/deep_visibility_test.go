package sentinelone_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestDeepVisibilitySearch(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("POST /dv/init-query", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"accountIds":["433241117337583618"],"query":"ObjectType = \"Process\"","fromDate":"2024-05-01T09:00:00.000000Z","toDate":"2024-05-02T09:00:00.000000Z","limit":20000,"queryType":["events"],"isVerbose":false}`)
		writeBody(w, 200, fixture(t, "dv_init_query.json"))
	})
	polls := 0
	env.handle("GET /dv/query-status", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"queryId": {"q9679169d5a4607cc41a9100123456789"}})
		polls++
		if polls < 3 {
			writeBody(w, 200, []byte(`{"data":{"responseState":"PROCESS_RUNNING","progressStatus":40.5,"warnings":[{"message":"partial"}]}}`))
			return
		}
		writeBody(w, 200, fixture(t, "dv_query_status.json"))
	})
	env.handle("GET /dv/events", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("queryId") != "q9679169d5a4607cc41a9100123456789" || q.Get("limit") != "1000" {
			t.Errorf("query = %v", q)
		}
		if q.Get("cursor") == "" {
			writeBody(w, 200, fixture(t, "dv_events_page_1.json"))
			return
		}
		if q.Get("cursor") != "eyJkZX01234=" {
			t.Errorf("cursor = %q", q.Get("cursor"))
		}
		writeBody(w, 200, []byte(`{"data":[{"id":"000000000000000004","processImageSha1Hash":"3395856ce81f2b7382dee72602f798b642f14140","pid":7420,"relatedToThreat":"True"},{"id":"000000000000000005","srcProcImageSha1":"d8757a0396d05a1d532422827a70a7966c361366","srcProcImagePath":"C:\\x.exe"}],"pagination":{"nextCursor":null,"totalItems":5}}`))
	})
	verbose := false
	from := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	var events []sentinelone.DVEvent
	for ev, err := range env.client.DeepVisibility.AllQueryEvents(ctx, sentinelone.DVQuery{Scope: sentinelone.Scope{AccountIDs: []string{"433241117337583618"}},
		Query: `ObjectType = "Process"`, FromDate: sentinelone.NewTime(from), ToDate: sentinelone.NewTime(from.Add(24 * time.Hour)),
		Limit: 20000, QueryType: []string{"events"}, IsVerbose: &verbose}) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	if len(events) != 5 || polls != 3 {
		t.Fatalf("events %d polls %d", len(events), polls)
	}
	if events[0].Pid != "1234" || bool(events[0].RelatedToThreat) || events[0].AgentName != "ExampleName1" || events[2].AgentName != "" {
		t.Errorf("first page = %+v", events[0])
	}
	if events[3].ImageSHA1() != "3395856ce81f2b7382dee72602f798b642f14140" || events[3].Pid != "7420" || !bool(events[3].RelatedToThreat) {
		t.Errorf("legacy names = %+v", events[3])
	}
	if events[4].ImageSHA1() != "d8757a0396d05a1d532422827a70a7966c361366" || events[4].ImagePath() != `C:\x.exe` {
		t.Errorf("unified names = %+v", events[4])
	}
}

func TestDeepVisibilityFailedAndTimedOut(t *testing.T) {
	env := setup(t, sentinelone.WithQueryPoll(sentinelone.PollPolicy{Interval: time.Millisecond, Timeout: 30 * time.Millisecond}))
	ctx := context.Background()
	env.handle("GET /dv/query-status", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("queryId") == "qfail" {
			writeBody(w, 200, []byte(`{"data":{"responseState":"FAILED","responseError":"syntax error near AND"}}`))
			return
		}
		writeBody(w, 200, []byte(`{"data":{"responseState":"RUNNING"}}`))
	})
	_, err := env.client.DeepVisibility.WaitQuery(ctx, "qfail")
	var qe *sentinelone.QueryError
	if !errors.As(err, &qe) || qe.State != "FAILED" || qe.Message != "syntax error near AND" || !errors.Is(err, sentinelone.ErrQueryFailed) {
		t.Fatalf("err = %v", err)
	}
	if _, err := env.client.DeepVisibility.WaitQuery(ctx, "qslow"); !errors.Is(err, sentinelone.ErrWaitTimeout) {
		t.Fatalf("err = %v", err)
	}
	if _, err := env.client.DeepVisibility.InitQuery(ctx, sentinelone.DVQuery{Query: "x"}); !errors.Is(err, sentinelone.ErrInvalidRequest) {
		t.Errorf("dateless query: %v", err)
	}
}

func TestDeepVisibilityCancelAndPowerQuery(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("POST /dv/cancel-query", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"queryId":"q1"}`)
		writeBody(w, 200, []byte(`{"data":{"success":true}}`))
	})
	env.handle("POST /dv/events/pq", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"accountIds":["433241117337583618"],"query":"event.time = * | columns eventTime = event.time, agentUuid = agent.uuid","fromDate":"2024-08-20T00:00:00.000000Z","toDate":"2024-08-21T00:00:00.000000Z"}`)
		writeBody(w, 200, []byte(`{"data":{"queryId":"pqe5a4cbb0a0f0981f4125976b49fb0ebb","status":"RUNNING","progress":0}}`))
	})
	env.handle("GET /dv/events/pq-ping", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"queryId": {"pqe5a4cbb0a0f0981f4125976b49fb0ebb"}})
		writeBody(w, 200, []byte(`{"data":{"queryId":"pqe5a4cbb0a0f0981f4125976b49fb0ebb","status":"FINISHED","progress":100,"columns":[{"name":"eventTime","type":"INTEGER"},{"name":"agentUuid","type":"STRING"}],"data":[[1724151854609,"ed8f14f1-f35b-0eca-1c1e-e31e97aefc71"]],"recommendations":[],"externalId":null}}`))
	})
	if err := env.client.DeepVisibility.CancelQuery(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC)
	res, err := env.client.DeepVisibility.RunPowerQuery(ctx, sentinelone.PowerQuery{AccountIDs: []string{"433241117337583618"},
		Query: "event.time = * | columns eventTime = event.time, agentUuid = agent.uuid", FromDate: sentinelone.NewTime(from), ToDate: sentinelone.NewTime(from.Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Rows()
	if len(rows) != 1 || string(rows[0]["eventTime"]) != "1724151854609" || string(rows[0]["agentUuid"]) != `"ed8f14f1-f35b-0eca-1c1e-e31e97aefc71"` {
		t.Errorf("rows = %v", rows)
	}
}
