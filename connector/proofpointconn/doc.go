// Package proofpointconn binds the Proofpoint TAP client (package proofpoint)
// to the connector contracts: a Source over TAP's SIEM message streams that
// reports the attachments TAP condemned, each carrying TAP's own verdict, and
// NewAnalyzer, the pass-through analyzer that hands that verdict on.
//
// # Windows and checkpoints
//
// Each Collect reads one SIEM window (at most an hour, TAP's limit) of the
// delivered and/or blocked message streams (Options.Streams), filtered to
// attachment threats. The windows stay Options.Delay (15 minutes, the original
// connector's delta) behind now so TAP has finished sandboxing; the first run
// starts Options.FirstLookBack before that (one hour by default, capped at
// TAP's seven-day look-back). The checkpoint is the end of the window TAP
// served (its queryEndTime), and Batch.More is set while more whole windows
// are ready, so a source that was down catches up window by window. An empty
// window is an empty batch, not an error (the original aborted on it).
//
// # Evidence
//
// Only attachments TAP itself condemned become evidence: an attached part
// (disposition "attached") whose SHA-256 is the artefact or id of an
// attachment threat in the message's threatsInfoMap with an accepted
// classification (Options.Classifications, "malware") and status
// (Options.ThreatStatuses, active and cleared). A clean PDF sent next to a
// malicious attachment is not evidence (seed bug D.4 hunted, reported, banned
// and isolated it). One Evidence per SHA-256 and window carries one sighting
// per message recipient: message GUID, recipient, sender (From address), and
// in Attributes the subject, every recipient, the envelope sender, sender IP,
// Message-ID header, QID, stream, malware score and the threat's id, link,
// status and classification.
//
// The evidence's SourceVerdict is TAP's: malicious, Score the message's
// malwareScore, Severity its tenth rounded half up and never below 1 (the
// original's round() gave 0 for scores up to 5, which Carbon Black refuses:
// seed bug D.4), the threat's classification and dashboard link.
//
// # Hunts
//
// Options.Enrich hunts each attachment. The tap-cbc example passes
// carbonblackconn's Hunter.Enrich, which adds a sighting per Carbon Black
// process that ran the attachment, so the responders (isolate, ban, Live
// Response, ...) act on the endpoints. A hunt never holds a window back
// (before, one failed hunt failed the whole Collect, and at 5% faults no
// window was ever recorded): the checkpoint moves past the window at once and
// carries the window's attachments, with their evidence, until their hunts
// succeed; the engine stores the checkpoint in one transaction, so a restart
// loses none. A window's attachments are recorded with the checkpoint before
// any is hunted; the hunts run in the following calls: at most
// Options.HuntsPerCollect per call (16 by default, so each call returns soon
// and a connector killed often still makes progress),
// Options.HuntConcurrency at once, each bounded by Options.HuntTimeout, and,
// when one fails, in later calls after
// Options.HuntRetry's back-off (a minute doubling to an hour). Each
// attachment is delivered once, with its hunt's sightings, so the responders
// see it whole, and a failing hunt delays only its own attachment. A hunt
// still failing after Options.HuntFor (seven days) is given up with an error
// log and its attachment delivered without it; while Options.MaxPendingHunts
// attachments wait, no new window is read, so nothing is dropped. Carbon
// Black's search-job creation, a read, is retried by its client like any
// idempotent call.
//
// # Errors
//
// TAP's 400, 401 and 403 answers and windows the client refuses are permanent
// (connector.Permanent); 429 and an exhausted request pool ask for a retry
// after proofpoint.DefaultRateLimitedDelay; other failures are transient.
//
// # Testing
//
// Package proofpointtest is a fake TAP with an injectable clock; pass its Now
// as Options.Now so the source and the fake agree on the time.
package proofpointconn
