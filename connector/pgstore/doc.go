// Package pgstore is a connector.Store on PostgreSQL (github.com/jackc/pgx/v5), for several replicas of one
// connector sharing their state.
//
// Open connects with a pool, creates the schema (Options.Schema, default "soarkit") when it is missing and migrates
// it: versioned migrations recorded in schema_migrations, applied in one transaction under an advisory lock, so
// replicas that start at once migrate it once, and a schema newer than the build is refused.
//
// Update runs in a SERIALIZABLE transaction, so concurrent read-modify-write transactions of any number of replicas
// behave as if run one after another; a transaction that fails with a serialization failure (SQLSTATE 40001) or a
// deadlock (40P01) runs again, with exponential backoff and jitter, up to Options.MaxRetries times. View runs on one
// read-only snapshot. Every statement is bounded by Options.StatementTimeout on the server and by the context on the
// client. Prune applies retention in one statement.
//
// Items are stored as JSON (jsonb) with their key, state and update time in columns, indexed for the per-state
// queries, for retention, and (migration 2) for claims ordered by next attempt.
//
// Leases let replicas share work without doing it twice. ClaimItems takes up to n claimable items (open, not leased
// or lease expired, next attempt due) with FOR UPDATE SKIP LOCKED, so racing replicas get disjoint sets; each claim
// carries a fencing token from one sequence, so a newer claim always has a larger token. Renew extends a lease,
// Release gives it up, and UpdateFenced runs a transaction that commits only while its lease is still current: a
// replica that lost its lease (paused past expiry, partitioned) gets a *LeaseLostError (errors.Is ErrLeaseLost) and
// writes nothing. Sources are claimed the same way (ClaimSource), and SwapCheckpoint moves a checkpoint only from the
// value the caller read. Expiry is judged by the database's clock unless Options.Now is set.
//
// Store.Listen returns a Listener whose Wait returns when another replica stored claimable work (a trigger sends
// NOTIFY soarkit_work with the schema as payload), so idle replicas need not poll often.
//
// The store is a connector.LeasingStore: the engine, given it as Config.Store, claims every item and source it
// works on, renews the leases while the work runs, writes under the fencing check and wakes on the notifications, so
// any number of replicas of one connector can share one schema (docs/scaling.md).
//
// Tests: connector/pgstore/pgstoretest gives a fresh schema per test on the database in SOARKIT_TEST_POSTGRES_URL;
// `eval "$(.ci/postgres.sh start)"` starts a throw-away cluster and prints that variable. docs/scaling.md explains
// the design.
package pgstore
