package sentineloneconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/sentineloneconn"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
)

// Agents apply actions when they check in: an agent whose disconnection was
// accepted may still read as connected. The next file seen on it must not
// ask again, and a request whose answer was lost is not repeated blindly.
func TestAgentActionNotRepeatedWhilePending(t *testing.T) {
	w := newWorld(t)
	dis, err := sentineloneconn.NewAgentAction(w.c, sentineloneconn.ActionDisconnect, "")
	if err != nil {
		t.Fatal(err)
	}
	path := sentinelone.APIPrefix + "/agents/actions/disconnect"
	// Accepted but not applied yet.
	w.fake.InjectFault(sentinelonetest.Fault{Method: "POST", Path: path, Status: 200, Body: `{"data":{"affected":1}}`, Times: 1})
	for i, want := range []connector.Status{connector.Acted, connector.Unchanged} {
		f := device(finding(w.t1, connector.Malicious))
		f.Key.Hex = strings.Repeat(string(rune('a'+i)), 40) // two files on one agent
		if res, err := dis.Respond(context.Background(), f); err != nil || res.Status != want {
			t.Errorf("disconnect %d: %+v, %v; want %s", i, res, err, want)
		}
	}
	if n := len(requests(w.fake, "POST", "/agents/actions/disconnect")); n != 1 {
		t.Errorf("disconnect requests = %d, want 1", n)
	}
	// The answer is lost for another agent: the next call waits instead.
	w.fake.InjectFault(sentinelonetest.Fault{Method: "POST", Path: path, Drop: true})
	f := device(finding(w.t2, connector.Malicious))
	if _, err := dis.Respond(context.Background(), f); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost answer: %v, want a transient error", err)
	}
	sent := len(requests(w.fake, "POST", "/agents/actions/disconnect"))
	w.fake.ClearFaults()
	_, err = dis.Respond(context.Background(), f)
	if d, ok := connector.RetryAfter(err); !ok || d <= 0 || !errors.Is(err, sentineloneconn.ErrActionPending) {
		t.Errorf("after a lost answer: %v, want RetryLater", err)
	}
	if n := len(requests(w.fake, "POST", "/agents/actions/disconnect")); n != sent {
		t.Errorf("requests after a lost answer: %d more", n-sent)
	}
}

// A mitigation the console accepted but does not show yet is not asked for
// again; after a lost answer the responder waits.
func TestMitigationNotRepeatedWhilePending(t *testing.T) {
	w := newWorld(t)
	q, err := sentineloneconn.NewMitigation(w.c, sentinelone.MitigateQuarantine, "")
	if err != nil {
		t.Fatal(err)
	}
	path := sentinelone.APIPrefix + "/threats/mitigate/quarantine"
	w.fake.InjectFault(sentinelonetest.Fault{Method: "POST", Path: path, Status: 200, Body: `{"data":{"affected":1}}`, Times: 1})
	f := finding(w.t1, connector.Malicious)
	for i, want := range []connector.Status{connector.Acted, connector.Unchanged} {
		if res, err := q.Respond(context.Background(), f); err != nil || res.Status != want {
			t.Errorf("quarantine %d: %+v, %v; want %s", i, res, err, want)
		}
	}
	if n := len(requests(w.fake, "POST", "/threats/mitigate/quarantine")); n != 1 {
		t.Errorf("mitigation requests = %d, want 1", n)
	}
	w.fake.InjectFault(sentinelonetest.Fault{Method: "POST", Path: path, Drop: true})
	g := finding(w.t2, connector.Malicious)
	if _, err := q.Respond(context.Background(), g); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost answer: %v, want a transient error", err)
	}
	sent := len(requests(w.fake, "POST", "/threats/mitigate/quarantine"))
	w.fake.ClearFaults()
	_, err = q.Respond(context.Background(), g)
	if d, ok := connector.RetryAfter(err); !ok || d <= 0 || !errors.Is(err, sentineloneconn.ErrActionPending) {
		t.Errorf("after a lost answer: %v, want RetryLater", err)
	}
	if n := len(requests(w.fake, "POST", "/threats/mitigate/quarantine")); n != sent {
		t.Errorf("requests after a lost answer: %d more", n-sent)
	}
}
