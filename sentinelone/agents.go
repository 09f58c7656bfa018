package sentinelone

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/soarkit/soarkit/internal/rest"
)

// AgentsService covers /agents: listing, actions and file fetches.
type AgentsService service

// Agent is one endpoint of GET /agents.
type Agent struct {
	ID                       string `json:"id"`
	UUID                     string `json:"uuid"`
	ComputerName             string `json:"computerName"`
	AccountID                string `json:"accountId"`
	AccountName              string `json:"accountName"`
	SiteID                   string `json:"siteId"`
	SiteName                 string `json:"siteName"`
	GroupID                  string `json:"groupId"`
	GroupName                string `json:"groupName"`
	GroupIP                  string `json:"groupIp"`
	AgentVersion             string `json:"agentVersion"`
	IsActive                 bool   `json:"isActive"`
	IsDecommissioned         bool   `json:"isDecommissioned"`
	IsUninstalled            bool   `json:"isUninstalled"`
	IsPendingUninstall       bool   `json:"isPendingUninstall"`
	IsUpToDate               Bool   `json:"isUpToDate"`
	Infected                 bool   `json:"infected"`
	ActiveThreats            int    `json:"activeThreats"`
	NetworkStatus            string `json:"networkStatus"`
	NetworkQuarantineEnabled bool   `json:"networkQuarantineEnabled"`
	MitigationMode           string `json:"mitigationMode"`
	MitigationModeSuspicious string `json:"mitigationModeSuspicious"`
	MachineType              string `json:"machineType"`
	OSType                   string `json:"osType"`
	OSName                   string `json:"osName"`
	OSRevision               string `json:"osRevision"`
	OSArch                   string `json:"osArch"`
	// OSStartTime is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	OSStartTime          Time   `json:"osStartTime"`
	OSUsername           string `json:"osUsername"`
	LastLoggedInUserName string `json:"lastLoggedInUserName"`
	// LastActiveDate is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	LastActiveDate Time   `json:"lastActiveDate"`
	LastIPToMgmt   string `json:"lastIpToMgmt"`
	ExternalIP     string `json:"externalIp"`
	Domain         string `json:"domain"`
	// RegisteredAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	RegisteredAt Time `json:"registeredAt"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt  Time   `json:"updatedAt"`
	ScanStatus string `json:"scanStatus"`
	// ScanStartedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanStartedAt Time `json:"scanStartedAt"`
	// ScanFinishedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanFinishedAt Time `json:"scanFinishedAt"`
	// ScanAbortedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanAbortedAt Time `json:"scanAbortedAt"`
	// LastSuccessfulScanDate is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	LastSuccessfulScanDate Time               `json:"lastSuccessfulScanDate"`
	EncryptedApplications  bool               `json:"encryptedApplications"`
	FirewallEnabled        Bool               `json:"firewallEnabled"`
	LocationEnabled        bool               `json:"locationEnabled"`
	LocationType           string             `json:"locationType"`
	NetworkInterfaces      []NetworkInterface `json:"networkInterfaces"`
	ActiveDirectory        ActiveDirectory    `json:"activeDirectory"`
	CPUCount               int                `json:"cpuCount"`
	CoreCount              int                `json:"coreCount"`
	CPUID                  string             `json:"cpuId"`
	TotalMemory            int64              `json:"totalMemory"`
	ModelName              string             `json:"modelName"`
	SerialNumber           string             `json:"serialNumber"`
	InstallerType          string             `json:"installerType"`
	OperationalState       string             `json:"operationalState"`
	// OperationalStateExp is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	OperationalStateExp     Time     `json:"operationalStateExpiration"`
	AllowRemoteShell        bool     `json:"allowRemoteShell"`
	InRemoteShellSession    bool     `json:"inRemoteShellSession"`
	ThreatRebootRequired    bool     `json:"threatRebootRequired"`
	UserActionsNeeded       []string `json:"userActionsNeeded"`
	MissingPermissions      []string `json:"missingPermissions"`
	ExternalID              string   `json:"externalId"`
	RangerStatus            string   `json:"rangerStatus"`
	RangerVersion           string   `json:"rangerVersion"`
	AppsVulnerabilityStatus string   `json:"appsVulnerabilityStatus"`
	ConsoleMigrationStatus  string   `json:"consoleMigrationStatus"`
	RemoteProfilingState    string   `json:"remoteProfilingState"`
	DetectionState          string   `json:"detectionState"`
	// Tags, Locations and CloudProviders are kept raw: their shapes vary.
	Tags           json.RawMessage `json:"tags,omitempty"`
	Locations      json.RawMessage `json:"locations,omitempty"`
	CloudProviders json.RawMessage `json:"cloudProviders,omitempty"`
}

// ActiveDirectory is the directory information of an agent.
type ActiveDirectory struct {
	ComputerDistinguishedName string   `json:"computerDistinguishedName"`
	ComputerMemberOf          []string `json:"computerMemberOf"`
	LastUserDistinguishedName string   `json:"lastUserDistinguishedName"`
	LastUserMemberOf          []string `json:"lastUserMemberOf"`
	Mail                      string   `json:"mail"`
	UserPrincipalName         string   `json:"userPrincipalName"`
}

// AgentFilter selects agents, in GET /agents query strings and in the filter
// of agent actions.
type AgentFilter struct {
	Scope
	IDs                  []string `json:"ids,omitempty" url:"ids,comma,omitempty"`
	UUIDs                []string `json:"uuids,omitempty" url:"uuids,comma,omitempty"`
	ComputerName         string   `json:"computerName,omitempty" url:"computerName,omitempty"`
	ComputerNameContains []string `json:"computerName__contains,omitempty" url:"computerName__contains,comma,omitempty"`
	ComputerNameLike     string   `json:"computerName__like,omitempty" url:"computerName__like,omitempty"`
	IsActive             *bool    `json:"isActive,omitempty" url:"isActive,omitempty"`
	Infected             *bool    `json:"infected,omitempty" url:"infected,omitempty"`
	NetworkStatuses      []string `json:"networkStatuses,omitempty" url:"networkStatuses,comma,omitempty"`
	OSTypes              []string `json:"osTypes,omitempty" url:"osTypes,comma,omitempty"`
	MachineTypes         []string `json:"machineTypes,omitempty" url:"machineTypes,comma,omitempty"`
	Domains              []string `json:"domains,omitempty" url:"domains,comma,omitempty"`
	ScanStatuses         []string `json:"scanStatuses,omitempty" url:"scanStatuses,comma,omitempty"`
	ExternalIPContains   []string `json:"externalIp__contains,omitempty" url:"externalIp__contains,comma,omitempty"`
	// LastActiveDateGt is sent as RFC 3339 in UTC with microseconds.
	LastActiveDateGt Time `json:"lastActiveDate__gt,omitzero" url:"lastActiveDate__gt,omitempty"`
	// LastActiveDateLt is sent as RFC 3339 in UTC with microseconds.
	LastActiveDateLt Time `json:"lastActiveDate__lt,omitzero" url:"lastActiveDate__lt,omitempty"`
	// CreatedAtGt is sent as RFC 3339 in UTC with microseconds.
	CreatedAtGt Time `json:"createdAt__gt,omitzero" url:"createdAt__gt,omitempty"`
	// CreatedAtLt is sent as RFC 3339 in UTC with microseconds.
	CreatedAtLt Time   `json:"createdAt__lt,omitzero" url:"createdAt__lt,omitempty"`
	Query       string `json:"query,omitempty" url:"query,omitempty"`
}

// AgentListOptions are the parameters of GET /agents.
type AgentListOptions struct {
	AgentFilter
	ListOptions
}

// List returns one page of agents.
//
// API: GET /agents
func (s *AgentsService) List(ctx context.Context, opts AgentListOptions) (*Page[Agent], error) {
	return list[Agent](ctx, s.c, &rest.Request{Op: "Agents.List", Path: "/agents", Query: opts})
}

// All iterates over every matching agent.
//
// API: GET /agents
func (s *AgentsService) All(ctx context.Context, opts AgentListOptions) iter.Seq2[Agent, error] {
	return all(ctx, opts, s.List)
}

// Get returns one agent by id; a missing agent is reported as ErrNotFound.
//
// API: GET /agents?ids=
func (s *AgentsService) Get(ctx context.Context, agentID string) (*Agent, error) {
	return getByID[Agent](ctx, s.c, "Agents.Get", "/agents", "agent "+agentID,
		AgentListOptions{AgentFilter: AgentFilter{IDs: []string{agentID}}, ListOptions: ListOptions{Limit: 1}})
}
