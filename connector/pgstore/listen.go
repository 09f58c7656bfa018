package pgstore

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Listener receives the store's work notifications: the database sends one when a transaction commits that stored an
// item in an open state without a lease, moved an item into an open state, or released an item's lease. Replicas wait
// on it instead of only polling, so work stored by one replica is claimed by an idle one at once.
//
// A Listener holds one connection of its own (outside the pool). Notifications that arrive while nobody waits are kept
// and make the next Wait return at once, so the loop "claim; if nothing, Wait" loses no wake-up when the Listener is
// created before the first claim.
type Listener struct {
	schema string

	mu   sync.Mutex // serialises Wait and Close on the connection
	conn *pgx.Conn

	waitMu  sync.Mutex
	stopped bool
	stop    context.CancelFunc // ends the Wait in progress (Close)
}

// Listen opens a Listener for this store's schema. The caller closes it; Store.Close does not.
func (s *Store) Listen(ctx context.Context) (*Listener, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return nil, dbError("listen", err)
	}
	if _, err := conn.Exec(ctx, sqlListenWork); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, dbError("listen", err)
	}
	return &Listener{schema: s.schema, conn: conn}, nil
}

// Wait returns when work was announced for the store's schema since the previous Wait (or since Listen), or with
// ctx's error when ctx ends first. Any other error means the connection is lost: Close the Listener, poll, and Listen
// again.
func (l *Listener) Wait(ctx context.Context) error {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.waitMu.Lock()
	if l.stopped {
		l.waitMu.Unlock()
		return errListenerClosed
	}
	l.stop = cancel
	l.waitMu.Unlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errListenerClosed
	}
	for {
		n, err := l.conn.WaitForNotification(waitCtx)
		if n != nil && n.Payload == l.schema {
			return nil
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if waitCtx.Err() != nil {
				return errListenerClosed
			}
			return dbError("wait for work", err)
		}
	}
}

var errListenerClosed = errors.New("pgstore: listener closed")

// Close ends a Wait in progress (it returns an error) and closes the Listener's connection. A second Close returns
// nil.
func (l *Listener) Close() error {
	l.waitMu.Lock()
	l.stopped = true
	if l.stop != nil {
		l.stop()
	}
	l.waitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close(context.Background())
	l.conn = nil
	return err
}
