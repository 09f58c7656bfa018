package sentinelone

import "encoding/json"

// Threat is one item of GET /threats (the nested v2.1 shape).
type Threat struct {
	ID                 string             `json:"id"`
	ThreatInfo         ThreatInfo         `json:"threatInfo"`
	AgentRealtimeInfo  AgentRealtimeInfo  `json:"agentRealtimeInfo"`
	AgentDetectionInfo AgentDetectionInfo `json:"agentDetectionInfo"`
	MitigationStatus   MitigationStatuses `json:"mitigationStatus"`
	Indicators         []Indicator        `json:"indicators"`
	ContainerInfo      ContainerInfo      `json:"containerInfo"`
	KubernetesInfo     KubernetesInfo     `json:"kubernetesInfo"`
	// EcsInfo is kept raw: its shape varies between console releases.
	EcsInfo          json.RawMessage `json:"ecsInfo,omitempty"`
	WhiteningOptions []string        `json:"whiteningOptions"`
}

// ThreatInfo describes the detection and the file.
type ThreatInfo struct {
	ThreatID                    string `json:"threatId"`
	ThreatName                  string `json:"threatName"`
	Classification              string `json:"classification"`
	ClassificationSource        string `json:"classificationSource"`
	ConfidenceLevel             string `json:"confidenceLevel"`
	AnalystVerdict              string `json:"analystVerdict"`
	AnalystVerdictDescription   string `json:"analystVerdictDescription"`
	IncidentStatus              string `json:"incidentStatus"`
	IncidentStatusDescription   string `json:"incidentStatusDescription"`
	MitigationStatus            string `json:"mitigationStatus"`
	MitigationStatusDescription string `json:"mitigationStatusDescription"`
	SHA1                        string `json:"sha1"`
	SHA256                      string `json:"sha256"`
	MD5                         string `json:"md5"`
	// FilePath is a string in practice although the schema calls it an
	// object; String keeps any shape as text.
	FilePath             String `json:"filePath"`
	FileSize             int64  `json:"fileSize"`
	FileExtension        string `json:"fileExtension"`
	FileExtensionType    string `json:"fileExtensionType"`
	FileVerificationType string `json:"fileVerificationType"`
	PublisherName        string `json:"publisherName"`
	CertificateID        string `json:"certificateId"`
	IsValidCertificate   bool   `json:"isValidCertificate"`
	Storyline            string `json:"storyline"`
	CollectionID         string `json:"collectionId"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// UpdatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	UpdatedAt Time `json:"updatedAt"`
	// IdentifiedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	IdentifiedAt           Time              `json:"identifiedAt"`
	DetectionType          string            `json:"detectionType"`
	Engines                []string          `json:"engines"`
	DetectionEngines       []DetectionEngine `json:"detectionEngines"`
	InitiatedBy            string            `json:"initiatedBy"`
	InitiatedByDescription string            `json:"initiatedByDescription"`
	InitiatingUserID       string            `json:"initiatingUserId"`
	InitiatingUsername     string            `json:"initiatingUsername"`
	ProcessUser            string            `json:"processUser"`
	OriginatorProcess      string            `json:"originatorProcess"`
	MaliciousProcessArgs   string            `json:"maliciousProcessArguments"`
	IsFileless             bool              `json:"isFileless"`
	MitigatedPreemptively  bool              `json:"mitigatedPreemptively"`
	AutomaticallyResolved  bool              `json:"automaticallyResolved"`
	PendingActions         bool              `json:"pendingActions"`
	FailedActions          bool              `json:"failedActions"`
	RebootRequired         bool              `json:"rebootRequired"`
	ReachedEventsLimit     bool              `json:"reachedEventsLimit"`
	CloudFilesHashVerdict  string            `json:"cloudFilesHashVerdict"`
	BrowserType            string            `json:"browserType"`
	ExternalTicketExists   bool              `json:"externalTicketExists"`
	ExternalTicketID       string            `json:"externalTicketId"`
	RootProcessUpn         string            `json:"rootProcessUpn"`
}

// DetectionEngine is one engine that flagged a threat.
type DetectionEngine struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// NetworkInterface is one interface of an agent.
type NetworkInterface struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Inet              []string `json:"inet"`
	Inet6             []string `json:"inet6"`
	Physical          string   `json:"physical"`
	GatewayIP         string   `json:"gatewayIp"`
	GatewayMacAddress string   `json:"gatewayMacAddress"`
}

// AgentRealtimeInfo is the agent's state now.
type AgentRealtimeInfo struct {
	AgentID               string `json:"agentId"`
	AgentUUID             string `json:"agentUuid"`
	AgentComputerName     string `json:"agentComputerName"`
	AgentDomain           string `json:"agentDomain"`
	AgentOSType           string `json:"agentOsType"`
	AgentOSName           string `json:"agentOsName"`
	AgentOSRevision       string `json:"agentOsRevision"`
	AgentVersion          string `json:"agentVersion"`
	AgentMachineType      string `json:"agentMachineType"`
	AgentMitigationMode   string `json:"agentMitigationMode"`
	AgentNetworkStatus    string `json:"agentNetworkStatus"`
	AgentIsActive         bool   `json:"agentIsActive"`
	AgentIsDecommissioned bool   `json:"agentIsDecommissioned"`
	// AgentDecommissionedAt is a timestamp, but old records carry true.
	AgentDecommissionedAt Time               `json:"agentDecommissionedAt"`
	AgentInfected         bool               `json:"agentInfected"`
	ActiveThreats         int                `json:"activeThreats"`
	AccountID             string             `json:"accountId"`
	AccountName           string             `json:"accountName"`
	SiteID                string             `json:"siteId"`
	SiteName              string             `json:"siteName"`
	GroupID               string             `json:"groupId"`
	GroupName             string             `json:"groupName"`
	NetworkInterfaces     []NetworkInterface `json:"networkInterfaces"`
	OperationalState      string             `json:"operationalState"`
	RebootRequired        bool               `json:"rebootRequired"`
	ScanStatus            string             `json:"scanStatus"`
	// ScanStartedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanStartedAt Time `json:"scanStartedAt"`
	// ScanFinishedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanFinishedAt Time `json:"scanFinishedAt"`
	// ScanAbortedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ScanAbortedAt     Time     `json:"scanAbortedAt"`
	UserActionsNeeded []string `json:"userActionsNeeded"`
	StorageName       string   `json:"storageName"`
	StorageType       string   `json:"storageType"`
}

// AgentDetectionInfo is the agent's state when the threat was detected.
type AgentDetectionInfo struct {
	AccountID                 string `json:"accountId"`
	AccountName               string `json:"accountName"`
	SiteID                    string `json:"siteId"`
	SiteName                  string `json:"siteName"`
	GroupID                   string `json:"groupId"`
	GroupName                 string `json:"groupName"`
	AgentUUID                 string `json:"agentUuid"`
	AgentVersion              string `json:"agentVersion"`
	AgentOSName               string `json:"agentOsName"`
	AgentOSRevision           string `json:"agentOsRevision"`
	AgentDomain               string `json:"agentDomain"`
	AgentIPV4                 string `json:"agentIpV4"`
	AgentIPV6                 string `json:"agentIpV6"`
	ExternalIP                string `json:"externalIp"`
	AgentLastLoggedInUserName string `json:"agentLastLoggedInUserName"`
	AgentLastLoggedInUserMail string `json:"agentLastLoggedInUserMail"`
	AgentLastLoggedInUpn      string `json:"agentLastLoggedInUpn"`
	AgentMitigationMode       string `json:"agentMitigationMode"`
	AgentDetectionState       string `json:"agentDetectionState"`
	// AgentRegisteredAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	AgentRegisteredAt Time   `json:"agentRegisteredAt"`
	AssetVersion      string `json:"assetVersion"`
}

// MitigationStatus is the state of one mitigation action on a threat.
type MitigationStatus struct {
	Action              string          `json:"action"`
	Status              string          `json:"status"`
	ActionsCounters     *ActionCounters `json:"actionsCounters"`
	AgentSupportsReport bool            `json:"agentSupportsReport"`
	GroupNotFound       bool            `json:"groupNotFound"`
	// LastUpdate is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	LastUpdate   Time   `json:"lastUpdate"`
	LatestReport string `json:"latestReport"`
	// MitigationStartedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	MitigationStartedAt Time `json:"mitigationStartedAt"`
	// MitigationEndedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	MitigationEndedAt Time   `json:"mitigationEndedAt"`
	ReportID          string `json:"reportId"`
}

// ActionCounters counts the outcomes of one mitigation action.
type ActionCounters struct {
	Failed        int `json:"failed"`
	NotFound      int `json:"notFound"`
	PendingReboot int `json:"pendingReboot"`
	Success       int `json:"success"`
	Total         int `json:"total"`
}

// Indicator is one behavioural indicator of a threat.
type Indicator struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	IDs         []int    `json:"ids"`
	Tactics     []Tactic `json:"tactics"`
}

// Tactic is a MITRE tactic of an indicator.
type Tactic struct {
	Name       string      `json:"name"`
	Source     string      `json:"source"`
	Techniques []Technique `json:"techniques"`
}

// Technique is a MITRE technique.
type Technique struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

// ContainerInfo describes the container of a threat, mostly null.
type ContainerInfo struct {
	ID                    string          `json:"id"`
	Image                 string          `json:"image"`
	Name                  string          `json:"name"`
	Labels                json.RawMessage `json:"labels,omitempty"`
	IsContainerQuarantine *bool           `json:"isContainerQuarantine"`
}

// KubernetesInfo describes the Kubernetes placement of a threat, mostly null.
type KubernetesInfo struct {
	Cluster               string          `json:"cluster"`
	ControllerKind        string          `json:"controllerKind"`
	ControllerName        string          `json:"controllerName"`
	ControllerLabels      json.RawMessage `json:"controllerLabels,omitempty"`
	Namespace             string          `json:"namespace"`
	NamespaceLabels       json.RawMessage `json:"namespaceLabels,omitempty"`
	Node                  string          `json:"node"`
	NodeLabels            json.RawMessage `json:"nodeLabels,omitempty"`
	Pod                   string          `json:"pod"`
	PodLabels             json.RawMessage `json:"podLabels,omitempty"`
	IsContainerQuarantine *bool           `json:"isContainerQuarantine"`
}

// Threat enumerations as the console spells them on the wire.
const (
	ConfidenceMalicious  = "malicious"
	ConfidenceSuspicious = "suspicious"
	ConfidenceNA         = "n/a"

	VerdictUndefined     = "undefined"
	VerdictTruePositive  = "true_positive"
	VerdictFalsePositive = "false_positive"
	VerdictSuspicious    = "suspicious"

	IncidentUnresolved = "unresolved"
	IncidentInProgress = "in_progress"
	IncidentResolved   = "resolved"

	MitigationStatusMitigated      = "mitigated"
	MitigationStatusNotMitigated   = "not_mitigated"
	MitigationStatusMarkedAsBenign = "marked_as_benign"

	OSWindows       = "windows"
	OSMacOS         = "macos"
	OSLinux         = "linux"
	OSWindowsLegacy = "windows_legacy"
)
