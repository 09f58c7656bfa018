package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/proofpoint"
)

// EventsInput is the input of proofpoint_events.
type EventsInput struct {
	Recipient string `json:"recipient,omitempty" jsonschema:"only events of this recipient (e-mail address)"`
	Start     string `json:"start,omitempty" jsonschema:"window start, RFC 3339 (default: 'hours' before the end)"`
	End       string `json:"end,omitempty" jsonschema:"window end, RFC 3339 (default: one minute ago, the latest TAP serves)"`
	Hours     int    `json:"hours,omitempty" jsonschema:"window length in hours when start is not given (default 1)"`
	PageInput
}

// EventItem is one TAP event: a delivered or blocked message, or a
// permitted or blocked click.
type EventItem struct {
	Kind         string        `json:"kind" jsonschema:"message_delivered, message_blocked, click_permitted or click_blocked"`
	Time         time.Time     `json:"time"`
	GUID         string        `json:"guid,omitempty"`
	Sender       string        `json:"sender,omitempty"`
	Recipients   []string      `json:"recipients,omitempty"`
	Subject      string        `json:"subject,omitempty"`
	URL          string        `json:"url,omitempty" jsonschema:"the clicked URL (clicks)"`
	MalwareScore float64       `json:"malware_score,omitempty"`
	PhishScore   float64       `json:"phish_score,omitempty"`
	Threats      []EventThreat `json:"threats,omitempty"`
	Attachments  []Attachment  `json:"attachments,omitempty"`
	Link         string        `json:"link" jsonschema:"the TAP dashboard's view of the first threat"`
}

// EventThreat is one threat of an event.
type EventThreat struct {
	Type           string `json:"type"`
	Classification string `json:"classification,omitempty"`
	Threat         string `json:"threat"`
	Status         string `json:"status,omitempty"`
}

// Attachment is one message part with its hashes.
type Attachment struct {
	FileName      string `json:"file_name,omitempty"`
	SHA256        string `json:"sha256,omitempty"`
	SandboxStatus string `json:"sandbox_status,omitempty"`
}

// tapWindow is the chunk TAP serves per request.
const tapWindow = time.Hour

// eventsWindow resolves the input's window.
func (a *App) eventsWindow(in EventsInput) (start, end time.Time, err error) {
	end = a.now().Add(-proofpoint.DefaultEndMargin).Truncate(time.Second)
	if in.End != "" {
		if end, err = time.Parse(time.RFC3339, in.End); err != nil {
			return start, end, fmt.Errorf("end %q is not an RFC 3339 time", in.End)
		}
	}
	hours := in.Hours
	if hours <= 0 {
		hours = 1
	}
	start = end.Add(-time.Duration(hours) * time.Hour)
	if in.Start != "" {
		if start, err = time.Parse(time.RFC3339, in.Start); err != nil {
			return start, end, fmt.Errorf("start %q is not an RFC 3339 time", in.Start)
		}
	}
	if end.Sub(start) < proofpoint.MinWindow {
		return start, end, fmt.Errorf("the window must be at least %v long", proofpoint.MinWindow)
	}
	if end.Sub(start) > a.cfg.Proofpoint.MaxWindow {
		return start, end, fmt.Errorf("the window is longer than the server's limit of %v (proofpoint.max_window)", a.cfg.Proofpoint.MaxWindow)
	}
	return start, end, nil
}

// events is proofpoint_events: TAP's SIEM events of the window, one hour per
// request, filtered by recipient. The cursor names the hour to read next and
// the events of it already returned.
func (a *App) events(ctx context.Context, in EventsInput) (Page[EventItem], error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return Page[EventItem]{}, err
	}
	start, end, err := a.eventsWindow(in)
	if err != nil {
		return Page[EventItem]{}, err
	}
	from := start
	if c.Vendor != "" {
		if from, err = time.Parse(time.RFC3339Nano, c.Vendor); err != nil || from.Before(start) || !from.Before(end) {
			return Page[EventItem]{}, errBadCursor
		}
	}
	size := a.cfg.Limits.pageSize(in.PageSize)
	budget, used := a.cfg.Limits.MaxResultBytes, 0
	out := Page[EventItem]{Items: []EventItem{}}
	skip := c.Offset
	var chunkEnd time.Time
	for chunk := from; chunk.Before(end); chunk = chunkEnd {
		chunkEnd = chunk.Add(tapWindow)
		if chunkEnd.After(end) {
			chunkEnd = end
		}
		if left := end.Sub(chunkEnd); left > 0 && left < proofpoint.MinWindow {
			// TAP refuses windows under 30 s: end this one early so the
			// last is long enough.
			chunkEnd = end.Add(-proofpoint.MinWindow)
		}
		evs, err := a.tap.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{Interval: proofpoint.Interval{Start: chunk, End: chunkEnd}})
		if err != nil {
			return Page[EventItem]{}, fmt.Errorf("reading TAP events %s: %w", proofpoint.Interval{Start: chunk, End: chunkEnd}, err)
		}
		matched := a.tapItems(evs, in.Recipient)
		if skip > len(matched) {
			return Page[EventItem]{}, errBadCursor
		}
		rest := matched[skip:]
		for i, it := range rest {
			b, err := json.Marshal(it)
			if err != nil {
				return Page[EventItem]{}, err
			}
			full := len(out.Items) == size
			over := used+len(b)+1 > budget && len(out.Items) > 0
			if full || over {
				out.Truncated = over && !full
				out.NextCursor = cursor{Vendor: chunk.Format(time.RFC3339Nano), Offset: skip + i}.encode()
				return out, nil
			}
			used += len(b) + 1
			out.Items = append(out.Items, it)
		}
		skip = 0
	}
	return out, nil
}

// tapItems converts a window's events, keeping the recipient's, oldest
// first.
func (a *App) tapItems(evs *proofpoint.Events, recipient string) []EventItem {
	var out []EventItem
	want := strings.ToLower(strings.TrimSpace(recipient))
	msg := func(kind string, m proofpoint.Message) {
		rcpts := slices.Concat([]string(m.Recipient), []string(m.ToAddresses), []string(m.CcAddresses))
		if want != "" && !slices.ContainsFunc(rcpts, func(r string) bool { return strings.EqualFold(r, want) }) {
			return
		}
		it := EventItem{Kind: kind, Time: m.MessageTime.Time, GUID: m.GUID, Sender: m.Sender, Recipients: clipAll(m.Recipient, 20),
			Subject: clip(m.Subject), MalwareScore: m.MalwareScore, PhishScore: m.PhishScore, Link: tapDefaultLink}
		for _, t := range m.ThreatsInfoMap {
			it.Threats = append(it.Threats, EventThreat{Type: t.ThreatType, Classification: t.Classification, Threat: clip(t.Threat),
				Status: t.ThreatStatus})
			if it.Link == tapDefaultLink && t.ThreatURL != "" {
				it.Link = t.ThreatURL
			}
		}
		for _, p := range m.MessageParts {
			if p.SHA256 != "" {
				it.Attachments = append(it.Attachments, Attachment{FileName: clip(p.Filename), SHA256: p.SHA256, SandboxStatus: p.SandboxStatus})
			}
		}
		out = append(out, it)
	}
	click := func(kind string, c proofpoint.Click) {
		if want != "" && !strings.EqualFold(c.Recipient, want) {
			return
		}
		it := EventItem{Kind: kind, Time: c.ClickTime.Time, GUID: c.GUID, Sender: c.Sender, Recipients: []string{c.Recipient},
			URL: clip(c.URL), Link: tapDefaultLink,
			Threats: []EventThreat{{Type: "url", Classification: c.Classification, Threat: clip(c.URL), Status: c.ThreatStatus}}}
		if c.ThreatURL != "" {
			it.Link = c.ThreatURL
		}
		out = append(out, it)
	}
	for _, m := range evs.MessagesDelivered {
		msg("message_delivered", m)
	}
	for _, m := range evs.MessagesBlocked {
		msg("message_blocked", m)
	}
	for _, c := range evs.ClicksPermitted {
		click("click_permitted", c)
	}
	for _, c := range evs.ClicksBlocked {
		click("click_blocked", c)
	}
	slices.SortStableFunc(out, func(x, y EventItem) int { return x.Time.Compare(y.Time) })
	return out
}

// addProofpointTools registers the TAP read tool.
func (a *App) addProofpointTools(s *mcp.Server) {
	addRead(a, s, &mcp.Tool{Name: "proofpoint_events", Title: "Proofpoint TAP events",
		Description: "Lists Proofpoint TAP SIEM events (delivered and blocked messages, permitted and blocked clicks) of a time window, " +
			"optionally for one recipient, oldest first, with threats and attachment hashes. Paginated."}, a.events)
}
