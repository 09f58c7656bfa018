package sentinelone

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// ThreatsService covers /threats: listing, notes, verdicts, incident status,
// mitigation, blocklisting and file retrieval.
type ThreatsService service

// ThreatFilter selects threats, in GET /threats query strings and in the
// filter of threat actions. Empty fields are left out.
type ThreatFilter struct {
	Scope
	IDs      []string `json:"ids,omitempty" url:"ids,comma,omitempty"`
	AgentIDs []string `json:"agentIds,omitempty" url:"agentIds,comma,omitempty"`

	// CreatedAtGt is sent as RFC 3339 in UTC with microseconds.
	CreatedAtGt Time `json:"createdAt__gt,omitzero" url:"createdAt__gt,omitempty"`
	// CreatedAtGte is sent as RFC 3339 in UTC with microseconds.
	CreatedAtGte Time `json:"createdAt__gte,omitzero" url:"createdAt__gte,omitempty"`
	// CreatedAtLt is sent as RFC 3339 in UTC with microseconds.
	CreatedAtLt Time `json:"createdAt__lt,omitzero" url:"createdAt__lt,omitempty"`
	// CreatedAtLte is sent as RFC 3339 in UTC with microseconds.
	CreatedAtLte Time `json:"createdAt__lte,omitzero" url:"createdAt__lte,omitempty"`
	// UpdatedAtGt is sent as RFC 3339 in UTC with microseconds.
	UpdatedAtGt Time `json:"updatedAt__gt,omitzero" url:"updatedAt__gt,omitempty"`
	// UpdatedAtGte is sent as RFC 3339 in UTC with microseconds.
	UpdatedAtGte Time `json:"updatedAt__gte,omitzero" url:"updatedAt__gte,omitempty"`
	// UpdatedAtLt is sent as RFC 3339 in UTC with microseconds.
	UpdatedAtLt Time `json:"updatedAt__lt,omitzero" url:"updatedAt__lt,omitempty"`
	// UpdatedAtLte is sent as RFC 3339 in UTC with microseconds.
	UpdatedAtLte Time `json:"updatedAt__lte,omitzero" url:"updatedAt__lte,omitempty"`

	// ContentHashes are SHA1 values.
	ContentHashes         []string `json:"contentHashes,omitempty" url:"contentHashes,comma,omitempty"`
	ContentHashContains   []string `json:"contentHash__contains,omitempty" url:"contentHash__contains,comma,omitempty"`
	ConfidenceLevels      []string `json:"confidenceLevels,omitempty" url:"confidenceLevels,comma,omitempty"`
	ConfidenceLevelsNin   []string `json:"confidenceLevelsNin,omitempty" url:"confidenceLevelsNin,comma,omitempty"`
	AnalystVerdicts       []string `json:"analystVerdicts,omitempty" url:"analystVerdicts,comma,omitempty"`
	AnalystVerdictsNin    []string `json:"analystVerdictsNin,omitempty" url:"analystVerdictsNin,comma,omitempty"`
	IncidentStatuses      []string `json:"incidentStatuses,omitempty" url:"incidentStatuses,comma,omitempty"`
	IncidentStatusesNin   []string `json:"incidentStatusesNin,omitempty" url:"incidentStatusesNin,comma,omitempty"`
	MitigationStatuses    []string `json:"mitigationStatuses,omitempty" url:"mitigationStatuses,comma,omitempty"`
	MitigationStatusesNin []string `json:"mitigationStatusesNin,omitempty" url:"mitigationStatusesNin,comma,omitempty"`
	Classifications       []string `json:"classifications,omitempty" url:"classifications,comma,omitempty"`
	ClassificationsNin    []string `json:"classificationsNin,omitempty" url:"classificationsNin,comma,omitempty"`
	OSTypes               []string `json:"osTypes,omitempty" url:"osTypes,comma,omitempty"`
	OSTypesNin            []string `json:"osTypesNin,omitempty" url:"osTypesNin,comma,omitempty"`
	DetectionEngines      []string `json:"detectionEngines,omitempty" url:"detectionEngines,comma,omitempty"`
	InitiatedBy           []string `json:"initiatedBy,omitempty" url:"initiatedBy,comma,omitempty"`
	Storylines            []string `json:"storylines,omitempty" url:"storylines,comma,omitempty"`
	ComputerNameContains  []string `json:"computerName__contains,omitempty" url:"computerName__contains,comma,omitempty"`
	FilePathContains      []string `json:"filePath__contains,omitempty" url:"filePath__contains,comma,omitempty"`
	DisplayName           string   `json:"displayName,omitempty" url:"displayName,omitempty"`
	AgentIsActive         *bool    `json:"agentIsActive,omitempty" url:"agentIsActive,omitempty"`
	Query                 string   `json:"query,omitempty" url:"query,omitempty"`
}

// ThreatListOptions are the parameters of GET /threats.
type ThreatListOptions struct {
	ThreatFilter
	ListOptions
}

// List returns one page of threats.
//
// API: GET /threats
func (s *ThreatsService) List(ctx context.Context, opts ThreatListOptions) (*Page[Threat], error) {
	return list[Threat](ctx, s.c, &rest.Request{Op: "Threats.List", Path: "/threats", Query: opts})
}

// All iterates over every threat matching opts, page by page.
//
// API: GET /threats
func (s *ThreatsService) All(ctx context.Context, opts ThreatListOptions) iter.Seq2[Threat, error] {
	return all(ctx, opts, s.List)
}

// Get returns one threat by id (a filtered list call; a missing threat is
// reported as ErrNotFound).
//
// API: GET /threats?ids=
func (s *ThreatsService) Get(ctx context.Context, threatID string) (*Threat, error) {
	return getByID[Threat](ctx, s.c, "Threats.Get", "/threats", "threat "+threatID,
		ThreatListOptions{ThreatFilter: ThreatFilter{IDs: []string{threatID}}, ListOptions: ListOptions{Limit: 1}})
}

// getByID reads one object through a list call filtered by id; an empty
// answer is reported as ErrNotFound, also when the 200 answer carried an
// error list next to its empty data.
func getByID[T any](ctx context.Context, c *Client, op, path, what string, query any) (*T, error) {
	req := &rest.Request{Op: op, Path: path, Query: query}
	var items []T
	_, resp, err := c.do(ctx, req, &items)
	var e *Error
	if err != nil && resp != nil && resp.StatusCode == http.StatusOK && len(items) == 0 && errors.As(err, &e) {
		e.Matches = appendOnce(e.Matches, ErrNotFound)
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, c.answerError(req, http.StatusOK, what+" not found (empty list)", nil, ErrNotFound)
	}
	return &items[0], nil
}

// TimelineOptions are the parameters of GET /threats/{id}/timeline.
type TimelineOptions struct {
	ActivityTypes []int  `url:"activityTypes,comma,omitempty"`
	Query         string `url:"query,omitempty"`
	ListOptions
}

// Timeline returns one page of a threat's timeline (activities).
//
// API: GET /threats/{threat_id}/timeline
func (s *ThreatsService) Timeline(ctx context.Context, threatID string, opts TimelineOptions) (*Page[Activity], error) {
	return list[Activity](ctx, s.c, &rest.Request{Op: "Threats.Timeline", Path: "/threats/{}/timeline", PathArgs: []string{threatID}, Query: opts})
}

// AllTimeline iterates over a threat's whole timeline.
//
// API: GET /threats/{threat_id}/timeline
func (s *ThreatsService) AllTimeline(ctx context.Context, threatID string, opts TimelineOptions) iter.Seq2[Activity, error] {
	return all(ctx, opts, func(ctx context.Context, o TimelineOptions) (*Page[Activity], error) {
		return s.Timeline(ctx, threatID, o)
	})
}

// CloudDownload is the Binary Vault link of a threat file.
type CloudDownload struct {
	FileName string `json:"fileName"`
	// DownloadURL is an absolute pre-signed URL; fetch it without the API
	// token (DownloadCloudFile does).
	DownloadURL string `json:"downloadUrl"`
}

// DownloadFromCloud returns the Binary Vault download link of a threat's
// file (Complete SKU with Binary Vault enabled).
//
// API: GET /threats/{threat_id}/download-from-cloud
func (s *ThreatsService) DownloadFromCloud(ctx context.Context, threatID string) (*CloudDownload, error) {
	var out CloudDownload
	req := &rest.Request{Op: "Threats.DownloadFromCloud", Path: "/threats/{}/download-from-cloud", PathArgs: []string{threatID}}
	if _, _, err := s.c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	if out.DownloadURL == "" {
		return nil, s.c.answerError(req, http.StatusOK, "answer has no downloadUrl", ErrMalformedResponse)
	}
	return &out, nil
}

// threatAction posts a filter-based threat action after refusing filters
// that would select every threat in scope.
func (s *ThreatsService) threatAction(ctx context.Context, op, path string, pathArgs []string, filter ThreatFilter, data any) (*ActionResult, error) {
	if err := checkSelective(op, filter); err != nil {
		return nil, err
	}
	if data == nil {
		data = struct{}{}
	}
	var out ActionResult
	_, _, err := s.c.do(ctx, &rest.Request{Op: op, Method: http.MethodPost, Path: path, PathArgs: pathArgs,
		Body: rest.JSONBody(actionBody{Filter: filter, Data: data})}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ActionResult is the answer of a threat action: how many threats were
// affected and, where the console reports them, per-threat results.
type ActionResult struct {
	Affected int                  `json:"affected"`
	Details  []ThreatActionDetail `json:"details,omitempty"`
}

// ThreatActionDetail is the per-threat outcome of an action.
type ThreatActionDetail struct {
	ThreatID string `json:"threatId"`
	// Result is updated, not_changed, already_set, conditions_not_met or
	// missing_permissions (verdicts), or created, already_exists,
	// threat_has_no_hash, ... (add-to-blacklist).
	Result         string             `json:"result"`
	AnalystVerdict string             `json:"analystVerdict,omitempty"`
	Skipped        []SkippedAction    `json:"skipped,omitempty"`
	Reports        []MitigationStatus `json:"reports,omitempty"`
}

// SkippedAction explains why a mitigation was not carried out.
type SkippedAction struct {
	Action      string `json:"action"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
}

// SetAnalystVerdict sets the analyst verdict (VerdictTruePositive,
// VerdictFalsePositive, VerdictSuspicious, VerdictUndefined) of the selected
// threats.
//
// API: POST /threats/analyst-verdict
func (s *ThreatsService) SetAnalystVerdict(ctx context.Context, filter ThreatFilter, verdict string) (*ActionResult, error) {
	return s.threatAction(ctx, "Threats.SetAnalystVerdict", "/threats/analyst-verdict", nil, filter,
		map[string]string{"analystVerdict": verdict})
}

// IncidentUpdate is the data of an incident status change.
type IncidentUpdate struct {
	// IncidentStatus is IncidentUnresolved, IncidentInProgress or
	// IncidentResolved.
	IncidentStatus string `json:"incidentStatus"`
	// AnalystVerdict optionally sets the verdict in the same call.
	AnalystVerdict string `json:"analystVerdict,omitempty"`
}

// SetIncidentStatus changes the incident status of the selected threats.
//
// API: POST /threats/incident
func (s *ThreatsService) SetIncidentStatus(ctx context.Context, filter ThreatFilter, update IncidentUpdate) (*ActionResult, error) {
	return s.threatAction(ctx, "Threats.SetIncidentStatus", "/threats/incident", nil, filter, update)
}

// MitigationAction is a mitigation the console can run on threats.
type MitigationAction string

// Mitigation actions (path segments of /threats/mitigate/{action}).
const (
	MitigateKill                MitigationAction = "kill"
	MitigateQuarantine          MitigationAction = "quarantine"
	MitigateRemediate           MitigationAction = "remediate"
	MitigateRollbackRemediation MitigationAction = "rollback-remediation"
	MitigateUnquarantine        MitigationAction = "un-quarantine"
	MitigateNetworkQuarantine   MitigationAction = "network-quarantine"
)

// Mitigate runs a mitigation action on threats selected by their threat
// ids (never agent ids: the filter's ids are threat ids). The optional
// scope narrows the selection further.
//
// API: POST /threats/mitigate/{action}
func (s *ThreatsService) Mitigate(ctx context.Context, action MitigationAction, threatIDs []string, scope Scope) (*ActionResult, error) {
	switch action {
	case MitigateKill, MitigateQuarantine, MitigateRemediate, MitigateRollbackRemediation, MitigateUnquarantine, MitigateNetworkQuarantine:
	default:
		return nil, invalidf("Threats.Mitigate", "unknown action %q", action)
	}
	if len(threatIDs) == 0 {
		return nil, fmt.Errorf("sentinelone: Threats.Mitigate: %w", ErrEmptyFilter)
	}
	return s.threatAction(ctx, "Threats.Mitigate", "/threats/mitigate/{}", []string{string(action)},
		ThreatFilter{Scope: scope, IDs: threatIDs}, nil)
}

// BlacklistData is the data of POST /threats/add-to-blacklist.
type BlacklistData struct {
	// TargetScope is group, site, account or tenant.
	TargetScope      string `json:"targetScope"`
	Description      string `json:"description,omitempty"`
	Note             string `json:"note,omitempty"`
	ExternalTicketID string `json:"externalTicketId,omitempty"`
}

// AddToBlacklist adds the hashes of the selected threats to the blocklist
// at TargetScope. Details report created, already_exists or
// threat_has_no_hash per threat.
//
// API: POST /threats/add-to-blacklist
func (s *ThreatsService) AddToBlacklist(ctx context.Context, filter ThreatFilter, data BlacklistData) (*ActionResult, error) {
	if data.TargetScope == "" {
		return nil, invalidf("Threats.AddToBlacklist", "targetScope is required")
	}
	return s.threatAction(ctx, "Threats.AddToBlacklist", "/threats/add-to-blacklist", nil, filter, data)
}

// AgentHash pairs a SHA1 with the agent it was seen on.
type AgentHash struct {
	AgentID string `json:"agentId"`
	Hash    string `json:"hash"`
}

// DVAddToBlacklist blocklists hashes seen in Deep Visibility at targetScope
// (site, group, account or global). The call takes no filter.
//
// API: POST /threats/dv-add-to-blacklist
func (s *ThreatsService) DVAddToBlacklist(ctx context.Context, targetScope string, hashes []AgentHash) (int, error) {
	if targetScope == "" || len(hashes) == 0 {
		return 0, invalidf("Threats.DVAddToBlacklist", "targetScope and hashes are required")
	}
	body := map[string]any{"data": map[string]any{"targetScope": targetScope, "hashes": hashes}}
	return s.c.action(ctx, "Threats.DVAddToBlacklist", "/threats/dv-add-to-blacklist", nil, body)
}
