package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	s := pgstoretest.Open(t, pgstoretest.NewSchema(t), pgstore.Options{StatementTimeout: 50 * time.Millisecond})
	err := s.View(context.Background(), func(ctxTx connector.Tx) error {
		return pgstore.Exec(ctxTx, "SELECT pg_sleep(30)")
	})
	var pgErr interface{ SQLState() string }
	if !errors.As(err, &pgErr) || pgErr.SQLState() != "57014" {
		t.Fatalf("a 30 s statement under a 50 ms timeout returned %v; want query_canceled (57014)", err)
	}
}

// Bad input is refused with a clear error and writes nothing.
func TestBadInput(t *testing.T) {
	if _, err := pgstore.Open(context.Background(), "postgres://u:hunter2@[::1", pgstore.Options{}); err == nil ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open of a malformed URL = %v; want an error without the password", err)
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
