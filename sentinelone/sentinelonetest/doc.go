// Package sentinelonetest is an in-process fake of a SentinelOne management
// console, serving the Management API v2.1 under /web/api/v2.1 on
// 127.0.0.1 (HTTP, or HTTPS with a generated CA via WithTLS).
//
// NewServer(t) starts one for a test and closes it on cleanup; New does the
// same without a testing.TB (for a standalone binary). Client returns the
// real sentinelone client wired to it. State is seeded through Go methods
// (AddAgent, AddThreat, SetThreatFile, AddAgentFile, SetVaultFile,
// AddActivity, AddDVEvents, SetPowerQueryResult, ...) and what clients did is
// inspectable (Notes, ThreatActions, AgentActions, Restrictions, IOCs,
// Activities, Requests). InjectFault adds latency, error statuses (429 with
// Retry-After, 5xx), dropped connections, truncated JSON, lost answers
// (acted on, then reset) and delayed effects (applied later, connected or
// not) per route, by count or by seeded rate (Server.FaultSeed).
// WithClock makes time controllable ([NewManualClock]): timestamps,
// upload delays and rate limits follow it, and so does the Date header.
//
// # What it implements
//
//   - Auth: "Authorization: ApiToken <token>" (scheme in any case) or the
//     APIToken query parameter; otherwise 401 with code 4010010.
//   - GET /system/info, /accounts, /accounts/{id}, /sites (the object-shaped
//     data with allSites), /sites/{id}, /groups, /activities (activityTypes,
//     ids, agentIds, threatIds, scope, createdAt__*), /activities/types.
//   - GET /agents with the common filters, agent actions (disconnect,
//     connect, shutdown, restart-machine, initiate-scan, abort-scan,
//     broadcast) answering {"affected":N} and changing network and scan
//     state, and POST /agents/{id}/actions/fetch-files.
//   - Threats are indexed by id and by agent: a list or action naming ids
//     or agents, and an agent's count of active threats, look at those
//     threats alone.
//   - GET /threats with ids, scope, agentIds, contentHashes, createdAt__*,
//     updatedAt__*, incident, verdict, confidence, mitigation,
//     classification and OS filters (each with its Nin form), cursor paging
//     and sorting by createdAt or updatedAt; notes (list, add, update,
//     delete); analyst verdict and incident status with per-threat details;
//     mitigate/{action} updating mitigationStatus; add-to-blacklist and
//     dv-add-to-blacklist; timeline; download-from-cloud with a pre-signed
//     link served without the token.
//   - File fetches: POST /threats/fetch-file (exactly one threat) and agent
//     fetch-files validate the password (10-256 characters, no whitespace,
//     three of four character classes). After WithUploadDelay on the fake's
//     clock, and only while the agent is active, a type-86 or type-80
//     activity appears whose data.downloadUrl is
//     /agents/{agent}/uploads/{activity}; that path serves a real ZipCrypto
//     zip (deflated, or stored above 8 MiB, streamed with data descriptors)
//     with manifest.json ([{path, sha1, reason}]) and the file stored under
//     its path without the drive colon. Files that were not seeded, or that
//     were seeded with a Reason, produce failure manifests.
//   - Deep Visibility: init-query, query-status (RUNNING for WithQueryPolls
//     calls, then FINISHED or EMPTY_RESULTS), events with cursor paging,
//     events/{type}, cancel-query; PowerQuery pq and pq-ping.
//   - /restrictions list, create (one entry per value, OS and scope; a
//     duplicate is 400 with code 4000030; an unknown scope id is 400 4000010)
//     and delete; /threat-intelligence/iocs list, batch create, delete.
//   - Paging: limit 1..1000 (default 10), skip up to 1000, opaque cursors;
//     nextCursor is null on the last page. Bad values are 400 with code
//     4000010, several problems yield several errors.
//   - WithRateLimits enforces sentinelone.DefaultRouteLimits as 429 answers
//     with Retry-After.
//
// # Where it differs from the real console
//
//   - Only the filters listed above are evaluated; other query parameters
//     are accepted and ignored. Free-text "query" filters are not evaluated
//     for threats and agents, and S1QL and PowerQuery texts are not
//     evaluated: a DV query returns the seeded events inside its date range,
//     a PowerQuery the result set for its exact text.
//   - Objects are encoded from the client's types with empty strings sent
//     as null; fields the console sends as "" (publisherName, for example)
//     therefore come back as null, and fields the client does not model are
//     absent.
//   - The HTTP status and code of 404 (4040010), 429 (4290010) answers, the
//     status of 4000030 (400), validation texts and the zip naming are
//     inferred: the vendor does not document them.
//   - Shutdown and restart affect only active agents; other actions count
//     every matching agent. Actions are not queued for offline agents, but
//     fetches are: they complete when the agent is active again.
//   - DELETE /threat-intelligence/iocs needs uuids, value, type or source
//     besides the scope (the console would delete every indicator in scope).
//   - Agent fetch-files does not enforce the console's 10 MB per command
//     limit, and fetched files may be of any size.
//   - Binary Vault zips use sentinelone.BinaryVaultPassword and carry no
//     manifest; upload links do not expire.
//   - Rate limits are per server, not per token, and off by default.
//   - Threats are sent in the current shape only: detectionEngines as
//     objects, mitigationStatus as a list, numbers as numbers; the older
//     shapes some consoles send (engine names as strings, a status string,
//     numeric strings) and error lists without code or title are not
//     produced (package sentinelone reads them all).
package sentinelonetest
