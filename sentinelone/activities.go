package sentinelone

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// ActivitiesService covers the activity log.
type ActivitiesService service

// Activity types used by soarkit's flows.
const (
	// ActivityFetchedFilesUploaded (80): an agent uploaded the files of
	// POST /agents/{id}/actions/fetch-files.
	ActivityFetchedFilesUploaded = 80
	// ActivityThreatFileUploaded (86): an agent uploaded a threat file
	// requested with POST /threats/fetch-file.
	ActivityThreatFileUploaded = 86
	// ActivityAgentDisconnected (1001): network isolation done.
	ActivityAgentDisconnected = 1001
	// ActivityAgentReconnected (1002): network isolation lifted.
	ActivityAgentReconnected = 1002
)

// Activity is one entry of the activity log (and of a threat's timeline).
type Activity struct {
	ID                   string `json:"id"`
	ActivityType         int    `json:"activityType"`
	ActivityUUID         string `json:"activityUuid"`
	AccountID            string `json:"accountId"`
	AccountName          string `json:"accountName"`
	SiteID               string `json:"siteId"`
	SiteName             string `json:"siteName"`
	GroupID              string `json:"groupId"`
	GroupName            string `json:"groupName"`
	AgentID              string `json:"agentId"`
	AgentUpdatedVersion  string `json:"agentUpdatedVersion"`
	ThreatID             string `json:"threatId"`
	UserID               string `json:"userId"`
	Hash                 string `json:"hash"`
	OSFamily             string `json:"osFamily"`
	PrimaryDescription   string `json:"primaryDescription"`
	SecondaryDescription string `json:"secondaryDescription"`
	Description          string `json:"description"`
	Comments             string `json:"comments"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt Time         `json:"updatedAt"`
	Data      ActivityData `json:"data"`
}

// ActivityData is the free-form data of an activity: the keys soarkit uses
// are typed (numeric ids inside it are read as text), and Raw keeps the whole
// object.
type ActivityData struct {
	AccountID                  String `json:"accountId"`
	AccountName                string `json:"accountName"`
	SiteName                   string `json:"siteName"`
	GroupName                  string `json:"groupName"`
	ComputerName               string `json:"computerName"`
	ExternalIP                 string `json:"externalIp"`
	IPAddress                  string `json:"ipAddress"`
	Username                   string `json:"username"`
	RealUser                   string `json:"realUser"`
	CommandID                  String `json:"commandId"`
	CommandBatchUUID           string `json:"commandBatchUuid"`
	DownloadURL                string `json:"downloadUrl"`
	FilePath                   string `json:"filePath"`
	FileContentHash            string `json:"fileContentHash"`
	FileDisplayName            string `json:"fileDisplayName"`
	FileSize                   Int    `json:"fileSize"`
	Filename                   string `json:"filename"`
	UploadedFilename           string `json:"uploadedFilename"`
	SourceType                 string `json:"sourceType"`
	Storyline                  String `json:"storyline"`
	ThreatClassification       string `json:"threatClassification"`
	ThreatClassificationSource string `json:"threatClassificationSource"`
	ScopeLevel                 string `json:"scopeLevel"`
	ScopeName                  string `json:"scopeName"`
	FullScopeDetails           string `json:"fullScopeDetails"`
	FullScopeDetailsPath       string `json:"fullScopeDetailsPath"`
	// Raw is the data object as sent.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the typed keys and keeps the raw object.
func (d *ActivityData) UnmarshalJSON(b []byte) error {
	type plain ActivityData
	var p plain
	if string(b) != "null" {
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		p.Raw = append(json.RawMessage(nil), b...)
	}
	*d = ActivityData(p)
	return nil
}

// MarshalJSON writes the raw object when there is one.
func (d ActivityData) MarshalJSON() ([]byte, error) {
	if len(d.Raw) > 0 {
		return d.Raw, nil
	}
	type plain ActivityData
	return json.Marshal(plain(d))
}

// ActivityListOptions are the parameters of GET /activities.
type ActivityListOptions struct {
	Scope
	ActivityTypes []int    `url:"activityTypes,comma,omitempty"`
	IDs           []string `url:"ids,comma,omitempty"`
	AgentIDs      []string `url:"agentIds,comma,omitempty"`
	ThreatIDs     []string `url:"threatIds,comma,omitempty"`
	UserIDs       []string `url:"userIds,comma,omitempty"`
	CreatedAtGt   Time     `url:"createdAt__gt,omitempty"`
	CreatedAtGte  Time     `url:"createdAt__gte,omitempty"`
	CreatedAtLt   Time     `url:"createdAt__lt,omitempty"`
	CreatedAtLte  Time     `url:"createdAt__lte,omitempty"`
	IncludeHidden bool     `url:"includeHidden,omitempty"`
	ListOptions
}

// List returns one page of activities.
//
// API: GET /activities
func (s *ActivitiesService) List(ctx context.Context, opts ActivityListOptions) (*Page[Activity], error) {
	return list[Activity](ctx, s.c, &rest.Request{Op: "Activities.List", Path: "/activities", Query: opts})
}

// All iterates over every matching activity.
//
// API: GET /activities
func (s *ActivitiesService) All(ctx context.Context, opts ActivityListOptions) iter.Seq2[Activity, error] {
	return all(ctx, opts, s.List)
}

// ActivityType is one entry of the activity type catalogue.
type ActivityType struct {
	ID                  int    `json:"id"`
	Action              string `json:"action"`
	DescriptionTemplate string `json:"descriptionTemplate"`
}

// Types returns the catalogue of activity types (also a cheap connectivity
// check).
//
// API: GET /activities/types
func (s *ActivitiesService) Types(ctx context.Context) ([]ActivityType, error) {
	var out []ActivityType
	_, _, err := s.c.do(ctx, &rest.Request{Op: "Activities.Types", Path: "/activities/types"}, &out)
	return out, err
}
