package connector

import (
	"context"
	"errors"
	"iter"
	"time"
)

// Store errors.
var (
	// ErrClosed is returned by a Store (and its transactions) after Close.
	ErrClosed = errors.New("connector: store closed")
	// ErrReadOnly is returned by the write methods of a Tx inside View.
	ErrReadOnly = errors.New("connector: read-only transaction")
)

// Store holds the engine's durable state: checkpoints per source, one Item per distinct file (its stage, ticket,
// verdict and merged evidence), hash aliases, and the action log keyed by (responder, evidence, target).
//
// Stores are deliberately thin: a transactional record store. The engine owns every decision; a store only has to
// make Update atomic and durable and keep its indexes consistent. connectortest.TestStore is the conformance suite
// every implementation must pass.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. When Update returns nil, every change fn made is durable; when fn
	// returns an error (or the store fails), none is applied and Update returns that error. fn may be called more
	// than once (stores may batch concurrent transactions), so it must have no effect outside tx. Concurrent Updates
	// are serialisable.
	Update(ctx context.Context, fn func(Tx) error) error
	// Prune applies retention: it removes items in a final state (done, failed) last updated before cutoff, with
	// their aliases and their action-log records, and reports what it removed. Checkpoints and open items are kept.
	Prune(ctx context.Context, cutoff time.Time) (Pruned, error)
	// Close releases the store. Later calls fail with ErrClosed; a second Close returns nil.
	Close() error
}

// Pruned counts what Store.Prune removed.
type Pruned struct {
	Items   int
	Aliases int
	Actions int
}

// Tx is a transaction on a Store. It is valid only inside the function it was passed to, and reads its own writes.
type Tx interface {
	// Checkpoint returns the stored checkpoint of a source (nil when none).
	Checkpoint(source string) (Checkpoint, error)
	// SetCheckpoint stores a source's checkpoint.
	SetCheckpoint(source string, cp Checkpoint) error

	// Item returns the item with the given key.
	Item(key Key) (it Item, found bool, err error)
	// PutItem stores it under it.Key, replacing any earlier version, and keeps the per-state index current.
	PutItem(it Item) error
	// Items yields the items in the given state, in key order. The caller must not write to the store while
	// iterating.
	Items(state State) iter.Seq2[Item, error]
	// DeleteItem removes the item with the given key, with its state index entry, the aliases that point to it and
	// its action-log records, as Prune does for old items. Deleting a key that is not stored is not an error.
	DeleteItem(key Key) error

	// Alias returns the item key recorded for hash h.
	Alias(h Key) (item Key, found bool, err error)
	// PutAlias records that hash h belongs to the item with key item.
	PutAlias(h Key, item Key) error

	// Action returns the action-log record for k.
	Action(k ActionKey) (a Action, found bool, err error)
	// PutAction records a done action.
	PutAction(a Action) error
	// Actions yields the action-log records of one item, ordered by responder then target. The caller must not
	// write to the store while iterating.
	Actions(item Key) iter.Seq2[Action, error]
}

// State is the durable stage of an item.
type State string

// Item states. New, Submitting, Awaiting and Responding are open (the engine resumes them after a restart); Done and
// Failed are final.
const (
	// StateNew: the file needs a verdict (lookup, then fetch and submit if unknown).
	StateNew State = "new"
	// StateSubmitting: the engine is about to submit, or submitted and crashed before storing the ticket.
	StateSubmitting State = "submitting"
	// StateAwaiting: a ticket is stored; the engine awaits it and never submits again.
	StateAwaiting State = "awaiting"
	// StateResponding: the verdict is known; responders act on the sightings not yet acted on.
	StateResponding State = "responding"
	// StateDone: every responder has acted on every sighting known.
	StateDone State = "done"
	// StateFailed: a dead letter; Failure says why.
	StateFailed State = "failed"
)

// OpenStates returns the states the engine resumes after a restart.
func OpenStates() []State { return []State{StateNew, StateSubmitting, StateAwaiting, StateResponding} }

// States returns every state, open ones first, in flow order.
func States() []State { return append(OpenStates(), StateDone, StateFailed) }

// Final reports whether s is Done or Failed.
func (s State) Final() bool { return s == StateDone || s == StateFailed }

// Item is the durable record of one distinct file.
type Item struct {
	// Key is the primary key: the strongest hash of the first evidence seen.
	Key Key `json:"key"`
	// Evidence is the merge of all evidence of the file, with every sighting.
	Evidence Evidence `json:"evidence"`
	// State is the item's stage.
	State State `json:"state"`
	// Revision counts the merges that brought new sightings or a raised source verdict; the engine finishes an item
	// only if no merge happened while it responded.
	Revision int `json:"revision"`
	// Verdict is the file's verdict, and VerdictAt when the engine obtained it (the verdict TTL runs from there).
	Verdict   *Verdict  `json:"verdict,omitempty"`
	VerdictAt time.Time `json:"verdict_at,omitzero"`
	// Ticket is the pending (or last) submission.
	Ticket *Ticket `json:"ticket,omitempty"`
	// Submissions counts the engine's submissions of this file.
	Submissions int `json:"submissions,omitempty"`
	// SubmitStarted is when the engine last entered StateSubmitting (the lower bound for TicketFinder).
	SubmitStarted time.Time `json:"submit_started,omitzero"`
	// ActionStarts holds, per unfinished action (responder and target), when the engine last started calling the
	// responder for it; responders read it as Finding.EarlierAttempt.
	ActionStarts map[string]time.Time `json:"action_starts,omitempty"`
	// Sample describes the last sample delivered for the file, if any.
	Sample *SampleRecord `json:"sample,omitempty"`
	// Failure holds the reason of a dead letter.
	Failure *Failure `json:"failure,omitempty"`
	// Retry is the backoff state of the item's current step after a failed try: nil when its last try did not
	// fail. It is cleared when the item moves to another state.
	Retry *RetryState `json:"retry,omitempty"`
	// Created and Updated are when the item was first stored and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// HashKeys returns the keys of every hash known to belong to the item's file: its evidence hashes and, unless the
// sample was truncated, the analysed sample's hashes.
func (it Item) HashKeys() []Key {
	keys, _ := it.Evidence.Hashes.Keys()
	if it.Verdict != nil && (it.Sample == nil || !it.Sample.Truncated) {
		more, _ := it.Verdict.SampleHashes.normalized().Keys()
		for _, k := range more {
			if !containsKey(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if !containsKey(keys, it.Key) {
		keys = append([]Key{it.Key}, keys...)
	}
	return keys
}

func containsKey(keys []Key, k Key) bool {
	for _, have := range keys {
		if have == k {
			return true
		}
	}
	return false
}

// SampleRecord describes a sample the engine streamed to the analyzer.
type SampleRecord struct {
	Name      string `json:"name,omitempty"`
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
	// Source is the source that delivered it.
	Source string `json:"source,omitempty"`
	// Hashes of the delivered bytes, computed by the engine while streaming (SHA256 always).
	Hashes Hashes `json:"hashes"`
}

// Failure is the reason an item became a dead letter.
type Failure struct {
	Stage  Stage     `json:"stage"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// RetryState is the stored backoff of a step that failed: the engine takes the item up again at Next (in this run,
// a later cycle or a later run), and gives up when the stage's horizon, counted from Since, has run out.
type RetryState struct {
	// Stage is the step that failed.
	Stage Stage `json:"stage"`
	// Class is the failure class of the last try: Transient or Authorization (which uses up no attempt).
	Class Class `json:"class"`
	// Attempts counts the transient failures of the step in a row.
	Attempts int `json:"attempts"`
	// Since is when the step first failed; the horizon runs from there.
	Since time.Time `json:"since"`
	// Next is when the step is due again.
	Next time.Time `json:"next"`
	// LastError is the last failure's message.
	LastError string `json:"last_error"`
	// Component is the source, analyzer or responder that failed.
	Component string `json:"component,omitempty"`
}

// ActionKey identifies one action: a responder acting on one target of one file.
type ActionKey struct {
	Responder string `json:"responder"`
	Item      Key    `json:"item"`
	// Target is "" for a per-evidence action, the sighting key or the device key otherwise (Finding.Target).
	Target string `json:"target,omitempty"`
}

// Action is a record of the action log: an action that is done.
type Action struct {
	ActionKey
	Status Status    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}
