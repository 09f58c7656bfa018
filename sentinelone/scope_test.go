package sentinelone_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestAccountsSitesGroupsSystem(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /accounts", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"accountIds": {"433241117337583618"}})
		writeBody(w, 200, []byte(`{"data":[{"id":"433241117337583618","name":"Acme","accountType":"Paid","state":"active","activeAgents":12,"createdAt":"2019-01-01T00:00:00Z","expiration":null}],"pagination":{"nextCursor":null,"totalItems":1}}`))
	})
	env.handle("GET /accounts/433241117337583618", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"id":"433241117337583618","name":"Acme"}}`))
	})
	env.handle("GET /sites", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"accountId": {"433241117337583618"}, "limit": {"1000"}})
		writeBody(w, 200, []byte(`{"data":{"allSites":{"activeLicenses":12,"totalLicenses":100},"sites":[{"id":"475482421366727779","name":"Default site","accountId":"433241117337583618","state":"active","healthStatus":true,"sku":"Complete"}]},"pagination":{"nextCursor":null,"totalItems":1}}`))
	})
	env.handle("GET /sites/475482421366727779", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"id":"475482421366727779","name":"Default site"}}`))
	})
	env.handle("GET /groups", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"siteIds": {"475482421366727779"}, "limit": {"1000"}})
		writeBody(w, 200, []byte(`{"data":[{"id":"475482421375116388","name":"Default Group","type":"static","siteId":"475482421366727779","isDefault":true,"rank":null,"totalAgents":3}],"pagination":{"nextCursor":null,"totalItems":1}}`))
	})
	env.handle("GET /system/info", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":{"version":"Z SP5","build":"43","latestAgentVersion":"24.1.4.257"}}`))
	})

	accts, err := env.client.Accounts.List(ctx, sentinelone.AccountListOptions{AccountIDs: []string{"433241117337583618"}})
	if err != nil || len(accts.Items) != 1 || accts.Items[0].ActiveAgents != 12 || accts.Items[0].State != "active" {
		t.Fatalf("accounts: %+v %v", accts, err)
	}
	if a, err := env.client.Accounts.Get(ctx, "433241117337583618"); err != nil || a.Name != "Acme" {
		t.Fatalf("account: %+v %v", a, err)
	}
	sp, err := env.client.Sites.List(ctx, sentinelone.SiteListOptions{AccountID: "433241117337583618", ListOptions: sentinelone.ListOptions{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if sp.AllSites != (sentinelone.LicenseTotals{ActiveLicenses: 12, TotalLicenses: 100}) || sp.Items[0].SKU != "Complete" || !sp.Items[0].HealthStatus {
		t.Errorf("sites = %+v", sp)
	}
	var siteIDs []string
	for s, err := range env.client.Sites.All(ctx, sentinelone.SiteListOptions{AccountID: "433241117337583618"}) {
		if err != nil {
			t.Fatal(err)
		}
		siteIDs = append(siteIDs, s.ID)
	}
	if diff := cmp.Diff([]string{"475482421366727779"}, siteIDs); diff != "" {
		t.Error(diff)
	}
	if s, err := env.client.Sites.Get(ctx, "475482421366727779"); err != nil || s.Name != "Default site" {
		t.Fatalf("site: %+v %v", s, err)
	}
	for g, err := range env.client.Groups.All(ctx, sentinelone.GroupListOptions{SiteIDs: []string{"475482421366727779"}}) {
		if err != nil || g.TotalAgents != 3 || g.Type != "static" {
			t.Fatalf("group: %+v %v", g, err)
		}
	}
	info, err := env.client.System.Info(ctx)
	if err != nil || *info != (sentinelone.SystemInfo{Version: "Z SP5", Build: "43", LatestAgentVersion: "24.1.4.257"}) {
		t.Fatalf("info: %+v %v", info, err)
	}
}

func TestActivitiesList(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /activities", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"activityTypes": {"5040,23"}, "createdAt__gte": {"2022-09-06T00:00:00.000000Z"}, "limit": {"1000"}})
		writeBody(w, 200, fixture(t, "activities_list_collector.json"))
	})
	env.handle("GET /activities/types", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, []byte(`{"data":[{"id":86,"action":"Agent Uploaded Threat File","descriptionTemplate":"x"}]}`))
	})
	var got []sentinelone.Activity
	for a, err := range env.client.Activities.All(ctx, sentinelone.ActivityListOptions{ActivityTypes: []int{5040, 23}, CreatedAtGte: mustTime(t, "2022-09-06T00:00:00Z")}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if len(got) != 2 || got[0].ActivityType != 5040 || got[0].Data.AccountID != "123456" || got[1].UserID != "1503807937830229037" {
		t.Fatalf("activities = %+v", got)
	}
	if string(got[1].Data.Raw) == "" || got[1].Data.ScopeLevel != "Account" {
		t.Errorf("raw data not kept: %+v", got[1].Data)
	}
	env.handle("GET /threats/222222222222222222/timeline", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, fixture(t, "activities_list.json"))
	})
	tl, err := env.client.Threats.ListTimeline(ctx, "222222222222222222", sentinelone.TimelineListOptions{})
	if err != nil || len(tl.Items) != 2 || tl.Items[0].Data.AccountID != "111111111111111111" || tl.Items[0].Data.Username != "testuser" ||
		tl.Items[1].PrimaryDescription == "" || tl.TotalItems != 2 {
		t.Fatalf("timeline: %+v %v", tl, err)
	}
	types, err := env.client.Activities.Types(ctx)
	if err != nil || len(types) != 1 || types[0].ID != 86 {
		t.Fatalf("types: %+v %v", types, err)
	}
}
