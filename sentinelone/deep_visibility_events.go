package sentinelone

// DVEvent is one Deep Visibility event. Consoles send legacy names
// (processImageSha1Hash, fileSha256, ...) and newer unified names
// (srcProcImageSha1, tgtFileSha256, ...) side by side; both are decoded.
// Boolean-like fields the console sends as "True"/"False" are Bool.
type DVEvent struct {
	ID         string `json:"id"`
	ObjectType string `json:"objectType"`
	EventType  string `json:"eventType"`
	// CreatedAt is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	CreatedAt Time `json:"createdAt"`
	// EventTime is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	EventTime          Time   `json:"eventTime"`
	AgentID            string `json:"agentId"`
	AgentName          string `json:"agentName"`
	AgentUUID          string `json:"agentUuid"`
	AgentOS            string `json:"agentOs"`
	AgentIP            string `json:"agentIp"`
	AgentDomain        string `json:"agentDomain"`
	AgentGroupID       string `json:"agentGroupId"`
	AgentVersion       string `json:"agentVersion"`
	AgentMachineType   string `json:"agentMachineType"`
	AgentNetworkStatus string `json:"agentNetworkStatus"`
	AgentIsActive      Bool   `json:"agentIsActive"`
	AgentInfected      Bool   `json:"agentInfected"`
	SiteID             string `json:"siteId"`
	SiteName           string `json:"siteName"`
	AccountID          string `json:"accountId"`
	User               string `json:"user"`
	// Pid and ParentPid are strings on the wire.
	Pid                  String `json:"pid"`
	ParentPid            String `json:"parentPid"`
	ProcessName          string `json:"processName"`
	ProcessImagePath     string `json:"processImagePath"`
	ProcessImageSha1Hash string `json:"processImageSha1Hash"`
	ProcessCmd           string `json:"processCmd"`
	ProcessDisplayName   string `json:"processDisplayName"`
	// ProcessStartTime is RFC 3339 in UTC with microseconds ("2019-09-15T12:05:49.095889Z").
	ProcessStartTime     Time   `json:"processStartTime"`
	ProcessUniqueKey     string `json:"processUniqueKey"`
	ProcessGroupID       string `json:"processGroupId"`
	ProcessIntegrity     string `json:"processIntegrityLevel"`
	ParentProcessName    string `json:"parentProcessName"`
	Publisher            string `json:"publisher"`
	SignedStatus         string `json:"signedStatus"`
	VerifiedStatus       string `json:"verifiedStatus"`
	RelatedToThreat      Bool   `json:"relatedToThreat"`
	TrueContext          string `json:"trueContext"`
	Storyline            string `json:"storyline"`
	FileFullName         string `json:"fileFullName"`
	FileSha1             string `json:"fileSha1"`
	FileSha256           string `json:"fileSha256"`
	FileMd5              string `json:"fileMd5"`
	FileSize             String `json:"fileSize"`
	FileType             string `json:"fileType"`
	SrcIP                string `json:"srcIp"`
	SrcPort              String `json:"srcPort"`
	DstIP                string `json:"dstIp"`
	DstPort              String `json:"dstPort"`
	Direction            string `json:"direction"`
	NetworkURL           string `json:"networkUrl"`
	DNSRequest           string `json:"dnsRequest"`
	DNSResponse          string `json:"dnsResponse"`
	RegistryPath         string `json:"registryPath"`
	TaskName             string `json:"taskName"`
	TaskPath             string `json:"taskPath"`
	IndicatorName        string `json:"indicatorName"`
	IndicatorCategory    string `json:"indicatorCategory"`
	SrcProcDownloadToken string `json:"srcProcDownloadToken"`

	EndpointName       string `json:"endpointName"`
	EndpointOS         string `json:"endpointOs"`
	EndpointMachineTyp string `json:"endpointMachineType"`
	SrcProcName        string `json:"srcProcName"`
	SrcProcPid         String `json:"srcProcPid"`
	SrcProcUser        string `json:"srcProcUser"`
	SrcProcCmdLine     string `json:"srcProcCmdLine"`
	SrcProcImagePath   string `json:"srcProcImagePath"`
	SrcProcImageSha1   string `json:"srcProcImageSha1"`
	SrcProcImageSha256 string `json:"srcProcImageSha256"`
	SrcProcImageMd5    string `json:"srcProcImageMd5"`
	SrcProcStorylineID string `json:"srcProcStorylineId"`
	SrcProcParentName  string `json:"srcProcParentName"`
	TgtFilePath        string `json:"tgtFilePath"`
	TgtFileSha1        string `json:"tgtFileSha1"`
	TgtFileSha256      string `json:"tgtFileSha256"`
}

// ImageSHA1 returns the SHA1 of the process image under either name.
func (e *DVEvent) ImageSHA1() string {
	if e.ProcessImageSha1Hash != "" {
		return e.ProcessImageSha1Hash
	}
	return e.SrcProcImageSha1
}

// ImagePath returns the path of the process image under either name.
func (e *DVEvent) ImagePath() string {
	if e.ProcessImagePath != "" {
		return e.ProcessImagePath
	}
	return e.SrcProcImagePath
}
