package carbonblackconn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/carbonblackconn"
)

// collected is what a run of Collect calls delivered, batch by batch.
type collected []connector.Batch

// evidence is every batch's evidence, in order.
func (c collected) evidence() []connector.Evidence {
	var out []connector.Evidence
	for _, b := range c {
		out = append(out, b.Evidence...)
	}
	return out
}

// collectAll calls Collect as the engine does, from cp until the source is caught up, each call with the checkpoint
// of the batch before.
func collectAll(t testing.TB, src connector.Source, cp connector.Checkpoint) collected {
	t.Helper()
	var out collected
	for {
		b, err := src.Collect(context.Background(), cp)
		if err != nil {
			t.Fatalf("collect %d: %v", len(out)+1, err)
		}
		out = append(out, b)
		if b.Next != nil {
			cp = b.Next
		}
		if !b.More {
			return out
		}
		if len(out) > 1000 {
			t.Fatal("the source asks for more without end")
		}
	}
}

// storedPart is the part a checkpoint records, as the source writes it.
type storedPart struct {
	End  time.Time `json:"end"`
	Part *struct {
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
		Job    string    `json:"job"`
		Offset int       `json:"offset"`
	} `json:"part"`
}

func readPart(t testing.TB, cp connector.Checkpoint) storedPart {
	t.Helper()
	var p storedPart
	if err := json.Unmarshal(cp, &p); err != nil {
		t.Fatalf("checkpoint %s: %v", cp, err)
	}
	return p
}

// A window of 2,500 processes is handed over in three parts of at most 1,000 (one results page each), from one
// search job; each part's checkpoint says where the next starts, the last one is the window's end.
func TestProcessSourceHandsOverAWindowInParts(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 2500)
	src, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true,
		Window: carbonblackconn.WindowOptions{Now: clock.Now, LookBack: 48 * time.Hour, MaxWindow: 72 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	got := collectAll(t, src, nil)
	if len(got) != 3 {
		t.Fatalf("%d batches, want 3 parts", len(got))
	}
	for i, want := range []int{1000, 1000, 500} {
		if n := len(got[i].Evidence); n != want {
			t.Errorf("part %d holds %d files, want %d", i+1, n, want)
		}
	}
	seen := map[string]bool{}
	for _, ev := range got.evidence() {
		if seen[ev.Hashes.SHA256] {
			t.Errorf("file %s handed over twice", ev.Hashes.SHA256[:12])
		}
		seen[ev.Hashes.SHA256] = true
	}
	for _, h := range hashes {
		if !seen[h] {
			t.Errorf("file %s never handed over", h[:12])
		}
	}
	jobs := "/api/investigate/v2/orgs/" + fake.OrgKey() + "/processes/search_jobs"
	if n := fake.CountRequests("POST", jobs); n != 1 {
		t.Errorf("%d search jobs, want 1", n)
	}
	var pages []string
	for _, r := range fake.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/results") {
			q := r.Query
			if q.Get("rows") != "0" {
				pages = append(pages, q.Get("start")+"+"+q.Get("rows"))
			}
		}
	}
	if strings.Join(pages, " ") != "0+1000 1000+1000 2000+1000" {
		t.Errorf("result pages %v, want three of 1,000 from offsets 0, 1000, 2000", pages)
	}
	p1, p2 := readPart(t, got[0].Next), readPart(t, got[1].Next)
	if p1.Part == nil || p1.Part.Job == "" || p1.Part.Offset != 1000 || p2.Part == nil || p2.Part.Offset != 2000 {
		t.Errorf("part checkpoints %s and %s, want the job and offsets 1000 and 2000", got[0].Next, got[1].Next)
	}
	if !p1.End.Equal(p1.Part.Start.Add(carbonblackconn.DefaultOverlap)) {
		t.Errorf("part checkpoint's end %v: a reader without parts must start the window again at %v", p1.End, p1.Part.Start)
	}
	if last := readPart(t, got[2].Next); last.Part != nil || !last.End.Equal(clock.Now().UTC()) || !got[1].More || got[2].More {
		t.Errorf("last checkpoint %s (more %v), want the window's end and no more", got[2].Next, got[2].More)
	}
}

// A new process resuming from a part's checkpoint goes on with the same job from its offset; when Carbon Black no
// longer keeps the job, the part's span is searched again from its start, so nothing is lost.
func TestProcessSourceResumesAPart(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 2500)
	opts := carbonblackconn.SourceOptions{NoPrefetch: true, Window: carbonblackconn.WindowOptions{Now: clock.Now, LookBack: 48 * time.Hour, MaxWindow: 72 * time.Hour}}
	src, err := carbonblackconn.NewProcessSource(fake.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Collect(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs := "/api/investigate/v2/orgs/" + fake.OrgKey() + "/processes/search_jobs"

	again, err := carbonblackconn.NewProcessSource(fake.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	rest := collectAll(t, again, first.Next)
	if n := fake.CountRequests("POST", jobs); n != 0 || len(rest.evidence()) != 1500 {
		t.Errorf("resumed with %d new jobs and %d files, want the same job's other 1,500", n, len(rest.evidence()))
	}

	clock.Advance(2 * time.Hour) // the fake keeps a job's results for an hour
	fake.ResetRequests()
	later := collectAll(t, again, first.Next)
	if n := fake.CountRequests("POST", jobs); n != 1 {
		t.Errorf("%d jobs after the first expired, want 1 for the part's span", n)
	}
	seen := map[string]bool{}
	for _, ev := range later.evidence() {
		seen[ev.Hashes.SHA256] = true
	}
	for _, h := range hashes {
		if !seen[h] {
			t.Errorf("file %s lost when the job expired", h[:12])
		}
	}
}

// Parts and split spans together: a job keeps at most 7 rows and a part holds at most 3, so the window is read in
// narrowed spans, each in parts, and every process is handed over.
func TestProcessSourcePartsOfSplitSpans(t *testing.T) {
	fake, clock := newFake(t)
	hashes := seedProcesses(t, fake, 40)
	src, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true, JobRows: 7,
		PartRows: 3, Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	got := collectAll(t, src, nil)
	seen := map[string]int{}
	for i, b := range got {
		if len(b.Evidence) > 3 {
			t.Errorf("part %d holds %d files, more than 3", i+1, len(b.Evidence))
		}
		for _, ev := range b.Evidence {
			seen[ev.Hashes.SHA256]++
		}
	}
	for _, h := range hashes {
		if seen[h] == 0 {
			t.Errorf("file %s never handed over", h[:12])
		}
	}
	if len(got) < 14 {
		t.Errorf("%d parts for 40 files of at most 3, want at least 14", len(got))
	}
}

// An alert window is handed over in parts that end where backend_timestamp changes, so alerts sharing a time are
// never split between two parts and each is handed over once.
func TestAlertSourceHandsOverAWindowInParts(t *testing.T) {
	fake, clock := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WS-0042", OS: "WINDOWS"})
	var ids []string
	for i := range 20 {
		// Three alerts share each time: 0-2, 3-5, ...
		at := t0.Add(-time.Duration(20-i/3) * time.Minute)
		a := fake.AddAlert(carbonblack.Alert{ID: fmt.Sprintf("alert-%02d", i), Type: "CB_ANALYTICS", Severity: 5,
			DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name, DeviceOS: "WINDOWS",
			ProcessSHA256: sha256Hex(fmt.Appendf(nil, "MZ alert %d", i)), ProcessName: `c:\x.exe`,
			ProcessEffectiveReputation: "NOT_LISTED", BackendTimestamp: ts(at)})
		ids = append(ids, a.ID)
	}
	src, err := carbonblackconn.NewAlertSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true, PartRows: 4,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	got := collectAll(t, src, nil)
	seen := map[string]int{}
	var sizes []int
	for _, b := range got {
		sizes = append(sizes, len(b.Evidence))
		for _, ev := range b.Evidence {
			for _, s := range ev.Sightings {
				seen[s.Attributes["alert_id"]]++
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("alert %s handed over %d times, want once", id, seen[id])
		}
	}
	// Parts of at least 4 that end at a change of time: 6 (two times), 6, 6, 2.
	if fmt.Sprint(sizes) != "[6 6 6 2]" {
		t.Errorf("part sizes %v, want [6 6 6 2]", sizes)
	}
}

// A checkpoint of an earlier release (the window's end alone) is read as before; a damaged part is refused as
// permanent rather than read from a wrong place.
func TestSourceCheckpointForms(t *testing.T) {
	fake, clock := newFake(t)
	seedProcesses(t, fake, 5)
	src, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	old := connector.Checkpoint(`{"end":"` + t0.Add(-3*time.Minute).Format(time.RFC3339Nano) + `"}`)
	b, err := src.Collect(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	// From 3 minutes back with 5 minutes of overlap: the processes of the last 8 minutes, all five.
	if len(b.Evidence) != 5 || b.More {
		t.Errorf("from an old checkpoint: %d files (more %v), want 5", len(b.Evidence), b.More)
	}
	bad := connector.Checkpoint(`{"end":"2026-03-01T11:00:00Z","part":{"start":"2026-03-01T11:00:00Z","end":"2026-03-01T10:00:00Z"}}`)
	if _, err := src.Collect(context.Background(), bad); !connector.IsPermanent(err) {
		t.Errorf("part outside its window: %v, want a permanent error", err)
	}
	if _, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{PartRows: 10_000}); err == nil {
		t.Error("PartRows 10,000 accepted")
	}
}

// A window whose records sit at its end (10 hours, 3,000 processes in the last 50 minutes, at most 1,000 per job) is
// narrowed to the density of its records, not by halves: few search jobs, and parts that are not crumbs.
func TestProcessSourceSpansFollowTheDensity(t *testing.T) {
	fake, clock := newFake(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "SRV-DB01", OS: "WINDOWS"})
	want := map[string]bool{}
	for i := range 3000 {
		content := fmt.Appendf(nil, "MZ dense %d", i)
		sha := sha256Hex(content)
		want[sha] = true
		at := ts(t0.Add(-time.Duration(3000-i) * time.Second))
		fake.AddProcess(carbonblack.Process{DeviceID: carbonblack.FlexInt(dev.ID), DeviceName: dev.Name, DeviceOS: "WINDOWS",
			ProcessGUID: fmt.Sprintf("7DESJ9GN-%05d", i), ProcessHash: []string{sha}, ProcessSHA256: sha,
			ProcessName: `c:\tools\dense.exe`, ProcessPID: carbonblack.IntList{int64(i)}, ProcessEffectiveReputation: "NOT_LISTED",
			ProcessStartTime: at, DeviceTimestamp: at, BackendTimestamp: at})
	}
	src, err := carbonblackconn.NewProcessSource(fake.Client(), carbonblackconn.SourceOptions{NoPrefetch: true, JobRows: 1000,
		Window: carbonblackconn.WindowOptions{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	fake.ResetRequests()
	got := collectAll(t, src, nil)
	var sizes []int
	for _, b := range got {
		sizes = append(sizes, len(b.Evidence))
		for _, ev := range b.Evidence {
			delete(want, ev.Hashes.SHA256)
		}
	}
	if len(want) > 0 {
		t.Errorf("%d processes never handed over", len(want))
	}
	jobs := fake.CountRequests("POST", "/api/investigate/v2/orgs/"+fake.OrgKey()+"/processes/search_jobs")
	t.Logf("%d search jobs, parts %v", jobs, sizes)
	if jobs > 14 {
		t.Errorf("%d search jobs for 3,000 processes at 1,000 a job, want at most 14", jobs)
	}
	small := 0
	for _, n := range sizes {
		if n < 100 {
			small++
		}
	}
	if small > 2 {
		t.Errorf("parts %v: %d of fewer than 100 files", sizes, small)
	}
}
