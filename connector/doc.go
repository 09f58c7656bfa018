// Package connector is soarkit's portable connector framework: the contracts between evidence sources, analyzers
// and responders, and the engine (Pipeline) that runs them with durable state. It imports no vendor client; the
// connector/<vendor>conn packages bind the Carbon Black, SentinelOne, Proofpoint and VMRay clients to it.
//
// # The flow
//
// Data flows one way, and every step is recorded in a Store before the next begins:
//
//	Source.Collect -> dedupe -> Analyzer.Lookup -> Fetcher.Fetch -> Analyzer.Submit -> Analyzer.Await -> Responder.Respond
//
// The stages:
//
//   - collect: each Source delivers Evidence since its Checkpoint, in Batches. The batch's evidence and the next
//     checkpoint are stored in one transaction, so a checkpoint moves only once its evidence is durable.
//   - dedupe: evidence is merged into one Item per file, keyed by its strongest hash (SHA256, else SHA1, else MD5;
//     see Hashes.Key). Every other hash learnt for the file (from the evidence, or the analyzed sample's hashes) is
//     recorded as an alias, so a SentinelOne threat that only names a SHA1 joins the item of the same file that
//     Carbon Black reported by SHA256. New sightings of a known file are added to its item; the file is not analysed
//     again while its verdict is fresh (Config.VerdictTTL).
//   - lookup: the analyzer is asked for a verdict it already holds, without uploading. Known files are resubmitted
//     only for the verdicts in Config.Resubmit, and never when the engine submitted them itself.
//   - fetch: sources that implement Fetcher deliver the file as a streamed Sample; sources that saw the file are
//     tried first. A truncated sample (Carbon Black's binary store keeps only the start of big files) is looked up by
//     its own hash before it is uploaded.
//   - submit: the engine records the intent, streams the sample to the analyzer through a reader that hashes it (an
//     upload whose bytes do not match the evidence fails at end of file), and stores the returned Ticket.
//   - await: the engine waits for the ticket's verdict, bounded by Config.AnalysisTimeout counted from the
//     submission, across restarts.
//   - respond: every Responder acts on the Finding (evidence, verdict and, by Scope, one sighting or device). Each
//     done action is recorded in the action log under (responder, file, target) and never repeated. A
//     BatchResponder gets the findings of many files in one call: those that reached it while its previous batch
//     ran (up to Config.RespondBatch), so a vendor update shared by many files is made once per batch.
//
// An item keeps its latest MaxSightings sightings and counts the rest (Evidence.SightingCount), so the state of a
// file seen again and again stays the same size.
//
// Each stage has its own bounded concurrency (Config.Lookup, Fetch, Submit, Await, Respond) and the stages overlap:
// analyses of earlier evidence are awaited while new evidence is collected and fetched. A lookup or fetch worker waits
// for a free worker of the next stage (a fetched sample waits in the worker that holds it); items for the await and
// respond stages join a queue instead, so a busy await stage does not stop submissions, nor a busy respond stage the
// awaits. With an analyzer that takes L per analysis and await concurrency K, throughput approaches K/L (see
// docs/performance.md).
//
// # Delivery guarantees
//
// Processing is at-least-once, effects are exactly-once as far as the components allow:
//
//   - Nothing is lost: evidence is stored before its checkpoint moves; an item's state survives any crash and the
//     next run resumes it.
//   - One analysis per file: a file with a stored ticket is awaited, never submitted again. The one window the
//     engine cannot close alone is a crash after the analyzer accepted a submission and before the ticket was
//     stored; an analyzer that implements TicketFinder closes it (the engine asks it before submitting again), one
//     that does not may analyse that file twice. A failed Submit call goes through the same check, so a lost
//     response does not cause a second submission either.
//   - No repeated action: the action log is written as soon as a responder reports Acted or Unchanged, and a
//     logged action is never requested again. A crash between the vendor acting and the log write repeats that one
//     call after the restart, which is why responders must be idempotent (report Unchanged when the note, report
//     or ban already exists). For vendors that apply a request late (the target does not show it yet), the engine
//     stores each attempt's start in the item before calling the responder and hands the earlier unfinished
//     attempt's start to the next call (Finding.EarlierAttempt): within its settle window the responder answers RetryLater
//     wrapping ErrActionSettling instead of sending again, across restarts too.
//   - Bounded waits: every component call runs under a timeout (StageLimits.Timeout, Config.CollectTimeout), and
//     a failing step is handled by its failure class (below), never by a small fixed count. A panic in a component
//     is contained: the item becomes a dead letter with a PanicError and the stack is logged.
//   - Graceful shutdown: when the context ends, collecting stops, awaits stop at once (their tickets are stored),
//     and submissions and actions under way get Config.ShutdownTimeout to finish and be recorded.
//
// # Several replicas
//
// A Store that is also a LeasingStore (connector/pgstore) lets several replicas of one connector share their state.
// The engine then works on an item only under a lease (claimed with Config.Replicas.MaxClaimed items at most,
// renewed while the work runs, released when it ends), writes everything about the item with the store's fenced
// update so a replica that lost its lease can neither overwrite nor repeat the new owner's work, collects each source
// under a source lease whose fenced transaction moves the checkpoint, and wakes on the store's work notifications as
// well as polling. Calls with effects run under a context that ends when their lease's deadline passes unrenewed.
// connectortest.TestSharedStore is the conformance suite of such stores; docs/scaling.md has the guarantees.
//
// # Failure classes
//
// Every failed component call, in every stage (collect, lookup, fetch, submit, await, respond), is sorted by
// Classify into one of three classes:
//
//   - Transient: network errors, timeouts (the stage's own call timeout included), HTTP 408, 429 and 5xx, RetryLater
//     from any stage (an offline agent, a quota), and any error not marked permanent. The step is tried again after
//     a capped exponential backoff with jitter (Config.Retry: 2 s doubling up to 30 min by default; a RetryLater
//     delay is honoured up to the cap). The attempt count, the first failure and the next attempt time are stored
//     with the item (Item.Retry), so the schedule survives restarts: a run waits in process for at most two
//     retries of a step, each no longer than Config.RetryInRun (1 min); beyond that the item is left open, and a
//     later cycle of Run or a later RunOnce takes it up when due. Only when the stage's horizon (StageLimits.Horizon, 24 h by default), counted from the step's first
//     failure, has run out does the item become a dead letter. A failing Collect is tried Config.Retry.Attempts
//     times (5 by default) in a cycle; its checkpoint does not move, so the next cycle starts from the same place.
//   - Permanent: errors marked with Permanent (other 4xx, a hash mismatch, an unsupported file, a limit breached)
//     and contained panics. The item becomes a dead letter at once (StateFailed, with the stage and reason); a
//     Fetcher's permanent error only moves on to the next source.
//   - Authorization: errors matching ErrUnauthorized (see Unauthorized) or carrying HTTP status 401 or 403 (any
//     error with an HTTPStatus() int method, as the vendor clients' errors have), even when an adapter marked them
//     permanent. This is not a failure of the item: the component (source, analyzer or responder) is marked
//     unhealthy, the engine stops calling it for the rest of the cycle, and its items wait without using up
//     attempts. Summary.Components and Summary.Problem report it, and an Observer that implements HealthObserver
//     learns it at once; the example connectors turn it into exit code 1 and a failing readiness probe.
//
// Await of an unfinished analysis returns RetryLater too; there it is a poll, not a failure, bounded by
// Config.AnalysisTimeout. Dead letters can be listed, shown and requeued (ListItems, ShowItem, RetryItems,
// ForgetItems); a dead letter whose file is collected again is also worked on again after
// Config.RetryFailedAfter.
//
// # Control errors
//
// Components return plain errors for transient failures. Wrap with Permanent when retrying cannot help (the item
// becomes a dead letter, or a fetcher lets the next source try), with Unauthorized when the vendor refused the
// credentials in a way that carries no HTTP status, return RetryLater to be called again after a delay, and
// ErrEndOfInput from Collect when a source has ended for good.
//
// # Writing a Source
//
// Name returns a stable name. Collect reads the vendor from the checkpoint (nil on the first run: decide the
// look-back), and returns the evidence and the next checkpoint; set Batch.More to be called again at once (another
// page or time window). Keep no state of your own: whatever you need next time goes into the checkpoint. Report one
// Sighting per thing a responder acts on (a device, a threat, a message recipient), with the well-known fields set
// and anything else in Attributes; give it an ID when the vendor has one. If the vendor can deliver files, implement
// Fetcher: stream the file (never read it into memory), set Truncated and, when you can, Sample.Hashes, and return a
// Permanent error for a file you do not hold. Run connectortest.TestSource against your vendor's fake.
//
// # Writing an Analyzer
//
// Lookup returns the verdict the analyzer already holds for ev.Hashes (found=false when unknown; an error is never
// "unknown"). Submit streams the sample and returns a Ticket as soon as the analyzer accepted it; put whatever you
// need to await it in Ticket.ID. Await polls at the analyzer's pace until the verdict is ready or ctx ends, or
// returns RetryLater. Map the vendor's result onto Verdict (kind, score, severity 1-10, classifications, threat
// names, VTIs, typed IOCs, report link, SampleHashes). Implement TicketFinder if the vendor can list submissions by
// hash. For sources that carry their own verdict, use PassThrough.
//
// # Writing a Responder
//
// Choose a Scope: ScopeEvidence for one action per file (a report, a ban), ScopeSighting for one per sighting (a
// threat note, a mitigation), ScopeDevice for one per device (a quarantine). Respond acts on exactly the finding's
// target, checks whether the effect already exists (report Unchanged) and says what it did in Result.Detail. Return
// Skipped when the finding lacks what you need. Leave verdict gates, dry run, retries and rate limits to the
// wrappers Gate, DryRun, Retry and RateLimit. Run connectortest.TestResponder against your vendor's fake. Webhook and
// Command are ready-made responders. When the vendor can do the work of several files in fewer calls (a list update,
// a search by many ids), implement BatchResponder too: RespondBatch answers each finding on its own (an Outcome per
// finding), and the engine calls it one batch at a time. Gate keeps batching; DryRun, Retry and RateLimit act per
// finding.
//
// # Names shared with the vendor clients
//
// connector.Sample and connector.Verdict are the engine's vendor-neutral types: a Sample is a file stream a Fetcher
// delivers for analysis, a Verdict the engine's summary of what any analyzer concluded (kind, score, severity 1-10,
// IOCs). vmray.Sample and vmray.Verdict are VMRay's own API objects (a sample record on the VMRay platform and its
// verdict enum); the vmray analyzer adapter (vmrayconn) maps them onto connector.Verdict. Inside this package and
// the adapters the unqualified names always mean the connector types; vendor types are always package-qualified.
//
// # Observability
//
// The engine logs one record per item and stage with log/slog (Config.Logger), reports counters and per-call
// latencies through the small Observer interface (bind it to Prometheus in a main), and returns a Summary per run.
package connector
