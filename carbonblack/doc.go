// Package carbonblack is a client for VMware (Broadcom) Carbon Black Cloud:
// Enterprise EDR and Endpoint Standard. It covers what SOAR connectors need:
// Alerts v7, asynchronous process and observation searches, the Unified
// Binary Store, watchlists, reports and feeds, reputation overrides, devices
// and device actions, policies, and Live Response v6. It uses only the APIs
// that are current after Carbon Black's 2024 deactivations (Alerts v6,
// enriched events, GET search validation v1, Policy v3, Devices v3, Live
// Response v3 and the legacy API key types are never called; a retired API
// answers 410 Gone, reported as [ErrRetired] and never retried).
//
// # Credentials, org keys and hosts
//
// Each Carbon Black Cloud environment has its own host (for example
// https://defense.conferdeploy.net, https://defense-eu.conferdeploy.net);
// use the host of your console. Create an API key with a custom access level
// that grants the permissions you use (org.alerts READ, org.search.events
// CREATE/READ, ubs.org.file READ, org.watchlists, org.feeds,
// org.reputations, device READ and the device.* EXECUTE permissions,
// org.policies READ, org.liveresponse.*). The client sends
// "X-Auth-Token: <API secret key>/<API ID>" and puts the organisation key in
// every path:
//
//	c, err := carbonblack.New("https://defense.conferdeploy.net", "ABCD1234", apiID, apiSecret)
//
// [NewFromCredentialsFile] reads a profile of the standard credentials file
// (INI sections with url, token = secret/id, org_key, ssl_verify, proxy,
// ignore_system_proxy, integration_name) and [NewFromEnv] the CBC_URL,
// CBC_TOKEN, CBC_ORG_KEY and CBC_SSL_VERIFY variables. TLS verification is
// on unless the file says ssl_verify = false. The secret never appears in
// errors or logs.
//
// # Errors
//
// A failed call returns an [*Error] with the HTTP status, Carbon Black's
// error_code and message, the request id and a redacted body excerpt. Match
// it with errors.Is: [ErrUnauthorized] (wrong key), [ErrForbidden] (missing
// permission), [ErrNotFound] (unknown object or wrong org key),
// [ErrQuerySyntax] (malformed search query), [ErrRateLimited], [ErrServer],
// [ErrRetired]. Throttling (429) and transient server errors are retried
// with backoff, honouring Retry-After.
//
// # Times
//
// Carbon Black mixes units, so each time field's comment names its own:
// alert, device, process, observation, UBS and override times are RFC 3339
// in UTC with milliseconds ([Timestamp], which also reads epoch
// milliseconds); Live Response session times are RFC 3339 or epoch
// milliseconds depending on the call; Live Response process and file times
// are epoch seconds ([EpochSeconds]); command completion_time is epoch
// seconds with a fraction ([CommandResult.Completed]); watchlist and report
// timestamps are epoch seconds (int64); process ingress_time is epoch
// milliseconds; Live Response timeouts are seconds.
//
// # Malformed items
//
// One result that does not decode never fails its page. Search pages
// ([AlertPage], [DevicePage], [OverridePage], [JobResults]) decode their
// results item by item; a result that does not decode (a field of an
// unexpected type, say) is left out, logged at warning level with its
// index, id and a redacted excerpt, listed in the page's SkippedItems as a
// [SkippedItem], and passed to the handler installed with
// [WithSkipHandler]. Iterators carry on (paging by the number of results
// Carbon Black sent, skipped ones included) and report skipped results only
// through the log and the handler. The short lists of watchlists, feeds and
// reports decode as a whole.
//
// # Alerts
//
// [AlertsService.Search] returns one page; [AlertsService.All] iterates over
// every match. Carbon Black lets a search page through only 10,000 results:
// All sorts by backend_timestamp and, before crossing that window, restarts
// the search with the time range starting at the last timestamp seen,
// skipping alerts already yielded, so large result sets are not silently cut.
//
// # Search jobs
//
// Process and observation searches are asynchronous jobs. [JobSearch.Search]
// validates the query, starts the job, polls its progress (contacted and
// completed shards) with backoff and a bound ([WithJobPolling]), then pages
// the results with explicit rows (Carbon Black returns 10 rows when rows is
// absent). The steps ([JobSearch.Start], [JobSearch.Wait],
// [JobSearch.Results], [JobSearch.All]) are exposed for callers that persist
// job ids. A job over an organisation with no data ends at once instead of
// waiting forever. Process results omit process_sha256 unless asked for;
// [Process.SHA256] picks the SHA-256 out of process_hash.
// [ProcessesService.Details] and [ProcessesService.Summary] run the detail
// and summary jobs (full records; parent, siblings and children) used to
// find the device and pid behind a process GUID; [ObservationsService.Details]
// returns observations with their raw event fields (netconn_ipv4 and the
// other IOC fields).
//
// # Unified Binary Store
//
// [UBSService.DownloadLinks] asks for pre-signed links to many binaries in
// batches of 100 and reports every hash as found, not found or error (retry
// later). [UBSService.OpenLink] downloads an archive without Carbon Black
// credentials, spools it (memory stays small whatever the size) and returns
// its filedata entry as a [Sample] stream that hashes what it delivers.
// UBS keeps only the first part of large files: after reading to the end,
// [Sample.Verify] returns a [*TruncatedSampleError] with both hashes when the
// content is not the requested file.
//
// # Watchlists, reports and feeds
//
// Watchlists raise hits (and alerts, when AlertsEnabled) for the reports they
// list or for the feed they subscribe to. Watchlist reports are created with
// [ReportsService.Create] and attached with [WatchlistsService.AddReports],
// which serialises the read-modify-write of the report list inside the client
// and re-reads to verify (the API has no append). Feeds hold their own
// reports, replaced as a whole by [FeedsService.ReplaceReports]; a feed
// alerts nobody until a watchlist subscribes to it
// ([WatchlistsService.Subscribe]). Reports are validated before they are sent
// (severity 1-10, at least one IOC), and [EqualityIOC], [RegexIOC] and
// [QueryIOC] build typed IOCs for the searchable fields named by the Field
// constants.
//
// # Live Response
//
// [LiveResponseService.Open] checks that the device reports
// LIVE_RESPONSE_ENABLED (a [*LiveResponseUnavailableError] otherwise),
// starts a session and waits, within a bound, until it is active. The
// returned [LiveSession] runs commands (process list, kill, delete file, get
// file, directory list, registry keys), each polled to completion within a
// bound; a command that fails on the device returns a [*CommandError] with
// its Windows result code. Close the session when done. File content is
// fetched through Carbon Black's redirect to object storage without the
// X-Auth-Token header.
//
// # Testing with the fake
//
// Package carbonblacktest is an in-process fake of Carbon Black Cloud whose
// Client method returns this client wired to it:
//
//	fake := carbonblacktest.NewServer(t)
//	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10"})
//	c := fake.Client()
//	err := c.Devices.Quarantine(ctx, true, dev.ID)
package carbonblack
