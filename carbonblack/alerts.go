package carbonblack

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// AlertsService searches Alerts v7. (Alerts v6 under /appservices/v6 was
// retired in 2024 and is never called.)
type AlertsService service

// Alert is an Alerts v7 alert. Fields common to every alert type come first;
// type-specific blocks (WATCHLIST report and IOC, CB_ANALYTICS TTPs, network
// fields) follow. Unknown fields are ignored.
type Alert struct {
	OrgKey   string `json:"org_key"`
	AlertURL string `json:"alert_url,omitempty"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	// BackendTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	BackendTimestamp Timestamp `json:"backend_timestamp"`
	// BackendUpdateTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	BackendUpdateTimestamp Timestamp `json:"backend_update_timestamp"`
	// UserUpdateTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	UserUpdateTimestamp Timestamp `json:"user_update_timestamp"`
	// DetectionTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	DetectionTimestamp Timestamp `json:"detection_timestamp"`
	// FirstEventTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	FirstEventTimestamp Timestamp `json:"first_event_timestamp"`
	// LastEventTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	LastEventTimestamp Timestamp  `json:"last_event_timestamp"`
	Severity           int        `json:"severity"`
	Reason             string     `json:"reason,omitempty"`
	ReasonCode         string     `json:"reason_code,omitempty"`
	ThreatID           string     `json:"threat_id,omitempty"`
	PrimaryEventID     string     `json:"primary_event_id,omitempty"`
	PolicyApplied      string     `json:"policy_applied,omitempty"`
	RunState           string     `json:"run_state,omitempty"`
	SensorAction       string     `json:"sensor_action,omitempty"`
	Workflow           *Workflow  `json:"workflow,omitempty"`
	Determination      *Decision  `json:"determination,omitempty"`
	Tags               StringList `json:"tags,omitempty"`
	AlertNotesPresent  FlexBool   `json:"alert_notes_present,omitempty"`
	ThreatNotesPresent FlexBool   `json:"threat_notes_present,omitempty"`
	IsUpdated          FlexBool   `json:"is_updated,omitempty"`

	DeviceID          FlexInt `json:"device_id"`
	DeviceName        string  `json:"device_name,omitempty"`
	DeviceOS          string  `json:"device_os,omitempty"`
	DeviceOSVersion   string  `json:"device_os_version,omitempty"`
	DeviceUsername    string  `json:"device_username,omitempty"`
	DevicePolicy      string  `json:"device_policy,omitempty"`
	DevicePolicyID    FlexInt `json:"device_policy_id,omitempty"`
	DeviceTargetValue string  `json:"device_target_value,omitempty"`
	DeviceLocation    string  `json:"device_location,omitempty"`
	DeviceExternalIP  string  `json:"device_external_ip,omitempty"`
	DeviceInternalIP  string  `json:"device_internal_ip,omitempty"`

	ProcessGUID                string     `json:"process_guid,omitempty"`
	ProcessPID                 FlexInt    `json:"process_pid,omitempty"`
	ProcessName                string     `json:"process_name,omitempty"`
	ProcessSHA256              string     `json:"process_sha256,omitempty"`
	ProcessMD5                 string     `json:"process_md5,omitempty"`
	ProcessReputation          string     `json:"process_reputation,omitempty"`
	ProcessEffectiveReputation string     `json:"process_effective_reputation,omitempty"`
	ProcessCmdline             string     `json:"process_cmdline,omitempty"`
	ProcessUsername            string     `json:"process_username,omitempty"`
	ProcessIssuer              StringList `json:"process_issuer,omitempty"`
	ProcessPublisher           StringList `json:"process_publisher,omitempty"`

	ParentGUID                string  `json:"parent_guid,omitempty"`
	ParentPID                 FlexInt `json:"parent_pid,omitempty"`
	ParentName                string  `json:"parent_name,omitempty"`
	ParentSHA256              string  `json:"parent_sha256,omitempty"`
	ParentMD5                 string  `json:"parent_md5,omitempty"`
	ParentReputation          string  `json:"parent_reputation,omitempty"`
	ParentEffectiveReputation string  `json:"parent_effective_reputation,omitempty"`
	ParentCmdline             string  `json:"parent_cmdline,omitempty"`
	ParentUsername            string  `json:"parent_username,omitempty"`

	ChildprocGUID                string `json:"childproc_guid,omitempty"`
	ChildprocName                string `json:"childproc_name,omitempty"`
	ChildprocSHA256              string `json:"childproc_sha256,omitempty"`
	ChildprocMD5                 string `json:"childproc_md5,omitempty"`
	ChildprocEffectiveReputation string `json:"childproc_effective_reputation,omitempty"`
	ChildprocUsername            string `json:"childproc_username,omitempty"`
	ChildprocCmdline             string `json:"childproc_cmdline,omitempty"`

	// WATCHLIST alerts.
	ReportID          string         `json:"report_id,omitempty"`
	ReportName        string         `json:"report_name,omitempty"`
	ReportDescription string         `json:"report_description,omitempty"`
	ReportTags        []string       `json:"report_tags,omitempty"`
	ReportLink        string         `json:"report_link,omitempty"`
	IOCID             string         `json:"ioc_id,omitempty"`
	IOCHit            string         `json:"ioc_hit,omitempty"`
	Watchlists        []WatchlistRef `json:"watchlists,omitempty"`
	// CB_ANALYTICS alerts.
	TTPs            []string `json:"ttps,omitempty"`
	AttackTactic    string   `json:"attack_tactic,omitempty"`
	AttackTechnique string   `json:"attack_technique,omitempty"`
	// Network alerts (host-based firewall, intrusion detection).
	NetconnRemoteIP     string  `json:"netconn_remote_ip,omitempty"`
	NetconnRemoteDomain string  `json:"netconn_remote_domain,omitempty"`
	NetconnLocalPort    FlexInt `json:"netconn_local_port,omitempty"`
	NetconnProtocol     string  `json:"netconn_protocol,omitempty"`

	MLClassificationFinalVerdict     string   `json:"ml_classification_final_verdict,omitempty"`
	MLClassificationGlobalPrevalence string   `json:"ml_classification_global_prevalence,omitempty"`
	MLClassificationOrgPrevalence    string   `json:"ml_classification_org_prevalence,omitempty"`
	MLClassificationAnomalies        []string `json:"ml_classification_anomalies,omitempty"`
}

// SHA256s returns the distinct SHA-256 values the alert names (process,
// child process, parent), lower-cased, skipping values that are not 64 hex
// digits.
func (a *Alert) SHA256s() []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range []string{a.ProcessSHA256, a.ChildprocSHA256, a.ParentSHA256} {
		if h = PickSHA256([]string{h}); h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// Workflow is an alert's triage state.
type Workflow struct {
	// ChangeTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	ChangeTimestamp Timestamp `json:"change_timestamp"`
	ChangedByType   string    `json:"changed_by_type,omitempty"`
	ChangedBy       string    `json:"changed_by,omitempty"`
	ClosureReason   string    `json:"closure_reason,omitempty"`
	// Status is OPEN, IN_PROGRESS or CLOSED.
	Status string `json:"status"`
}

// Decision is an alert's determination (TRUE_POSITIVE, FALSE_POSITIVE,
// NONE).
type Decision struct {
	// ChangeTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	ChangeTimestamp Timestamp `json:"change_timestamp"`
	Value           string    `json:"value"`
	ChangedByType   string    `json:"changed_by_type,omitempty"`
	ChangedBy       string    `json:"changed_by,omitempty"`
}

// WatchlistRef names the watchlist that raised a WATCHLIST alert.
type WatchlistRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AlertSearch is the body of an alert search.
type AlertSearch struct {
	// Criteria and Exclusions map field names to accepted or refused values.
	Criteria   Criteria `json:"criteria,omitempty"`
	Exclusions Criteria `json:"exclusions,omitempty"`
	// Query is a search-syntax query, for example "process_name:powershell.exe".
	Query string `json:"query,omitempty"`
	// TimeRange filters backend_timestamp. Without a time filter Carbon Black
	// searches the last two weeks.
	TimeRange *TimeRange  `json:"time_range,omitempty"`
	Sort      []SortField `json:"sort,omitempty"`
	// Rows is the page size (at most 10,000; the iterator uses 1,000 when 0).
	Rows int `json:"rows,omitempty"`
	// Start is the 1-based offset of the first result.
	Start int `json:"start,omitempty"`
}

// AlertPage is one page of alert search results.
type AlertPage struct {
	Results []Alert `json:"results"`
	// NumFound counts the matches; NumAvailable the matches that can be paged
	// through (Carbon Black caps both near 10,000).
	NumFound     int `json:"num_found"`
	NumAvailable int `json:"num_available"`
	// SkippedItems lists the results of this page that did not decode and
	// are not in Results; each was also logged and passed to the skip
	// handler.
	SkippedItems []SkippedItem `json:"-"`
}

// Search returns one page of alerts.
//
// API: POST /api/alerts/v7/orgs/{org_key}/alerts/_search
func (s *AlertsService) Search(ctx context.Context, q AlertSearch) (*AlertPage, error) {
	return call[AlertPage](ctx, s.c, &rest.Request{
		Op: "Alerts.Search", Method: http.MethodPost, Path: "/api/alerts/v7/orgs/{}/alerts/_search",
		PathArgs: s.c.org(), Body: rest.JSONBody(q), Idempotent: true,
	})
}

// Get returns one alert.
//
// API: GET /api/alerts/v7/orgs/{org_key}/alerts/{id}
func (s *AlertsService) Get(ctx context.Context, id string) (*Alert, error) {
	return call[Alert](ctx, s.c, &rest.Request{Op: "Alerts.Get", Path: "/api/alerts/v7/orgs/{}/alerts/{}", PathArgs: s.c.org(id)})
}

// All iterates over every alert matching q, oldest first. It sorts by
// backend_timestamp ascending and pages with q.Rows (default 1,000). When the
// next page would cross Carbon Black's result window (10,000), it narrows
// the time range to start at the last backend_timestamp seen and starts
// again from offset 1, skipping the alerts already yielded at that
// timestamp, so nothing is silently dropped. A relative Range is turned into
// an absolute range ending when the iteration started. If more alerts share
// one timestamp than fit in the window, it yields ErrResultWindow.
//
// API: POST /api/alerts/v7/orgs/{org_key}/alerts/_search
func (s *AlertsService) All(ctx context.Context, q AlertSearch) iter.Seq2[Alert, error] {
	return func(yield func(Alert, error) bool) {
		window := s.c.cfg.resultWindow
		rows := q.Rows
		if rows <= 0 {
			rows = 1000
		}
		rows = min(rows, window)
		q.Rows = rows
		q.Sort = []SortField{{Field: "backend_timestamp", Order: "ASC"}}
		var end time.Time
		if q.TimeRange != nil {
			tr := *q.TimeRange
			q.TimeRange = &tr
			end = tr.End
		}
		var sliceStart time.Time // start of the current slice, zero for the caller's own range
		seenAtBoundary := map[string]bool{}
		var lastTS time.Time
		start := 1
		for {
			q.Start = start
			page, err := s.Search(ctx, q)
			if err != nil {
				yield(Alert{}, err)
				return
			}
			fresh := 0
			for _, a := range page.Results {
				ts := a.BackendTimestamp.Time
				if !sliceStart.IsZero() && ts.Equal(sliceStart) && seenAtBoundary[a.ID] {
					continue
				}
				fresh++
				if !ts.Equal(lastTS) {
					lastTS = ts
					clear(seenAtBoundary)
				}
				seenAtBoundary[a.ID] = true
				if !yield(a, nil) {
					return
				}
			}
			held := len(page.Results) + len(page.SkippedItems)
			next := start + held
			total := page.NumAvailable
			if page.NumFound > total {
				total = page.NumFound
			}
			if held < rows || next > total && total < window {
				return
			}
			if next+rows-1 <= window {
				start = next
				continue
			}
			// The next page would leave the result window: slide the range.
			if fresh == 0 && lastTS.Equal(sliceStart) {
				yield(Alert{}, fmt.Errorf("%w: more than %d alerts at backend_timestamp %s", ErrResultWindow, window, FormatTime(lastTS)))
				return
			}
			if end.IsZero() {
				end = time.Now().UTC()
			}
			sliceStart = lastTS
			q.TimeRange = &TimeRange{Start: sliceStart, End: end}
			start = 1
		}
	}
}
