package vmray

// BillingType is the product a key or analysis belongs to.
type BillingType string

// Billing types. A Report key ("Total Insight") bills as analyzer and reads
// full reports; a Verdict key ("Final Verdict") bills as detector and sees
// reports locked until [SamplesService.UnlockReports].
const (
	BillingAnalyzer BillingType = "analyzer"
	BillingDetector BillingType = "detector"
)

// LockStatus is an analysis report's lock state ("LockStatusEnum").
type LockStatus string

// Lock states.
const (
	LockLocked    LockStatus = "locked"
	LockUnlocked  LockStatus = "unlocked"
	LockUnlocking LockStatus = "unlocking"
)

// SubmissionStatus is a submission's state.
type SubmissionStatus string

// Submission states.
const (
	SubmissionQueued     SubmissionStatus = "queued"
	SubmissionInProgress SubmissionStatus = "in_progress"
	SubmissionSuccess    SubmissionStatus = "success"
	SubmissionWarning    SubmissionStatus = "warning"
	SubmissionError      SubmissionStatus = "error"
)

// JobStatus is a job's state. Jobs exist only while pending, queued or
// running; a finished job is removed and becomes an [Analysis].
type JobStatus string

// Job states.
const (
	JobPending   JobStatus = "pending"
	JobQueued    JobStatus = "queued"
	JobInWork    JobStatus = "inwork"
	JobUploading JobStatus = "uploading"
)

// AnalyzerMode selects which analyzers run ("AnalyzerModeEnum").
type AnalyzerMode string

// Analyzer modes.
const (
	AnalyzerReputationStaticDynamic AnalyzerMode = "reputation_static_dynamic"
	AnalyzerReputationStatic        AnalyzerMode = "reputation_static"
	AnalyzerReputation              AnalyzerMode = "reputation"
	AnalyzerStatic                  AnalyzerMode = "static"
	AnalyzerStaticDynamic           AnalyzerMode = "static_dynamic"
	AnalyzerSystemDefault           AnalyzerMode = "system_default"
)

// AnalysisCaching selects whether a known sample is analysed again
// ("AnalysisCachingTypeEnum"). With CachingLegacy a known sample is rejected
// with [ErrNoJobsCreated].
type AnalysisCaching string

// Analysis caching modes.
const (
	CachingDisabled      AnalysisCaching = "disabled"
	CachingEnabled       AnalysisCaching = "enabled"
	CachingLegacy        AnalysisCaching = "legacy"
	CachingSmart         AnalysisCaching = "smart"
	CachingSystemDefault AnalysisCaching = "system_default"
)

// ArchiveAction says how an archive is analysed ("ContainerActionTypeEnum").
type ArchiveAction string

// Archive actions.
const (
	ArchiveSample          ArchiveAction = "sample"
	ArchiveCompoundSample  ArchiveAction = "compound_sample"
	ArchiveSeparateSamples ArchiveAction = "separate_samples"
	ArchiveSystemDefault   ArchiveAction = "system_default"
)
