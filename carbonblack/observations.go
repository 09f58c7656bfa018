package carbonblack

import (
	"context"
	"encoding/json"
	"fmt"
)

// ObservationsService runs observation search jobs, the successor of the
// retired enriched events search.
type ObservationsService struct {
	*JobSearch[Observation]
}

// Observation is one observation search result, with the event fields the
// IOC mappings use. Which fields are present depends on the event type and
// the job's Fields; Raw holds the whole record.
type Observation struct {
	ObservationID          string     `json:"observation_id"`
	ObservationType        string     `json:"observation_type,omitempty"`
	ObservationDescription string     `json:"observation_description,omitempty"`
	AlertCategory          StringList `json:"alert_category,omitempty"`
	AlertID                StringList `json:"alert_id,omitempty"`
	// BackendTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	BackendTimestamp Timestamp `json:"backend_timestamp"`
	// DeviceTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	DeviceTimestamp   Timestamp  `json:"device_timestamp"`
	DeviceID          FlexInt    `json:"device_id"`
	DeviceName        string     `json:"device_name,omitempty"`
	DeviceOS          string     `json:"device_os,omitempty"`
	DevicePolicyID    FlexInt    `json:"device_policy_id,omitempty"`
	EventID           string     `json:"event_id,omitempty"`
	EventType         StringList `json:"event_type,omitempty"`
	EventDescription  string     `json:"event_description,omitempty"`
	EnrichedEventType StringList `json:"enriched_event_type,omitempty"`
	OrgID             string     `json:"org_id,omitempty"`
	RuleID            string     `json:"rule_id,omitempty"`
	AttackTactic      string     `json:"attack_tactic,omitempty"`
	AttackTechnique   string     `json:"attack_technique,omitempty"`
	TTP               []string   `json:"ttp,omitempty"`

	ProcessGUID                string     `json:"process_guid,omitempty"`
	ProcessHash                []string   `json:"process_hash,omitempty"`
	ProcessSHA256              string     `json:"process_sha256,omitempty"`
	ProcessName                string     `json:"process_name,omitempty"`
	ProcessPID                 IntList    `json:"process_pid,omitempty"`
	ProcessCmdline             StringList `json:"process_cmdline,omitempty"`
	ProcessUsername            StringList `json:"process_username,omitempty"`
	ProcessEffectiveReputation string     `json:"process_effective_reputation,omitempty"`
	ParentGUID                 string     `json:"parent_guid,omitempty"`
	ParentPID                  FlexInt    `json:"parent_pid,omitempty"`

	ChildprocSHA256          string `json:"childproc_sha256,omitempty"`
	ChildprocName            string `json:"childproc_name,omitempty"`
	FilemodName              string `json:"filemod_name,omitempty"`
	FilemodSHA256            string `json:"filemod_sha256,omitempty"`
	ModloadName              string `json:"modload_name,omitempty"`
	ModloadSHA256            string `json:"modload_sha256,omitempty"`
	ScriptloadName           string `json:"scriptload_name,omitempty"`
	ScriptloadSHA256         string `json:"scriptload_sha256,omitempty"`
	FilelessScriptloadSHA256 string `json:"fileless_scriptload_sha256,omitempty"`
	RegmodName               string `json:"regmod_name,omitempty"`
	NetconnDomain            string `json:"netconn_domain,omitempty"`
	// NetconnIPv4 arrives as a packed integer.
	NetconnIPv4       IPv4    `json:"netconn_ipv4,omitzero"`
	NetconnPort       FlexInt `json:"netconn_port,omitempty"`
	NetconnProtocol   string  `json:"netconn_protocol,omitempty"`
	NetworkRemoteIPv4 string  `json:"event_network_remote_ipv4,omitempty"`
	NetworkRemotePort FlexInt `json:"event_network_remote_port,omitempty"`
	NetworkLocalIPv4  string  `json:"event_network_local_ipv4,omitempty"`
	NetworkProtocol   string  `json:"event_network_protocol,omitempty"`

	// Raw is the record as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the known fields and keeps the raw record.
func (o *Observation) UnmarshalJSON(b []byte) error {
	type plain Observation
	if err := json.Unmarshal(b, (*plain)(o)); err != nil {
		return err
	}
	o.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// SHA256s returns the distinct SHA-256 values the observation carries
// (process, child process, file modification, module load, script loads),
// lower-cased.
func (o *Observation) SHA256s() []string {
	var out []string
	seen := map[string]bool{}
	cands := append([]string{o.ProcessSHA256}, o.ProcessHash...)
	cands = append(cands, o.ChildprocSHA256, o.FilemodSHA256, o.ModloadSHA256, o.ScriptloadSHA256, o.FilelessScriptloadSHA256)
	for _, h := range cands {
		if h = PickSHA256([]string{h}); h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// ObservationDetails selects the observations of a detail job: exactly one
// of AlertID, ObservationIDs or ProcessHash (optionally with DeviceID).
type ObservationDetails struct {
	AlertID        string   `json:"alert_id,omitempty"`
	ObservationIDs []string `json:"observation_ids,omitempty"`
	ProcessHash    string   `json:"process_hash,omitempty"`
	DeviceID       int64    `json:"device_id,omitempty"`
	MaxRows        int      `json:"max_rows,omitempty"`
}

// Details runs an observation detail job, waits for it and returns the
// detailed records, which carry the raw event fields (netconn_ipv4 as a
// packed integer, netconn_domain, process_sha256, ...).
//
// API: POST /api/investigate/v2/orgs/{org_key}/observations/detail_jobs
// API: GET /api/investigate/v2/orgs/{org_key}/observations/detail_jobs/{job_id}/results
func (s *ObservationsService) Details(ctx context.Context, sel ObservationDetails) ([]Observation, error) {
	n := 0
	for _, set := range []bool{sel.AlertID != "", len(sel.ObservationIDs) > 0, sel.ProcessHash != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: give exactly one of alert id, observation ids or process hash", ErrInvalidRequest)
	}
	return detailJob[Observation](ctx, s.c, "observations", "Observations.Details", sel)
}
