package carbonblack

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MatchType says how an IOC's values are matched.
type MatchType string

// IOC match types.
const (
	MatchEquality MatchType = "equality"
	MatchRegex    MatchType = "regex"
	MatchQuery    MatchType = "query"
)

// Searchable fields an equality or regex IOC can match, as the connectors
// map sandbox indicators onto them.
const (
	FieldProcessSHA256            = "process_sha256"
	FieldProcessHash              = "process_hash"
	FieldChildprocSHA256          = "childproc_sha256"
	FieldScriptloadSHA256         = "scriptload_sha256"
	FieldFilelessScriptloadSHA256 = "fileless_scriptload_sha256"
	FieldFilemodSHA256            = "filemod_sha256"
	FieldModloadSHA256            = "modload_sha256"
	FieldNetconnIPv4              = "netconn_ipv4"
	FieldNetconnDomain            = "netconn_domain"
	FieldRegmodName               = "regmod_name"
	FieldProcessCmdline           = "process_cmdline"
	FieldProcessName              = "process_name"
	FieldFilemodName              = "filemod_name"
)

// SHA256Fields are the fields a file hash is searched in when one sample
// hash becomes IOCs (process, child process, script loads, file
// modifications, module loads).
var SHA256Fields = []string{
	FieldProcessSHA256, FieldChildprocSHA256, FieldFilelessScriptloadSHA256,
	FieldScriptloadSHA256, FieldFilemodSHA256, FieldModloadSHA256,
}

// IOC is one indicator (IOC v2) of a report.
type IOC struct {
	// ID identifies the IOC inside its report.
	ID        string    `json:"id"`
	MatchType MatchType `json:"match_type"`
	// Field is the searchable field (required for equality and regex, absent
	// for query).
	Field  string   `json:"field,omitempty"`
	Values []string `json:"values"`
	// Link points to more context, for example the sandbox report.
	Link string `json:"link,omitempty"`
}

// EqualityIOC returns an IOC matching field against any of values exactly,
// with a fresh random id.
func EqualityIOC(field string, values ...string) IOC {
	return IOC{ID: NewID(), MatchType: MatchEquality, Field: field, Values: values}
}

// RegexIOC returns an IOC matching field against a regular expression.
func RegexIOC(field, pattern string) IOC {
	return IOC{ID: NewID(), MatchType: MatchRegex, Field: field, Values: []string{pattern}}
}

// QueryIOC returns an IOC that is a whole search query, for example
// "process_name:chrome.exe NOT process_publisher_state:FILE_SIGNATURE_STATE_SIGNED".
func QueryIOC(query string) IOC {
	return IOC{ID: NewID(), MatchType: MatchQuery, Values: []string{query}}
}

// Validate checks what Carbon Black checks: an id, a known match type, at
// least one value, a field for equality and regex, exactly one value and no
// field for query.
func (i IOC) Validate() error {
	switch {
	case i.ID == "":
		return fmt.Errorf("%w: IOC without id", ErrInvalidReport)
	case len(i.Values) == 0:
		return fmt.Errorf("%w: IOC %s has no value", ErrInvalidReport, i.ID)
	}
	for _, v := range i.Values {
		if v == "" {
			return fmt.Errorf("%w: IOC %s has an empty value", ErrInvalidReport, i.ID)
		}
	}
	switch i.MatchType {
	case MatchEquality, MatchRegex:
		if i.Field == "" {
			return fmt.Errorf("%w: %s IOC %s needs a field", ErrInvalidReport, i.MatchType, i.ID)
		}
	case MatchQuery:
		if len(i.Values) != 1 || i.Field != "" {
			return fmt.Errorf("%w: query IOC %s must have exactly one value and no field", ErrInvalidReport, i.ID)
		}
	default:
		return fmt.Errorf("%w: IOC %s has match type %q", ErrInvalidReport, i.ID, i.MatchType)
	}
	return nil
}

// Report is a threat report: a title, a severity and IOCs. Watchlist reports
// live in the watchlist manager; feed reports live inside their feed.
type Report struct {
	// ID is assigned by Carbon Black for watchlist reports when empty;
	// feed reports must carry one ([NewID] makes one).
	ID string `json:"id,omitempty"`
	// Timestamp is the report time in epoch seconds; 0 means now.
	Timestamp   int64  `json:"timestamp"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Severity is 1 to 10; see [Severity].
	Severity   int      `json:"severity"`
	Link       string   `json:"link,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	IOCsV2     []IOC    `json:"iocs_v2"`
	Visibility string   `json:"visibility,omitempty"`
}

// Severity maps a 0-100 score to Carbon Black's 1-10 severity, never 0 (a
// score of 1-5 rounds to 0 in the original connector, which Carbon Black
// rejects).
func Severity(score float64) int {
	s := int(score / 10)
	return max(1, min(10, s))
}

// Validate checks the report the way Carbon Black does, so one bad report
// cannot fail a whole feed update: non-empty title and description,
// severity 1-10, at least one valid IOC, printable tags.
func (r *Report) Validate() error {
	switch {
	case strings.TrimSpace(r.Title) == "":
		return fmt.Errorf("%w: empty title", ErrInvalidReport)
	case strings.TrimSpace(r.Description) == "":
		return fmt.Errorf("%w: report %q has an empty description", ErrInvalidReport, r.Title)
	case r.Severity < 1 || r.Severity > 10:
		return fmt.Errorf("%w: report %q has severity %d (must be 1-10)", ErrInvalidReport, r.Title, r.Severity)
	case len(r.IOCsV2) == 0:
		return fmt.Errorf("%w: report %q has no IOC", ErrInvalidReport, r.Title)
	case r.Timestamp < 0:
		return fmt.Errorf("%w: report %q has a negative timestamp", ErrInvalidReport, r.Title)
	}
	for _, t := range r.Tags {
		if t == "" || !utf8.ValidString(t) {
			return fmt.Errorf("%w: report %q has an empty or invalid tag", ErrInvalidReport, r.Title)
		}
	}
	for _, i := range r.IOCsV2 {
		if err := i.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// prepare validates r and fills a zero timestamp.
func (r Report) prepare(needID bool) (Report, error) {
	if r.Timestamp == 0 {
		r.Timestamp = time.Now().Unix()
	}
	if needID && r.ID == "" {
		r.ID = NewID()
	}
	return r, r.Validate()
}

// NewID returns a random UUID (version 4), the id form Carbon Black uses for
// reports and IOCs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
