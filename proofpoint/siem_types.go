package proofpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// Events is the body of every SIEM endpoint. Each endpoint fills only its own
// arrays (see [Stream]); TAP sends them even when empty.
type Events struct {
	// QueryEndTime is the end of the window TAP served; resume from it.
	QueryEndTime      Time      `json:"queryEndTime"`
	MessagesDelivered []Message `json:"messagesDelivered,omitempty"`
	MessagesBlocked   []Message `json:"messagesBlocked,omitempty"`
	ClicksPermitted   []Click   `json:"clicksPermitted,omitempty"`
	ClicksBlocked     []Click   `json:"clicksBlocked,omitempty"`
	// SkippedItems lists the events of the window that did not decode and
	// are in none of the lists above (see "Malformed items" in the package
	// documentation). Their Index is the position in their own array.
	SkippedItems []SkippedItem `json:"-"`
}

// UnmarshalJSON decodes the four event arrays item by item: an event that
// does not decode is left out and recorded in SkippedItems, so one odd
// event never loses the window.
func (e *Events) UnmarshalJSON(b []byte) error {
	var raw struct {
		// QueryEndTime is the end of the served window (resume from it), ISO 8601 in UTC with milliseconds.
		QueryEndTime      Time            `json:"queryEndTime"`
		MessagesDelivered json.RawMessage `json:"messagesDelivered"`
		MessagesBlocked   json.RawMessage `json:"messagesBlocked"`
		ClicksPermitted   json.RawMessage `json:"clicksPermitted"`
		ClicksBlocked     json.RawMessage `json:"clicksBlocked"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := Events{QueryEndTime: raw.QueryEndTime}
	var err error
	out.MessagesDelivered, err = decodeEvents[Message](raw.MessagesDelivered, &out.SkippedItems)
	if err != nil {
		return err
	}
	out.MessagesBlocked, err = decodeEvents[Message](raw.MessagesBlocked, &out.SkippedItems)
	if err != nil {
		return err
	}
	out.ClicksPermitted, err = decodeEvents[Click](raw.ClicksPermitted, &out.SkippedItems)
	if err != nil {
		return err
	}
	out.ClicksBlocked, err = decodeEvents[Click](raw.ClicksBlocked, &out.SkippedItems)
	if err != nil {
		return err
	}
	*e = out
	return nil
}

// decodeEvents decodes one event array, appending the events it skips.
func decodeEvents[T any](raw json.RawMessage, skipped *[]SkippedItem) ([]T, error) {
	items, sk, err := rest.DecodeItems[T](raw, "id", "GUID")
	*skipped = append(*skipped, sk...)
	return items, err
}

// Len is the number of events of all kinds.
func (e *Events) Len() int {
	return len(e.MessagesDelivered) + len(e.MessagesBlocked) + len(e.ClicksPermitted) + len(e.ClicksBlocked)
}

// Message is a delivered or blocked message event. JSON names are the live
// API's; the documented spellings (clusterId, threatId, campaignId) and a
// single-string fromAddress decode too.
type Message struct {
	// GUID identifies the message in Proofpoint Protection Server; it is the
	// deduplication key (with the recipients when TAP fans a message out).
	GUID string `json:"GUID"`
	// ID is the event id.
	ID string `json:"id,omitempty"`
	// QID is the PPS queue id; not unique.
	QID string `json:"QID"`
	// MessageID is the Message-ID header (may be empty); not unique.
	MessageID string `json:"messageID"`
	// MessageTime is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	MessageTime Time `json:"messageTime"`
	// Sender is the envelope sender, user part hashed.
	Sender   string `json:"sender"`
	SenderIP string `json:"senderIP"`
	// Recipient lists the envelope recipients (the documentation says one
	// address; the API sends a list).
	Recipient      Addresses `json:"recipient"`
	ToAddresses    Addresses `json:"toAddresses"`
	CcAddresses    Addresses `json:"ccAddresses"`
	ReplyToAddress Addresses `json:"replyToAddress"`
	FromAddress    Addresses `json:"fromAddress"`
	HeaderFrom     string    `json:"headerFrom"`
	HeaderReplyTo  string    `json:"headerReplyTo"`
	// HeaderTo and HeaderCC appear only in older payloads.
	HeaderTo string `json:"headerTo,omitempty"`
	HeaderCC string `json:"headerCC,omitempty"`
	Subject  string `json:"subject"`
	XMailer  string `json:"xmailer"`
	// MessageSize is in bytes; the scores are 0-100. TAP sends them as
	// numbers, some payloads as numeric strings: both decode.
	MessageSize int64   `json:"messageSize"`
	SpamScore   float64 `json:"spamScore"`
	PhishScore  float64 `json:"phishScore"`
	// MalwareScore is 0-100.
	MalwareScore  float64 `json:"malwareScore"`
	ImpostorScore float64 `json:"impostorScore"`
	// Cluster is the PPS cluster name ("clusterId" in the documentation).
	Cluster string `json:"cluster"`
	// CompletelyRewritten tells whether every URL threat was rewritten.
	CompletelyRewritten Rewritten `json:"completelyRewritten"`
	ModulesRun          []string  `json:"modulesRun"`
	PolicyRoutes        []string  `json:"policyRoutes"`
	QuarantineFolder    string    `json:"quarantineFolder"`
	QuarantineRule      string    `json:"quarantineRule"`
	// MessageParts are the body parts and attachments (may be null).
	MessageParts   []MessagePart `json:"messageParts"`
	ThreatsInfoMap []ThreatInfo  `json:"threatsInfoMap"`
}

// UnmarshalJSON decodes a message, taking the documented "clusterId" when
// the live "cluster" is absent.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	var aux struct {
		plain
		ClusterID     string    `json:"clusterId"`
		MessageSize   FlexInt   `json:"messageSize"`
		SpamScore     flexFloat `json:"spamScore"`
		PhishScore    flexFloat `json:"phishScore"`
		MalwareScore  flexFloat `json:"malwareScore"`
		ImpostorScore flexFloat `json:"impostorScore"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*m = Message(aux.plain)
	m.MessageSize = int64(aux.MessageSize)
	m.SpamScore, m.PhishScore = float64(aux.SpamScore), float64(aux.PhishScore)
	m.MalwareScore, m.ImpostorScore = float64(aux.MalwareScore), float64(aux.ImpostorScore)
	if m.Cluster == "" {
		m.Cluster = aux.ClusterID
	}
	return nil
}

// AttachedParts returns the parts TAP saw as attachments (disposition
// "attached"), the ones worth hunting for on endpoints.
func (m *Message) AttachedParts() []MessagePart {
	var out []MessagePart
	for _, p := range m.MessageParts {
		if strings.EqualFold(p.Disposition, "attached") {
			out = append(out, p)
		}
	}
	return out
}

// AttachmentThreat pairs an attached part with the attachment threat TAP
// recorded for it.
type AttachmentThreat struct {
	Part   MessagePart
	Threat ThreatInfo
}

// AttachmentThreats returns the attached parts that TAP condemned: those
// whose SHA-256 is the artefact (or id) of an attachment threat in
// threatsInfoMap, each with that threat. A clean attachment sent together
// with a malicious one is not returned, unlike a plain walk over the
// attached parts. Compare Threat.Classification and Threat.ThreatStatus
// case-insensitively to choose what to act on.
func (m *Message) AttachmentThreats() []AttachmentThreat {
	var out []AttachmentThreat
	for _, p := range m.MessageParts {
		if !strings.EqualFold(p.Disposition, "attached") || p.SHA256 == "" {
			continue
		}
		for _, t := range m.ThreatsInfoMap {
			if strings.EqualFold(t.ThreatType, ThreatTypeAttachment) &&
				(strings.EqualFold(t.Threat, p.SHA256) || strings.EqualFold(t.ThreatID, p.SHA256)) {
				out = append(out, AttachmentThreat{Part: p, Threat: t})
				break
			}
		}
	}
	return out
}

// MessagePart is one MIME part of a message.
type MessagePart struct {
	// Disposition is "inline" or "attached".
	Disposition string `json:"disposition"`
	Filename    string `json:"filename"`
	// ContentType is the detected type, OContentType the declared one.
	ContentType  string `json:"contentType"`
	OContentType string `json:"oContentType"`
	MD5          string `json:"md5"`
	SHA256       string `json:"sha256"`
	// SandboxStatus is "threat", "clean", "unsupported", "prefilter",
	// "uploaded", "inprogress", "uploaddisabled" (live payloads also show
	// NOT_SUPPORTED and CLEAN); empty for body parts. Compare with
	// strings.EqualFold.
	SandboxStatus string `json:"sandboxStatus"`
}

// ThreatInfo is one entry of a message's threatsInfoMap.
type ThreatInfo struct {
	// ThreatID is TAP's threat id (for attachments, the SHA-256).
	ThreatID string `json:"threatID"`
	// Threat is the condemned artefact: URL, attachment SHA-256 or address.
	Threat string `json:"threat"`
	// ThreatType is "url", "attachment" or "messageText" (casing varies).
	ThreatType string `json:"threatType"`
	// Classification is "malware", "phish", "spam", "impostor", "toad"
	// (casing varies).
	Classification string `json:"classification"`
	// ThreatStatus is "active", "cleared" or "falsePositive" (casing varies).
	ThreatStatus string `json:"threatStatus"`
	// ThreatTime is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	ThreatTime Time `json:"threatTime"`
	// ThreatURL links to the threat in the TAP dashboard.
	ThreatURL  string `json:"threatUrl"`
	CampaignID string `json:"campaignID"`
	// DetectionType and Actors are undocumented extras some payloads carry.
	DetectionType string   `json:"detectionType,omitempty"`
	Actors        []Entity `json:"actors,omitempty"`
}

// Click is a permitted or blocked click event.
type Click struct {
	// ID is the event id, the deduplication key.
	ID string `json:"id"`
	// GUID is the id of the message the URL came in.
	GUID      string `json:"GUID"`
	MessageID string `json:"messageID"`
	// ClickTime is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	ClickTime Time   `json:"clickTime"`
	ClickIP   string `json:"clickIP"`
	// Recipient is the clicking recipient. TAP sends one address; some
	// payloads send a list, whose first address is kept here and all of
	// them in Recipients.
	Recipient string `json:"recipient"`
	// Recipients holds every address of the recipient field (one, as a
	// rule). It is not sent back when a click is encoded.
	Recipients     Addresses `json:"-"`
	Sender         string    `json:"sender"`
	SenderIP       string    `json:"senderIP"`
	URL            string    `json:"url"`
	UserAgent      string    `json:"userAgent"`
	Classification string    `json:"classification"`
	ThreatID       string    `json:"threatID"`
	// ThreatTime is ISO 8601 in UTC with milliseconds ("2021-04-21T17:26:30.000Z").
	ThreatTime   Time   `json:"threatTime"`
	ThreatURL    string `json:"threatURL"`
	ThreatStatus string `json:"threatStatus"`
	CampaignID   string `json:"campaignId"`
}

// UnmarshalJSON decodes a click, reading recipient as one address or a
// list of them.
func (c *Click) UnmarshalJSON(b []byte) error {
	type plain Click
	var aux struct {
		plain
		Recipient Addresses `json:"recipient"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Click(aux.plain)
	c.Recipients = aux.Recipient
	if len(aux.Recipient) > 0 {
		c.Recipient = aux.Recipient[0]
	}
	return nil
}

// flexFloat is a number TAP may send as a number, a numeric string or null;
// other text reads as 0 so one odd score never loses an event.
type flexFloat float64

// UnmarshalJSON accepts a number, a string or null.
func (f *flexFloat) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseFloat(strings.Trim(string(bytes.TrimSpace(b)), `"`), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	*f = flexFloat(v)
	return nil
}

// Addresses is a list of e-mail addresses that also decodes from a single
// string (older payloads) and from null.
type Addresses []string

// UnmarshalJSON accepts a list, a string or null.
func (a *Addresses) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*a = Addresses{}
		} else {
			*a = Addresses{s}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("proofpoint: addresses: %w", err)
	}
	*a = list
	return nil
}

// Rewritten is the completelyRewritten flag, which TAP sends as a boolean or
// as "true", "false" or "na" (no URL threats to rewrite).
type Rewritten string

// Values of Rewritten; the empty value means the field was absent or null.
const (
	RewrittenTrue  Rewritten = "true"
	RewrittenFalse Rewritten = "false"
	RewrittenNA    Rewritten = "na"
)

// Bool returns the flag and whether it is known (false for "na" and absent).
func (r Rewritten) Bool() (value, known bool) {
	switch r {
	case RewrittenTrue:
		return true, true
	case RewrittenFalse:
		return false, true
	}
	return false, false
}

// UnmarshalJSON accepts a boolean, a string or null.
func (r *Rewritten) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null":
		*r = ""
	case "true":
		*r = RewrittenTrue
	case "false":
		*r = RewrittenFalse
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("proofpoint: completelyRewritten %s: %w", b, err)
		}
		*r = Rewritten(strings.ToLower(strings.TrimSpace(s)))
	}
	return nil
}

// MarshalJSON writes a boolean for true and false (the live form), the
// string for anything else, and null when empty.
func (r Rewritten) MarshalJSON() ([]byte, error) {
	switch r {
	case "":
		return []byte("null"), nil
	case RewrittenTrue, RewrittenFalse:
		return []byte(r), nil
	}
	return json.Marshal(string(r))
}

// Entity is an {id, name} pair: an actor, malware family, technique, brand.
type Entity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
