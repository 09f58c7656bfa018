package proofpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/proofpoint/proofpointtest"
)

func TestPlanWindows(t *testing.T) {
	ts := setup(t)
	plan := func(q proofpoint.SIEMRangeOptions) []string {
		t.Helper()
		ws, _, err := ts.client.SIEM.Plan(q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range ws {
			if w.Duration() < proofpoint.MinWindow || w.Duration() > proofpoint.MaxWindow {
				t.Errorf("window %v lasts %v", w, w.Duration())
			}
			out = append(out, w.String())
		}
		return out
	}
	// Three hours ending a minute ago (now is 12:00): the default end.
	got := plan(proofpoint.SIEMRangeOptions{From: testNow.Add(-3*time.Hour - time.Minute)})
	want := []string{
		"2024-05-14T08:59:00Z/2024-05-14T09:59:00Z",
		"2024-05-14T09:59:00Z/2024-05-14T10:59:00Z",
		"2024-05-14T10:59:00Z/2024-05-14T11:59:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	// A 10-second tail becomes a 30-second window overlapping its predecessor;
	// the look-back moves the start; sub-seconds are dropped.
	got = plan(proofpoint.SIEMRangeOptions{
		From: testNow.Add(-90*time.Minute + 500*time.Millisecond), To: testNow.Add(-20*time.Minute + 10*time.Second),
		LookBack: 30 * time.Minute, WindowSize: 50 * time.Minute,
	})
	want = []string{
		"2024-05-14T10:00:00Z/2024-05-14T10:50:00Z",
		"2024-05-14T10:50:00Z/2024-05-14T11:40:00Z",
		"2024-05-14T11:39:40Z/2024-05-14T11:40:10Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan with tail (-want +got):\n%s", diff)
	}
	// A range shorter than 30 seconds is widened backwards.
	got = plan(proofpoint.SIEMRangeOptions{From: testNow.Add(-70 * time.Second)})
	if diff := cmp.Diff([]string{"2024-05-14T11:58:30Z/2024-05-14T11:59:00Z"}, got); diff != "" {
		t.Errorf("short plan (-want +got):\n%s", diff)
	}
	// Nothing new yet, and To in the future clamped.
	if got := plan(proofpoint.SIEMRangeOptions{From: testNow.Add(-time.Minute)}); len(got) != 0 {
		t.Errorf("nothing new = %v", got)
	}
	if got := plan(proofpoint.SIEMRangeOptions{From: testNow.Add(-2 * time.Hour), To: testNow.Add(time.Hour)}); got[len(got)-1] != "2024-05-14T11:00:00Z/2024-05-14T11:59:00Z" {
		t.Errorf("clamped end = %v", got)
	}
	// A start older than the look-back limit is dropped and reported.
	ws, skipped, err := ts.client.SIEM.Plan(proofpoint.SIEMRangeOptions{From: testNow.Add(-8 * 24 * time.Hour), To: testNow.Add(-6*24*time.Hour - 23*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	limit := testNow.Add(-7*24*time.Hour + 5*time.Minute + time.Second)
	if !skipped.Start.Equal(testNow.Add(-8*24*time.Hour)) || !skipped.End.Equal(limit) || !ws[0].Start.Equal(limit) || len(ws) != 1 {
		t.Errorf("skipped = %v, windows = %v", skipped, ws)
	}
	for _, bad := range []proofpoint.SIEMRangeOptions{{}, {From: testNow.Add(-time.Hour), LookBack: -1}, {From: testNow.Add(-time.Hour), WindowSize: 2 * time.Hour}} {
		if _, _, err := ts.client.SIEM.Plan(bad); !errors.Is(err, proofpoint.ErrInvalidWindow) {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

// pollAll drains one run and returns the yielded GUIDs/ids and the batches.
func pollAll(t *testing.T, c *proofpoint.Client, q proofpoint.SIEMRangeOptions) ([]string, []*proofpoint.Batch) {
	t.Helper()
	var ids []string
	var batches []*proofpoint.Batch
	for b, err := range c.SIEM.All(context.Background(), q) {
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		batches = append(batches, b)
		for _, m := range b.MessagesDelivered {
			ids = append(ids, m.GUID)
		}
		for _, m := range b.MessagesBlocked {
			ids = append(ids, "blocked:"+m.GUID)
		}
		for _, cl := range b.ClicksPermitted {
			ids = append(ids, "click:"+cl.ID)
		}
	}
	return ids, batches
}

func message(guid string, at time.Time, rcpt ...string) proofpoint.Message {
	return proofpoint.Message{GUID: guid, MessageTime: proofpoint.Time{Time: at}, Recipient: rcpt,
		ThreatsInfoMap: []proofpoint.ThreatInfo{{ThreatID: "t-" + guid, ThreatType: "attachment", Classification: "malware", ThreatStatus: "active"}}}
}

// A six-hour backlog through the fake: valid windows in order, late-indexed
// events caught by the next run's look-back, no event yielded twice, and a
// resume point that carries across runs (with Seen persisted as JSON).
func TestPollSixHourBacklogAcrossRuns(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	clk := proofpointtest.NewManualClock(now)
	fake := proofpointtest.NewServer(t, proofpointtest.WithClock(clk))
	from := now.Add(-6 * time.Hour)
	var want []string
	// One message every 20 minutes over the six hours, indexed at once.
	for i := range 18 {
		g := fmt.Sprintf("m%02d", i)
		fake.AddDeliveredMessage(message(g, from.Add(time.Duration(i)*20*time.Minute+time.Minute), "a@pharmtech.zz"), time.Time{})
		want = append(want, g)
	}
	// Late: happened 10 minutes before now, indexed 20 minutes later.
	fake.AddDeliveredMessage(message("late", now.Add(-10*time.Minute), "b@pharmtech.zz"), now.Add(10*time.Minute))
	// Fanned out: one GUID, two recipients, two events; both are yielded.
	fake.AddDeliveredMessage(message("fan", from.Add(90*time.Minute), "c@pharmtech.zz"), time.Time{})
	fake.AddDeliveredMessage(message("fan", from.Add(90*time.Minute), "d@pharmtech.zz"), time.Time{})
	fake.AddBlockedMessage(message("fan", from.Add(90*time.Minute), "c@pharmtech.zz"), time.Time{})
	fake.AddPermittedClick(proofpoint.Click{ID: "k1", ClickTime: proofpoint.Time{Time: from.Add(3 * time.Hour)}, ThreatStatus: "active"}, time.Time{})

	c := fake.Client()
	q := proofpoint.SIEMRangeOptions{From: from, LookBack: proofpoint.DefaultPollLookBack, Seen: proofpoint.NewSeen()}
	ids, batches := pollAll(t, c, q)
	if len(batches) != 7 { // 6 h 29 min from 05:30 to 11:59, in hour windows
		t.Fatalf("batches = %d, want 7", len(batches))
	}
	for i, b := range batches {
		if i > 0 && !b.Window.Start.Equal(batches[i-1].Window.End) {
			t.Errorf("window %d %v does not follow %v", i, b.Window, batches[i-1].Window)
		}
		if !b.Resume.Equal(b.Window.End) || !b.QueryEndTime.Equal(b.Window.End) {
			t.Errorf("batch %d resume %v, queryEndTime %v, window %v", i, b.Resume, b.QueryEndTime, b.Window)
		}
	}
	resume := batches[len(batches)-1].Resume
	if !resume.Equal(now.Add(-time.Minute)) {
		t.Errorf("resume = %v", resume)
	}
	// Per window: delivered in seeding order, then blocked, then clicks.
	wantRun1 := append([]string(nil), want[:8]...)
	wantRun1 = append(wantRun1, "fan", "fan", "blocked:fan")
	wantRun1 = append(wantRun1, want[8:11]...)
	wantRun1 = append(wantRun1, "click:k1")
	wantRun1 = append(wantRun1, want[11:]...)
	if diff := cmp.Diff(wantRun1, ids); diff != "" {
		t.Errorf("run 1 (-want +got):\n%s", diff)
	}
	if n := fake.CountRequests("GET", "/v2/siem/all"); n != 7 {
		t.Errorf("requests = %d, want 7", n)
	}

	// Persist Seen and the resume point, then run again 15 minutes later.
	saved, err := json.Marshal(q.Seen)
	if err != nil {
		t.Fatal(err)
	}
	restored := proofpoint.NewSeen()
	if err := json.Unmarshal(saved, restored); err != nil {
		t.Fatal(err)
	}
	clk.Advance(15 * time.Minute)
	fake.AddDeliveredMessage(message("new", now.Add(5*time.Minute), "a@pharmtech.zz"), time.Time{})
	fake.ResetRequests()
	ids2, batches2 := pollAll(t, c, proofpoint.SIEMRangeOptions{From: resume, LookBack: proofpoint.DefaultPollLookBack, Seen: restored})
	if diff := cmp.Diff([]string{"late", "new"}, ids2); diff != "" {
		t.Errorf("run 2 (-want +got):\n%s", diff)
	}
	if len(batches2) != 1 || !batches2[0].Window.Start.Equal(resume.Add(-30*time.Minute)) || !batches2[0].Resume.Equal(now.Add(14*time.Minute)) {
		t.Errorf("run 2 batches = %+v", batches2[0])
	}
	if batches2[0].Duplicates == 0 {
		t.Error("the overlap should have dropped already-yielded events")
	}
	if got := fake.Requests()[0].Query; got.Get("format") != "json" || got.Get("interval") != batches2[0].Window.String() {
		t.Errorf("run 2 query = %v", got)
	}
}

func TestPollStreamsFiltersAndErrors(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake := proofpointtest.NewServer(t, proofpointtest.WithClock(proofpointtest.NewManualClock(now)),
		proofpointtest.WithPoolLimit(proofpoint.PoolSIEM, 5))
	fake.AddDeliveredMessage(message("d1", now.Add(-90*time.Minute), "a@x.zz"), time.Time{})
	fake.AddBlockedMessage(message("b1", now.Add(-90*time.Minute), "a@x.zz"), time.Time{})
	c := fake.Client()
	q := proofpoint.SIEMRangeOptions{
		Streams: []proofpoint.Stream{proofpoint.StreamMessagesDelivered, proofpoint.StreamMessagesBlocked},
		From:    now.Add(-2 * time.Hour), To: now.Add(-time.Hour), ThreatTypes: []string{proofpoint.ThreatTypeAttachment},
	}
	ids, _ := pollAll(t, c, q)
	if diff := cmp.Diff([]string{"d1", "blocked:b1"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for _, r := range fake.Requests() {
		if r.Query.Get("threatType") != "attachment" {
			t.Errorf("request %s?%s lacks the filter", r.Path, r.RawQuery)
		}
	}
	// Three SIEM requests left in the fake's pool (five, two spent): a
	// four-window run fails on its fourth window after three batches.
	var got int
	var lastResume time.Time
	var failure error
	for b, err := range c.SIEM.All(context.Background(), proofpoint.SIEMRangeOptions{From: now.Add(-4*time.Hour - time.Minute)}) {
		if err != nil {
			failure = err
			break
		}
		got++
		lastResume = b.Resume
	}
	if got != 3 || !errors.Is(failure, proofpoint.ErrRateLimited) || !lastResume.Equal(now.Add(-time.Hour-time.Minute)) {
		t.Errorf("batches %d, resume %v, err %v", got, lastResume, failure)
	}
	if _, err := collectPoll(c, proofpoint.SIEMRangeOptions{}); !errors.Is(err, proofpoint.ErrInvalidWindow) {
		t.Errorf("empty query err = %v", err)
	}
}

func collectPoll(c *proofpoint.Client, q proofpoint.SIEMRangeOptions) (int, error) {
	n := 0
	for _, err := range c.SIEM.All(context.Background(), q) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func TestPollSkipsRangeBeyondLookBack(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake := proofpointtest.NewServer(t, proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	c := fake.Client()
	var first *proofpoint.Batch
	for b, err := range c.SIEM.All(context.Background(), proofpoint.SIEMRangeOptions{From: now.Add(-9 * 24 * time.Hour), To: now.Add(-7*24*time.Hour + 2*time.Hour)}) {
		if err != nil {
			t.Fatalf("poll: %v", err) // the fake would answer 400 for a window past its look-back
		}
		if first == nil {
			first = b
		} else if !b.Skipped.IsZero() {
			t.Error("Skipped set on a later batch")
		}
	}
	if first == nil || first.Skipped.IsZero() || !first.Skipped.Start.Equal(now.Add(-9*24*time.Hour)) {
		t.Errorf("first batch = %+v", first)
	}
	if q := fake.Requests()[0].Query; q.Get("interval") != first.Window.String() {
		t.Errorf("first interval %s, want %s", q.Get("interval"), first.Window)
	}
}

func TestSeenForget(t *testing.T) {
	s := proofpoint.NewSeen()
	var zero proofpoint.Seen
	if zero.Len() != 0 || zero.Forget(testNow) != 0 {
		t.Error("zero Seen")
	}
	if err := json.Unmarshal([]byte(`{"message/delivered/a/":"2024-05-14T10:00:00Z","click/permitted/k":"2024-05-14T11:00:00Z"}`), s); err != nil {
		t.Fatal(err)
	}
	if n := s.Forget(testNow.Add(-90 * time.Minute)); n != 1 || s.Len() != 1 {
		t.Errorf("forgot %d, left %d", n, s.Len())
	}
	if err := json.Unmarshal([]byte(`[1]`), s); err == nil {
		t.Error("want an error for a list")
	}
}

// A range entirely beyond the look-back yields one empty batch whose Resume
// moves past it, so a poller that was down for too long does not ask for
// it for ever.
func TestPollWholeRangeBeyondLookBack(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake := proofpointtest.NewServer(t, proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	to := now.Add(-8 * 24 * time.Hour)
	var batches []*proofpoint.Batch
	for b, err := range fake.Client().SIEM.All(context.Background(), proofpoint.SIEMRangeOptions{From: to.Add(-3 * time.Hour), To: to}) {
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	if len(batches) != 1 || batches[0].Len() != 0 || !batches[0].Resume.Equal(to) || !batches[0].Skipped.End.Equal(to) || !batches[0].Window.IsZero() {
		t.Fatalf("batches = %+v", batches)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
	// Just past the limit: the one window is widened forward to 30 seconds.
	c := fake.Client()
	ws, skipped, err := c.SIEM.Plan(proofpoint.SIEMRangeOptions{From: now.Add(-8 * 24 * time.Hour), To: now.Add(-7*24*time.Hour + 5*time.Minute + 10*time.Second)})
	if err != nil || skipped.IsZero() || len(ws) != 1 || ws[0].Duration() != proofpoint.MinWindow {
		t.Errorf("plan = %v, %v, %v", ws, skipped, err)
	}
}

// A window whose second stream fails marks none of the first stream's
// events as seen, so the retried run yields them.
func TestPollFailureLeavesSeenUntouched(t *testing.T) {
	now := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	fake := proofpointtest.NewServer(t, proofpointtest.WithClock(proofpointtest.NewManualClock(now)))
	fake.AddDeliveredMessage(message("d1", now.Add(-30*time.Minute), "a@x.zz"), time.Time{})
	fake.InjectFault(proofpointtest.Fault{Path: "/v2/siem/messages/blocked", Status: http.StatusInternalServerError})
	c := fake.Client()
	seen := proofpoint.NewSeen()
	q := proofpoint.SIEMRangeOptions{
		Streams: []proofpoint.Stream{proofpoint.StreamMessagesDelivered, proofpoint.StreamMessagesBlocked},
		From:    now.Add(-time.Hour), Seen: seen,
	}
	if n, err := collectPoll(c, q); n != 0 || !errors.Is(err, proofpoint.ErrServer) {
		t.Fatalf("first run: %d batches, %v", n, err)
	}
	if seen.Len() != 0 {
		t.Errorf("seen = %d after a failed window", seen.Len())
	}
	fake.ClearFaults()
	ids, _ := pollAll(t, c, q)
	if diff := cmp.Diff([]string{"d1"}, ids); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}
}

// The XSOAR mocks carry clicks without an id and messages without an event
// id: the fallback keys still recognise a repeat.
func TestPollDedupesFixtureEventsAcrossWindows(t *testing.T) {
	ts := setup(t)
	ts.mux.HandleFunc("/v2/siem/all", func(w http.ResponseWriter, r *http.Request) { serveFixture(t, w, "siem_all.json") })
	ids, batches := pollAll(t, ts.client, proofpoint.SIEMRangeOptions{From: testNow.Add(-2*time.Hour - time.Minute)})
	if len(batches) != 2 || batches[0].Len() != 4 || batches[1].Len() != 0 || batches[1].Duplicates != 4 {
		t.Fatalf("batches = %d, first %d, second %d (dups %d)", len(batches), batches[0].Len(), batches[1].Len(), batches[1].Duplicates)
	}
	if diff := cmp.Diff([]string{"1111", "blocked:2222", "click:"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	// Without queryEndTime in the body, the window end is the resume point.
	if !batches[1].Resume.Equal(testNow.Add(-time.Minute)) {
		t.Errorf("resume = %v", batches[1].Resume)
	}
}
