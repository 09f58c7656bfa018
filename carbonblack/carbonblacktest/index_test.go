package carbonblacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/soarkit/soarkit/carbonblack"
)

// examinedBy returns how many stored records fn made the fake look at.
func examinedBy(s *Server, fn func()) int {
	s.mu.Lock()
	before := s.st.ix.examined
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.ix.examined - before
}

// A look-up by id or hash looks only at the records that have it, however
// many the fake holds: a binary's device summary, process details, a
// process summary, an alert, observation details by alert, id and hash. A
// search job keeps its page of matches, not copies of them.
func TestLookupsExamineOnlyTheirAnswer(t *testing.T) {
	const n = 2000
	s := NewServer(t)
	now := time.Now().UTC()
	sha := func(i int) string { return fmt.Sprintf("%064x", i) }
	guid := func(i int) string { return fmt.Sprintf("%s-00000001-%08x-00000000-1d9a3c1e5b7f211", s.OrgKey(), i) }
	for i := range n {
		if _, err := s.AddBinary(Binary{Content: fmt.Appendf(nil, "file %d", i), SHA256: sha(i)}); err != nil {
			t.Fatal(err)
		}
		ts := carbonblack.Timestamp{Time: now.Add(-time.Duration(n-i) * time.Second)}
		// Every process is a child of process 0; processes 1 to 9 are also run a second time.
		s.AddProcess(carbonblack.Process{DeviceID: 1, DeviceName: "HOST", ProcessGUID: guid(i), ParentGUID: guid(0),
			ProcessSHA256: sha(i), ProcessHash: []string{sha(i)}, DeviceTimestamp: ts, BackendTimestamp: ts})
		s.AddAlert(carbonblack.Alert{ID: fmt.Sprintf("alert-%d", i), DeviceID: 1, ProcessSHA256: sha(i), BackendTimestamp: ts})
		s.AddObservation(carbonblack.Observation{ObservationID: fmt.Sprintf("obs-%d", i), AlertID: carbonblack.StringList{fmt.Sprintf("alert-%d", i)},
			ProcessHash: []string{sha(i)}, DeviceID: 1, DeviceTimestamp: ts, BackendTimestamp: ts})
	}
	for i := 1; i < 10; i++ {
		ts := carbonblack.Timestamp{Time: now}
		s.AddProcess(carbonblack.Process{DeviceID: 2, DeviceName: "OTHER", ProcessGUID: guid(n + i), ParentGUID: guid(0),
			ProcessSHA256: sha(i), DeviceTimestamp: ts, BackendTimestamp: ts})
	}
	c := s.Client()
	ctx := context.Background()
	check := func(what string, want int, fn func() error) {
		t.Helper()
		var err error
		if got := examinedBy(s, func() { err = fn() }); err != nil || got != want {
			t.Errorf("%s examined %d records (%v), want %d", what, got, err, want)
		}
	}
	check("a device summary", 2, func() error {
		sum, err := c.UBS.DeviceSummary(ctx, sha(5))
		if err == nil && sum.NumDevices != 2 {
			err = fmt.Errorf("%d devices, want 2", sum.NumDevices)
		}
		return err
	})
	check("process details of two GUIDs (one named twice) and an unknown one", 2, func() error {
		ps, err := c.Processes.Details(ctx, guid(7), guid(1999), guid(7), "nope")
		if err == nil && (len(ps) != 2 || ps[0].ProcessGUID != guid(7) || ps[1].ProcessGUID != guid(1999)) {
			err = fmt.Errorf("details %d, want processes 7 and 1999 in stored order", len(ps))
		}
		return err
	})
	check("an alert", 1, func() error {
		a, err := c.Alerts.Get(ctx, "alert-1234")
		if err == nil && a.ProcessSHA256 != sha(1234) {
			err = fmt.Errorf("alert %+v", a)
		}
		return err
	})
	for _, sel := range []carbonblack.ObservationDetails{{AlertID: "alert-42"}, {ObservationIDs: []string{"obs-42"}},
		{ProcessHash: sha(42)}} {
		check(fmt.Sprintf("observation details %+v", sel), 1, func() error {
			obs, err := c.Observations.Details(ctx, sel)
			if err == nil && (len(obs) != 1 || obs[0].ObservationID != "obs-42") {
				err = fmt.Errorf("%d observations", len(obs))
			}
			return err
		})
	}
	// Process 1500's summary: the look-up of itself, then its parent and every child of process 0 (itself among
	// them): the summary is all of them, so it examines what it answers.
	var sum *carbonblack.ProcessSummary
	leaf := examinedBy(s, func() {
		var err error
		if sum, err = c.Processes.Summary(ctx, guid(1500), nil); err != nil {
			t.Fatal(err)
		}
	})
	if sum.Process == nil || sum.Parent == nil || sum.Parent.ProcessGUID != guid(0) || len(sum.Siblings) != n+8-1 {
		t.Fatalf("summary: process %v parent %v siblings %d", sum.Process != nil, sum.Parent, len(sum.Siblings))
	}
	if want := 1 + n + 9; leaf != want {
		t.Errorf("a process summary examined %d records, want %d: itself, the parent and its children", leaf, want)
	}

	// A search job holds the stored records of its page: no copies.
	jobID := func() string {
		r := httptest.NewRequest("POST", "/api/investigate/v2/orgs/"+s.OrgKey()+"/processes/search_jobs",
			strings.NewReader(`{"query":"device_name:HOST","rows":10,"fields":["process_guid"]}`))
		r.Header.Set("X-Auth-Token", DefaultAPISecret+"/"+DefaultAPIID)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 {
			t.Fatalf("search job: %d %s", w.Code, w.Body)
		}
		return body["job_id"]
	}()
	s.mu.Lock()
	j := s.st.jobs[jobID]
	shared := len(j.results) == 10 && fmt.Sprintf("%p", j.results[0]) == fmt.Sprintf("%p", s.st.processes[0])
	s.mu.Unlock()
	if !shared || j.numFound != n {
		t.Errorf("the job holds %d results (found %d), shared with the store: %v", len(j.results), j.numFound, shared)
	}
}

// Stored processes share their field names and, once seen in two records,
// their repeated values (one copy of "device_name" and of "HOST" for every
// process), which the shape of the records with those values holds rather
// than each record; they hold a lower-case hash as its 32 bytes once for
// both fields that name it, and still read back whole.
func TestRecordsShareNamesAndValues(t *testing.T) {
	s := NewServer(t)
	for i := range 4 {
		s.AddProcess(carbonblack.Process{DeviceID: 1, DeviceName: "HOST", DeviceOS: "WINDOWS", ProcessGUID: fmt.Sprintf("g-%d", i),
			ProcessSHA256: fmt.Sprintf("%064x", i), ProcessEffectiveReputation: "NOT_LISTED"})
	}
	// box is the address an interface value's data is stored at.
	box := func(v any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] }
	s.mu.Lock()
	first, a, b := s.st.processes[0], s.st.processes[1], s.st.processes[2]
	third := s.st.processes[3]
	s.mu.Unlock()
	if first.sh.names != b.sh.names || a.sh.names != b.sh.names || !slices.Contains(b.sh.keys, "device_name") {
		t.Error("processes with the same fields hold their own field names")
	}
	for _, f := range []string{"device_name", "process_effective_reputation", "device_id"} {
		if box(get(a, f)) != box(get(b, f)) || box(get(b, f)) != box(get(third, f)) {
			t.Errorf("two processes hold their own copies of the repeated value of %s", f)
		}
	}
	if b.sh != third.sh || len(b.vals) != len(b.sh.keys)-5 {
		t.Errorf("the repeated values (device id, name and OS, org, reputation) are not the shape's: %d of %d values held",
			len(b.vals), len(b.sh.keys))
	}
	h, _ := get(b, "process_hash").([]any)
	if sha, ok := get(b, "process_sha256").(hashVal); !ok || sha.String() != fmt.Sprintf("%064x", 2) || len(h) != 1 ||
		box(h[0]) != box(get(b, "process_sha256")) {
		t.Errorf("a process holds two copies of its hash, or not as bytes: %v %v", get(b, "process_hash"), get(b, "process_sha256"))
	}
	ps, err := s.Client().Processes.Details(context.Background(), "g-2")
	if err != nil || len(ps) != 1 || ps[0].DeviceName != "HOST" || ps[0].ProcessSHA256 != fmt.Sprintf("%064x", 2) ||
		ps[0].ProcessEffectiveReputation != "NOT_LISTED" || len(ps[0].ProcessHash) != 1 || ps[0].ProcessHash[0] != ps[0].ProcessSHA256 {
		t.Errorf("details: %+v %v", ps, err)
	}
}

// A stored report holds one copy of the hash its IOCs repeat, cut from its
// title, and of the link they repeat, its own, which is its description;
// IOC ids of 16 bytes; and reads back whole.
func TestReportsShareRepeatedStrings(t *testing.T) {
	s := NewServer(t)
	h, link := strings.Repeat("ab", 32), "https://vmray.example/samples/1"
	title := "[malicious] VMRAY Report for " + strings.Clone(h)
	var iocs []carbonblack.IOC
	for _, f := range []string{carbonblack.FieldProcessHash, "childproc_sha256", "filemod_sha256"} {
		ioc := carbonblack.EqualityIOC(f, strings.Clone(h))
		ioc.Link = strings.Clone(link)
		iocs = append(iocs, ioc)
	}
	made, err := s.Client().Reports.Create(context.Background(), carbonblack.Report{Title: title, Description: link, Severity: 8,
		Link: link, Tags: []string{"Loader"}, IOCsV2: iocs})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	rep, _ := s.st.reportLocked(made.ID)
	s.mu.Unlock()
	if rep == nil || rep.extra != nil || len(rep.iocs) != 3 {
		t.Fatalf("report %s is not stored compact: %+v", made.ID, rep)
	}
	within := func(sub, of string) bool {
		p, o := uintptr(unsafe.Pointer(unsafe.StringData(sub))), uintptr(unsafe.Pointer(unsafe.StringData(of)))
		return p >= o && p+uintptr(len(sub)) <= o+uintptr(len(of))
	}
	if len(rep.strs) != 1 {
		t.Errorf("the report holds %d strings for its IOCs, want 1: the hash", len(rep.strs))
	}
	for _, ioc := range rep.iocs {
		if ioc.n != 1 || ioc.start != rep.iocs[0].start || ioc.link != reportLink {
			t.Errorf("an IOC holds its own copy of the hash or link: %+v", ioc)
		}
	}
	if v := rep.strs[rep.iocs[0].start]; !within(v, rep.title) {
		t.Error("the IOCs' hash is not cut from the title")
	}
	if rep.flags&linkIsDescription == 0 || !within(rep.link(), rep.description) {
		t.Error("the report's link, its description, is held twice")
	}
	got := s.Reports()
	if len(got) != 1 || len(got[0].IOCsV2) != 3 || got[0].IOCsV2[2].Values[0] != h || got[0].IOCsV2[2].Link != link ||
		got[0].IOCsV2[1].Field != "childproc_sha256" || got[0].Description != link || got[0].Title != title ||
		got[0].IOCsV2[1].ID != iocs[1].ID || got[0].ID != made.ID || got[0].Link != link || len(got[0].Tags) != 1 {
		t.Errorf("reports: %+v", got)
	}
}

// A binary seeded without descriptive metadata keeps none of its own and
// answers the same metadata; one with a product name keeps it.
func TestBinariesKeepOnlyTheirOwnMetadata(t *testing.T) {
	s := NewServer(t)
	plain, err := s.AddBinary(Binary{Content: []byte("MZ plain")})
	if err != nil {
		t.Fatal(err)
	}
	named, err := s.AddBinary(Binary{Content: []byte("MZ named"), Metadata: carbonblack.BinaryMetadata{ProductName: new("Tool")}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	ctx := context.Background()
	m, err := c.UBS.Metadata(ctx, plain)
	if err != nil || m.SHA256 != plain || len(m.MD5) != 32 || m.FileSize != 8 || m.AvailableFileSize != 8 || !m.FileAvailable ||
		m.OSType != "WINDOWS" || len(m.Architecture) != 1 || m.Architecture[0] != "amd64" || m.ProductName != nil {
		t.Errorf("plain metadata: %+v %v", m, err)
	}
	n, err := c.UBS.Metadata(ctx, named)
	if err != nil || n.ProductName == nil || *n.ProductName != "Tool" || n.FileSize != 8 {
		t.Errorf("named metadata: %+v %v", n, err)
	}
	s.mu.Lock()
	p, _ := s.st.binaryLocked(plain)
	q, _ := s.st.binaryLocked(strings.ToUpper(named))
	kept := p != nil && q != nil && p.meta() == nil && p.extra == nil && q.meta() != nil && p.sha.String() == plain
	s.mu.Unlock()
	if !kept {
		t.Error("the plain binary holds a metadata record of its own, or the named one lost its")
	}
}

// The object store serves a binary's zip only once a download link was
// minted for it, without keeping a record per link.
func TestBinaryLinksNeedMinting(t *testing.T) {
	s := NewServer(t)
	sha, err := s.AddBinary(Binary{Content: []byte("MZ linked")})
	if err != nil {
		t.Fatal(err)
	}
	url := s.presign(httptest.NewRequest("GET", "/", nil), "cdc-file-storage", sha+".zip", 60)
	get := func() (int, string) {
		resp, err := s.httpClient.Get(url) // trusts the listeners and ignores proxies
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusForbidden || !strings.Contains(body, "NoSuchKey") {
		t.Errorf("before minting: %d %s", code, body)
	}
	links, err := s.Client().UBS.DownloadLinks(context.Background(), time.Minute, sha)
	if err != nil || len(links.Found) != 1 {
		t.Fatalf("links: %+v %v", links, err)
	}
	if code, body := get(); code != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Errorf("after minting: %d %.20q", code, body)
	}
	s.mu.Lock()
	n := len(s.st.links)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d link records kept", n)
	}
}
