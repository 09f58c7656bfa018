package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soarkit/soarkit/connector"
)

// ErrLeaseLost is connector.ErrLeaseLost, matched (errors.Is) by the *LeaseLostError of a renewal, release or fenced
// write whose lease is no longer current.
var ErrLeaseLost = connector.ErrLeaseLost

// ErrCheckpointMoved is returned by SwapCheckpoint when the stored checkpoint is no longer the one the caller read.
var ErrCheckpointMoved = errors.New("pgstore: checkpoint moved")

// Lease is connector.Lease: a claim on one item or one source with its fencing token. Tokens come from one sequence,
// so a later claim on the same item or source always has a larger token.
type Lease = connector.Lease

// resource names what the lease is on, for errors and logs.
func resource(l Lease) string {
	if l.Source != "" {
		return "source " + l.Source
	}
	return "item " + l.Item.String()
}

// LeaseLostError says that a lease is no longer current: it expired and another owner claimed the item or source, or
// it was released. Owner and Token describe the current holder ("" and 0 when none).
type LeaseLostError struct {
	Lease Lease
	Owner string
	Token int64
}

// Error names the lost lease and its current holder.
func (e *LeaseLostError) Error() string {
	if e.Owner == "" {
		return fmt.Sprintf("pgstore: lease %d of %q on %s lost: not held any more", e.Lease.Token, e.Lease.Owner,
			resource(e.Lease))
	}
	return fmt.Sprintf("pgstore: lease %d of %q on %s lost: now held by %q with lease %d", e.Lease.Token,
		e.Lease.Owner, resource(e.Lease), e.Owner, e.Token)
}

// Is reports whether target is ErrLeaseLost.
func (e *LeaseLostError) Is(target error) bool { return target == ErrLeaseLost }

// Claim is connector.Claim: an item taken by ClaimItems or ClaimItem, with the lease that covers it.
type Claim = connector.Claim

// now returns the lease clock's time, or nil when the database's clock decides.
func (s *Store) now() *time.Time {
	if s.opts.Now == nil {
		return nil
	}
	t := s.opts.Now()
	return &t
}

func checkClaim(owner string, ttl time.Duration) error {
	if owner == "" {
		return errors.New("pgstore: a lease needs an owner")
	}
	if ttl <= 0 {
		return fmt.Errorf("pgstore: lease duration %s: must be positive", ttl)
	}
	return nil
}

// autocommit runs fn (single statements, each its own transaction) while the store is open, retrying it on
// transaction conflicts.
func (s *Store) autocommit(ctx context.Context, fn func() error) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt >= s.opts.MaxRetries {
			return err
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// ClaimItems leases up to limit items in one of states to owner for ttl: items that no lease covers (never claimed,
// released, or expired) and whose next attempt is due: items without a next attempt first, then the earliest due,
// then in key order. Rows that
// another replica is claiming at the same moment are skipped (FOR UPDATE SKIP LOCKED), so racing replicas get
// disjoint sets. It returns no claims when there is nothing to do.
func (s *Store) ClaimItems(ctx context.Context, owner string, states []connector.State, limit int, ttl time.Duration) ([]Claim, error) {
	if err := checkClaim(owner, ttl); err != nil {
		return nil, err
	}
	if limit <= 0 || len(states) == 0 {
		return nil, fmt.Errorf("pgstore: claim items: need a positive limit (%d) and at least one state", limit)
	}
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	var claims []Claim
	err := s.autocommit(ctx, func() error {
		claims = claims[:0]
		rows, err := s.pool.Query(ctx, sqlClaimItems, names, limit, owner, s.now(), ttl)
		if err != nil {
			return dbError("claim items", err)
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var raw []byte
			l := Lease{Owner: owner}
			if err := rows.Scan(&key, &l.Token, &l.Expires, &raw); err != nil {
				return dbError("claim items", err)
			}
			it, err := decodeItem(key, raw)
			if err != nil {
				return err
			}
			l.Item = it.Key
			claims = append(claims, Claim{Lease: l, Item: it})
		}
		if err := rows.Err(); err != nil {
			return dbError("claim items", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// ClaimItem leases the item with key to owner for ttl if no other lease covers it (whatever its state or next
// attempt): the replica that just stored a new item starts on it at once. found is false when the item does not
// exist or another owner holds it.
func (s *Store) ClaimItem(ctx context.Context, key connector.Key, owner string, ttl time.Duration) (c Claim, found bool, err error) {
	if err := checkClaim(owner, ttl); err != nil {
		return Claim{}, false, err
	}
	err = s.autocommit(ctx, func() error {
		var raw []byte
		l := Lease{Item: key, Owner: owner}
		err := s.pool.QueryRow(ctx, sqlClaimItem, key.String(), owner, s.now(), ttl).Scan(&l.Token, &l.Expires, &raw)
		if errors.Is(err, pgx.ErrNoRows) {
			found = false
			return nil
		}
		if err != nil {
			return dbError("claim item "+key.String(), err)
		}
		it, err := decodeItem(key.String(), raw)
		if err != nil {
			return err
		}
		c, found = Claim{Lease: l, Item: it}, true
		return nil
	})
	return c, found, err
}

// ClaimSource leases source to owner for ttl, so only one replica collects from it at a time. ok is false when
// another owner holds an unexpired lease on it.
func (s *Store) ClaimSource(ctx context.Context, source, owner string, ttl time.Duration) (l Lease, ok bool, err error) {
	if err := checkClaim(owner, ttl); err != nil {
		return Lease{}, false, err
	}
	if source == "" {
		return Lease{}, false, errors.New("pgstore: claim source: empty source name")
	}
	err = s.autocommit(ctx, func() error {
		l = Lease{Source: source, Owner: owner}
		err := s.pool.QueryRow(ctx, sqlClaimSource, source, owner, s.now(), ttl).Scan(&l.Token, &l.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			ok = false
			return nil
		}
		if err != nil {
			return dbError("claim source "+source, err)
		}
		ok = true
		return nil
	})
	if !ok {
		l = Lease{}
	}
	return l, ok, err
}

// Renew extends l to ttl from now and returns the renewed lease. It fails with a *LeaseLostError when l is no longer
// current; the caller must then stop working on the item or source.
func (s *Store) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := checkClaim(l.Owner, ttl); err != nil {
		return Lease{}, err
	}
	q, id := sqlRenewItem, l.Item.String()
	if l.Source != "" {
		q, id = sqlRenewSource, l.Source
	}
	renewed := l
	err := s.autocommit(ctx, func() error {
		err := s.pool.QueryRow(ctx, q, id, l.Owner, l.Token, s.now(), ttl).Scan(&renewed.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.lost(ctx, l)
		}
		if err != nil {
			return dbError("renew lease on "+resource(l), err)
		}
		return nil
	})
	if err != nil {
		return Lease{}, err
	}
	return renewed, nil
}

// Release gives l up, so another replica can claim the item or source at once. It fails with a *LeaseLostError when
// l was no longer current (nothing is changed then).
func (s *Store) Release(ctx context.Context, l Lease) error {
	q, id := sqlReleaseItem, l.Item.String()
	if l.Source != "" {
		q, id = sqlReleaseSource, l.Source
	}
	return s.autocommit(ctx, func() error {
		tag, err := s.pool.Exec(ctx, q, id, l.Owner, l.Token)
		if err != nil {
			return dbError("release lease on "+resource(l), err)
		}
		if tag.RowsAffected() == 0 {
			return s.lost(ctx, l)
		}
		return nil
	})
}

// lost builds the *LeaseLostError of l, naming the current holder.
func (s *Store) lost(ctx context.Context, l Lease) error {
	q, id := sqlItemHolder, l.Item.String()
	if l.Source != "" {
		q, id = sqlSourceHolder, l.Source
	}
	return holderError(s.pool.QueryRow(ctx, q, id), l)
}

// holderError reads the holder of l's resource from row and returns nil when l is current, a *LeaseLostError when
// not, or the database's error.
func holderError(row pgx.Row, l Lease) error {
	var owner *string
	var token *int64
	err := row.Scan(&owner, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return &LeaseLostError{Lease: l}
	}
	if err != nil {
		return dbError("lease on "+resource(l), err)
	}
	if owner != nil && *owner == l.Owner && token != nil && *token == l.Token {
		return nil
	}
	e := &LeaseLostError{Lease: l}
	if owner != nil && token != nil {
		e.Owner, e.Token = *owner, *token
	}
	return e
}

// UpdateFenced is Update for the holder of l: the transaction first checks, with a row lock, that l is still the
// current lease on its item or source, and commits fn's writes only then. When another owner claimed the resource (or
// l was released), it returns a *LeaseLostError and writes nothing, so a replica that was paused or cut off past its
// lease cannot overwrite or repeat the new owner's work. A lease that expired but that nobody claimed since is still
// current: its owner's writes cannot conflict with anyone's.
func (s *Store) UpdateFenced(ctx context.Context, l Lease, fn func(connector.Tx) error) error {
	if l.Owner == "" || (l.Item.IsZero() == (l.Source == "")) {
		return errors.New("pgstore: fenced update: the lease needs an owner and exactly one of item and source")
	}
	q, id := sqlItemLease, l.Item.String()
	if l.Source != "" {
		q, id = sqlSourceLease, l.Source
	}
	check := func(ctx context.Context, pg pgx.Tx) error { return holderError(pg.QueryRow(ctx, q, id), l) }
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, false, check, fn)
}

// SwapCheckpoint sets source's checkpoint to next if it is still old (nil old: no checkpoint stored yet), and fails
// with ErrCheckpointMoved otherwise, so two collectors of one source never both advance it from the same window.
func (s *Store) SwapCheckpoint(ctx context.Context, source string, old, next connector.Checkpoint) error {
	if next == nil {
		next = connector.Checkpoint{}
	}
	return s.autocommit(ctx, func() error {
		q, args := sqlSwapCheckpoint, []any{source, []byte(old), []byte(next)}
		if old == nil {
			q, args = sqlInsertCheckpoint, []any{source, []byte(next)}
		}
		tag, err := s.pool.Exec(ctx, q, args...)
		if err != nil {
			return dbError("swap checkpoint "+source, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: source %s", ErrCheckpointMoved, source)
		}
		return nil
	})
}

// ListenWork is Listen as a connector.WorkListener, for the engine (connector.LeasingStore).
func (s *Store) ListenWork(ctx context.Context) (connector.WorkListener, error) {
	l, err := s.Listen(ctx)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// The store is a connector.LeasingStore: the engine claims, renews, releases and fences through it.
var _ connector.LeasingStore = (*Store)(nil)
