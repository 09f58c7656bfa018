package vmray

import "encoding/json"

// Sample is a file or URL VMRay knows ("Sample"). Nullable fields are
// pointers (or "" for the enum types); fields VMRay adds beyond these are
// ignored.
type Sample struct {
	ID int64 `json:"sample_id"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created                  Time              `json:"sample_created"`
	Filename                 string            `json:"sample_filename"`
	Filesize                 int64             `json:"sample_filesize"`
	Type                     string            `json:"sample_type"`
	MD5                      string            `json:"sample_md5hash"`
	SHA1                     string            `json:"sample_sha1hash"`
	SHA256                   string            `json:"sample_sha256hash"`
	SSDeep                   *string           `json:"sample_ssdeephash"`
	ImpHash                  *string           `json:"sample_imphash"`
	EmailHash                *string           `json:"sample_emailhash"`
	URL                      *string           `json:"sample_url"`
	DisplayURL               *string           `json:"sample_display_url"`
	WebifURL                 string            `json:"sample_webif_url"`
	IsMultipart              bool              `json:"sample_is_multipart"`
	PasswordProtected        bool              `json:"sample_password_protected"`
	Priority                 int               `json:"sample_priority"`
	ContainerType            *string           `json:"sample_container_type"`
	Verdict                  Verdict           `json:"sample_verdict"`
	VerdictReasonCode        *int              `json:"sample_verdict_reason_code"`
	VerdictReasonDescription *string           `json:"sample_verdict_reason_description"`
	VTIScore                 *Score            `json:"sample_vti_score"`
	HighestVTIScore          *Score            `json:"sample_highest_vti_score"`
	HighestVTISeverity       Severity          `json:"sample_highest_vti_severity"`
	Score                    *Score            `json:"sample_score"`
	Severity                 Severity          `json:"sample_severity"`
	Classifications          []string          `json:"sample_classifications"`
	ThreatNames              []string          `json:"sample_threat_names"`
	ChildSampleIDs           []int64           `json:"sample_child_sample_ids"`
	ParentSampleIDs          []int64           `json:"sample_parent_sample_ids"`
	ChildRelations           []json.RawMessage `json:"sample_child_relations"`
	ChildRelationsTruncated  *bool             `json:"sample_child_relations_truncated"`
	ParentRelations          []json.RawMessage `json:"sample_parent_relations"`
	ParentRelationsTruncated *bool             `json:"sample_parent_relations_truncated"`
	LastReputationSeverity   *string           `json:"sample_last_reputation_severity"`
	LastVTScore              *int              `json:"sample_last_vt_score"`
	LastMDScore              *int              `json:"sample_last_md_score"`
	// SubmissionFilename is present only in submit results.
	SubmissionFilename string `json:"submission_filename,omitempty"`
}

// EffectiveVerdict returns the sample's verdict, falling back for servers
// older than 4.0 to its severity and then to its score (see
// [VerdictFromSeverity], [VerdictFromScore]). It is VerdictNotAvailable while
// nothing is known.
func (s *Sample) EffectiveVerdict() Verdict {
	score := s.Score
	if score == nil {
		score = s.VTIScore
	}
	return effectiveVerdict(s.Verdict, s.Severity, score)
}

// SampleRelation links a sample to a related one ("SampleRelation"),
// listed by [SamplesService.Relations].
type SampleRelation struct {
	ID int64 `json:"sample_relation_id"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created        Time    `json:"sample_relation_created"`
	Relation       string  `json:"sample_relation_relation"`
	RelationReason *string `json:"sample_relation_relation_reason"`
	SampleID       int64   `json:"sample_relation_sample_id"`
	SampleMD5      string  `json:"sample_relation_sample_md5"`
	SampleSHA1     string  `json:"sample_relation_sample_sha1"`
	SampleSHA256   string  `json:"sample_relation_sample_sha256"`
	SampleSSDeep   *string `json:"sample_relation_sample_ssdeep"`
	SubmissionID   *int64  `json:"sample_relation_submission_id"`
}

// Submission is one submission of a sample ("Submission").
type Submission struct {
	ID           int64   `json:"submission_id"`
	SampleID     int64   `json:"submission_sample_id"`
	SampleMD5    string  `json:"submission_sample_md5"`
	SampleSHA1   string  `json:"submission_sample_sha1"`
	SampleSHA256 string  `json:"submission_sample_sha256"`
	SampleSSDeep *string `json:"submission_sample_ssdeep"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created  Time `json:"submission_created"`
	Finished bool `json:"submission_finished"`
	// FinishTime is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	FinishTime               Time             `json:"submission_finish_time"`
	Status                   SubmissionStatus `json:"submission_status"`
	HasErrors                *bool            `json:"submission_has_errors"`
	HasRecursiveErrors       *bool            `json:"submission_has_recursive_errors"`
	Verdict                  Verdict          `json:"submission_verdict"`
	VerdictReasonCode        *int             `json:"submission_verdict_reason_code"`
	VerdictReasonDescription *string          `json:"submission_verdict_reason_description"`
	SampleVerdict            Verdict          `json:"submission_sample_verdict"`
	Score                    *Score           `json:"submission_score"`
	Severity                 Severity         `json:"submission_severity"`
	WebifURL                 string           `json:"submission_webif_url"`
	ConsumedQuota            int              `json:"submission_consumed_quota"`
	BillingType              BillingType      `json:"submission_billing_type"`
	Type                     string           `json:"submission_type"`
	Filename                 string           `json:"submission_filename"`
	OriginalFilename         *string          `json:"submission_original_filename"`
	OriginalURL              *string          `json:"submission_original_url"`
	Comment                  *string          `json:"submission_comment"`
	Tags                     []string         `json:"submission_tags"`
	Shareable                bool             `json:"submission_shareable"`
	ParentSubmissionID       *int64           `json:"submission_parent_submission_id"`
	Recursive                bool             `json:"submission_recursive"`
	UsedCache                bool             `json:"submission_used_cache"`
	NumberCachedAnalyses     int              `json:"submission_number_cached_analyses"`
	NumberCreatedJobs        int              `json:"submission_number_created_jobs"`
	AnalysisCacheIDs         []int64          `json:"submission_analysis_cache_ids"`
	JobCacheIDs              []int64          `json:"submission_job_cache_ids"`
	AnalyzerMode             AnalyzerMode     `json:"submission_analyzer_mode_analyzer_mode"`
	AnalysisCaching          AnalysisCaching  `json:"submission_analyzer_mode_analysis_caching"`
	ArchiveAction            ArchiveAction    `json:"submission_analyzer_mode_archive_action"`
	MaxRecursiveSamples      *int             `json:"submission_analyzer_mode_max_recursive_samples"`
	EnableReputation         *bool            `json:"submission_analyzer_mode_enable_reputation"`
	EnableWhois              *bool            `json:"submission_analyzer_mode_enable_whois"`
	EnableTriage             *bool            `json:"submission_analyzer_mode_enable_triage"`
	UserID                   int64            `json:"submission_user_id"`
	UserEmail                string           `json:"submission_user_email"`
	APIKeyID                 *int64           `json:"submission_api_key_id"`
	Priority                 int              `json:"submission_priority"`
	KnownConfiguration       bool             `json:"submission_known_configuration"`
	PrescriptForceAdmin      bool             `json:"submission_prescript_force_admin"`
}

// EffectiveVerdict returns the submission's verdict, falling back to its
// severity and score on old servers.
func (s *Submission) EffectiveVerdict() Verdict {
	return effectiveVerdict(s.Verdict, s.Severity, s.Score)
}

// Job is a queued or running analysis job ("Job").
type Job struct {
	ID            int64     `json:"job_id"`
	SampleID      int64     `json:"job_sample_id"`
	SubmissionID  *int64    `json:"job_submission_id"`
	Status        JobStatus `json:"job_status"`
	TrackingState string    `json:"job_tracking_state"`
	Type          string    `json:"job_type"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created Time `json:"job_created"`
	// StatusChanged is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	StatusChanged       Time        `json:"job_statuschanged"`
	Priority            int         `json:"job_priority"`
	AnalyzerID          int64       `json:"job_analyzer_id"`
	AnalyzerName        string      `json:"job_analyzer_name"`
	VMID                *int64      `json:"job_vm_id"`
	VMName              *string     `json:"job_vm_name"`
	JobruleID           *int64      `json:"job_jobrule_id"`
	JobruleSampleType   *string     `json:"job_jobrule_sampletype"`
	ConfigurationID     *int64      `json:"job_configuration_id"`
	ConfigurationName   *string     `json:"job_configuration_name"`
	SnapshotID          *int64      `json:"job_snapshot_id"`
	SnapshotName        *string     `json:"job_snapshot_name"`
	ReputationJobID     *int64      `json:"job_reputation_job_id"`
	BillType            BillingType `json:"job_bill_type"`
	SampleMD5           string      `json:"job_sample_md5"`
	SampleSHA1          string      `json:"job_sample_sha1"`
	SampleSHA256        string      `json:"job_sample_sha256"`
	SampleSSDeep        *string     `json:"job_sample_ssdeep"`
	UserID              *int64      `json:"job_user_id"`
	UserEmail           *string     `json:"job_user_email"`
	PrescriptForceAdmin bool        `json:"job_prescript_force_admin"`
}

// ReputationJob is a reputation lookup job created by a submission.
type ReputationJob struct {
	ID int64 `json:"reputation_job_id"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created      Time    `json:"reputation_job_created"`
	Priority     int     `json:"reputation_job_priority"`
	SampleID     int64   `json:"reputation_job_sample_id"`
	SampleMD5    string  `json:"reputation_job_sample_md5"`
	SampleSHA1   string  `json:"reputation_job_sample_sha1"`
	SampleSHA256 string  `json:"reputation_job_sample_sha256"`
	SampleSSDeep *string `json:"reputation_job_sample_ssdeep"`
	Status       string  `json:"reputation_job_status"`
	// StatusChanged is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	StatusChanged Time    `json:"reputation_job_statuschanged"`
	SubmissionID  *int64  `json:"reputation_job_submission_id"`
	UserEmail     *string `json:"reputation_job_user_email"`
	UserID        *int64  `json:"reputation_job_user_id"`
}

// WhoisJob is a WHOIS lookup job created by a URL submission (deprecated by
// VMRay, still sent by some servers).
type WhoisJob struct {
	ID int64 `json:"whois_job_id"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created         Time   `json:"whois_job_created"`
	Priority        int    `json:"whois_job_priority"`
	ReputationJobID *int64 `json:"whois_job_reputation_job_id"`
	SampleID        int64  `json:"whois_job_sample_id"`
	SampleSHA256    string `json:"whois_job_sample_sha256"`
	Status          string `json:"whois_job_status"`
	// StatusChanged is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	StatusChanged Time   `json:"whois_job_statuschanged"`
	SubmissionID  *int64 `json:"whois_job_submission_id"`
}

// Analysis is a finished analysis of a sample ("Analysis").
type Analysis struct {
	ID            int64   `json:"analysis_id"`
	SampleID      int64   `json:"analysis_sample_id"`
	SampleMD5     string  `json:"analysis_sample_md5"`
	SampleSHA1    string  `json:"analysis_sample_sha1"`
	SampleSHA256  string  `json:"analysis_sample_sha256"`
	SampleSSDeep  *string `json:"analysis_sample_ssdeep"`
	SubmissionID  *int64  `json:"analysis_submission_id"`
	SubmissionIDs []int64 `json:"analysis_submission_ids"`
	JobID         int64   `json:"analysis_job_id"`
	// JobStarted is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	JobStarted Time   `json:"analysis_job_started"`
	JobType    string `json:"analysis_job_type"`
	// Created is ISO 8601 without a zone, in UTC ("2024-05-27T07:48:11").
	Created                  Time        `json:"analysis_created"`
	AnalyzerID               int64       `json:"analysis_analyzer_id"`
	AnalyzerName             string      `json:"analysis_analyzer_name"`
	BillingType              BillingType `json:"analysis_billing_type"`
	LockStatus               LockStatus  `json:"analysis_lock_status"`
	ResultCode               *int        `json:"analysis_result_code"`
	ResultStr                string      `json:"analysis_result_str"`
	Verdict                  Verdict     `json:"analysis_verdict"`
	VerdictReasonCode        *int        `json:"analysis_verdict_reason_code"`
	VerdictReasonDescription *string     `json:"analysis_verdict_reason_description"`
	Severity                 Severity    `json:"analysis_severity"`
	VTIScore                 *Score      `json:"analysis_vti_score"`
	VMID                     *int64      `json:"analysis_vm_id"`
	VMName                   *string     `json:"analysis_vm_name"`
	VMDescription            *string     `json:"analysis_vm_description"`
	Platform                 *string     `json:"analysis_platform"`
	SnapshotName             *string     `json:"analysis_snapshot_name"`
	Tags                     []string    `json:"analysis_tags"`
	WebifURL                 *string     `json:"analysis_webif_url"`
	YaraMatchCount           int         `json:"analysis_yara_match_count"`
	Priority                 int         `json:"analysis_priority"`
	UserConfig               *string     `json:"analysis_user_config_config"`
	ParentAnalysisID         *int64      `json:"analysis_parent_analysis_id"`
	Size                     *int64      `json:"analysis_size"`
}

// ResultOK is the analysis_result_code of a successful analysis.
const ResultOK = 1

// Failed reports whether the analysis failed: a result code other than 1, or
// on old servers without result codes, the severity "error".
func (a *Analysis) Failed() bool {
	if a.ResultCode != nil {
		return *a.ResultCode != ResultOK
	}
	return a.Severity == SeverityError
}

// Locked reports whether the analysis report is locked for the key's
// product (Verdict keys); see [SamplesService.UnlockReports].
func (a *Analysis) Locked() bool { return a.LockStatus == LockLocked || a.LockStatus == LockUnlocking }
