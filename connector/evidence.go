package connector

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HashKind names a hash algorithm used to identify files.
type HashKind string

// The hash kinds the engine understands, strongest first.
const (
	SHA256 HashKind = "sha256"
	SHA1   HashKind = "sha1"
	MD5    HashKind = "md5"
)

// hexLen is the length of a hash of each kind in hexadecimal.
func (k HashKind) hexLen() int {
	switch k {
	case SHA256:
		return 64
	case SHA1:
		return 40
	case MD5:
		return 32
	}
	return 0
}

// Key identifies one file by one of its hashes: "sha256:<hex>", "sha1:<hex>" or "md5:<hex>".
//
// The engine keys every piece of durable state (items, tickets, verdicts, actions) by the Key of the strongest hash
// the evidence carries (see [Hashes.Key]), and remembers every other hash it learns for the same file as an alias, so
// evidence that only knows a weaker hash still joins the same item once the link is known.
type Key struct {
	Kind HashKind
	Hex  string
}

// String returns the key as "kind:hex".
func (k Key) String() string {
	if k.IsZero() {
		return ""
	}
	return string(k.Kind) + ":" + k.Hex
}

// IsZero reports whether k is the zero key.
func (k Key) IsZero() bool { return k.Kind == "" && k.Hex == "" }

// MarshalText encodes the key as "kind:hex".
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a key written by MarshalText.
func (k *Key) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*k = Key{}
		return nil
	}
	parsed, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = parsed
	return nil
}

// ParseKey parses "kind:hex" (for example "sha256:9f86…"); the hex digits are normalised to lower case.
func ParseKey(s string) (Key, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return Key{}, fmt.Errorf("connector: hash key %q: want kind:hex", s)
	}
	return newKey(HashKind(kind), value)
}

func newKey(kind HashKind, value string) (Key, error) {
	n := kind.hexLen()
	if n == 0 {
		return Key{}, fmt.Errorf("connector: unknown hash kind %q", kind)
	}
	value = strings.ToLower(strings.TrimSpace(value))
	if len(value) != n {
		return Key{}, fmt.Errorf("connector: %s hash %q: want %d hex digits", kind, value, n)
	}
	if _, err := hex.DecodeString(value); err != nil {
		return Key{}, fmt.Errorf("connector: %s hash %q: not hexadecimal", kind, value)
	}
	return Key{Kind: kind, Hex: value}, nil
}

// Hashes are the known hashes of one file, as lower-case hexadecimal; any of them may be empty.
type Hashes struct {
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
}

// Keys returns a Key for every hash that is set, strongest first (SHA256, SHA1, MD5). It fails on a hash that is set
// but malformed.
func (h Hashes) Keys() ([]Key, error) {
	var keys []Key
	for _, p := range [...]struct {
		kind  HashKind
		value string
	}{{SHA256, h.SHA256}, {SHA1, h.SHA1}, {MD5, h.MD5}} {
		if p.value == "" {
			continue
		}
		k, err := newKey(p.kind, p.value)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Key returns the primary key of the file: its SHA256 if known, else its SHA1, else its MD5. It fails when no hash
// is set or one is malformed.
func (h Hashes) Key() (Key, error) {
	keys, err := h.Keys()
	if err != nil {
		return Key{}, err
	}
	if len(keys) == 0 {
		return Key{}, fmt.Errorf("connector: evidence carries no hash")
	}
	return keys[0], nil
}

// Get returns the hash of the given kind, or "".
func (h Hashes) Get(kind HashKind) string {
	switch kind {
	case SHA256:
		return h.SHA256
	case SHA1:
		return h.SHA1
	case MD5:
		return h.MD5
	}
	return ""
}

// IsZero reports whether no hash is set.
func (h Hashes) IsZero() bool { return h == Hashes{} }

// normalized returns h with every hash lower-cased and trimmed.
func (h Hashes) normalized() Hashes {
	return Hashes{
		SHA256: strings.ToLower(strings.TrimSpace(h.SHA256)),
		SHA1:   strings.ToLower(strings.TrimSpace(h.SHA1)),
		MD5:    strings.ToLower(strings.TrimSpace(h.MD5)),
	}
}

// fill sets every hash of h that is empty from o.
func (h *Hashes) fill(o Hashes) {
	if h.SHA256 == "" {
		h.SHA256 = o.SHA256
	}
	if h.SHA1 == "" {
		h.SHA1 = o.SHA1
	}
	if h.MD5 == "" {
		h.MD5 = o.MD5
	}
}

// Evidence is one file of interest reported by a Source: its hashes, name and size, and where it was seen.
//
// A Source reports one Evidence per (file, batch) or per (file, sighting) as is natural for the vendor; the engine
// merges all evidence of the same file into one durable item, so the file is analysed once while every sighting
// still reaches the responders.
type Evidence struct {
	// Hashes of the file. At least one must be set; SHA256 is preferred as the identity (see Hashes.Key).
	Hashes Hashes `json:"hashes"`
	// FileName is the file's name as the source knows it (no directory), if any.
	FileName string `json:"file_name,omitempty"`
	// Size is the file's full size in bytes, or 0 when unknown.
	Size int64 `json:"size,omitempty"`
	// Source is the name of the Source that reported it; the engine fills it in when empty.
	Source string `json:"source,omitempty"`
	// FirstSeen and LastSeen bound the sightings in time; the engine fills them from the sightings when zero.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Sightings says where the file was seen: responders act on them. An item keeps the latest MaxSightings of
	// them (see SightingCount).
	Sightings []Sighting `json:"sightings,omitempty"`
	// SightingCount is the number of distinct sightings merged into the item over its life, the dropped ones
	// included; the engine keeps it (0 in evidence from a source means len(Sightings)).
	SightingCount int `json:"sighting_count,omitempty"`
	// SourceVerdict is a verdict the source already holds (for example Proofpoint TAP's own classification of an
	// attachment). The PassThrough analyzer uses it instead of analysing the file.
	SourceVerdict *Verdict `json:"source_verdict,omitempty"`
}

// Key returns the evidence's primary key (see Hashes.Key).
func (e Evidence) Key() (Key, error) { return e.Hashes.Key() }

// Sighting is one place a file was seen: a process on a device, a threat on an agent, an attachment in a message.
// The well-known fields cover the three vendor flows; anything else goes in Attributes.
type Sighting struct {
	// Source is the name of the Source that saw it; the engine fills it in when empty.
	Source string `json:"source,omitempty"`
	// ID, when set, identifies the sighting within its source (for example a threat id or a process GUID) and is
	// its identity. When empty, the identity is derived from the identifying fields below (see Key).
	ID string `json:"id,omitempty"`
	// Time is when it was seen.
	Time time.Time `json:"time,omitzero"`

	DeviceID    string `json:"device_id,omitempty"`    // endpoint id (Carbon Black device_id)
	DeviceName  string `json:"device_name,omitempty"`  // host name
	AgentID     string `json:"agent_id,omitempty"`     // endpoint agent id (SentinelOne agentId)
	OS          string `json:"os,omitempty"`           // operating system family: windows, macos, linux
	AccountID   string `json:"account_id,omitempty"`   // tenant/account id
	AccountName string `json:"account_name,omitempty"` // tenant/account name
	SiteID      string `json:"site_id,omitempty"`      // site id (SentinelOne)
	SiteName    string `json:"site_name,omitempty"`    // site name (SentinelOne)
	ThreatID    string `json:"threat_id,omitempty"`    // threat id (SentinelOne)
	ProcessGUID string `json:"process_guid,omitempty"` // process GUID (Carbon Black)
	PID         int64  `json:"pid,omitempty"`          // process id, 0 when unknown
	FilePath    string `json:"file_path,omitempty"`    // full path of the file on the device
	MessageID   string `json:"message_id,omitempty"`   // e-mail message GUID (Proofpoint TAP)
	Recipient   string `json:"recipient,omitempty"`    // e-mail recipient
	Sender      string `json:"sender,omitempty"`       // e-mail sender

	// Attributes hold any further vendor facts (for example "confidence_level": "malicious").
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Key returns the sighting's identity within the engine: the source name plus ID when ID is set, else the source
// name plus the identifying fields (device, agent, threat, process, pid, path, message, recipient). Names, times,
// OS, site and account facts and Attributes are not part of the identity.
func (s Sighting) Key() string {
	if s.ID != "" {
		return s.Source + "#" + s.ID
	}
	v := url.Values{}
	set := func(name, value string) {
		if value != "" {
			v.Set(name, value)
		}
	}
	set("device", s.DeviceID)
	set("agent", s.AgentID)
	set("threat", s.ThreatID)
	set("process", s.ProcessGUID)
	if s.PID != 0 {
		v.Set("pid", strconv.FormatInt(s.PID, 10))
	}
	set("path", s.FilePath)
	set("message", s.MessageID)
	set("recipient", s.Recipient)
	return s.Source + "?" + v.Encode()
}

// DeviceKey identifies the device of the sighting: "device:<DeviceID>", else "agent:<AgentID>", else
// "host:<DeviceName>", or "" when the sighting names no device.
func (s Sighting) DeviceKey() string {
	switch {
	case s.DeviceID != "":
		return "device:" + s.DeviceID
	case s.AgentID != "":
		return "agent:" + s.AgentID
	case s.DeviceName != "":
		return "host:" + s.DeviceName
	}
	return ""
}

// normalize validates e and fills the defaults the engine relies on: source names, hashes in lower case, and the
// time bounds. It returns the primary key.
func (e *Evidence) normalize(source string, now time.Time) (Key, error) {
	e.Hashes = e.Hashes.normalized()
	key, err := e.Hashes.Key()
	if err != nil {
		return Key{}, err
	}
	if e.Source == "" {
		e.Source = source
	}
	for i := range e.Sightings {
		s := &e.Sightings[i]
		if s.Source == "" {
			s.Source = e.Source
		}
		if s.Time.IsZero() {
			s.Time = now
		}
		if e.FirstSeen.IsZero() || s.Time.Before(e.FirstSeen) {
			e.FirstSeen = s.Time
		}
		if s.Time.After(e.LastSeen) {
			e.LastSeen = s.Time
		}
	}
	if e.SightingCount < len(e.Sightings) {
		e.SightingCount = len(e.Sightings)
	}
	e.capSightings()
	if e.FirstSeen.IsZero() {
		e.FirstSeen = now
	}
	if e.LastSeen.IsZero() {
		e.LastSeen = e.FirstSeen
	}
	if e.SourceVerdict != nil && e.SourceVerdict.Kind > Malicious {
		return Key{}, fmt.Errorf("connector: source verdict kind %d out of range", e.SourceVerdict.Kind)
	}
	return key, nil
}

// MaxSightings bounds the sightings an item keeps, so that the state of a file seen again and again does not grow:
// when more arrive, the oldest are dropped (and counted in Evidence.SightingCount). Responders act on a pass over the
// item after each merge that added sightings, so a dropped sighting was acted on unless more than MaxSightings new
// ones arrived between two passes.
const MaxSightings = 256

// capSightings drops the oldest sightings beyond MaxSightings.
func (e *Evidence) capSightings() {
	if n := len(e.Sightings); n > MaxSightings {
		e.Sightings = append(e.Sightings[:0:0], e.Sightings[n-MaxSightings:]...)
	}
}

// merge folds o (evidence of the same file) into e. It reports how many sightings were new and whether the source
// verdict became more severe.
func (e *Evidence) merge(o Evidence) (added int, verdictRaised bool) {
	e.Hashes.fill(o.Hashes)
	if e.FileName == "" {
		e.FileName = o.FileName
	}
	if e.Size == 0 {
		e.Size = o.Size
	}
	if e.Source == "" {
		e.Source = o.Source
	}
	if !o.FirstSeen.IsZero() && (e.FirstSeen.IsZero() || o.FirstSeen.Before(e.FirstSeen)) {
		e.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(e.LastSeen) {
		e.LastSeen = o.LastSeen
	}
	if e.SightingCount < len(e.Sightings) {
		e.SightingCount = len(e.Sightings)
	}
	if len(o.Sightings) > 0 {
		seen := make(map[string]bool, len(e.Sightings))
		for _, s := range e.Sightings {
			seen[s.Key()] = true
		}
		for _, s := range o.Sightings {
			if k := s.Key(); !seen[k] {
				seen[k] = true
				e.Sightings = append(e.Sightings, s)
				added++
			}
		}
		e.SightingCount += added
		e.capSightings()
	}
	if o.SourceVerdict != nil && (e.SourceVerdict == nil || o.SourceVerdict.Kind > e.SourceVerdict.Kind) {
		v := *o.SourceVerdict
		e.SourceVerdict = &v
		verdictRaised = true
	}
	return added, verdictRaised
}
