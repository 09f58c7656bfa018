// Package sentinelone is a client for the SentinelOne Singularity Management
// API v2.1 (the console's REST API under /web/api/v2.1).
//
// # Authentication
//
// New takes the console URL (for example "https://usea1.sentinelone.net")
// and an API token of a console user or a service user; every request
// carries "Authorization: ApiToken <token>". The token never appears in
// errors or logs. TLS is verified unless WithInsecureSkipVerify is given;
// WithCACertPEM trusts a private CA.
//
//	c, err := sentinelone.New("https://usea1.sentinelone.net", os.Getenv("S1_API_TOKEN"))
//
// # Services
//
// The client's fields follow the API documentation: Accounts, Activities,
// Agents, Blocklist (/restrictions), DeepVisibility (/dv, PowerQuery),
// Groups, Sites, System, ThreatIntelligence (IOCs) and Threats. Every method
// takes a context first; its doc comment ends with the API operation it
// calls. IDs are strings (the console's ids are 18-19 digit decimals), and
// timestamps decode leniently into Time (microseconds, offsets, no zone,
// "None", epoch milliseconds).
//
// # Scope and filters
//
// Lists take options structs whose fields carry the console's wire names
// (createdAt__gt, confidenceLevels, ...); lists are sent comma-separated. The
// same filter types (ThreatFilter, AgentFilter) form the "filter" of bulk
// actions, {"filter":{...},"data":{...}}, which select their targets
// entirely by filter. Because the console applies an action whose filter
// holds only scope (tenant, accountIds, siteIds) to everything in that
// scope, such filters are refused before sending with ErrEmptyFilter.
// Mitigation takes threat ids explicitly (Threats.Mitigate), so an agent id
// can never be passed where a threat id belongs.
//
// # Pagination
//
// Each list endpoint has a one-page method returning a Page with the
// NextCursor to persist, and an iterator (All, AllNotes, AllEvents, ...) over
// every page. Iteration stops on a null, empty or "null" cursor, and fails
// with ErrRepeatedCursor instead of looping when the console repeats one.
// The iterators ask for 1000 items per page unless a Limit is set.
//
// # Errors
//
// Failures are *Error values (an alias of the shared engine's error type):
// HTTP status, the first SentinelOne code (Code, e.g. "4000010") and
// message, all codes when the console returned several (Details), request id
// and a redacted body excerpt. errors.Is matches ErrBadRequest,
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer and
// the vendor codes: ErrValidation (4000010) and ErrAlreadyExists (4000030).
// A 200 answer whose errors array is not empty is an error too. The error
// list is read in every shape consoles send (members without code or title,
// "errors":[{}], a list of strings, a single object): each still gives an
// *Error with the HTTP status. A get by id (Threats.Get, Agents.Get)
// answered 200 with an empty data list is ErrNotFound, with or without an
// error list. VendorCode extracts the numeric code.
//
// # Times
//
// The console writes RFC 3339 in UTC with microseconds
// ("2019-09-15T12:05:49.095889Z"); [Time] reads that, other RFC 3339 forms,
// times without a zone (UTC), epoch milliseconds and the placeholders some
// records carry, and writes the console's form in bodies and filters
// (createdAt__gt, fromDate, ...). Every time field's comment says which it
// is.
//
// # Malformed items
//
// One item that does not decode never fails its page. List answers are
// decoded item by item; an item that does not decode (a field of an
// unexpected type, say) is left out, logged at warning level with its
// index, id and a redacted excerpt, listed in Page.SkippedItems as a
// [SkippedItem], and passed to the handler installed with
// [WithSkipHandler]. Iterators carry on with the next item and report
// skipped items only through the log and the handler. Only an answer whose
// data is not a list at all fails the call (ErrMalformedResponse).
//
// # Rate limits and retries
//
// The console publishes per-token limits per route (threats 10/s, agents
// 25/s, activities 10/s, Deep Visibility init-query 1/min and query-status
// 1/s, threat intelligence 30/min, ...). DefaultRouteLimits holds the table
// and New applies it client-side, longest matching path prefix first;
// WithRouteLimit replaces an entry and WithoutRouteLimits drops the table.
// Requests that still get 429, 5xx or connection errors are retried with
// backoff, honouring Retry-After; POSTs are retried only when the console
// provably did not act (429, connection refused).
//
// # File retrieval
//
// Threats.FetchFile and Agents.FetchFile run the whole flow as one call:
// check the agent is online (ErrAgentOffline otherwise), request the upload
// with a password (GeneratePassword meets the console's rules; see
// ValidatePassword), wait within a bound (WithFetchPoll) for the completion
// activity (type 86 for threat files, 80 for fetch-files) created after the
// request, so an older upload is never taken, download
// /agents/{agent}/uploads/{activity} as a stream spooled to a temporary file,
// decrypt the ZipCrypto zip, read manifest.json (a non-empty reason is a
// *FetchFailedError matching ErrNotCollected) and return a FetchedFile. Its
// SHA1 is computed while it is read and checked at the end against the
// expected hash (the threat's SHA1, or the caller's): a mismatch is a
// *HashMismatchError returned by the final Read, so memory stays flat for
// files of any size. The steps are available separately for callers that
// persist progress: Threats.RequestFile / Agents.RequestFiles return a
// FetchRequest (JSON-serialisable, without the password) and
// Agents.CompleteFetch finishes it; below that, Activities.FindUpload and
// WaitUpload find the activity and Agents.OpenUpload (or OpenArchive on any
// reader) opens the file. Because the console's clock has second resolution,
// an upload finished just before a request can pass the time filter; the flow
// recognises it (its zip does not open with this request's password, or does
// not list its path), records it in FetchRequest.Skip and keeps waiting.
// Agents.FetchFiles fetches up to ten paths in one command and returns a
// FetchedArchive whose files are opened one by one (CompleteFetchFiles and
// ReadUpload are its steps). Threats.FetchFileFromCloud does the same as
// FetchFile for Binary Vault copies.
//
// # Deep Visibility and PowerQuery
//
// DeepVisibility.Search runs a query, waits (bounded, at most one status
// call per second) and iterates over all pages of events; InitQuery,
// WaitQuery and AllEvents are the steps. RunPowerQuery starts a PowerQuery
// and polls it until it finishes.
//
// # Testing with the fake
//
// Package sentinelonetest is an in-process fake console. Its Client method
// returns this package's client wired to it, with fast retries and polls:
//
//	srv := sentinelonetest.NewServer(t)
//	agent := srv.AddAgent(sentinelone.Agent{ComputerName: "WS-1", IsActive: true})
//	threat := srv.AddThreat(sentinelone.Threat{AgentRealtimeInfo: sentinelone.AgentRealtimeInfo{AgentID: agent.ID}})
//	srv.SetThreatFile(threat.ID, sentinelonetest.File{Content: sample})
//	f, err := srv.Client().Threats.FetchFile(ctx, threat.ID, sentinelone.FetchOptions{})
package sentinelone
