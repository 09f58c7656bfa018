package proofpointtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/proofpoint"
)

type storedMessage struct {
	blocked   bool
	msg       proofpoint.Message
	indexedAt time.Time
}

type storedClick struct {
	blocked   bool
	click     proofpoint.Click
	indexedAt time.Time
}

// AddDeliveredMessage seeds a delivered message. Its messageTime places it
// in windows; it is visible only once the fake's clock reaches indexedAt
// (zero means messageTime), so a message indexed late is missing from a
// query made right after its window closed and present in a later query of
// the same window.
func (s *Server) AddDeliveredMessage(m proofpoint.Message, indexedAt time.Time) {
	s.addMessage(false, m, indexedAt)
}

// AddBlockedMessage seeds a blocked message (see [Server.AddDeliveredMessage]).
func (s *Server) AddBlockedMessage(m proofpoint.Message, indexedAt time.Time) {
	s.addMessage(true, m, indexedAt)
}

func (s *Server) addMessage(blocked bool, m proofpoint.Message, indexedAt time.Time) {
	if indexedAt.IsZero() {
		indexedAt = m.MessageTime.Time
	}
	s.mu.Lock()
	s.messages = append(s.messages, storedMessage{blocked: blocked, msg: m, indexedAt: indexedAt})
	s.messagesByTime.add(m.MessageTime.Time, len(s.messages)-1)
	s.mu.Unlock()
}

// AddPermittedClick seeds a permitted click, placed by its clickTime and
// visible from indexedAt (zero means clickTime).
func (s *Server) AddPermittedClick(c proofpoint.Click, indexedAt time.Time) {
	s.addClick(false, c, indexedAt)
}

// AddBlockedClick seeds a blocked click (see [Server.AddPermittedClick]).
func (s *Server) AddBlockedClick(c proofpoint.Click, indexedAt time.Time) {
	s.addClick(true, c, indexedAt)
}

func (s *Server) addClick(blocked bool, c proofpoint.Click, indexedAt time.Time) {
	if indexedAt.IsZero() {
		indexedAt = c.ClickTime.Time
	}
	s.mu.Lock()
	s.clicks = append(s.clicks, storedClick{blocked: blocked, click: c, indexedAt: indexedAt})
	s.clicksByTime.add(c.ClickTime.Time, len(s.clicks)-1)
	s.mu.Unlock()
}

// which arrays each stream returns.
type arrays struct{ delivered, blocked, permitted, clicksBlocked bool }

func streamArrays(stream string) (arrays, bool) {
	switch stream {
	case "all":
		return arrays{true, true, true, true}, true
	case "issues":
		return arrays{delivered: true, permitted: true}, true
	case "messages/delivered":
		return arrays{delivered: true}, true
	case "messages/blocked":
		return arrays{blocked: true}, true
	case "clicks/permitted":
		return arrays{permitted: true}, true
	case "clicks/blocked":
		return arrays{clicksBlocked: true}, true
	}
	return arrays{}, false
}

type siemFilter struct {
	window   proofpoint.Interval
	types    map[string]bool // lower case; empty = all
	statuses map[string]bool // lower case
}

func (s *Server) siem(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	kinds, ok := streamArrays(stream)
	if !ok {
		writeText(w, http.StatusNotFound, textNotFound)
		return
	}
	if !s.authorize(w, r) {
		return
	}
	pool := proofpoint.PoolSIEM
	if stream == "clicks/permitted" {
		pool = proofpoint.PoolClicksPermitted
	}
	if !s.charge(w, pool) {
		return
	}
	f, status, text := s.parseSIEM(r.URL.Query())
	if status != 0 {
		writeText(w, status, text)
		return
	}
	body := map[string]any{"queryEndTime": f.window.End.UTC().Format(time.RFC3339)}
	now := s.cfg.clock.Now()
	s.mu.Lock()
	var delivered, blocked, permitted, clicksBlocked []any
	// Only the items of the window are looked at; they come in the order they were added.
	msgs, clicks := s.messagesByTime.within(f.window.Start, f.window.End), s.clicksByTime.within(f.window.Start, f.window.End)
	s.examined += len(msgs) + len(clicks)
	for _, i := range msgs {
		m := s.messages[i]
		if !f.matchMessage(m, now) {
			continue
		}
		if m.blocked && kinds.blocked {
			blocked = append(blocked, s.encodeMessage(m.msg))
		} else if !m.blocked && kinds.delivered {
			delivered = append(delivered, s.encodeMessage(m.msg))
		}
	}
	for _, i := range clicks {
		c := s.clicks[i]
		if !f.matchClick(c, now) {
			continue
		}
		if c.blocked && kinds.clicksBlocked {
			clicksBlocked = append(clicksBlocked, encodeClick(c.click))
		} else if !c.blocked && kinds.permitted {
			permitted = append(permitted, encodeClick(c.click))
		}
	}
	s.mu.Unlock()
	put := func(key string, on bool, items []any) {
		if on {
			if items == nil {
				items = []any{}
			}
			body[key] = items
		}
	}
	put("messagesDelivered", kinds.delivered, delivered)
	put("messagesBlocked", kinds.blocked, blocked)
	put("clicksPermitted", kinds.permitted, permitted)
	put("clicksBlocked", kinds.clicksBlocked, clicksBlocked)
	fakehttp.WriteJSON(w, http.StatusOK, body)
}

// parseSIEM validates the query as TAP does; a non-zero status is the 400
// to answer with its text.
func (s *Server) parseSIEM(q url.Values) (f siemFilter, status int, text string) {
	bad := func(t string) (siemFilter, int, string) { return siemFilter{}, http.StatusBadRequest, t }
	if format := q.Get("format"); format != "" && !strings.EqualFold(format, "json") {
		if strings.EqualFold(format, "syslog") {
			return bad(TextSyslogUnsupported)
		}
		return bad(TextBadFormat)
	}
	n := 0
	for _, k := range []string{"interval", "sinceTime", "sinceSeconds"} {
		if q.Has(k) {
			n++
		}
	}
	switch {
	case n == 0:
		return bad(TextMissingTime)
	case n > 1:
		return bad(TextTooManyTimes)
	}
	now := s.cfg.clock.Now()
	serverEnd := now.Round(time.Minute)
	var win proofpoint.Interval
	isInterval := false
	switch {
	case q.Has("interval"):
		iv, err := proofpoint.ParseInterval(q.Get("interval"))
		if err != nil {
			return bad(TextBadInterval)
		}
		win, isInterval = iv, true
	case q.Has("sinceTime"):
		t, err := proofpoint.ParseTime(q.Get("sinceTime"))
		if err != nil {
			return bad(TextBadSinceTime)
		}
		win = proofpoint.Interval{Start: t, End: serverEnd}
	default:
		secs, err := strconv.Atoi(q.Get("sinceSeconds"))
		if err != nil || secs <= 0 {
			return bad(TextBadSinceSeconds)
		}
		win = proofpoint.Interval{Start: serverEnd.Add(-time.Duration(secs) * time.Second), End: serverEnd}
	}
	switch {
	case win.End.Before(win.Start):
		return bad("")
	case win.Duration() < proofpoint.MinWindow:
		return bad(TextIntervalTooShort)
	case win.Duration() > proofpoint.MaxWindow:
		return bad(TextIntervalTooLong)
	case win.Start.Before(now.Add(-s.cfg.lookBack)):
		return bad(TextStartTooOld(s.cfg.lookBack.Hours() / 24))
	case isInterval && win.End.After(now.Truncate(time.Minute)):
		return bad(TextIntervalCurrent)
	}
	f = siemFilter{window: win, types: map[string]bool{}, statuses: map[string]bool{}}
	for _, t := range q["threatType"] {
		lt := strings.ToLower(t)
		if lt != "url" && lt != "attachment" && lt != "messagetext" {
			return bad(TextBadThreatType)
		}
		f.types[lt] = true
	}
	for _, st := range q["threatStatus"] {
		ls := strings.ToLower(st)
		if ls != "active" && ls != "cleared" && ls != "falsepositive" {
			return bad(TextBadThreatStatus)
		}
		f.statuses[ls] = true
	}
	if len(f.statuses) == 0 {
		f.statuses = map[string]bool{"active": true, "cleared": true}
	}
	return f, 0, ""
}

func (f *siemFilter) inWindow(t, indexedAt, now time.Time) bool {
	return !t.Before(f.window.Start) && t.Before(f.window.End) && !indexedAt.After(now)
}

func (f *siemFilter) matchMessage(m storedMessage, now time.Time) bool {
	if !f.inWindow(m.msg.MessageTime.Time, m.indexedAt, now) {
		return false
	}
	if len(m.msg.ThreatsInfoMap) == 0 {
		return len(f.types) == 0
	}
	for _, t := range m.msg.ThreatsInfoMap {
		if f.matchThreat(t.ThreatType, t.ThreatStatus) {
			return true
		}
	}
	return false
}

func (f *siemFilter) matchClick(c storedClick, now time.Time) bool {
	return f.inWindow(c.click.ClickTime.Time, c.indexedAt, now) && f.matchThreat("url", c.click.ThreatStatus)
}

func (f *siemFilter) matchThreat(typ, status string) bool {
	lt := strings.ToLower(typ)
	if lt == "message" {
		lt = "messagetext"
	}
	if len(f.types) > 0 && !f.types[lt] {
		return false
	}
	ls := strings.ToLower(status)
	if ls == "" {
		ls = "active"
	}
	return f.statuses[ls]
}

// encodeMessage renders m as the live API (or, with WithDocumentedCasing,
// the documentation) spells it.
func (s *Server) encodeMessage(m proofpoint.Message) map[string]any {
	obj := toMap(m)
	// TAP sends these as null when they have no value.
	nullIfEmpty(obj, "QID", "headerReplyTo", "subject", "xmailer", "quarantineFolder", "quarantineRule")
	for _, p := range list(obj["messageParts"]) {
		nullIfEmpty(p, "sandboxStatus")
	}
	for _, t := range list(obj["threatsInfoMap"]) {
		nullIfEmpty(t, "campaignID")
		if s.cfg.docCasing {
			rename(t, "threatID", "threatId")
			rename(t, "campaignID", "campaignId")
		}
	}
	if s.cfg.docCasing {
		rename(obj, "cluster", "clusterId")
		if from, ok := obj["fromAddress"].([]any); ok && len(from) > 0 {
			obj["fromAddress"] = from[0]
		}
	}
	return obj
}

func encodeClick(c proofpoint.Click) map[string]any {
	obj := toMap(c)
	nullIfEmpty(obj, "campaignId")
	return obj
}

// toMap renders v through its JSON form so keys can be adjusted.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var obj map[string]any
	if json.Unmarshal(b, &obj) != nil {
		return map[string]any{}
	}
	return obj
}

func list(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func nullIfEmpty(obj map[string]any, keys ...string) {
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && s == "" {
			obj[k] = nil
		}
	}
}

func rename(obj map[string]any, from, to string) {
	if v, ok := obj[from]; ok {
		delete(obj, from)
		obj[to] = v
	}
}
