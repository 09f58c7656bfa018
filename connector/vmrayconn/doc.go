// Package vmrayconn binds the VMRay Platform client (package vmray) to the
// connector contracts: an Analyzer that looks files up, submits them and
// awaits their verdicts, and a TicketFinder that finds a submission again after
// a crash.
//
// # Lookup
//
// Lookup asks VMRay for the file by its strongest hash (SHA-256, else SHA-1,
// else MD5), reusing earlier analyses at no quota. A sample with a verdict is
// mapped onto a connector.Verdict; for verdicts that are not clean the VMRay
// Threat Identifiers and the typed IOCs are read too, and, with
// Options.UnlockReports, locked reports of a Verdict API key are unlocked.
// An unknown file is found=false; a failed call is always an error (seed bug
// D.1: the original connectors submitted the file again on any lookup error).
//
// # Submit and Await
//
// Submit streams the sample with the comment, the static tags plus tags
// derived from the evidence's sightings (Options.SightingTags, for example the
// SentinelOne site name), the analyzer mode (a separate mode for truncated
// samples), the sandbox timeout, the archive password and the job and
// recursion limits. The ticket names the submission and the sample
// (TicketID), so a restarted process resumes waiting. Await checks the
// submission once (or for Options.AwaitFor) and returns connector.RetryLater
// while it is queued or in work; the engine persists the ticket and calls
// again, bounded by its analysis timeout. A submission whose analyses all
// failed is a permanent error matching ErrAnalysisFailed, with VMRay's reason.
//
// The checks follow VMRay's pace: the analyzer learns how long submissions
// take from the creation and finish times VMRay reports (leaning to the slow
// end), makes no check before a ticket has been under way that long, and then
// checks after Options.PollInterval, doubling up to Options.MaxPollInterval.
// A new file thus costs at most 8 VMRay calls (lookup, submission, one or two
// checks, analyses, sample, VTIs, IOCs) at any poll setting; the first files,
// before any submission has finished, are checked at PollInterval, 2×, 4×, ...
//
// # No second submission after a crash
//
// Every submission's comment ends with a marker, "[soarkit-ref:<digest>]",
// derived from the analyzer's name and the item's key (Analyzer.Marker), so
// FindTicket can tell this connector's earlier submission of a file from
// anyone else's. When the engine finds an item in the submitting state (a
// crash, a submit call that timed out or lost its answer), FindTicket looks
// for a marked submission made since the attempt started. VMRay may apply a
// submission it received later than the call ended, so a first look that
// finds nothing returns connector.RetryLater for Options.SettleDelay (default
// DefaultSettleDelay, the engine's default submit timeout; set it to at least
// connector.Config.Submit.Timeout), and only a look after that delay that
// finds nothing lets the engine submit again (a first look more than twice
// the delay after the attempt began, after a long downtime, is enough). The engine caps the wait at its
// Retry.Max and then asks again; FindTicket then asks for the rest.
//
// # Verdict mapping
//
//   - Kind: the sample's verdict (clean, suspicious, malicious; old servers'
//     severity and score are used when the verdict is missing).
//   - Score: sample_vti_score (0-100).
//   - Severity: the Carbon Black connector's rule (Severity): no score is 1,
//     a score is floor(score/10) but at least 1, the words "suspicious" and
//     "malicious" of old servers are 5 and 10.
//   - Classifications, ThreatNames, VTIs (category, operation,
//     classifications, score 1-5), ReportURL (sample_webif_url), AnalysisID
//     (the sample id), SampleHashes.
//   - IOCs: every VMRay IOC list, typed (see IOCs), each with its own verdict
//     and classifications.
//
// # Errors
//
// VMRay's 400, 401 and 403 answers, rejected submissions and requests the
// client refuses are permanent (connector.Permanent); 429 asks for a retry
// after VMRay's delay (connector.RetryLater); 5xx and connection failures are
// transient and retried by the engine.
//
// # Testing
//
// Package vmraytest is a fake VMRay; its Client method returns a client wired
// to it, which New accepts as is.
package vmrayconn
