package proofpoint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/internal/wire"
)

// Evidence is one forensic observation. What holds the type-specific
// details as sent; Details holds them decoded by type.
type Evidence struct {
	// Type is "attachment", "behavior", "cookie", "dns", "dropper", "file",
	// "ids", "mutex", "network", "process", "registry", "screenshot" or
	// "url".
	Type    string `json:"type"`
	Display string `json:"display"`
	// Malicious is true, false or unknown (null or absent).
	Malicious FlexBool `json:"malicious"`
	// Time is documented as unsupported and is usually 0.
	Time      FlexInt         `json:"time"`
	Engine    string          `json:"engine,omitempty"`
	Note      string          `json:"note,omitempty"`
	What      json.RawMessage `json:"what"`
	Platforms []Platform      `json:"platforms"`
	// Details is What decoded according to Type: one of the *Evidence
	// types of this package, or [*UnknownEvidence]. Values of the wrong
	// JSON type (numbers sent as strings and the like) are converted where
	// they can be and left zero otherwise.
	Details EvidenceDetails `json:"-"`
}

// Platform is a sandbox environment the evidence was seen in.
type Platform struct {
	Name    string `json:"name"`
	OS      string `json:"os"`
	Version string `json:"version"`
}

// UnmarshalJSON decodes the evidence and its type-specific details.
func (e *Evidence) UnmarshalJSON(b []byte) error {
	type plain Evidence
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*e = Evidence(p)
	e.Details = decodeDetails(e.Type, e.What)
	return nil
}

// EvidenceDetails is the decoded "what" of an [Evidence]. Use a type switch
// over the *Evidence types of this package.
type EvidenceDetails interface {
	// EvidenceType is the evidence type the details belong to.
	EvidenceType() string
}

// AttachmentEvidence: a malicious attachment.
type AttachmentEvidence struct {
	SHA256      string   `json:"sha256"`
	MD5         string   `json:"md5"`
	Blacklisted FlexBool `json:"blacklisted"`
	Offset      FlexInt  `json:"offset"`
	Rule        string   `json:"rule"`
	Size        FlexInt  `json:"size"`
}

// BehaviorEvidence: a behaviour rule that fired.
type BehaviorEvidence struct {
	Rule string `json:"rule"`
	URL  string `json:"url"`
}

// CookieEvidence: a cookie set or deleted.
type CookieEvidence struct {
	Action string `json:"action"`
	Domain string `json:"domain"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// DNSEvidence: a DNS lookup.
type DNSEvidence struct {
	Host            string   `json:"host"`
	CNames          []string `json:"cnames"`
	IPs             []string `json:"ips"`
	Nameservers     []string `json:"nameservers"`
	NameserversList []string `json:"nameserversList"`
}

// DropperEvidence: a dropper.
type DropperEvidence struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
	URL  string `json:"url"`
}

// FileEvidence: a file created, modified or deleted.
type FileEvidence struct {
	Action string  `json:"action"`
	MD5    string  `json:"md5"`
	Path   string  `json:"path"`
	Rule   string  `json:"rule"`
	SHA256 string  `json:"sha256"`
	Size   FlexInt `json:"size"`
}

// IDSEvidence: an IDS signature hit.
type IDSEvidence struct {
	Name        string  `json:"name"`
	SignatureID FlexInt `json:"signatureId"`
}

// MutexEvidence: a mutex created.
type MutexEvidence struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// NetworkEvidence: a connection made or a port listened on.
type NetworkEvidence struct {
	Action string  `json:"action"`
	IP     string  `json:"ip"`
	Port   FlexInt `json:"port"`
	// Type is "tcp" or "udp".
	Type string `json:"type"`
}

// ProcessEvidence: a process created.
type ProcessEvidence struct {
	Action string `json:"action"`
	Path   string `json:"path"`
}

// RegistryEvidence: a registry key created or set.
type RegistryEvidence struct {
	Action string `json:"action"`
	Key    string `json:"key"`
	Name   string `json:"name"`
	Rule   string `json:"rule"`
	Value  string `json:"value"`
}

// ScreenshotEvidence: a screenshot taken.
type ScreenshotEvidence struct {
	URL string `json:"url"`
}

// URLEvidence: a URL visited or found.
type URLEvidence struct {
	URL         string   `json:"url"`
	Blacklisted FlexBool `json:"blacklisted"`
	IP          string   `json:"ip"`
	HTTPStatus  FlexInt  `json:"httpStatus"`
	MD5         string   `json:"md5"`
	Offset      FlexInt  `json:"offset"`
	Rule        string   `json:"rule"`
	SHA256      string   `json:"sha256"`
	Size        FlexInt  `json:"size"`
}

// UnknownEvidence holds the details of a type this package does not know, or
// details that could not be decoded at all.
type UnknownEvidence struct {
	Type string
	Raw  json.RawMessage
}

// EvidenceType returns "attachment".
func (*AttachmentEvidence) EvidenceType() string { return "attachment" }

// EvidenceType returns "behavior".
func (*BehaviorEvidence) EvidenceType() string { return "behavior" }

// EvidenceType returns "cookie".
func (*CookieEvidence) EvidenceType() string { return "cookie" }

// EvidenceType returns "dns".
func (*DNSEvidence) EvidenceType() string { return "dns" }

// EvidenceType returns "dropper".
func (*DropperEvidence) EvidenceType() string { return "dropper" }

// EvidenceType returns "file".
func (*FileEvidence) EvidenceType() string { return "file" }

// EvidenceType returns "ids".
func (*IDSEvidence) EvidenceType() string { return "ids" }

// EvidenceType returns "mutex".
func (*MutexEvidence) EvidenceType() string { return "mutex" }

// EvidenceType returns "network".
func (*NetworkEvidence) EvidenceType() string { return "network" }

// EvidenceType returns "process".
func (*ProcessEvidence) EvidenceType() string { return "process" }

// EvidenceType returns "registry".
func (*RegistryEvidence) EvidenceType() string { return "registry" }

// EvidenceType returns "screenshot".
func (*ScreenshotEvidence) EvidenceType() string { return "screenshot" }

// EvidenceType returns "url".
func (*URLEvidence) EvidenceType() string { return "url" }

// EvidenceType returns the type as sent.
func (u *UnknownEvidence) EvidenceType() string { return u.Type }

func decodeDetails(typ string, raw json.RawMessage) EvidenceDetails {
	var d EvidenceDetails
	switch strings.ToLower(typ) {
	case "attachment":
		d = &AttachmentEvidence{}
	case "behavior", "behaviour":
		d = &BehaviorEvidence{}
	case "cookie":
		d = &CookieEvidence{}
	case "dns":
		d = &DNSEvidence{}
	case "dropper":
		d = &DropperEvidence{}
	case "file":
		d = &FileEvidence{}
	case "ids":
		d = &IDSEvidence{}
	case "mutex":
		d = &MutexEvidence{}
	case "network":
		d = &NetworkEvidence{}
	case "process":
		d = &ProcessEvidence{}
	case "registry":
		d = &RegistryEvidence{}
	case "screenshot":
		d = &ScreenshotEvidence{}
	case "url":
		d = &URLEvidence{}
	default:
		return &UnknownEvidence{Type: typ, Raw: raw}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return d
	}
	if err := json.Unmarshal(raw, d); err != nil {
		return &UnknownEvidence{Type: typ, Raw: raw}
	}
	return d
}

// FlexInt is an integer that TAP (and its documentation's examples) may send
// as a number, a numeric string, a boolean or null. Anything else decodes as
// zero without an error, so one odd field never loses a whole report.
type FlexInt int64

// UnmarshalJSON accepts a number, a string, a boolean or null.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	switch s {
	case "true":
		*n = 1
		return nil
	case "false", "null", "":
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = FlexInt(v)
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*n = FlexInt(f)
		return nil
	}
	*n = 0
	return nil
}

// FlexBool is a tri-state flag sent as a boolean, a string ("true",
// "false", "1", "0") or a number; null, absent and unreadable values are
// unknown.
type FlexBool struct {
	Value bool
	Known bool
}

// UnmarshalJSON accepts a boolean, a string, a number or null.
func (f *FlexBool) UnmarshalJSON(b []byte) error {
	s, _, _ := wire.Scalar(b)
	f.Value, f.Known = wire.ParseBool(s)
	return nil
}

// MarshalJSON writes true, false or null.
func (f FlexBool) MarshalJSON() ([]byte, error) {
	if !f.Known {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatBool(f.Value)), nil
}
