package sentinelone_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestAgentsList(t *testing.T) {
	env := setup(t)
	env.handle("GET /agents", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"ids": {"0000000000000000001"}, "isActive": {"true"}, "computerName__contains": {"Host,WS"},
			"siteIds": {"475482421366727779"}, "limit": {"1"}, "sortBy": {"createdAt"}, "sortOrder": {"desc"}})
		writeBody(w, 200, fixture(t, "agents_list_single.json"))
	})
	p, err := env.client.Agents.List(context.Background(), sentinelone.AgentListOptions{
		AgentFilter: sentinelone.AgentFilter{Scope: sentinelone.Scope{SiteIDs: []string{"475482421366727779"}}, IDs: []string{"0000000000000000001"},
			IsActive: boolPtr(true), ComputerNameContains: []string{"Host", "WS"}},
		ListOptions: sentinelone.ListOptions{Limit: 1, SortBy: "createdAt", SortOrder: sentinelone.Descending},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := p.Items[0]
	if a.ID != "0000000000000000001" || !a.IsActive || a.ComputerName != "Hostname0" || !bool(a.IsUpToDate) || !bool(a.FirewallEnabled) {
		t.Errorf("agent = %+v", a)
	}
	// "None" placeholders read as zero times.
	if !a.ScanAbortedAt.IsZero() || !a.OperationalStateExp.IsZero() || a.ScanFinishedAt.IsZero() {
		t.Errorf("times = %v %v %v", a.ScanAbortedAt, a.OperationalStateExp, a.ScanFinishedAt)
	}
	if len(a.NetworkInterfaces) != 1 || a.NetworkInterfaces[0].Inet[0] != "1.2.3.4" {
		t.Errorf("interfaces = %+v", a.NetworkInterfaces)
	}
}

func TestAgentsDecodeStringBooleans(t *testing.T) {
	env := setup(t)
	env.handle("GET /agents", func(w http.ResponseWriter, r *http.Request) {
		body := append(append([]byte(`{"data":`), fixture(t, "agents_list_data.json")...), []byte(`,"pagination":{"nextCursor":null,"totalItems":1}}`)...)
		writeBody(w, 200, body)
	})
	a, err := env.client.Agents.Get(context.Background(), "657613730168123595")
	if err != nil {
		t.Fatal(err)
	}
	if !bool(a.IsUpToDate) || !bool(a.FirewallEnabled) || a.IsActive || !a.IsDecommissioned || a.TotalMemory != 4035 {
		t.Errorf("agent = %+v", a)
	}
	if !a.OSStartTime.Equal(time.Date(2019, 6, 27, 8, 0, 31, 0, time.UTC)) {
		t.Errorf("osStartTime = %v", a.OSStartTime)
	}
}

func TestAgentActions(t *testing.T) {
	ctx := context.Background()
	f := sentinelone.AgentFilter{Scope: sentinelone.Scope{AccountIDs: []string{"433241117337583618"}}, IDs: []string{"1742210398743211002"}}
	body := `{"filter":{"accountIds":["433241117337583618"],"ids":["1742210398743211002"]},"data":{}}`
	var cases []actionCase
	for _, name := range []string{"disconnect", "connect", "shutdown", "restart-machine", "initiate-scan", "abort-scan"} {
		cases = append(cases, actionCase{name: name, path: "/agents/actions/" + name, body: body, answer: `{"data":{"affected":1}}`, want: 1,
			call: func(c *sentinelone.Client) (int, error) {
				fns := map[string]func(context.Context, sentinelone.AgentFilter) (int, error){
					"disconnect": c.Agents.Disconnect, "connect": c.Agents.Connect, "shutdown": c.Agents.Shutdown,
					"restart-machine": c.Agents.RestartMachine, "initiate-scan": c.Agents.InitiateScan, "abort-scan": c.Agents.AbortScan,
				}
				return fns[name](ctx, f)
			}})
	}
	cases = append(cases, actionCase{name: "broadcast", path: "/agents/actions/broadcast", answer: `{"data":{"affected":3}}`, want: 3,
		body: `{"filter":{"groupIds":["475482421375116388"]},"data":{"message":"Please reboot"}}`,
		call: func(c *sentinelone.Client) (int, error) {
			return c.Agents.Broadcast(ctx, sentinelone.AgentFilter{Scope: sentinelone.Scope{GroupIDs: []string{"475482421375116388"}}}, "Please reboot")
		}})
	runActionCases(t, cases)
}

func TestAgentsRequestFilesAndDownload(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("POST /agents/1742210398743211002/actions/fetch-files", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"data":{"password":"PossiblyInfected0987&*()","files":["C:\\Windows\\Temp\\a.exe","/tmp/b"]}}`)
		w.Header().Set("Date", "Thu, 02 May 2024 09:14:05 GMT")
		writeBody(w, 200, []byte(`{"data":{"success":true}}`))
	})
	env.handle("GET /agents/1742210398743211002/uploads/1857340410000000001", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "ApiToken "+testToken)
		w.Header().Set("Content-Type", "application/octet-stream")
		fmt.Fprint(w, "PK-zip-bytes")
	})
	req, err := env.client.Agents.RequestFiles(ctx, "1742210398743211002", []string{`C:\Windows\Temp\a.exe`, "/tmp/b"}, "PossiblyInfected0987&*()")
	if err != nil {
		t.Fatal(err)
	}
	want := &sentinelone.FetchRequest{AgentID: "1742210398743211002", Paths: []string{`C:\Windows\Temp\a.exe`, "/tmp/b"},
		ActivityType: 80, RequestedAt: time.Date(2024, 5, 2, 9, 14, 4, 0, time.UTC)}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Error(diff)
	}
	resp, err := env.client.Agents.DownloadUpload(ctx, "1742210398743211002", "1857340410000000001")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "PK-zip-bytes" {
		t.Errorf("body = %q", b)
	}
	for _, bad := range [][]string{nil, {"C:\\*.exe"}, make([]string, 11)} {
		if _, err := env.client.Agents.RequestFiles(ctx, "1", bad, "PossiblyInfected0987&*()"); err == nil {
			t.Errorf("paths %q accepted", bad)
		}
	}
	if _, err := env.client.Agents.RequestFiles(ctx, "1", []string{"/tmp/x"}, "short"); err == nil {
		t.Error("weak password accepted")
	}
}
