package connector

import (
	"maps"
	"time"
)

// Stage names a step of the pipeline, in logs, metrics, failures and panics.
type Stage string

// The pipeline's stages, in flow order.
const (
	StageCollect Stage = "collect"
	StageDedupe  Stage = "dedupe"
	StageLookup  Stage = "lookup"
	StageFetch   Stage = "fetch"
	StageSubmit  Stage = "submit"
	StageAwait   Stage = "await"
	StageRespond Stage = "respond"
)

// Observer receives the engine's counters and stage latencies. It is small on purpose: bind it to Prometheus (a
// CounterVec per Counter with Counter.Labels, a HistogramVec for Latency) or anything else. Methods are called
// concurrently and must not block.
type Observer interface {
	// Add adds n to counter c; labels are the values of c.Labels(), in order.
	Add(c Counter, n int, labels ...string)
	// Latency records one component call: the stage, the component's name, the outcome ("ok", "retry", "failed",
	// "unauthorized", "panic", "canceled") and how long it took.
	Latency(stage Stage, component string, outcome string, d time.Duration)
}

// Counter names one of the engine's counters.
type Counter string

// The engine's counters.
const (
	CounterCollected Counter = "evidence_collected" // labels: source
	CounterRejected  Counter = "evidence_rejected"  // labels: source (no or malformed hash)
	CounterDeduped   Counter = "evidence_deduped"   // labels: source (merged into a known file, no new analysis)
	CounterCacheHits Counter = "verdict_cache_hits" // labels: none (verdict still fresh in the store)
	CounterLookups   Counter = "lookups"            // labels: result ("found", "unknown")
	CounterFetched   Counter = "samples_fetched"    // labels: source
	CounterSubmitted Counter = "samples_submitted"  // labels: analyzer
	CounterVerdicts  Counter = "verdicts"           // labels: kind
	CounterActions   Counter = "actions"            // labels: responder, status ("acted", "unchanged", "skipped", "done_before", "failed")
	CounterFailures  Counter = "dead_letters"       // labels: stage
	CounterRetries   Counter = "retries"            // labels: stage
	CounterBatches   Counter = "respond_batches"    // labels: responder (RespondBatch calls of a BatchResponder)
)

// Counters lists every counter, for binding them all up front.
func Counters() []Counter {
	return []Counter{CounterCollected, CounterRejected, CounterDeduped, CounterCacheHits, CounterLookups,
		CounterFetched, CounterSubmitted, CounterVerdicts, CounterActions, CounterFailures, CounterRetries,
		CounterBatches}
}

// Labels returns the label names of the counter.
func (c Counter) Labels() []string {
	switch c {
	case CounterCollected, CounterRejected, CounterDeduped, CounterFetched:
		return []string{"source"}
	case CounterLookups:
		return []string{"result"}
	case CounterSubmitted:
		return []string{"analyzer"}
	case CounterVerdicts:
		return []string{"kind"}
	case CounterActions:
		return []string{"responder", "status"}
	case CounterBatches:
		return []string{"responder"}
	case CounterFailures, CounterRetries:
		return []string{"stage"}
	}
	return nil
}

// Summary reports what one RunOnce (or one Run, since its start) did.
type Summary struct {
	Started  time.Time
	Finished time.Time

	Collected int // evidence records received from sources
	Rejected  int // evidence records without a usable hash
	New       int // distinct files seen for the first time
	Deduped   int // evidence records merged into a file already known (no new analysis)
	Resumed   int // open items taken up from the store (after a restart)
	CacheHits int // verdicts still fresh in the store
	LookedUp  int // analyzer lookups
	Known     int // lookups that found a verdict
	Fetched   int // samples delivered by sources
	Submitted int // samples submitted for analysis
	Recovered int // tickets found again after a crash (TicketFinder)
	Analysed  int // analyses awaited to their verdict

	// Verdicts counts the verdicts obtained, by kind.
	Verdicts map[Kind]int
	// Actions counts responder outcomes, by responder name.
	Actions map[string]ActionCounts
	// Failures counts dead letters, by stage.
	Failures map[Stage]int
	// Pending counts items left open when the run stopped (shutdown or context end); they resume next time.
	Pending int
	// Waiting counts the open items (of Pending) waiting on a backoff or for an unauthorized component.
	Waiting int
	// SourceErrors counts Collect calls that failed.
	SourceErrors int
	// LastCollected is when each source last collected successfully during the run.
	LastCollected map[string]time.Time
	// Components is the health of every component the run called, by name, as it was when the run ended (see
	// Problem).
	Components map[string]ComponentStatus
}

// ActionCounts counts the outcomes of one responder.
type ActionCounts struct {
	Acted      int // the responder changed something
	Unchanged  int // already in the desired state
	Skipped    int // gated, dry run, not applicable
	DoneBefore int // found in the action log: not called again
	Failed     int // ended in an error
}

// FailureCount returns the number of dead letters in all stages.
func (s Summary) FailureCount() int {
	n := 0
	for _, v := range s.Failures {
		n += v
	}
	return n
}

// clone returns a deep copy.
func (s Summary) clone() Summary {
	s.Verdicts = maps.Clone(s.Verdicts)
	s.Actions = maps.Clone(s.Actions)
	s.Failures = maps.Clone(s.Failures)
	s.LastCollected = maps.Clone(s.LastCollected)
	s.Components = maps.Clone(s.Components)
	return s
}

type nopObserver struct{}

func (nopObserver) Add(Counter, int, ...string)                  {}
func (nopObserver) Latency(Stage, string, string, time.Duration) {}
