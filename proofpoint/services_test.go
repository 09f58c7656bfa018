package proofpoint_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/proofpoint"
)

func TestForensicsGetByThreat(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/forensics", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testAuth(t, r)
		testQuery(t, r, url.Values{"threatId": {"9de5069c-5afe-602b-2ea0-a04b66beb2c0"}, "includeCampaignForensics": {"true"}})
		serveFixture(t, w, "forensics_threat_include_campaign.json")
	})
	f, err := ts.client.Forensics.GetByThreat(context.Background(), "9de5069c-5afe-602b-2ea0-a04b66beb2c0", true)
	if err != nil {
		t.Fatal(err)
	}
	want := proofpoint.Forensics{
		Generated: mustTime(t, "2021-06-27T18:48:04.302Z"),
		Reports: []proofpoint.Report{{
			Scope: "THREAT", ID: "9de5069c-5afe-602b-2ea0-a04b66beb2c0", Name: "example.com", ThreatStatus: "active",
			Forensics: []proofpoint.Evidence{{
				Type: "screenshot", Display: "Screenshot", Engine: "static", Note: "Screenshot",
				Malicious: proofpoint.FlexBool{Value: true, Known: true},
				What: []byte(`{
            "url": "https://example.com"
          }`),
				Platforms: []proofpoint.Platform{{Name: "static", OS: "static", Version: "0"}},
				Details:   &proofpoint.ScreenshotEvidence{URL: "https://example.com"},
			}},
		}},
	}
	if diff := cmp.Diff(want, *f); diff != "" {
		t.Errorf("forensics (-want +got):\n%s", diff)
	}
	if st := ts.client.Pools().Status(proofpoint.PoolForensicsThreat); st.Used != 1 {
		t.Errorf("threat pool used = %d", st.Used)
	}
}

func TestForensicsGetByCampaign(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/forensics", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"campaignId": {"aa9b3d62-4d72-4ebc-8f39-3da3833e7038"}})
		w.Write([]byte(`{"generated":"2021-06-27T19:58:04.283Z","reports":[{"scope":"CAMPAIGN","id":"aa9b3d62-4d72-4ebc-8f39-3da3833e7038","name":"Tordal","forensics":[
		 {"type":"network","display":"TCP connect 203.0.113.9:443","malicious":true,"time":0,"what":{"action":"connect","ip":"203.0.113.9","port":443,"type":"tcp"},"platforms":[{"name":"Win10","os":"win","version":"win10"}]},
		 {"type":"dns","display":"DNS query","malicious":null,"time":"0","what":{"host":"evil.example","ips":["203.0.113.9"]},"platforms":[]},
		 {"type":"cryptominer","display":"new type","what":{"pool":"x"},"platforms":[]}]}]}`))
	})
	f, err := ts.client.Forensics.GetByCampaign(context.Background(), "aa9b3d62-4d72-4ebc-8f39-3da3833e7038")
	if err != nil {
		t.Fatal(err)
	}
	ev := f.Reports[0].Forensics
	if d, ok := ev[0].Details.(*proofpoint.NetworkEvidence); !ok || *d != (proofpoint.NetworkEvidence{Action: "connect", IP: "203.0.113.9", Port: 443, Type: "tcp"}) {
		t.Errorf("network = %#v", ev[0].Details)
	}
	if d, ok := ev[1].Details.(*proofpoint.DNSEvidence); !ok || d.Host != "evil.example" || ev[1].Malicious.Known {
		t.Errorf("dns = %#v, malicious %+v", ev[1].Details, ev[1].Malicious)
	}
	if d, ok := ev[2].Details.(*proofpoint.UnknownEvidence); !ok || d.EvidenceType() != "cryptominer" || string(d.Raw) != `{"pool":"x"}` {
		t.Errorf("unknown = %#v", ev[2].Details)
	}
	if st := ts.client.Pools().Status(proofpoint.PoolForensicsCampaign); st.Used != 1 {
		t.Errorf("campaign pool used = %d", st.Used)
	}
	if _, err := ts.client.Forensics.GetByCampaign(context.Background(), ""); !errors.Is(err, proofpoint.ErrInvalidRequest) {
		t.Errorf("empty id err = %v", err)
	}
}

// The schema fixture carries type names instead of values; it must still
// decode, with every evidence type recognised and the odd values zero.
func TestForensicsSchemaPlaceholders(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/forensics", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"threatId": {"t1"}})
		serveFixture(t, w, "forensics_schema_placeholders.json")
	})
	f, err := ts.client.Forensics.GetByThreat(context.Background(), "t1", false)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range f.Reports[0].Forensics {
		if _, unknown := e.Details.(*proofpoint.UnknownEvidence); unknown {
			t.Errorf("%s decoded as unknown", e.Type)
		}
		types = append(types, e.Details.EvidenceType())
	}
	want := []string{"attachment", "cookie", "dns", "dropper", "file", "ids", "mutex", "network", "process", "registry", "url"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
	u := f.Reports[0].Forensics[10].Details.(*proofpoint.URLEvidence)
	if u.URL != "string" || u.Size != 0 || u.Blacklisted.Known {
		t.Errorf("url evidence = %+v", u)
	}
	if !f.Generated.IsZero() || f.Reports[0].Type != "string" {
		t.Errorf("report = %+v", f.Reports[0])
	}
}

func TestEvidenceLooseValues(t *testing.T) {
	var e proofpoint.Evidence
	err := e.UnmarshalJSON([]byte(`{"type":"ATTACHMENT","malicious":"1","time":"12","what":{"sha256":"ab","blacklisted":1,"offset":"34","size":1.0e3}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &proofpoint.AttachmentEvidence{SHA256: "ab", Blacklisted: proofpoint.FlexBool{Value: true, Known: true}, Offset: 34, Size: 1000}
	if diff := cmp.Diff(want, e.Details); diff != "" || !e.Malicious.Value || e.Time != 12 {
		t.Errorf("details (-want +got):\n%s; malicious %+v time %d", diff, e.Malicious, e.Time)
	}
	if b, _ := e.Malicious.MarshalJSON(); string(b) != "true" {
		t.Errorf("marshal = %s", b)
	}
	if b, _ := (proofpoint.FlexBool{}).MarshalJSON(); string(b) != "null" {
		t.Errorf("marshal unknown = %s", b)
	}
	var bad proofpoint.Evidence
	if err := bad.UnmarshalJSON([]byte(`{"type":"file","what":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := bad.Details.(*proofpoint.UnknownEvidence); !ok {
		t.Errorf("undecodable details = %#v", bad.Details)
	}
}

func TestCampaignsListIDs(t *testing.T) {
	ts := setup(t)
	interval := proofpoint.Interval{Start: testNow.Add(-24 * time.Hour), End: testNow}
	ts.mux.HandleFunc("/v2/campaign/ids", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, url.Values{"interval": {"2024-05-13T12:00:00Z/2024-05-14T12:00:00Z"}, "size": {"2"}, "page": {"3"}})
		serveFixture(t, w, "campaign_ids.json")
	})
	page, err := ts.client.Campaigns.ListIDs(context.Background(), proofpoint.CampaignIDsOptions{Interval: interval, Size: 2, Page: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := &proofpoint.CampaignIDsPage{
		Campaigns: []proofpoint.CampaignRef{
			{ID: "f3ff0874-85ef-475e-b3fe-d05f97b2ed3f", LastUpdatedAt: mustTime(t, "2021-03-25T10:37:46.000Z")},
			{ID: "aa9b3d62-4d72-4ebc-8f39-3da3833e7038", LastUpdatedAt: mustTime(t, "2021-03-25T08:14:06.000Z")},
		},
		NextPage: 4,
	}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestCampaignsListIDs404IsEmpty(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/campaign/ids", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"interval": {"2024-05-14T10:00:00Z/2024-05-14T11:00:00Z"}})
		http.Error(w, "Not Found", http.StatusNotFound)
	})
	page, err := ts.client.Campaigns.ListIDs(context.Background(), proofpoint.CampaignIDsOptions{Interval: hourBefore(time.Hour)})
	if err != nil || len(page.Campaigns) != 0 || page.NextPage != 0 {
		t.Errorf("page = %+v, err = %v", page, err)
	}
}

func TestCampaignsAllIDsPages(t *testing.T) {
	ts := setup(t)
	var pages []string
	ts.mux.HandleFunc("/v2/campaign/ids", func(w http.ResponseWriter, r *http.Request) {
		pages = append(pages, r.URL.Query().Get("page"))
		switch r.URL.Query().Get("page") {
		case "":
			w.Write([]byte(`{"campaigns":[{"id":"c1","lastUpdatedAt":"2024-05-14T10:00:00.000Z"},{"id":"c2","lastUpdatedAt":"2024-05-14T10:01:00.000Z"}]}`))
		case "2":
			w.Write([]byte(`{"campaigns":[{"id":"c3","lastUpdatedAt":"2024-05-14T10:02:00.000Z"}]}`))
		default:
			t.Errorf("unexpected page %s", r.URL.RawQuery)
		}
	})
	refs, err := rest.Collect(ts.client.Campaigns.AllIDs(context.Background(), proofpoint.CampaignIDsOptions{Interval: hourBefore(time.Hour), Size: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 3 || refs[2].ID != "c3" || !cmp.Equal(pages, []string{"", "2"}) {
		t.Errorf("refs = %+v, pages = %q", refs, pages)
	}
}

func TestCampaignsValidation(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL) })
	ctx := context.Background()
	long := proofpoint.Interval{Start: testNow.Add(-25 * time.Hour), End: testNow}
	for _, q := range []proofpoint.CampaignIDsOptions{
		{Interval: long},
		{Interval: hourBefore(time.Hour), Size: 201},
		{Interval: hourBefore(time.Hour), Page: -1},
		{},
	} {
		if _, err := ts.client.Campaigns.ListIDs(ctx, q); !errors.Is(err, proofpoint.ErrInvalidRequest) {
			t.Errorf("%+v: err = %v", q, err)
		}
	}
	if _, err := ts.client.Campaigns.ListIDs(ctx, proofpoint.CampaignIDsOptions{Interval: long}); !errors.Is(err, proofpoint.ErrWindowTooLong) {
		t.Errorf("long interval err = %v", err)
	}
	if _, err := ts.client.Campaigns.Get(ctx, ".."); !errors.Is(err, proofpoint.ErrInvalidRequest) {
		t.Errorf("dot id err = %v", err)
	}
}

func TestCampaignsGet(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/campaign/aa9b3d62-4d72-4ebc-8f39-3da3833e7038", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, url.Values{})
		serveFixture(t, w, "campaign_get.json")
	})
	c, err := ts.client.Campaigns.Get(context.Background(), "aa9b3d62-4d72-4ebc-8f39-3da3833e7038")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != `Tordal "2203_78291" | US Targeting | URLs | 24 March 2021` || !c.StartDate.Equal(time.Date(2021, 3, 24, 0, 1, 0, 0, time.UTC)) || c.Notable {
		t.Errorf("campaign = %+v", c)
	}
	wantFamilies := []proofpoint.Entity{{ID: "f5dfd745-370b-4ffb-9a12-3ebf040fd5c4", Name: "Stealer"}, {ID: "e52f20f4-b663-4222-b82f-5423a1876ba4", Name: "Downloader"}}
	if diff := cmp.Diff(wantFamilies, c.Families); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
	if len(c.Actors) != 1 || c.Actors[0].Name != "TA511" || c.Malware[0].Name != "Tordal" || c.Techniques[0].Name != "Office VBA Macro" ||
		c.Brands[0].Name != "DocuSign" || c.CampaignMembers == nil || len(c.CampaignMembers) != 0 {
		t.Errorf("campaign lists = %+v", c)
	}
	for _, p := range proofpoint.Pools() {
		if used := ts.client.Pools().Status(p).Used; used != 0 {
			t.Errorf("campaign details counted on %s", p)
		}
	}
}

func TestPeopleVAP(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/people/vap", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testQuery(t, r, url.Values{"window": {"14"}, "size": {"2"}, "page": {"1"}})
		serveFixture(t, w, "people_vap.json")
	})
	page, err := ts.client.People.ListVAP(context.Background(), proofpoint.PeopleOptions{Window: 14, Size: 2, Page: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantFirst := proofpoint.VAPUser{
		Identity:         proofpoint.Identity{GUID: "88e36bf359-99e8-7e53-f58a-6df8b430be6d", Emails: []string{"xxxx@xxx.com"}},
		ThreatStatistics: proofpoint.ThreatStatistics{AttackIndex: 1805, Families: []proofpoint.FamilyScore{{Name: "credential phishing", Score: 700}}},
	}
	if diff := cmp.Diff(wantFirst, page.Users[0]); diff != "" {
		t.Errorf("first user (-want +got):\n%s", diff)
	}
	if page.TotalVAPUsers != 2 || page.AverageAttackIndex != 604.6563 || page.VAPAttackIndexThreshold != 1032.7329 ||
		page.Interval != "2021-04-06T21:48:25Z/2021-04-20T21:48:25Z" || page.NextPage != 0 || len(page.Users[1].ThreatStatistics.Families) != 3 {
		t.Errorf("page = %+v", page)
	}
}

func TestPeopleTopClickers(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/people/top-clickers", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, url.Values{"window": {"90"}})
		serveFixture(t, w, "people_top_clickers.json")
	})
	page, err := ts.client.People.ListTopClickers(context.Background(), proofpoint.PeopleOptions{Window: 90})
	if err != nil {
		t.Fatal(err)
	}
	want := proofpoint.TopClicker{
		Identity:        proofpoint.Identity{GUID: "b4077fsv0e-3a2e-767f-7315-c049f831cc95", Emails: []string{"xxxx@xxx.com"}},
		ClickStatistics: proofpoint.ClickStatistics{ClickCount: 1, Families: []proofpoint.FamilyClick{{Name: "MalSpam", Clicks: 1}}},
	}
	if diff := cmp.Diff(want, page.Users[1]); diff != "" {
		t.Errorf("second user (-want +got):\n%s", diff)
	}
	if page.TotalTopClickers != 2 || page.Interval != "2021-01-21T11:49:00Z/2021-04-21T11:49:00Z" || page.NextPage != 0 {
		t.Errorf("page = %+v", page)
	}
	if st := ts.client.Pools().Status(proofpoint.PoolPeopleTopClickers); st.Used != 1 {
		t.Errorf("pool used = %d", st.Used)
	}
}

func TestPeopleAllPagesAndValidation(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/people/top-clickers", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "":
			w.Write([]byte(`{"users":[{"identity":{"guid":"a"}},{"identity":{"guid":"b"}}],"totalTopClickers":3,"interval":"x"}`))
		case "2":
			w.Write([]byte(`{"users":[{"identity":{"guid":"c"}}],"totalTopClickers":3,"interval":"x"}`))
		default:
			t.Errorf("unexpected %s", r.URL.RawQuery)
		}
	})
	ts.mux.HandleFunc("/v2/people/vap", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") != "" {
			t.Errorf("unexpected %s", r.URL.RawQuery)
		}
		// A full page whose total says there is no more.
		w.Write([]byte(`{"users":[{"identity":{"guid":"a"}},{"identity":{"guid":"b"}}],"totalVapUsers":2,"interval":"x"}`))
	})
	ctx := context.Background()
	users, err := rest.Collect(ts.client.People.AllTopClickers(ctx, proofpoint.PeopleOptions{Window: 30, Size: 2}))
	if err != nil || len(users) != 3 || users[2].Identity.GUID != "c" {
		t.Errorf("top clickers = %+v, %v", users, err)
	}
	vap, err := rest.Collect(ts.client.People.AllVAP(ctx, proofpoint.PeopleOptions{Window: 30, Size: 2}))
	if err != nil || len(vap) != 2 {
		t.Errorf("vap = %+v, %v", vap, err)
	}
	for _, q := range []proofpoint.PeopleOptions{{Window: 7}, {Window: 30, Size: 500}, {Window: 30, Page: -2}} {
		if _, err := ts.client.People.ListVAP(ctx, q); !errors.Is(err, proofpoint.ErrInvalidRequest) {
			t.Errorf("%+v: err = %v", q, err)
		}
		if _, err := ts.client.People.ListTopClickers(ctx, q); !errors.Is(err, proofpoint.ErrInvalidRequest) {
			t.Errorf("%+v: err = %v", q, err)
		}
	}
}

func TestURLsDecode(t *testing.T) {
	ts := setup(t)
	in := []string{
		"https://urldefense.proofpoint.com/v2/url?u=http-3A__links.mkt3337.com_ctt-3Fkn-3D3-26ms-3DMzQ3OTg3MDQS1-26r-3DMzkxNzk3NDkwMDA0S0-26b-3D0-26j-3DMTMwMjA1ODYzNQS2-26mt-3D1-26rt-3D0&d=DwMFaQ&c=Vxt5e0Osvvt2gflwSlsJ5DmPGcPvTRKLJyp031rXjhg&r=MujLDFBJstxoxZI_GKbsW7wxGM7nnIK__qZvVy6j9Wc&m=QJGhloAyfD0UZ6n8r6y9dF-khNKqvRAIWDRU_K65xPI&s=ew-rOtBFjiX1Hgv71XQJ5BEgl9TPaoWRm_Xp9Nuo8bk&e=",
		"https://urldefense.proofpoint.com/v1/url?u=http://www.bouncycastle.org/&amp;k=oIvRg1%2BdGAgOoM1BIlLLqw%3D%3D%0A&amp;r=IKM5u8%2B%2F%2Fi8EBhWOS%2BqGbTqCC%2BrMqWI%2FVfEAEsQO%2F0Y%3D%0A&amp;m=Ww6iaHO73mDQpPQwOwfLfN8WMapqHyvtu8jM8SjqmVQ%3D%0A&amp;s=d3583cfa53dade97025bc6274c6c8951dc29fe0f38830cf8e5a447723b9f1c9a",
	}
	ts.mux.HandleFunc("/v2/url/decode", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeader(t, r, "Content-Type", "application/json")
		testAuth(t, r)
		testJSONBody(t, r, `{"urls":["`+in[0]+`","`+in[1]+`"]}`)
		serveFixture(t, w, "url_decode.json")
	})
	got, err := ts.client.URLs.Decode(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []proofpoint.DecodedURL{
		{EncodedURL: in[0], DecodedURL: "http://links.mkt3337.com/ctt?kn=3&ms=MzQ3OTg3MDQS1&r=MzkxNzk3NDkwMDA0S0&b=0&j=MTMwMjA1ODYzNQS2&mt=1&rt=0", Success: true},
		{EncodedURL: in[1], DecodedURL: "http://www.bouncycastle.org/", Success: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if _, err := ts.client.URLs.Decode(context.Background(), nil); !errors.Is(err, proofpoint.ErrInvalidRequest) {
		t.Errorf("empty err = %v", err)
	}
}

func TestThreatsGetSummary(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/threat/summary/test_123", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		serveFixture(t, w, "threat_summary.json")
	})
	ts.mux.HandleFunc("/v2/threat/summary/985e627c", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"985e627c","identifiedAt":"2020-07-21T15:30:10.000Z","name":"Invoice_4821.docm","type":"attachment","category":"malware","status":"active","severityScore":800,"attackSpread":62,"notable":true,"verticallyTargeted":true,"geoTargeted":false,"severity":5,"actors":[]}`))
	})
	ctx := context.Background()
	s, err := ts.client.Threats.GetSummary(ctx, "test_123")
	if err != nil {
		t.Fatal(err)
	}
	want := proofpoint.ThreatSummary{
		ID: "test_123", IdentifiedAt: mustTime(t, "2020-07-21T15:30:10.000Z"), Name: "test_name", Type: "attachment",
		Category: "malware", Status: "active", SeverityScore: 20, AttackSpread: 62,
		Actors:     []proofpoint.Entity{{ID: "6e3b86b0-a823-4ed6-8d75-db4d7ead43ba", Name: "TA505"}},
		Families:   []proofpoint.Entity{{ID: "cfd29eb5-544f-4ef4-920c-7c4e428931e0", Name: "Banking"}},
		Malware:    []proofpoint.Entity{{ID: "8faf65ef-0524-45e0-a036-d1b6e261825c", Name: "Ursnif"}},
		Techniques: []proofpoint.Entity{{ID: "accc60d8-4426-4ba2-b2f5-f9ec2eb4685b", Name: "XL4 macros"}},
		Brands:     []proofpoint.Entity{{ID: "acasd60d8-4426-4ba2-b2f5-f9ec2eb4685b", Name: "DocuSign"}},
	}
	if diff := cmp.Diff(want, *s); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	doc, err := ts.client.Threats.GetSummary(ctx, "985e627c")
	if err != nil {
		t.Fatal(err)
	}
	if doc.SeverityScore != 800 || !doc.VerticallyTargeted || !doc.Notable || doc.GeoTargeted {
		t.Errorf("documented spelling = %+v", doc)
	}
}
