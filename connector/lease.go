package connector

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is matched (errors.Is) by the error of a renewal, release or fenced write whose lease is no longer
// current: it expired and another replica claimed the item or source, or it was released.
var ErrLeaseLost = errors.New("connector: lease lost")

// Lease is a claim on one item or one source: Owner holds it until Expires, and Token, its fencing token, identifies
// it. A later claim on the same item or source always has a larger token.
type Lease struct {
	// Item is the claimed item (zero for a source lease).
	Item Key
	// Source is the claimed source ("" for an item lease).
	Source string
	// Owner names the claiming replica (Config.Owner).
	Owner   string
	Token   int64
	Expires time.Time
}

// Claim is an item taken by LeasingStore.ClaimItems or ClaimItem, with the lease that covers it.
type Claim struct {
	Lease Lease
	Item  Item
}

// LeasingStore is the optional capability of a Store that several replicas of one connector share (pgstore has it;
// memstore and boltstore, which one process owns, do not). When Config.Store has it, the engine works on an item
// only under a lease, writes everything about the item (state, ticket, verdict, action-log records) with
// UpdateFenced, renews its leases while the work runs and releases them when it stops; it collects a source only
// under a source lease, and moves the source's checkpoint with a write fenced by that lease. A replica that was
// paused, cut off or killed past its lease can thus neither overwrite nor repeat what the new owner did.
// connectortest.TestSharedStore is the conformance suite.
type LeasingStore interface {
	Store
	// ClaimItems leases up to limit items in one of states to owner for ttl: items no current lease covers (never
	// claimed, released, or expired) whose next attempt (Item.Retry.Next) is due, earliest first. Replicas claiming
	// at the same moment get disjoint sets. It returns no claims when there is nothing to do.
	ClaimItems(ctx context.Context, owner string, states []State, limit int, ttl time.Duration) ([]Claim, error)
	// ClaimItem leases the item with key to owner for ttl if no current lease covers it, whatever its state or next
	// attempt. found is false when the item does not exist or another owner holds it.
	ClaimItem(ctx context.Context, key Key, owner string, ttl time.Duration) (c Claim, found bool, err error)
	// ClaimSource leases source to owner for ttl; ok is false while another owner holds a current lease on it.
	ClaimSource(ctx context.Context, source, owner string, ttl time.Duration) (l Lease, ok bool, err error)
	// Renew extends l to ttl from now; it fails with ErrLeaseLost when l is no longer current. A lease that expired
	// but that nobody claimed since is still current.
	Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release gives l up, so another replica can claim the item or source at once; ErrLeaseLost when l was no longer
	// current.
	Release(ctx context.Context, l Lease) error
	// UpdateFenced is Update for the holder of l: it commits fn's writes only if l is still the current lease on its
	// item or source, checked inside the same transaction, and fails with ErrLeaseLost (writing nothing) otherwise.
	UpdateFenced(ctx context.Context, l Lease, fn func(Tx) error) error
	// ListenWork returns a listener that wakes when another replica stored claimable work. Stores without
	// notifications return a listener whose Wait only ends with ctx; the engine polls as well.
	ListenWork(ctx context.Context) (WorkListener, error)
}

// WorkListener is the wake-up channel of a LeasingStore.
type WorkListener interface {
	// Wait returns nil when work was announced since the previous Wait (or since ListenWork), ctx's error when ctx
	// ends first, and any other error when the listener broke (close it and listen again).
	Wait(ctx context.Context) error
	// Close ends a Wait in progress and releases the listener.
	Close() error
}
