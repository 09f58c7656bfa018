// Package sentineloneconn binds the SentinelOne Management API client
// (package sentinelone) to the connector contracts: evidence sources over
// threats and Deep Visibility processes that also deliver the files, and
// responders that act in the console.
//
// # Scope
//
// A Scope resolves, once, the account (the configured id, or the first
// account the token sees) and the sites (the configured ids, each checked
// to belong to the account, or all of its sites), as the original connector
// did at start. Sources and responders share it.
//
// # Sources
//
// NewThreatSource reads the threats created since the checkpoint (the first
// run: LookBack before now, default one hour, the original's TIME_SPAN;
// later runs re-read a small Overlap; a backlog is read in windows of at most
// MaxWindow), filtered by confidence level (default
// malicious, suspicious and n/a), in the scope's sites, every page. Each
// threat is one Evidence keyed by its SHA1 (plus SHA256 and MD5 when the
// console has them) with exactly one sighting: threat id (also the
// sighting's ID), agent id and name, OS, account, site id and name, file
// path, and the confidence level, classification, threat name and analyst
// verdict in Attributes. The engine merges the threats of one file into one
// item, so the file is analysed once while every threat still gets its own
// note and mitigation (seed bug D.3: the original matched all results to the
// first threat).
//
// NewDVSource (optional; off by default in the example) runs the Deep
// Visibility query (default `ObjectType = "Process"`) over the same kind of
// window, waits for it (bounded, polled at the console's pace) and reads
// ALL pages of events (the original read one page of 1,000). With
// SkipThreatHashes (when the threat source runs too), processes whose SHA1
// belongs to a threat the threat source collects are skipped: they are
// handled as threats. Each remaining SHA1 is one Evidence with a sighting
// per (agent, path); the sightings have no threat id.
//
// # Samples
//
// Both sources implement connector.Fetcher through the client's one-call
// flows: a threat's file is fetched from the agent (POST
// /threats/fetch-file, the default) or downloaded from the Binary Vault
// (FetchFromCloud); a process image is fetched from its agent by path
// (POST /agents/{id}/actions/fetch-files). The client checks the agent is
// online, generates a zip password that meets the console's rules (or uses
// the configured one), waits for the upload activity created after the
// request, opens the ZipCrypto zip through internal/zipx, reads the
// manifest and verifies the SHA1 while the file streams. Every agent that
// holds the file is tried; when all are offline, Fetch asks the engine to
// retry later (connector.RetryLater). A threat or upload of another file, or
// a file the agent could not collect, is a permanent error. An archive that
// arrives damaged (a cut download, failing checksums) is fetched again, three
// times in all, before it is a permanent error; one over the size limits
// (sentinelone.WithMaxDownloadBytes, the 2 GiB archive limits) is permanent
// at once, since fetching it again cannot help.
//
// # Responders
//
//   - Note (per threat): the original's note layout (NoteText) with
//     configurable subtypes and IOC fields, never duplicated (existing notes
//     are compared first), plain UTF-8.
//   - Indicators (per file): Threat Intelligence indicators for the IOCs
//     (IndicatorType maps the types), only values not present yet, in one
//     request.
//   - GlobalBlocklist (per file, one entry per OS type), ThreatBlocklist
//     (per threat, add-to-blacklist) and DVBlocklist (per agent).
//   - Mitigation (per threat): kill, quarantine, remediate or rollback on the
//     sighting's THREAT id; a sighting without one is Skipped. Like the
//     agent actions below, a mitigation requested in the last ten minutes
//     that the threat's status does not show yet is Unchanged, and one whose
//     answer was lost is not requested again before then.
//   - Agent (per agent): initiate-scan, disconnect, shutdown. Agents apply
//     actions when they check in, so an action this responder requested in
//     the last ten minutes counts as in effect (Unchanged) although the
//     console does not show it yet, and after a request whose answer was
//     lost the responder asks for a retry later (ErrActionPending) instead
//     of sending it again; calls for one agent never run at once.
//   - FalsePositive (per threat): for a clean verdict and a threat whose
//     confidence level is configured, analyst verdict false_positive and a
//     note with the description.
//
// Every responder checks the console's state first and reports
// connector.Unchanged when the effect exists. Verdict gates and dry run are
// the connector.Gate and connector.DryRun wrappers. Errors: requests the
// console refuses (400, 401, 403, 404) are permanent, 429 asks for a retry
// after the console's delay, an offline agent asks for a retry later, other
// failures are transient.
//
// # Testing
//
// Every component runs against sentinelonetest, the fake console, and the
// connectortest conformance suites.
package sentineloneconn
