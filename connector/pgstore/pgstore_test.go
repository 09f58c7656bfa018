package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/connectortest"
	"github.com/soarkit/soarkit/connector/pgstore"
	"github.com/soarkit/soarkit/connector/pgstore/pgstoretest"
)

func TestConformance(t *testing.T) {
	pgstoretest.URL(t)
	connectortest.TestStore(t, connectortest.StoreHarness{
		Open: func(t testing.TB) connector.Store {
			return pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{})
		},
		Reopen: func(t testing.TB, s connector.Store) connector.Store {
			return pgstoretest.Open(t, s.(*pgstore.Store).Schema(), pgstore.Options{})
		},
	})
}

// The shared-store suite: several handles on one schema, as replicas open them, with one fake lease clock.
func TestSharedConformance(t *testing.T) {
	pgstoretest.URL(t)
	connectortest.TestSharedStore(t, connectortest.SharedStoreHarness{
		Open: func(t testing.TB, n int, now func() time.Time) []connector.LeasingStore {
			schema := pgstoretest.NewSchema(t)
			stores := make([]connector.LeasingStore, n)
			for i := range stores {
				stores[i] = pgstoretest.Open(t, schema, pgstore.Options{Now: now})
			}
			return stores
		},
	})
}

// Two handles on one schema are two replicas: what one commits, the other reads, and their concurrent
// read-modify-write transactions (which conflict and are retried) lose nothing.
func TestTwoHandlesShareOneStore(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	a := pgstoretest.Open(t, schema, pgstore.Options{})
	b := pgstoretest.Open(t, schema, pgstore.Options{})
	it := connectortest.SampleItem(1, connector.StateResponding)
	it.Revision = 0
	mustUpdate(t, a, func(tx connector.Tx) error { return tx.PutItem(it) })

	const rounds = 40
	var wg sync.WaitGroup
	for _, s := range []*pgstore.Store{a, b, a, b} {
		wg.Go(func() {
			for range rounds {
				err := s.Update(context.Background(), func(tx connector.Tx) error {
					cur, _, err := tx.Item(it.Key)
					if err != nil {
						return err
					}
					cur.Revision++
					return tx.PutItem(cur)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var got connector.Item
	mustView(t, b, func(tx connector.Tx) error {
		var err error
		got, _, err = tx.Item(it.Key)
		return err
	})
	if got.Revision != 4*rounds {
		t.Errorf("Revision = %d after %d increments from two handles (lost updates)", got.Revision, 4*rounds)
	}
}

// Replicas that start at once migrate the schema once: every Open succeeds and the schema ends at the newest version
// with one row per migration.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	const replicas = 6
	var wg sync.WaitGroup
	stores := make([]*pgstore.Store, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			stores[i], errs[i] = pgstore.Open(context.Background(), pgstoretest.URL(t), pgstore.Options{Schema: schema})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	v, err := stores[0].SchemaVersion(context.Background())
	if err != nil || v != pgstore.LatestSchemaVersion {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, pgstore.LatestSchemaVersion)
	}
	var rows int
	if err := queryRow(t, "SELECT count(*) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows != pgstore.LatestSchemaVersion {
		t.Errorf("schema_migrations holds %d rows, want one per migration (%d)", rows, pgstore.LatestSchemaVersion)
	}
}

// A schema written by a newer build is refused instead of being used with wrong assumptions.
func TestNewerSchemaIsRefused(t *testing.T) {
	schema := pgstoretest.NewSchema(t)
	pgstoretest.Open(t, schema, pgstore.Options{}).Close()
	exec(t, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version, name) VALUES (999, 'future')")
	s, err := pgstore.Open(context.Background(), pgstoretest.URL(t), pgstore.Options{Schema: schema})
	if err == nil {
		s.Close()
		t.Fatal("Open of a schema at version 999 succeeded")
	}
	if !strings.Contains(err.Error(), "version 999") {
		t.Errorf("error = %v; want it to name the schema version", err)
	}
}

// A statement that runs longer than Options.StatementTimeout is cancelled by the server, and the error says so.
func TestStatementTimeout(t *testing.T) {
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{StatementTimeout: 250 * time.Millisecond})
	err := s.View(context.Background(), func(ctxTx connector.Tx) error {
		return pgstore.Exec(ctxTx, "SELECT pg_sleep(30)")
	})
	var pgErr interface{ SQLState() string }
	if !errors.As(err, &pgErr) || pgErr.SQLState() != "57014" {
		t.Fatalf("a 30 s statement under a 250 ms timeout returned %v; want query_canceled (57014)", err)
	}
}

// Bad input is refused with a clear error and writes nothing.
func TestBadInput(t *testing.T) {
	if _, err := pgstore.Open(context.Background(), "postgres://u:hunter2@[::1", pgstore.Options{}); err == nil ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a malformed URL = %v; want an error without the password", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pgstore.Open(ctx, "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", pgstore.Options{}); err == nil ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a server that is not there = %v; want an error without the password", err)
	}
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{})
	err := s.Update(context.Background(), func(tx connector.Tx) error { return tx.PutItem(connector.Item{State: connector.StateNew}) })
	if err == nil || !strings.Contains(err.Error(), "without key") {
		t.Errorf("PutItem without a key = %v", err)
	}
	err = s.Update(context.Background(), func(tx connector.Tx) error { return tx.PutAlias(connector.Key{}, connector.Key{}) })
	if err == nil {
		t.Errorf("PutAlias of zero keys succeeded")
	}
}

func mustUpdate(t testing.TB, s connector.Store, fn func(connector.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t testing.TB, s connector.Store, fn func(connector.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// exec runs one statement on the test database outside any store.
func exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if err := withConn(t, func(conn *pgx.Conn) error {
		_, err := conn.Exec(context.Background(), sql, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryRow(t testing.TB, sql string, dst ...any) error {
	t.Helper()
	return withConn(t, func(conn *pgx.Conn) error { return conn.QueryRow(context.Background(), sql).Scan(dst...) })
}

func withConn(t testing.TB, fn func(*pgx.Conn) error) error {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgstoretest.URL(t))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return fn(conn)
}

// Two transactions that lock two items in opposite order deadlock; PostgreSQL aborts one (40P01) and Update runs it
// again, so both commit and both writes survive.
func TestDeadlockIsRetried(t *testing.T) {
	var logs syncBuffer
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	a, b := connectortest.SampleItem(1, connector.StateNew), connectortest.SampleItem(2, connector.StateNew)
	mustUpdate(t, s, func(tx connector.Tx) error {
		if err := tx.PutItem(a); err != nil {
			return err
		}
		return tx.PutItem(b)
	})
	var mu sync.Mutex
	attempts := 0
	firstLocked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	write := func(me int, first, second connector.Item) error {
		return s.Update(context.Background(), func(tx connector.Tx) error {
			mu.Lock()
			attempts++
			n := attempts
			mu.Unlock()
			first.Submissions, second.Submissions = 10+me, 10+me
			if err := tx.PutItem(first); err != nil {
				return err
			}
			if n <= 2 { // the first attempt of each: hold the first row until the other holds its first row too
				close(firstLocked[me])
				<-firstLocked[1-me]
			}
			return tx.PutItem(second)
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = write(0, a, b) })
	wg.Go(func() { errs[1] = write(1, b, a) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if attempts < 3 {
		t.Errorf("%d attempts, want at least 3 (one writer retried after the deadlock)", attempts)
	}
	if !strings.Contains(logs.String(), "40P01") {
		t.Errorf("no retry after a deadlock (40P01) was logged:\n%s", logs.String())
	}
	mustView(t, s, func(tx connector.Tx) error {
		ga, _, err := tx.Item(a.Key)
		if err != nil {
			return err
		}
		gb, _, err := tx.Item(b.Key)
		if err != nil {
			return err
		}
		// Whichever committed last wrote both items.
		if ga.Submissions != gb.Submissions {
			t.Errorf("items written by different transactions: a by %d, b by %d", ga.Submissions-10, gb.Submissions-10)
		}
		return nil
	})
}

// syncBuffer is a bytes.Buffer for a logger shared by goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Items pages through a state larger than one page in key order, without gaps or repeats, and the caller may read
// other records of the same transaction between items.
func TestItemsPagesInKeyOrder(t *testing.T) {
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{})
	const n = 600 // more than two pages
	var want []string
	mustUpdate(t, s, func(tx connector.Tx) error {
		for i := range n {
			st := connector.StateNew
			if i%5 == 0 {
				st = connector.StateDone // other states interleave in key order and must not show
			} else {
				want = append(want, connectortest.SampleItem(i, st).Key.String())
			}
			if err := tx.PutItem(connectortest.SampleItem(i, st)); err != nil {
				return err
			}
		}
		return nil
	})
	slices.Sort(want)
	var got []string
	mustView(t, s, func(tx connector.Tx) error {
		for it, err := range tx.Items(connector.StateNew) {
			if err != nil {
				return err
			}
			if _, found, err := tx.Item(it.Key); err != nil || !found {
				return fmt.Errorf("Item(%s) inside the iteration: %v, %v", it.Key, found, err)
			}
			got = append(got, it.Key.String())
		}
		return nil
	})
	if !slices.Equal(got, want) {
		t.Errorf("Items(new) yielded %d keys (sorted: %v), want %d in key order", len(got), slices.IsSorted(got), len(want))
	}
}

// A transaction that keeps conflicting runs 1+MaxRetries times and then returns the conflict; other errors of fn are
// not retried.
func TestRetriesAreBounded(t *testing.T) {
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{MaxRetries: 3})
	for _, c := range []struct {
		err   error
		calls int
	}{
		{&pgconn.PgError{Code: "40001", Message: "could not serialize access"}, 4},
		{&pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, 4},
		{&pgconn.PgError{Code: "23505", Message: "duplicate key"}, 1},
		{errors.New("engine decided"), 1},
	} {
		calls := 0
		err := s.Update(context.Background(), func(connector.Tx) error { calls++; return c.err })
		if !errors.Is(err, c.err) || calls != c.calls {
			t.Errorf("fn failing with %v: Update = %v after %d calls, want that error after %d", c.err, err, calls, c.calls)
		}
	}
}
