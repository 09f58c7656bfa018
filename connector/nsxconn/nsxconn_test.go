package nsxconn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/nsxconn"
	"github.com/soarkit/soarkit/connector/nsxconn/nsxtest"
	"github.com/soarkit/soarkit/internal/fakehttp"
)

func TestClientRequestShape(t *testing.T) {
	var gotList, gotAdd *http.Request
	var addBody []byte
	mux := http.NewServeMux()
	mux.HandleFunc("GET /nsx-prefix/api/v1/fabric/virtual-machines", func(w http.ResponseWriter, r *http.Request) {
		gotList = r
		io.WriteString(w, `{"results":[{"external_id":"5010-aa","display_name":"WIN-01","host_id":"h1","power_state":"VM_RUNNING","type":"REGULAR","tags":[{"scope":"owner","tag":"it"}],"_last_sync_time":1}],"result_count":1}`)
	})
	mux.HandleFunc("POST /nsx-prefix/api/v1/fabric/virtual-machines", func(w http.ResponseWriter, r *http.Request) {
		gotAdd = r
		addBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := nsxconn.New(srv.URL+"/nsx-prefix", "admin", "pw-123456", nsxconn.WithUserAgent("tap-cbc/1"))
	if err != nil {
		t.Fatal(err)
	}
	page, next, err := c.ListVirtualMachinesPage(context.Background(), nsxconn.ListOptions{DisplayName: "WIN-01", PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := []nsxconn.VirtualMachine{{ExternalID: "5010-aa", DisplayName: "WIN-01", HostID: "h1", PowerState: "VM_RUNNING", Type: "REGULAR", Tags: []nsxconn.Tag{{Scope: "owner", Tag: "it"}}}}
	if diff := cmp.Diff(want, page); diff != "" || next != "" {
		t.Fatalf("page (-want +got):\n%s next %q", diff, next)
	}
	if q := gotList.URL.Query(); q.Get("display_name") != "WIN-01" || q.Get("page_size") != "50" {
		t.Errorf("list query = %v", q)
	}
	if u, p, ok := gotList.BasicAuth(); !ok || u != "admin" || p != "pw-123456" {
		t.Errorf("basic auth = %q %q %v", u, p, ok)
	}
	if !strings.HasSuffix(gotList.Header.Get("User-Agent"), " tap-cbc/1") {
		t.Errorf("user agent %q", gotList.Header.Get("User-Agent"))
	}

	if err := c.AddTags(context.Background(), "5010-aa", nsxconn.Tag{Scope: "soarkit", Tag: "infected"}); err != nil {
		t.Fatal(err)
	}
	if gotAdd.URL.Query().Get("action") != "add_tags" || gotAdd.Header.Get("Content-Type") != "application/json" {
		t.Errorf("add_tags request %s %v", gotAdd.URL, gotAdd.Header)
	}
	var body map[string]any
	json.Unmarshal(addBody, &body)
	if diff := cmp.Diff(map[string]any{"external_id": "5010-aa", "tags": []any{map[string]any{"scope": "soarkit", "tag": "infected"}}}, body); diff != "" {
		t.Errorf("add_tags body (-want +got):\n%s", diff)
	}
	if err := c.AddTags(context.Background(), ""); err == nil {
		t.Error("AddTags without id or tags was sent")
	}
}

func TestClientErrors(t *testing.T) {
	fake := nsxtest.NewServer(t)
	var logs bytes.Buffer
	c, err := nsxconn.New(fake.URL(), "admin", "wrong-password-xyz", nsxconn.WithRetry(nsxconn.RetryPolicy{MaxAttempts: 1}),
		nsxconn.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ListVirtualMachinesPage(context.Background(), nsxconn.ListOptions{})
	var e *nsxconn.Error
	if !errors.Is(err, nsxconn.ErrForbidden) || !errors.As(err, &e) || e.Code != "403" || !strings.Contains(e.Message, "credentials were incorrect") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-password-xyz") || strings.Contains(logs.String(), "wrong-password-xyz") {
		t.Fatal("password leaked")
	}
	if _, err := nsxconn.New(fake.URL(), "", ""); err == nil {
		t.Fatal("empty credentials accepted")
	}

	good, _ := fake.Client()
	err = good.AddTags(context.Background(), "no-such-vm", nsxconn.Tag{Tag: "x"})
	if !errors.Is(err, nsxconn.ErrNotFound) {
		t.Fatalf("unknown VM: %v", err)
	}
}

func TestListFollowsCursor(t *testing.T) {
	fake := nsxtest.NewServer(t)
	for i := range 5 {
		fake.AddVM(nsxconn.VirtualMachine{ExternalID: string(rune('a' + i)), DisplayName: "web"})
	}
	fake.AddVM(nsxconn.VirtualMachine{ExternalID: "z", DisplayName: "db"})
	c, _ := fake.Client()
	var ids []string
	for vm, err := range c.ListVirtualMachines(context.Background(), nsxconn.ListOptions{DisplayName: "web", PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, vm.ExternalID)
	}
	if strings.Join(ids, "") != "abcde" {
		t.Fatalf("ids = %v", ids)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d requests for 3 pages", n)
	}
}

func finding(device string) connector.Finding {
	return connector.Finding{
		Evidence: connector.Evidence{Hashes: connector.Hashes{SHA256: strings.Repeat("a", 64)}},
		Verdict:  connector.Verdict{Kind: connector.Malicious},
		Sighting: &connector.Sighting{DeviceID: "42", DeviceName: device},
	}
}

func TestTagger(t *testing.T) {
	fake := nsxtest.NewServer(t)
	fake.AddVM(nsxconn.VirtualMachine{ExternalID: "vm-1", DisplayName: "WIN-01", Tags: []nsxconn.Tag{{Scope: "owner", Tag: "it"}}})
	c, _ := fake.Client()
	tag := nsxconn.Tag{Scope: "soarkit", Tag: "infected"}
	tg, err := nsxconn.NewTagger(c, tag)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name() != "nsx-tag:soarkit/infected" || tg.Scope() != connector.ScopeDevice {
		t.Fatalf("name %q scope %v", tg.Name(), tg.Scope())
	}
	ctx := context.Background()

	res, err := tg.Respond(ctx, finding("WIN-01"))
	if err != nil || res.Status != connector.Acted {
		t.Fatalf("first: %+v %v", res, err)
	}
	vm, _ := fake.VM("vm-1")
	if diff := cmp.Diff([]nsxconn.Tag{{Scope: "owner", Tag: "it"}, tag}, vm.Tags); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}

	res, err = tg.Respond(ctx, finding("WIN-01"))
	if err != nil || res.Status != connector.Unchanged {
		t.Fatalf("second: %+v %v", res, err)
	}

	_, err = tg.Respond(ctx, finding("physical-host"))
	if !connector.IsPermanent(err) || !strings.Contains(err.Error(), "physical-host") {
		t.Fatalf("unknown host: %v", err)
	}

	f := finding("")
	res, err = tg.Respond(ctx, f)
	if err != nil || res.Status != connector.Skipped {
		t.Fatalf("no device: %+v %v", res, err)
	}

	fake.InjectFault(fakehttp.Fault{Path: "/api/v1/fabric", Times: 10, Status: 503})
	_, err = tg.Respond(ctx, finding("WIN-01"))
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("outage must be a transient error: %v", err)
	}
	fake.ClearFaults()

	if _, err := nsxconn.NewTagger(c, nsxconn.Tag{}); err == nil {
		t.Fatal("empty tag accepted")
	}
}

func TestTaggerThroughFakeTLS(t *testing.T) {
	fake := nsxtest.NewServer(t, nsxtest.WithTLS(), nsxtest.WithCredentials("svc", "tls-pass-1"))
	fake.AddVM(nsxconn.VirtualMachine{ExternalID: "vm-9", DisplayName: "mail-01"})
	c, err := nsxconn.New(fake.URL(), "svc", "tls-pass-1", nsxconn.WithCACertPEM(fake.CACertPEM()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg, _ := nsxconn.NewTagger(c, nsxconn.Tag{Tag: "quarantine"})
	if res, err := tg.Respond(ctx, finding("mail-01")); err != nil || res.Status != connector.Acted {
		t.Fatalf("%+v %v", res, err)
	}
}
