package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The operator's view of the state: counting, listing, showing, requeueing and forgetting items. They work on any
// Store, with the daemon stopped (on the state file) or running (through its ops server): the engine reads an item
// afresh at every step, so a change made here is seen by the next step.

// Errors of the state operations.
var (
	// ErrItemNotFound is returned by ShowItem, RetryItems and ForgetItems for a key that matches no item.
	ErrItemNotFound = errors.New("connector: no such item")
	// ErrNothingToRetry is returned by RetryItems for an item that is done.
	ErrNothingToRetry = errors.New("connector: the item is done; nothing to retry")
)

// ItemCounts summarises the items of a Store.
type ItemCounts struct {
	// ByState counts the items in every state (every state is present).
	ByState map[State]int `json:"by_state"`
	// Waiting counts the open items waiting on a backoff or for an unauthorized component (Item.Retry set).
	Waiting int `json:"waiting"`
	// OldestOpen is when the oldest open item was first stored (zero when none is open).
	OldestOpen time.Time `json:"oldest_open,omitzero"`
}

// ItemCounter is implemented by a Tx that counts the items in a state without reading them. CountItems uses it for
// the final states (done and failed), whose items it needs only to count, so a scrape of the item gauges costs the
// open items, not the whole history. boltstore and pgstore implement it.
type ItemCounter interface {
	// ItemCount returns the number of items in state.
	ItemCount(state State) (int, error)
}

// CountItems counts the items of s by state. It reads the open items (for Waiting and OldestOpen) and only counts
// the final ones when the store's Tx is an ItemCounter.
func CountItems(ctx context.Context, s Store) (ItemCounts, error) {
	var c ItemCounts
	err := s.View(ctx, func(tx Tx) error {
		c = ItemCounts{ByState: map[State]int{}}
		counter, _ := tx.(ItemCounter)
		for _, st := range States() {
			c.ByState[st] = 0
			if counter != nil && st.Final() {
				n, err := counter.ItemCount(st)
				if err != nil {
					return err
				}
				c.ByState[st] = n
				continue
			}
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				c.ByState[st]++
				if st.Final() {
					continue
				}
				if it.Retry != nil {
					c.Waiting++
				}
				if c.OldestOpen.IsZero() || it.Created.Before(c.OldestOpen) {
					c.OldestOpen = it.Created
				}
			}
		}
		return nil
	})
	return c, err
}

// ParseState parses a state name, or one of the groups "open" (every open state) and "all".
func ParseState(s string) ([]State, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "open":
		return OpenStates(), nil
	case "all", "":
		return States(), nil
	}
	for _, st := range States() {
		if string(st) == strings.ToLower(s) {
			return []State{st}, nil
		}
	}
	return nil, fmt.Errorf("connector: unknown state %q (use open, all, new, submitting, awaiting, responding, done or failed)", s)
}

// ListItems returns the items in the given states (every state when none is given), state by state in flow order and
// by key within a state.
func ListItems(ctx context.Context, s Store, states ...State) ([]Item, error) {
	if len(states) == 0 {
		states = States()
	}
	var items []Item
	err := s.View(ctx, func(tx Tx) error {
		items = items[:0]
		for _, st := range states {
			for it, err := range tx.Items(st) {
				if err != nil {
					return err
				}
				items = append(items, it)
			}
		}
		return nil
	})
	return items, err
}

// ItemDetail is one item with its action log.
type ItemDetail struct {
	Item    Item     `json:"item"`
	Actions []Action `json:"actions"`
}

// ParseItemKey parses what an operator types to name an item: "kind:hex" (as Key.String writes it) or a bare
// SHA256, SHA1 or MD5 in hexadecimal (told apart by length).
func ParseItemKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ":") {
		return ParseKey(s)
	}
	for _, kind := range []HashKind{SHA256, SHA1, MD5} {
		if len(s) == kind.hexLen() {
			return newKey(kind, s)
		}
	}
	return Key{}, fmt.Errorf("connector: %q is neither kind:hex nor a SHA256, SHA1 or MD5", s)
}

// resolveKey returns the key of the item k names: the item itself, or the item k is an alias of.
func resolveKey(tx Tx, k Key) (Key, bool, error) {
	if _, found, err := tx.Item(k); err != nil || found {
		return k, found, err
	}
	return tx.Alias(k)
}

// ShowItem returns the item that key names (its own key or any hash of its file) with its action log.
func ShowItem(ctx context.Context, s Store, key Key) (ItemDetail, error) {
	var d ItemDetail
	err := s.View(ctx, func(tx Tx) error {
		d = ItemDetail{}
		k, found, err := resolveKey(tx, key)
		if err != nil {
			return err
		}
		if found {
			d.Item, found, err = tx.Item(k)
		}
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: %s", ErrItemNotFound, key)
		}
		d.Actions = []Action{}
		for a, err := range tx.Actions(k) {
			if err != nil {
				return err
			}
			d.Actions = append(d.Actions, a)
		}
		return nil
	})
	return d, err
}

// RetryItems requeues the items that keys name, so the next run (or the next cycle of a running daemon) works on
// them again, keeping what was done: the verdict, the ticket, the evidence and the action log stay, so no analysis
// and no action is repeated. A dead letter goes back to responding when it failed there with a verdict, else to new
// (a lookup first: the analyzer may have finished meanwhile). An open item waiting on a backoff is made due now.
// A done item is an error. It returns the keys of the items requeued.
func RetryItems(ctx context.Context, s Store, now time.Time, keys ...Key) ([]Key, error) {
	var done []Key
	err := s.Update(ctx, func(tx Tx) error {
		done = done[:0]
		for _, key := range keys {
			k, found, err := resolveKey(tx, key)
			if err != nil {
				return err
			}
			var it Item
			if found {
				it, found, err = tx.Item(k)
			}
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: %s", ErrItemNotFound, key)
			}
			if err := requeue(&it, now); err != nil {
				return err
			}
			if err := tx.PutItem(it); err != nil {
				return err
			}
			done = append(done, it.Key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// RetryFailed requeues every dead letter, as RetryItems does, and returns their keys.
func RetryFailed(ctx context.Context, s Store, now time.Time) ([]Key, error) {
	failed, err := ListItems(ctx, s, StateFailed)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(failed))
	for i, it := range failed {
		keys[i] = it.Key
	}
	return RetryItems(ctx, s, now, keys...)
}

// requeue makes it due again (see RetryItems).
func requeue(it *Item, now time.Time) error {
	switch {
	case it.State == StateDone:
		return fmt.Errorf("%w: %s", ErrNothingToRetry, it.Key)
	case it.State == StateFailed:
		it.State = StateNew
		if it.Verdict != nil && it.Failure != nil && it.Failure.Stage == StageRespond {
			it.State = StateResponding
		}
		it.Failure, it.Retry = nil, nil
	case it.Retry != nil:
		it.Retry.Next = now
	}
	it.Updated = now
	return nil
}

// ForgetItems removes the items that keys name, with their aliases and action logs: the engine treats their files as
// never seen (a file collected again is analysed and acted on anew). It returns the keys removed.
func ForgetItems(ctx context.Context, s Store, keys ...Key) ([]Key, error) {
	var gone []Key
	err := s.Update(ctx, func(tx Tx) error {
		gone = gone[:0]
		for _, key := range keys {
			k, found, err := resolveKey(tx, key)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: %s", ErrItemNotFound, key)
			}
			if err := tx.DeleteItem(k); err != nil {
				return err
			}
			gone = append(gone, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}
