package sentinelone_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/sentinelone"
)

func TestBlocklist(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /restrictions", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"siteIds": {"475482421366727779"}, "value__contains": {"f2ca1bb6"}, "type": {"black_hash"}, "includeParents": {"true"}})
		writeBody(w, 200, fixture(t, "restrictions_list.json"))
	})
	posts := 0
	env.handle("POST /restrictions", func(w http.ResponseWriter, r *http.Request) {
		posts++
		switch posts {
		case 1:
			testJSONBody(t, r, `{"filter":{"accountIds":["433241117337583618"]},"data":{"type":"black_hash","value":"3395856ce81f2b7382dee72602f798b642f14140","osType":"windows","description":"Reported from VMRay Analyzer"}}`)
			writeBody(w, 200, []byte(`{"data":[{"id":"1857400000000000001","type":"black_hash","value":"3395856ce81f2b7382dee72602f798b642f14140","osType":"windows","scope":{"accountIds":["433241117337583618"]},"createdAt":"2024-05-02T09:40:00.000000Z"}]}`))
		case 2:
			writeBody(w, 400, []byte(`{"errors":[{"code":4000030,"detail":"Already exists","title":"Already Exists Error"}]}`))
		default:
			writeBody(w, 200, fixture(t, "restrictions_create_response.json"))
		}
	})
	env.handle("DELETE /restrictions", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"data":{"ids":["1234"],"type":"black_hash"}}`)
		writeBody(w, 200, []byte(`{"data":{"affected":1}}`))
	})

	p, err := env.client.Blocklist.List(ctx, sentinelone.RestrictionListOptions{Scope: sentinelone.Scope{SiteIDs: []string{"475482421366727779"}},
		Type: "black_hash", ValueContains: "f2ca1bb6", IncludeParents: true})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Items[0]
	if r.ID != "1234" || r.OSType != "windows" || r.CreatedAt.Year() != 1900 {
		t.Errorf("restriction = %+v", r)
	}
	scope := sentinelone.Scope{AccountIDs: []string{"433241117337583618"}}
	res, err := env.client.Blocklist.CreateForOSTypes(ctx, scope, sentinelone.NewRestriction{Value: "3395856ce81f2b7382dee72602f798b642f14140",
		Description: "Reported from VMRay Analyzer"}, "windows", "macos", "linux")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Restriction == nil || res[0].Restriction.ID != "1857400000000000001" || !res[1].AlreadyExists ||
		res[2].AlreadyExists || res[2].Restriction != nil {
		t.Errorf("results = %+v", res)
	}
	if diff := cmp.Diff([]string{"433241117337583618"}, res[0].Restriction.Scope.AccountIDs); diff != "" {
		t.Error(diff)
	}
	if n, err := env.client.Blocklist.Delete(ctx, []string{"1234"}); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if _, err := env.client.Blocklist.Create(ctx, sentinelone.Scope{}, sentinelone.NewRestriction{Value: "x", OSType: "windows"}); !errors.Is(err, sentinelone.ErrInvalidRequest) {
		t.Errorf("scope-less create: %v", err)
	}
}

func TestBlocklistScopeValidationError(t *testing.T) {
	env := setup(t)
	env.handle("POST /restrictions", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 400, fixture(t, "error_400_validation_scope.json"))
	})
	_, err := env.client.Blocklist.Create(context.Background(), sentinelone.Scope{SiteIDs: []string{"2163822726089822800"}},
		sentinelone.NewRestriction{Value: "3395856ce81f2b7382dee72602f798b642f14140", OSType: "windows"})
	var e *sentinelone.Error
	if !errors.As(err, &e) || !errors.Is(err, sentinelone.ErrValidation) || errors.Is(err, sentinelone.ErrAlreadyExists) {
		t.Fatalf("err = %v", err)
	}
	if e.Code != "4000010" || e.Message != "Validation Error: Cannot find blocklist or exclusion for the requested scope [2163822726089822800]" {
		t.Errorf("code %q message %q", e.Code, e.Message)
	}
}

func TestThreatIntelligenceIOCs(t *testing.T) {
	env := setup(t)
	ctx := context.Background()
	env.handle("GET /threat-intelligence/iocs", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"accountIds": {"2163822725049635476"}, "sortBy": {"creationTime"}, "sortOrder": {"desc"}, "limit": {"1000"}})
		writeBody(w, 200, fixture(t, "threat_intelligence_iocs_list.json"))
	})
	env.handle("POST /threat-intelligence/iocs", func(w http.ResponseWriter, r *http.Request) {
		want := `{"filter":{"accountIds":["2163822725049635476"]},"data":` + string(fixture(t, "threat_intelligence_iocs_create_request_data.json")) + `}`
		testJSONBody(t, r, want)
		writeBody(w, 200, []byte(`{"data":[{"uuid":"11b317f0acf1a0005b8d003d8da44476","type":"SHA256","value":"beab9fadb100a44b3bc8ea4df3249aa6d93e710193be437adb5e47c2e201c1ef","scope":"account","scopeId":["2163822725049635476"],"source":"Test"}]}`))
	})
	env.handle("DELETE /threat-intelligence/iocs", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"filter":{"accountIds":["2163822725049635476"],"uuids":["11b317f0acf1a0005b8d003d8da44476"]}}`)
		writeBody(w, 200, []byte(`{"data":{"affected":1}}`))
	})
	var values []string
	for ioc, err := range env.client.ThreatIntelligence.AllIOCs(ctx, sentinelone.IOCListOptions{Scope: sentinelone.Scope{AccountIDs: []string{"2163822725049635476"}},
		ListOptions: sentinelone.ListOptions{SortBy: "creationTime", SortOrder: sentinelone.Descending}}) {
		if err != nil {
			t.Fatal(err)
		}
		if ioc.ScopeID != "2163822725049635476" || ioc.Method != "EQUALS" || ioc.ValidUntil.Year() != 2026 {
			t.Errorf("ioc = %+v", ioc)
		}
		values = append(values, ioc.Value[:8])
	}
	if diff := cmp.Diff([]string{"beab9fad", "951354d8", "2d78cff1"}, values); diff != "" {
		t.Error(diff)
	}
	var batch []sentinelone.IOC
	for _, v := range []string{"beab9fadb100a44b3bc8ea4df3249aa6d93e710193be437adb5e47c2e201c1ef", "951354d865d719f4d1c2dab01a7c88b5469e1de86449983aa7d359a3ff86f971",
		"2d78cff191bc989cec83ad64f326e94b5a9ea6d14c4aaa815fc6aa1a37e728c8"} {
		batch = append(batch, sentinelone.IOC{Source: "Test", Type: "SHA256", Value: v, ValidUntil: mustTime(t, "2026-04-28T08:17:48.062976Z"),
			Description: "Test blocked hashes have higher FP rates than delivered", Creator: "joe@test.com", Name: "Blocked Hash " + v})
	}
	created, err := env.client.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{AccountIDs: []string{"2163822725049635476"}}, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || created[0].ScopeID != "2163822725049635476" || created[0].UUID != "11b317f0acf1a0005b8d003d8da44476" {
		t.Errorf("created = %+v", created)
	}
	n, err := env.client.ThreatIntelligence.DeleteIOCs(ctx, sentinelone.IOCDeleteFilter{Scope: sentinelone.Scope{AccountIDs: []string{"2163822725049635476"}},
		UUIDs: []string{"11b317f0acf1a0005b8d003d8da44476"}})
	if err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if _, err := env.client.ThreatIntelligence.CreateIOCs(ctx, sentinelone.Scope{AccountIDs: []string{"1"}}, []sentinelone.IOC{{Type: "SHA1"}}); !errors.Is(err, sentinelone.ErrInvalidRequest) {
		t.Errorf("incomplete IOC: %v", err)
	}
}
