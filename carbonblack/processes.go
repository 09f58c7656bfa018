package carbonblack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/soarkit/soarkit/internal/rest"
)

// ProcessesService runs process search jobs and process detail jobs
// (Enterprise EDR process search v2). The retired GET validation v1 is
// never called: validation is the v2 POST.
type ProcessesService struct {
	*JobSearch[Process]
}

// Process is one process search or detail result. Which fields are present
// depends on the job's Fields; Raw holds the whole record for the others.
type Process struct {
	// BackendTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	BackendTimestamp Timestamp `json:"backend_timestamp"`
	// DeviceTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	DeviceTimestamp            Timestamp  `json:"device_timestamp"`
	DeviceID                   FlexInt    `json:"device_id"`
	DeviceName                 string     `json:"device_name,omitempty"`
	DeviceOS                   string     `json:"device_os,omitempty"`
	DevicePolicyID             FlexInt    `json:"device_policy_id,omitempty"`
	DeviceGroupID              FlexInt    `json:"device_group_id,omitempty"`
	DeviceExternalIP           string     `json:"device_external_ip,omitempty"`
	DeviceInternalIP           string     `json:"device_internal_ip,omitempty"`
	OrgID                      string     `json:"org_id,omitempty"`
	ProcessGUID                string     `json:"process_guid"`
	ProcessHash                []string   `json:"process_hash,omitempty"`
	ProcessSHA256              string     `json:"process_sha256,omitempty"`
	ProcessName                string     `json:"process_name,omitempty"`
	ProcessPID                 IntList    `json:"process_pid,omitempty"`
	ProcessCmdline             StringList `json:"process_cmdline,omitempty"`
	ProcessUsername            StringList `json:"process_username,omitempty"`
	ProcessReputation          string     `json:"process_reputation,omitempty"`
	ProcessEffectiveReputation string     `json:"process_effective_reputation,omitempty"`
	// ProcessStartTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	ProcessStartTime  Timestamp  `json:"process_start_time"`
	ProcessTerminated FlexBool   `json:"process_terminated,omitempty"`
	ParentGUID        string     `json:"parent_guid,omitempty"`
	ParentPID         FlexInt    `json:"parent_pid,omitempty"`
	ParentName        string     `json:"parent_name,omitempty"`
	ParentHash        []string   `json:"parent_hash,omitempty"`
	EventType         StringList `json:"event_type,omitempty"`
	EnrichedEventType StringList `json:"enriched_event_type,omitempty"`
	Enriched          FlexBool   `json:"enriched,omitempty"`
	Legacy            FlexBool   `json:"legacy,omitempty"`
	IngressTime       int64      `json:"ingress_time,omitempty"`
	ChildprocCount    int        `json:"childproc_count,omitempty"`
	CrossprocCount    int        `json:"crossproc_count,omitempty"`
	FilemodCount      int        `json:"filemod_count,omitempty"`
	ModloadCount      int        `json:"modload_count,omitempty"`
	NetconnCount      int        `json:"netconn_count,omitempty"`
	RegmodCount       int        `json:"regmod_count,omitempty"`
	ScriptloadCount   int        `json:"scriptload_count,omitempty"`
	AlertID           []string   `json:"alert_id,omitempty"`
	WatchlistHit      []string   `json:"watchlist_hit,omitempty"`
	TTP               []string   `json:"ttp,omitempty"`

	// Raw is the record as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the known fields and keeps the raw record.
func (p *Process) UnmarshalJSON(b []byte) error {
	type plain Process
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// SHA256 returns process_sha256 when requested, else the 64-hex entry of
// process_hash (which mixes MD5 and SHA-256).
func (p *Process) SHA256() string {
	if isSHA256(p.ProcessSHA256) {
		return PickSHA256([]string{p.ProcessSHA256})
	}
	return PickSHA256(p.ProcessHash)
}

// PID returns the process id (the first of process_pid).
func (p *Process) PID() int64 { return p.ProcessPID.First() }

// Details runs a process detail job for the given process GUIDs, waits for
// it and returns the detailed records (which include process_sha256,
// process_cmdline and process_start_time).
//
// API: POST /api/investigate/v2/orgs/{org_key}/processes/detail_jobs
// API: GET /api/investigate/v2/orgs/{org_key}/processes/detail_jobs/{job_id}/results
func (s *ProcessesService) Details(ctx context.Context, guids ...string) ([]Process, error) {
	if len(guids) == 0 {
		return nil, nil
	}
	return detailJob[Process](ctx, s.c, "processes", "Processes.Details", map[string][]string{"process_guids": guids})
}

// startJob posts a job body and returns the job id.
func startJob(ctx context.Context, c *Client, op, path, kind string, body any) (string, error) {
	out, err := call[struct {
		JobID string `json:"job_id"`
	}](ctx, c, &rest.Request{Op: op, Method: http.MethodPost, Path: path, PathArgs: c.org(kind), Body: rest.JSONBody(body),
		// Starting a job is a read: repeating it after a lost answer only leaves an unused job behind.
		Idempotent: true})
	if err != nil {
		return "", err
	}
	if out.JobID == "" {
		return "", &rest.Error{Vendor: "carbonblack", Op: op, Method: http.MethodPost, StatusCode: http.StatusOK,
			Message: "no job_id in the answer", Err: ErrMalformedResponse}
	}
	return out.JobID, nil
}

// detailJob starts a detail job, waits for it and collects its results.
func detailJob[T any](ctx context.Context, c *Client, kind, op string, body any) ([]T, error) {
	id, err := startJob(ctx, c, op, "/api/investigate/v2/orgs/{}/{}/detail_jobs", kind, body)
	if err != nil {
		return nil, err
	}
	fetch := func(ctx context.Context, start, rows int) (*JobResults[T], error) {
		return jobResults[T](ctx, c, op, "/api/investigate/v2/orgs/{}/{}/detail_jobs/{}/results", kind, id, start, rows)
	}
	if _, err := waitJob(ctx, c, func(ctx context.Context) (*JobResults[T], error) { return fetch(ctx, 0, 0) }); err != nil {
		return nil, fmt.Errorf("carbonblack: %s detail job %s: %w", kind, id, err)
	}
	return rest.Collect(pageJob(ctx, c.cfg.jobPageRows, fetch))
}

// ProcessSummary is a process with its parent, siblings and children.
type ProcessSummary struct {
	Process  *Process  `json:"process"`
	Parent   *Process  `json:"parent"`
	Siblings []Process `json:"siblings"`
	Children []Process `json:"children"`
}

// Summary runs a process summary job for one process GUID (optionally
// bounded by a time range), waits for it and returns the process with its
// parent, siblings and children: the device and pid look-up a responder
// needs before Live Response.
//
// API: POST /api/investigate/v2/orgs/{org_key}/processes/summary_jobs
// API: GET /api/investigate/v2/orgs/{org_key}/processes/summary_jobs/{job_id}/results?format=summary
func (s *ProcessesService) Summary(ctx context.Context, processGUID string, tr *TimeRange) (*ProcessSummary, error) {
	c := s.c
	body := map[string]any{"process_guid": processGUID}
	if tr != nil {
		body["time_range"] = tr
	}
	jobID, err := startJob(ctx, c, "Processes.Summary", "/api/investigate/v2/orgs/{}/{}/summary_jobs", "processes", body)
	if err != nil {
		return nil, err
	}
	type summaryResults struct {
		Exception *string        `json:"exception"`
		Contacted int            `json:"contacted"`
		Completed int            `json:"completed"`
		Summary   ProcessSummary `json:"summary"`
	}
	var last *summaryResults
	err = rest.Poll(ctx, c.cfg.jobPoll, func(ctx context.Context) (bool, error) {
		r, err := call[summaryResults](ctx, c, &rest.Request{
			Op: "Processes.Summary", Path: "/api/investigate/v2/orgs/{}/processes/summary_jobs/{}/results",
			PathArgs: c.org(jobID), Query: url.Values{"format": {"summary"}},
		})
		if err != nil {
			return false, err
		}
		last = r
		return r.Contacted > 0 && r.Completed >= r.Contacted, nil
	})
	if err != nil {
		return nil, fmt.Errorf("carbonblack: process summary job %s: %w", jobID, err)
	}
	if last.Exception != nil && *last.Exception != "" {
		return nil, &rest.Error{Vendor: "carbonblack", Op: "Processes.Summary", StatusCode: http.StatusOK, Message: c.rest.Redact(*last.Exception)}
	}
	if last.Summary.Process == nil {
		return nil, fmt.Errorf("carbonblack: Processes.Summary: process %s: %w", processGUID, ErrNotFound)
	}
	return &last.Summary, nil
}
