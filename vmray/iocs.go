package vmray

import "encoding/json"

// IOCType names one of the ten IOC lists, as used by the "ioc_type" filter.
type IOCType string

// IOC types.
const (
	IOCFiles          IOCType = "files"
	IOCFilenames      IOCType = "filenames"
	IOCMutexes        IOCType = "mutexes"
	IOCRegistry       IOCType = "registry"
	IOCURLs           IOCType = "urls"
	IOCDomains        IOCType = "domains"
	IOCIPs            IOCType = "ips"
	IOCEmails         IOCType = "emails"
	IOCEmailAddresses IOCType = "email_addresses"
	IOCProcesses      IOCType = "processes"
)

// IOCTypes lists every IOC type.
func IOCTypes() []IOCType {
	return []IOCType{IOCFiles, IOCFilenames, IOCMutexes, IOCRegistry, IOCURLs, IOCDomains, IOCIPs, IOCEmails, IOCEmailAddresses, IOCProcesses}
}

// IOCResult is the answer of [SamplesService.IOCs].
type IOCResult struct {
	// Status is "finished" once every analysis contributed.
	Status string `json:"status"`
	IOCs   IOCs   `json:"iocs"`
}

// Finished reports whether the IOC list is complete.
func (r *IOCResult) Finished() bool { return r.Status == "" || r.Status == StatusFinished }

// StatusFinished is the "status" of complete VTI, IOC and MITRE results.
const StatusFinished = "finished"

// IOCs holds the ten IOC lists ("IOCS").
type IOCs struct {
	Files          []FileIOC         `json:"files"`
	Filenames      []FilenameIOC     `json:"filenames"`
	Mutexes        []MutexIOC        `json:"mutexes"`
	Registry       []RegistryIOC     `json:"registry"`
	IPs            []IPIOC           `json:"ips"`
	URLs           []URLIOC          `json:"urls"`
	Domains        []DomainIOC       `json:"domains"`
	EmailAddresses []EmailAddressIOC `json:"email_addresses"`
	Emails         []EmailIOC        `json:"emails"`
	Processes      []ProcessIOC      `json:"processes"`
}

// Len is the number of IOCs in all lists.
func (i *IOCs) Len() int {
	return len(i.Files) + len(i.Filenames) + len(i.Mutexes) + len(i.Registry) + len(i.IPs) + len(i.URLs) +
		len(i.Domains) + len(i.EmailAddresses) + len(i.Emails) + len(i.Processes)
}

// IOCCommon holds the fields every IOC carries.
type IOCCommon struct {
	// ID is often 0 (VMRay marks it deprecated).
	ID      int64  `json:"id"`
	Version int    `json:"version"`
	IOCType string `json:"ioc_type"`
	// Type is the artifact type, for example "file_artifact".
	Type string `json:"type"`
	// IOC is false only for artifacts listed with all_artifacts.
	IOC                      *bool    `json:"ioc"`
	Verdict                  Verdict  `json:"verdict"`
	VerdictReasonCode        *int     `json:"verdict_reason_code"`
	VerdictReasonDescription string   `json:"verdict_reason_description"`
	Severity                 Severity `json:"severity"`
	// NumericSeverity is 0 (not suspicious), 3 (suspicious) or 4 (malicious).
	NumericSeverity *int    `json:"numeric_severity"`
	AnalysisIDs     []int64 `json:"analysis_ids"`
}

// ParentProcesses are the processes that touched an artifact.
type ParentProcesses struct {
	ParentProcesses      []json.RawMessage `json:"parent_processes"`
	ParentProcessesNames []string          `json:"parent_processes_names"`
	ParentProcessesIDs   []int64           `json:"parent_processes_ids"`
}

// IOCHashes are the hashes of a file or email IOC.
type IOCHashes struct {
	MD5    string `json:"md5_hash"`
	SHA1   string `json:"sha1_hash"`
	SHA256 string `json:"sha256_hash"`
	SSDeep string `json:"ssdeep_hash"`
}

// FileIOC is a file artifact.
type FileIOC struct {
	IOCCommon
	ParentProcesses
	Filename        string            `json:"filename"`
	Filenames       []string          `json:"filenames"`
	NormFilename    string            `json:"norm_filename"`
	Hashes          []IOCHashes       `json:"hashes"`
	FileSize        *int64            `json:"file_size"`
	MimeType        string            `json:"mime_type"`
	Operations      []string          `json:"operations"`
	Categories      []string          `json:"categories"`
	Classifications []string          `json:"classifications"`
	ThreatNames     []string          `json:"threat_names"`
	VTIs            []string          `json:"vtis"`
	Relations       []json.RawMessage `json:"relations"`
	ParentFiles     []json.RawMessage `json:"parent_files"`
	ResourceURL     []json.RawMessage `json:"resource_url"`
}

// FilenameIOC is a file name artifact.
type FilenameIOC struct {
	IOCCommon
	Filename        string            `json:"filename"`
	Operations      []string          `json:"operations"`
	Categories      []string          `json:"categories"`
	Classifications []string          `json:"classifications"`
	ThreatNames     []string          `json:"threat_names"`
	VTIs            []string          `json:"vtis"`
	Relations       []json.RawMessage `json:"relations"`
}

// MutexIOC is a mutex artifact.
type MutexIOC struct {
	IOCCommon
	ParentProcesses
	MutexName       string   `json:"mutex_name"`
	Operations      []string `json:"operations"`
	Classifications []string `json:"classifications"`
	ThreatNames     []string `json:"threat_names"`
}

// RegistryIOC is a registry key artifact.
type RegistryIOC struct {
	IOCCommon
	ParentProcesses
	RegKeyName       string   `json:"reg_key_name"`
	RegKeyValueTypes []string `json:"reg_key_value_types"`
	Operations       []string `json:"operations"`
	Classifications  []string `json:"classifications"`
	ThreatNames      []string `json:"threat_names"`
}

// URLIOC is a URL artifact.
type URLIOC struct {
	IOCCommon
	ParentProcesses
	URL          string            `json:"url"`
	OriginalURLs []string          `json:"original_urls"`
	Categories   []string          `json:"categories"`
	Methods      []string          `json:"methods"`
	UserAgents   []string          `json:"user_agents"`
	Referrers    []string          `json:"referrers"`
	ContentTypes []string          `json:"content_types"`
	IPAddresses  []string          `json:"ip_addresses"`
	Countries    []string          `json:"countries"`
	CountryCodes []string          `json:"country_codes"`
	ParentFiles  []json.RawMessage `json:"parent_files"`
	Sources      []string          `json:"sources"`
}

// DomainIOC is a domain artifact.
type DomainIOC struct {
	IOCCommon
	ParentProcesses
	Domain          string   `json:"domain"`
	OriginalDomains []string `json:"original_domains"`
	Protocols       []string `json:"protocols"`
	IPAddresses     []string `json:"ip_addresses"`
	Countries       []string `json:"countries"`
	CountryCodes    []string `json:"country_codes"`
	Sources         []string `json:"sources"`
}

// IPIOC is an IP address artifact.
type IPIOC struct {
	IOCCommon
	ParentProcesses
	IPAddress   string   `json:"ip_address"`
	Protocols   []string `json:"protocols"`
	Domains     []string `json:"domains"`
	Country     string   `json:"country"`
	CountryCode string   `json:"country_code"`
	Sources     []string `json:"sources"`
}

// EmailAddressIOC is an email address artifact.
type EmailAddressIOC struct {
	IOCCommon
	EmailAddress    string   `json:"email_address"`
	Sender          *bool    `json:"sender"`
	Recipient       *bool    `json:"recipient"`
	Subjects        []string `json:"subjects"`
	Classifications []string `json:"classifications"`
	ThreatNames     []string `json:"threat_names"`
}

// EmailIOC is an email message artifact.
type EmailIOC struct {
	IOCCommon
	Sender          string            `json:"sender"`
	Subject         string            `json:"subject"`
	Recipients      []string          `json:"recipients"`
	NrLinks         *int              `json:"nr_links"`
	NrAttachments   *int              `json:"nr_attachments"`
	AttachmentTypes []string          `json:"attachment_types"`
	Hashes          []IOCHashes       `json:"hashes"`
	Classifications []string          `json:"classifications"`
	ThreatNames     []string          `json:"threat_names"`
	VTIs            []string          `json:"vtis"`
	Relations       []json.RawMessage `json:"relations"`
}

// ProcessIOC is a process artifact.
type ProcessIOC struct {
	IOCCommon
	ParentProcesses
	ProcessNames    []string `json:"process_names"`
	ImageNames      []string `json:"image_names"`
	CmdLine         string   `json:"cmd_line"`
	Classifications []string `json:"classifications"`
	ThreatNames     []string `json:"threat_names"`
}
