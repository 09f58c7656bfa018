// Package vmray is a client for the VMRay Platform REST API (VMRay Analyzer,
// cloud and on-premises): hash lookups, file and URL submission, waiting for
// analyses, verdicts, VMRay Threat Identifiers (VTIs), IOCs, MITRE ATT&CK
// techniques, report unlocking and sample downloads.
//
// # Getting started
//
//	c, err := vmray.New("https://eu.cloud.vmray.com", apiKey,
//		vmray.WithUserAgent("my-connector/1.0"))
//	found, err := c.Samples.Lookup(ctx, sha256)           // free, [] when unknown
//	res, err := c.Submissions.SubmitFile(ctx, name, file, &vmray.SubmitOptions{Tags: []string{"edr"}})
//	done, err := c.Submissions.Wait(ctx, res.Submission().ID, vmray.WaitOptions{InWorkTimeout: 5 * time.Minute})
//	smp, err := c.Samples.Get(ctx, done.Submission.SampleID) // smp.Verdict, smp.VTIScore
//	iocs, err := c.Samples.IOCs(ctx, smp.ID, &vmray.IOCOptions{Verdict: vmray.VerdictMalicious})
//
// The services hang off the [Client] and follow VMRay's documentation:
// [Client.Analyses], [Client.Billing], [Client.Jobs], [Client.Samples],
// [Client.Submissions] and [Client.System]. Every call takes a context first.
//
// # Authentication and key types
//
// VMRay authenticates with an API key created in the web interface (Analysis
// Settings > API Keys), sent as "Authorization: api_key <key>". The key never
// appears in logs or errors, and is dropped if a redirect leaves the host.
// There are two kinds of key:
//
//   - a Report key (product "Total Insight", billing type "analyzer") reads
//     everything, including full reports;
//   - a Verdict key (product "Final Verdict", billing type "detector") reads
//     verdicts, VTIs and IOCs, but its analyses' reports are locked:
//     [Analysis].LockStatus is "locked" and [SamplesService.Report] fails with
//     [ErrForbidden] until [SamplesService.UnlockReports] is called. Unlocking
//     uses report quota, so VMRay's connectors unlock only samples whose
//     verdict is not clean.
//
// TLS verification is always on unless [WithInsecureSkipVerify] is given; for
// appliances with a private CA use [WithCACertPEM]. The proxy comes from the
// environment unless [WithProxy] names one.
//
// # Errors
//
// A failed call returns an [*Error] (an alias of the engine's error type) with
// the HTTP status, VMRay's "error_msg" as Message, the operation name and a
// redacted body excerpt. Match it with errors.Is: [ErrUnauthorized] (401),
// [ErrForbidden] (403, for example a locked report), [ErrNotFound] (404: an
// unknown id, a finished job, a used continuation id), [ErrRateLimited] (429;
// RetryAfter holds the server's Retry-After), [ErrServer] (5xx),
// [ErrMalformedResponse], [ErrResponseTooLarge], [ErrInvalidRequest] (refused
// before sending, for example a hash of the wrong length).
//
// VMRay also reports some failures inside an HTTP 200. An envelope with
// "result": "error" matches [ErrResultError]. A submission whose answer lists
// "data.errors" matches [ErrSubmissionRejected]; errors.As gives a
// [*RejectedError] naming each file and reason, and [ErrNoJobsCreated] matches
// the common case of a known sample submitted with "legacy" analysis caching.
// A hash lookup of an unknown file is not an error: it returns an empty slice.
//
// Requests are retried with exponential backoff and jitter on connection
// errors, 408, 429 (honouring Retry-After), 500, 502, 503 and 504
// ([WithRetry]). A submission is never repeated after any of its body was sent,
// because each submission bills quota; continuation requests are never
// retried, because VMRay serves a continuation id only once.
//
// # Pagination
//
// VMRay answers list queries in chunks of "api_items_per_request" (see
// [SystemService.Info]) and hands out a single-use "continuation_id" for the
// rest. Every list has an iterator that follows continuations
// ([SubmissionsService.ListBySample], [AnalysesService.ListBySubmission], ...)
// and a Page method returning the first chunk with its ContinuationID, which
// [Continue] fetches. [ListOptions] carries VMRay's "_limit", "_min_id",
// "_max_id", "_last_id" (feed mode) and "_order". [Collect] drains an
// iterator into a slice.
//
// # Times
//
// VMRay writes times as ISO 8601 without a zone, meaning UTC
// ("2024-05-27T07:48:11"); [Time] reads them (and RFC 3339 with a zone) and
// every time field's comment says so. Billing dates are kept as the text
// VMRay sends ("2026-12-31"); the analysis timeout of a submission is in
// seconds.
//
// # Malformed items
//
// One item that does not decode never fails its chunk. List answers are
// decoded item by item; an item that does not decode (a field of an
// unexpected type, say) is left out, logged at warning level with its
// index, id and a redacted excerpt, listed in Page.SkippedItems as a
// [SkippedItem], and passed to the handler installed with
// [WithSkipHandler]. Iterators carry on and report skipped items only
// through the log and the handler. Only an answer whose data is not a list
// at all fails the call ([ErrMalformedResponse]).
//
// # Waiting for an analysis
//
// [SubmissionsService.Wait] polls a submission with growing intervals until it
// is finished and returns it with its analyses, listing failed ones
// ([Analysis.Failed]: a result code other than 1) separately. It has two
// bounds, as VMRay's own connectors do: QueueTimeout for the time before any
// job starts (a busy appliance may queue for long) and InWorkTimeout, which
// starts only once a job is "inwork". A bound ends the wait with a
// [*WaitTimeoutError] matching [ErrWaitTimeout]; callers that persist progress
// call [SubmissionsService.Get] and [JobsService.ListBySubmission] themselves.
// [SubmissionsService.SubmitFileAndWait] does both steps.
//
// # Verdicts
//
// Verdicts are [Verdict] values: not_available, clean, suspicious, malicious.
// Servers older than 4.0 only send the deprecated severity and score;
// [Sample.EffectiveVerdict] and [Submission.EffectiveVerdict] fall back to
// them ([VerdictFromSeverity], [VerdictFromScore]). VTI scores run from 1 to 5,
// sample scores from 0 to 100. Timestamps without a zone are UTC ([Time]).
//
// # Sample files
//
// [SamplesService.Download] fetches a sample as VMRay serves it, a ZIP with
// one ZipCrypto-encrypted entry, spools it (to a temporary file above 1 MiB)
// and returns the decrypted file as a stream whose CRC is checked at the end.
// The password comes from [SystemService.DownloadPassword] unless given.
// Uploads stream too: [SubmissionsService.SubmitFile] reads its io.Reader while
// sending and never holds the file in memory.
//
// # Testing with vmraytest
//
// Package vmraytest is an in-process fake of the VMRay API. Its Client method
// returns this client wired to it:
//
//	srv := vmraytest.NewServer(t)
//	srv.SetOutcome(sha256, vmraytest.Outcome{Verdict: vmray.VerdictMalicious, Score: 98})
//	c := srv.Client()
//
// Submissions move from queued to in work to finished as they are polled,
// and faults (429, 5xx, latency, dropped connections, malformed JSON) can be
// injected per route.
package vmray
