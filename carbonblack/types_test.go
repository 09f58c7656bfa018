package carbonblack_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/soarkit/soarkit/carbonblack"
)

func TestFlexibleDecoders(t *testing.T) {
	var v struct {
		A carbonblack.StringList `json:"a"`
		B carbonblack.StringList `json:"b"`
		C carbonblack.IntList    `json:"c"`
		D carbonblack.IntList    `json:"d"`
		E carbonblack.FlexBool   `json:"e"`
		F carbonblack.FlexInt    `json:"f"`
		G carbonblack.Timestamp  `json:"g"`
		H carbonblack.Timestamp  `json:"h"`
		I carbonblack.Timestamp  `json:"i"`
		J carbonblack.IPv4       `json:"j"`
		K carbonblack.IPv4       `json:"k"`
		L carbonblack.IPv4       `json:"l"`
	}
	raw := `{"a":"cmd.exe /c x","b":["x","y"],"c":42,"d":[1,"2"],"e":"false","f":"98765","g":"null","h":1615281362683,
		"i":"2023-12-17T15:25:41.416Z","j":388818410,"k":"10.29.99.1","l":-1062731519}`
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	switch {
	case v.A.First() != "cmd.exe /c x" || len(v.B) != 2 || v.C.First() != 42 || v.D[1] != 2 || bool(v.E) || v.F != 98765:
		t.Fatalf("decoded %+v", v)
	case !v.G.IsZero() || v.H.UnixMilli() != 1615281362683 || v.I.Nanosecond() != 416e6:
		t.Fatalf("timestamps %+v", v)
	case v.J.String() != "23.44.229.234" || v.K.String() != "10.29.99.1" || v.L.String() != "192.168.1.1":
		t.Fatalf("addresses %v %v %v", v.J, v.K, v.L)
	}
	out, _ := json.Marshal(struct {
		T carbonblack.Timestamp
		Z carbonblack.Timestamp
		J carbonblack.IPv4
	}{v.I, carbonblack.Timestamp{}, v.J})
	if string(out) != `{"T":"2023-12-17T15:25:41.416Z","Z":null,"J":388818410}` {
		t.Fatalf("encoded %s", out)
	}
	for _, bad := range []string{`{"e":"maybe"}`, `{"f":"x1"}`, `{"j":"not-an-ip"}`, `{"j":5000000000}`, `{"g":"yesterday"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func TestTimeRangeJSON(t *testing.T) {
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tr   carbonblack.TimeRange
		want string
	}{
		{carbonblack.TimeRange{Start: start, End: start.Add(time.Hour)}, `{"end":"2024-05-01T01:00:00.000Z","start":"2024-05-01T00:00:00.000Z"}`},
		{carbonblack.TimeRange{Range: "-3d"}, `{"range":"-3d"}`},
		{carbonblack.TimeRange{Window: "-2w"}, `{"window":"-2w"}`},
	} {
		b, _ := json.Marshal(tc.tr)
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
		var back carbonblack.TimeRange
		if err := json.Unmarshal(b, &back); err != nil || !back.Start.Equal(tc.tr.Start) || back.Range != tc.tr.Range || back.Window != tc.tr.Window {
			t.Errorf("round trip of %s = %+v, %v", b, back, err)
		}
	}
}

func TestPickSHA256AndSeverity(t *testing.T) {
	if got := carbonblack.PickSHA256([]string{"c7084336325dc8eadfb1e8ff876921c4", strings.Repeat("AB", 32)}); got != strings.Repeat("ab", 32) {
		t.Fatalf("PickSHA256 = %q", got)
	}
	if carbonblack.PickSHA256([]string{"10.169.255.100"}) != "" {
		t.Fatal("an IP address was taken for a hash")
	}
	for score, want := range map[float64]int{0: 1, 3: 1, 15: 1, 55: 5, 100: 10, 250: 10} {
		if got := carbonblack.Severity(score); got != want {
			t.Errorf("Severity(%v) = %d, want %d", score, got, want)
		}
	}
}

func TestIOCValidation(t *testing.T) {
	ok := carbonblack.Report{Title: "t", Description: "d", Severity: 5, IOCsV2: []carbonblack.IOC{carbonblack.RegexIOC(carbonblack.FieldFilemodName, `.*\.ps1`)}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []carbonblack.Report{
		{Title: "", Description: "d", Severity: 5, IOCsV2: ok.IOCsV2},
		{Title: "t", Description: "d", Severity: 11, IOCsV2: ok.IOCsV2},
		{Title: "t", Description: "d", Severity: 5},
		{Title: "t", Description: "d", Severity: 5, IOCsV2: []carbonblack.IOC{{ID: "q", MatchType: carbonblack.MatchQuery, Values: []string{"a", "b"}}}},
		{Title: "t", Description: "d", Severity: 5, IOCsV2: []carbonblack.IOC{{ID: "e", MatchType: carbonblack.MatchEquality, Values: []string{"a"}}}},
		{Title: "t", Description: "d", Severity: 5, IOCsV2: []carbonblack.IOC{{ID: "e", MatchType: "fuzzy", Field: "f", Values: []string{"a"}}}},
	}
	for i, r := range bad {
		if err := r.Validate(); !errors.Is(err, carbonblack.ErrInvalidReport) {
			t.Errorf("bad[%d]: %v", i, err)
		}
	}
	if a, b := carbonblack.NewID(), carbonblack.NewID(); a == b || len(a) != 36 || a[14] != '4' {
		t.Fatalf("NewID = %q, %q", a, b)
	}
}

const credentialsFile = `# Carbon Black credentials
[default]
url = https://defense.conferdeploy.net
token = ` + testSecret + `/` + testID + `
org_key = ` + testOrg + `
ssl_verify = True
integration_name = VMRay/CarbonBlackCloudConnector

[lab]
url: https://defense-eu.conferdeploy.net
token: abc/def
org_key: LAB00001
ssl_verify: 0
proxy = http://proxy.example:3128
ignore_system_proxy = yes
`

func TestParseCredentials(t *testing.T) {
	c, err := carbonblack.ParseCredentials([]byte(credentialsFile), "")
	if err != nil {
		t.Fatal(err)
	}
	want := carbonblack.Credentials{URL: "https://defense.conferdeploy.net", APISecret: testSecret, APIID: testID, OrgKey: testOrg,
		SSLVerify: true, Integration: "VMRay/CarbonBlackCloudConnector"}
	if *c != want {
		t.Fatalf("default = %+v", *c)
	}
	if strings.Contains(c.String(), testSecret) {
		t.Fatal("String shows the secret")
	}
	lab, err := carbonblack.ParseCredentials([]byte(credentialsFile), "lab")
	if err != nil || lab.SSLVerify || !lab.IgnoreSystemProxy || lab.Proxy != "http://proxy.example:3128" || lab.OrgKey != "LAB00001" {
		t.Fatalf("lab = %+v, %v", lab, err)
	}
	// UTF-16 with a BOM, as Windows editors save it.
	u := utf16.Encode([]rune(credentialsFile))
	b := []byte{0xFF, 0xFE}
	for _, r := range u {
		b = append(b, byte(r), byte(r>>8))
	}
	if c16, err := carbonblack.ParseCredentials(b, "default"); err != nil || c16.APIID != testID {
		t.Fatalf("utf-16 = %+v, %v", c16, err)
	}
	for name, bad := range map[string]string{
		"missing profile": "[other]\nurl=x\n",
		"no token":        "[default]\nurl=https://x\norg_key=A\n",
		"token no slash":  "[default]\nurl=https://x\norg_key=A\ntoken=" + testSecret + "\n",
		"key outside":     "url=https://x\n",
		"bad bool":        "[default]\nurl=https://x\norg_key=A\ntoken=a/b\nssl_verify=perhaps\n",
		"bad line":        "[default]\n" + testSecret + "\n",
	} {
		_, err := carbonblack.ParseCredentials([]byte(bad), "")
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

func TestNewFromCredentialsFileAndEnv(t *testing.T) {
	c0, mux := setup(t)
	_ = c0
	mux.HandleFunc("/policyservice/v1/orgs/"+testOrg+"/policies/summary", func(w http.ResponseWriter, r *http.Request) {
		testAuth(t, r)
		if !strings.Contains(r.Header.Get("User-Agent"), "VMRay/CarbonBlackCloudConnector") {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
		serveJSON(200, []byte(`{"policies":[]}`))(w, r)
	})
	base := strings.TrimSuffix(c0.BaseURL(), "/")
	path := filepath.Join(t.TempDir(), "credentials.cbc")
	content := strings.Replace(credentialsFile, "https://defense.conferdeploy.net", base, 1)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := carbonblack.NewFromCredentialsFile(path, "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Policies.List(ctx); err != nil {
		t.Fatal(err)
	}
	if c.OrgKey() != testOrg || c.BaseURL() != base {
		t.Fatalf("client for %s at %s", c.OrgKey(), c.BaseURL())
	}
	t.Setenv("CBC_URL", base)
	t.Setenv("CBC_TOKEN", testSecret+"/"+testID)
	t.Setenv("CBAPI_ORG_KEY", testOrg)
	ce, err := carbonblack.NewFromEnv(carbonblack.WithUserAgent("VMRay/CarbonBlackCloudConnector"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ce.Policies.List(ctx); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CBC_TOKEN", "")
	if _, err := carbonblack.NewFromEnv(); err == nil {
		t.Fatal("NewFromEnv without a token")
	}
	// The lab profile builds its own transport (ignore_system_proxy).
	lab, err := carbonblack.LoadCredentials(path, "lab")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carbonblack.NewFromCredentials(lab); err != nil {
		t.Fatal(err)
	}
	if _, err := carbonblack.NewFromCredentialsFile(filepath.Join(t.TempDir(), "absent"), ""); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestSecretEchoedByServerIsRedacted(t *testing.T) {
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error_code":"UNAUTHORIZED","message":"token ` + r.Header.Get("X-Auth-Token") + ` rejected"}`))
	})
	_, err := c.Watchlists.List(ctx)
	var e *carbonblack.Error
	if !errors.As(err, &e) || strings.Contains(err.Error(), testSecret) || strings.Contains(e.Body, testSecret) || strings.Contains(e.Message, testSecret) {
		t.Fatalf("secret leaked: %v / %q", err, e.Body)
	}
}

// TestJobResultsSkipMalformedResult decodes a search job page whose second
// result has a field of an unexpected type: the other results stay, the
// bad one is listed with its id.
func TestJobResultsSkipMalformedResult(t *testing.T) {
	body := `{"results":[{"process_guid":"g1","process_pid":[1]},{"process_guid":"g2","process_pid":{"x":1}},
		{"process_guid":"g3","process_pid":[3]}],"num_found":3,"num_available":3,"contacted":1,"completed":1}`
	var r carbonblack.JobResults[carbonblack.Process]
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 2 || r.Results[1].ProcessGUID != "g3" || len(r.SkippedItems) != 1 || r.SkippedItems[0].ID != "g2" ||
		r.SkippedItems[0].Index != 1 || !r.Done() || r.NumAvailable != 3 {
		t.Fatalf("results = %+v", r)
	}
	if err := json.Unmarshal([]byte(`{"results":{"process_guid":"g1"}}`), &r); err == nil {
		t.Fatal("results that are not a list decoded")
	}
}
