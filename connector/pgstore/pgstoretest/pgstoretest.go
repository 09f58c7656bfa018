package pgstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soarkit/soarkit/connector/pgstore"
)

// EnvURL is the environment variable that holds the URL of the test database. `.ci/postgres.sh start` prints it.
const EnvURL = "SOARKIT_TEST_POSTGRES_URL"

// URL returns the URL of the test database. Without one the test is skipped, except in CI (CI=true), where a
// missing database is a failure: CI must run these tests.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url != "" {
		return url
	}
	const how = `start a throw-away PostgreSQL with: eval "$(.ci/postgres.sh start)"`
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set and CI=true: the PostgreSQL tests must run in CI (%s)", EnvURL, how)
	}
	t.Skipf("%s is not set; %s", EnvURL, how)
	return ""
}

// NewSchema returns the name of a fresh schema in the test database and drops it (with everything in it) when the
// test ends. Stores opened on it start empty.
func NewSchema(t testing.TB) string {
	t.Helper()
	url := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("pgstoretest: dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgstoretest: dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// Open opens a store on schema in the test database (opts.Schema is overridden) and closes it when the test ends.
// Several Opens on one schema are several replicas sharing one store.
func Open(t testing.TB, schema string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	opts.Schema = schema
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, URL(t), opts)
	if err != nil {
		t.Fatalf("pgstoretest: open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
