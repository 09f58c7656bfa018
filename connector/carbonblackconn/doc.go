// Package carbonblackconn binds the Carbon Black Cloud client (package
// carbonblack) to the connector contracts: evidence sources, a batched
// sample fetcher over the Unified Binary Store, responders that act in Carbon
// Black, and a process hunter.
//
// # Sources
//
// NewAlertSource (Alerts v7), NewProcessSource (process search jobs) and
// NewObservationSource (observation search jobs, the successor of enriched
// events) each read time windows: on the first run the look-back before now
// (default the original connector's TIME_SPAN, 10 h), then from the end of
// the previous window (kept in the checkpoint) minus a small overlap, in
// UTC, at most MaxWindow at a time. Every record is read: the alert iterator
// narrows its time range instead of stopping at Carbon Black's
// 10,000-result window, and a search job that matched more than it can
// return is narrowed by halves until its span fits. A window is handed over
// in parts of at most PartRows records (default 1,000, one results page),
// each Collect call one part whose checkpoint records where the next starts
// (the search job and offset; for alerts the time the part ended at), so the
// pipeline works on the first files while later pages are read, a large
// window is never held in memory whole, and a restart goes on from the last
// part recorded. A job Carbon Black no longer keeps is searched again for
// its span. The original's filters
// apply: "!process_effective_reputation:<R>" for each excluded reputation
// (REPUTATION_FILTERS) and the device OSes (DEVICE_OS_FILTERS). Each
// collected file is one Evidence (SHA-256, and MD5 when Carbon Black gives
// it) with a sighting per process: device id, name and OS, process GUID, pid,
// path, and the alert or observation id in the attributes.
//
// # Samples
//
// The sources implement connector.Fetcher through a shared Binaries: links
// to the files are asked for in batches (the hashes of a collection at once,
// and concurrent fetches within a short window in one file/_download call),
// kept until their file is delivered or shortly before they expire, and the archive's filedata entry is
// read through the client (which opens it with internal/zipx). The sample is
// hashed while it is spooled. Content whose hash differs from the requested
// one is taken for a truncated copy (UBS keeps only the first part of large
// files) only when UBS's metadata says the file is larger than what was
// delivered and that the copy it holds is exactly the delivered size; such a
// copy is delivered with Sample.Truncated set and its own SHA-256 in
// Sample.Hashes, and the engine looks that hash up before uploading it. Any
// other mismatch is refused as corrupt (ErrCorruptSample, permanent: the
// engine tries the next source and never submits it). A damaged archive (a
// cut download) is downloaded again, three times in all, before it is
// refused as corrupt; an archive over the client's size limit
// (carbonblack.WithMaxSampleBytes) is a permanent failure at once. A file
// UBS does not hold is a permanent failure (ErrNotInUBS).
//
// # Responders
//
//   - WatchlistReport: one report per file with the verdict's IOCs mapped to
//     Carbon Black fields (MapIOCs), only IOCs not yet present in the
//     organisation's watchlists and feeds; the file's report is extended
//     instead of duplicated; no report when nothing is new. The watchlist is
//     created when missing, with alerts on by default, and continued by
//     further watchlists when full (see below).
//   - FeedReport: one report per file in a private feed (created with a
//     subscribed watchlist when missing, and continued by further feeds when
//     full), without losing concurrent reports.
//   - Ban: a BLACK_LIST reputation override for the SHA-256.
//   - Quarantine and PolicyMove: per device; PolicyMove takes a policy id or
//     name. Carbon Black applies device actions when the sensor checks in,
//     so an action this responder requested in the last ten minutes counts
//     as in effect (Unchanged) although the device does not show it yet, and
//     after a request whose answer was lost the responder asks for a retry
//     later (ErrActionPending) instead of sending it again; calls for one
//     device never run at once.
//   - LiveResponse: per sighting, kill the process and delete the file in a
//     bounded session that is always closed.
//
// WatchlistReport, FeedReport, Ban and Quarantine are connector.BatchResponders:
// the engine hands them the findings of many files at once. A watchlist batch
// reads and writes its reports concurrently (at most 64 calls at once) and
// lists them in the watchlist with one update verified by one read-back; a
// feed batch merges its reports with one write and one read-back; Ban looks
// the hashes up with one override search per 50 and creates the missing
// bans; Quarantine reads the devices with one search by ids and quarantines
// those that need it with one device action. Each holds its lock for one
// batch at most.
//
// # Series of watchlists and feeds
//
// Carbon Black has no append for a report watchlist or a feed: a watchlist's
// report_ids and a feed's reports are replaced whole, so each batch moves the
// whole list three times (read, write, read-back). To keep that cost
// independent of how many files were reported before, WatchlistReport and
// FeedReport spread their reports over a series: the configured watchlist
// (feed) holds at most WatchlistOptions.ReportsPerWatchlist
// (FeedOptions.ReportsPerFeed) reports, then "<name> (2)", "<name> (3)", ...
// are created on demand with the same settings (a feed with its own subscribed
// watchlist "<watchlist> (k)"). A batch adds to the last member and, when it
// fills it, creates the next one with the rest, so it writes at most the cap.
// An existing single watchlist or feed is the first member, whatever it holds;
// reports are never moved. After a restart the members are found by name: the
// watchlist series with the baseline's one listing of the watchlists, the feed
// series with one listing of the feeds and one read of each full feed (to know
// the files it reports). Report ids are derived from the base name and the
// file, so a report created before a crash is found again whichever member it
// is then added to; a member whose creation got no answer is looked up by name
// before being created again.
//
// Every responder checks the vendor's state first and reports
// connector.Unchanged when there is nothing to do, so a repeated call never
// duplicates a Carbon Black object. Verdict gating and dry run are the
// connector.Gate and connector.DryRun wrappers. Errors follow the
// connector's rules: requests Carbon Black refuses (400, 401, 403, a retired
// API) are permanent, throttling asks for a retry later, other failures are
// retried.
//
// # Hunting
//
// Hunter.Enrich adds the processes that ran a file (a process search by
// SHA-256 over a window, default two weeks) to an evidence's sightings: the
// Proofpoint flow uses it to find the devices that opened an attachment.
//
// # Testing
//
// Every component runs against carbonblacktest, the fake Carbon Black
// Cloud, and the connectortest conformance suites.
package carbonblackconn
