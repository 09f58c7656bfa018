// Package vmraytest is an in-process fake of the VMRay Platform REST API for
// tests and demos of code built on package vmray (and of clients written in
// other languages: the wire format follows VMRay's).
//
// # Use
//
//	srv := vmraytest.NewServer(t)                 // or New() outside tests; Close when done
//	srv.AddSample(vmraytest.Sample{Content: data, Outcome: vmraytest.Outcome{Verdict: vmray.VerdictMalicious}})
//	srv.SetOutcome(sha256, vmraytest.Outcome{...}) // what a later submission of that file finds
//	c := srv.Client()                              // the real vmray client, fast retries
//
// [WithTLS] serves HTTPS with a generated CA ([Server.CACertPEM]); [Server.URL]
// and the default key [DefaultAPIKey] let any HTTP client talk to it.
//
// # What it models
//
//   - Authentication by "Authorization: api_key <key>" with 401 and VMRay's
//     error body otherwise; several keys ([WithAPIKey]) of billing type
//     analyzer (Report key) or detector (Verdict key), each with its quota use
//     (/rest/api_key/quota, /rest/billing_info).
//   - Samples keyed by SHA-256 with MD5 and SHA-1 indexes; lookups answer an
//     array, empty for unknown hashes.
//   - Submission by multipart (with "sample_filename_b64enc" for non-ASCII
//     names), urlencoded form or query string, of files and URLs, with the
//     documented parameters validated; the answer is VMRay's
//     "SubmisssionResult". Uploads are hashed as they stream in, so very large
//     files cost no memory ([WithSampleStoreLimit]).
//   - A state machine per submission: queued (jobs "queued"), in_progress (jobs
//     "inwork"), then finished: jobs disappear (404) and become analyses with
//     "analysis_result_code" 1 (or 2 with [Outcome].FailAnalysis, making the
//     submission "error"). Progress follows polls of GET /rest/submission/{id}
//     and the injectable clock ([WithTiming], [WithClock]).
//   - Verdict, score, classifications, threat names, VTIs, typed IOCs and MITRE
//     ATT&CK techniques from the per-hash or default [Outcome]; IOC filters by
//     type, verdict and severity in path and query form and "all_artifacts";
//     optionally "in_progress" results before "finished"
//     ([WithUnfinishedReads]).
//   - Recursive children: child samples and child submissions with
//     "submission_parent_submission_id", capped by "max_recursive_samples".
//   - Report locking for detector keys: analyses start "locked", the PDF
//     report answers 403 until POST /rest/sample/{id}/unlock_reports, which is
//     recorded ([Server.Unlocks]).
//   - Continuation paging past [WithPageSize] items with single-use ids
//     (a second use answers 404), and "_limit", "_min_id", "_max_id",
//     "_last_id", "_order".
//   - "legacy" analysis caching: a known sample is rejected inside an HTTP 200
//     with "Submission not stored because no jobs were created".
//   - /rest/sample/{id}/file as a ZIP with one ZipCrypto-encrypted, deflated
//     entry, password "infected" ([WithDownloadPassword]) or
//     "encryption_password".
//   - Faults through [Server.InjectFault]: 429 with Retry-After
//     ([ThrottledBody]), 5xx, latency, dropped connections, malformed JSON,
//     lost answers (the submission is taken, the answer reset) and delayed
//     effects (a submission shows up later, see [Server.ApplyDelayedEffects]),
//     per route, by count and by seeded rate ([Server.FaultSeed]);
//     and a token bucket that throttles like the service ([WithRateLimit];
//     VMRay publishes no limits, so the numbers are yours to choose).
//   - Inspection: [Server.Requests], [Server.CountRequests],
//     [Server.Counts] (requests per route), [Server.SubmissionsFor],
//     [Server.Samples], [Server.SampleByHash], [Server.Unlocks],
//     [Server.UsedQuota].
//   - Load: [Server.SetRecording] bounds the requests kept (by default the
//     newest 100,000, 1 MiB of each body), [Server.SetTiming] changes how
//     analyses progress; lookups by hash, sample and submission are indexed,
//     so a request costs the same with 100,000 submissions as with ten
//     (TestLookupsDoNotGrowWithTheWorld holds its allocations to that).
//     Records are kept compact and put in their wire form when a request
//     reads them: hashes as bytes, times as seconds, jobs and analyses as id
//     ranges of their submission, repeated strings interned, the outcome
//     (the default one, or one set per hash) shared. A small analysed file
//     costs about 640 bytes, its content included
//     (TestRetainedMemoryPerFile holds it under 1.5 KB).
//
// # Where it differs from VMRay
//
//   - Quotas are counted, never enforced; billing figures are synthetic.
//   - Only the endpoints package vmray calls are served: no analysis archives
//     (summary JSON, screenshots, STIX), tags, reanalysis, reputation lookups
//     or web interface; other paths answer 404 "No such element".
//   - Job rules, VMs and analyzers are not modelled: a submission makes
//     max_jobs (at most three) dynamic jobs on fixed VM names, or one static job
//     for the static and reputation analyzer modes; no reputation, WHOIS or
//     VirusTotal jobs.
//   - Verdicts, scores and results come only from the configured outcome; the
//     sample's type is "Windows Exe (x86-32)" unless given (URLs: "URL").
//   - The file endpoint serves only files whose bytes it kept: samples seeded
//     by hash alone and uploads over the store limit answer 404.
//   - The error texts of 400, 403 and bad-parameter answers and the
//     "in_progress" status value are VMRay-like but not confirmed against the
//     service; the 401, 404, 429 and rejected-submission bodies are recorded
//     ones.
//   - IOCs are sent as VMRay sends them (every list an array, [] when empty;
//     "type", "ioc_type", "ioc", "severity" and "numeric_severity" filled),
//     but the values the seed leaves out are derived: type and ioc_type from
//     the list, ioc true, severity and numeric_severity from the verdict
//     (not_suspicious/0, suspicious/3, malicious/4). Item ids are 0 and
//     version is 0 unless seeded.
//   - Every key sees every sample and submission (no tenant separation).
//   - The "_last_id" feed lists finished submissions in id order, not in
//     order of completion.
//   - Unsupported methods on known paths answer Go's plain-text 405.
package vmraytest
