package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soarkit/soarkit/connector"
	jitter "github.com/soarkit/soarkit/internal/backoff"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables (default "soarkit"). It is created when missing.
	// Connectors that must not share work use different schemas (or databases).
	Schema string
	// Password, when set, replaces the password of the connection URL, so the URL can live in a configuration file
	// and the secret in the environment or a file.
	Password string
	// MaxConns bounds the connection pool (default: pgx's default, the larger of 4 and the number of CPUs).
	MaxConns int32
	// StatementTimeout bounds every statement on the server (default 30 s; negative: no limit), except the
	// migrations Open runs. A transaction also ends when its context does.
	StatementTimeout time.Duration
	// MaxRetries bounds how often a transaction that failed with a serialization failure (SQLSTATE 40001) or a
	// deadlock (40P01) is run again (default 30). Retries back off exponentially with jitter.
	MaxRetries int
	// Now, when set, is the clock of leases (tests use a fake clock). By default the database's clock decides, so
	// replicas whose clocks drift still agree on which lease has expired.
	Now func() time.Time
	// Logger receives retries and migrations at debug level (default: discard).
	Logger *slog.Logger
	// Tracer, when set, sees every statement (for tracing and for counting round trips).
	Tracer pgx.QueryTracer
}

// Store is a connector.Store on PostgreSQL, safe for concurrent use by many goroutines and by many processes (the
// replicas of one connector) sharing one database.
type Store struct {
	pool   *pgxpool.Pool
	opts   Options
	log    *slog.Logger
	schema string

	mu     sync.RWMutex // held for reading by every operation, for writing by Close
	closed bool
}

// itemsPageSize is how many items one query of an Items iteration reads.
const itemsPageSize = 256

// Open connects to the database at url (a "postgres://" URL or a key=value connection string), creates or migrates
// the schema and returns the store. Replicas may call Open at the same time: migrations run one at a time under an
// advisory lock. Errors never contain the password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Schema == "" {
		opts.Schema = "soarkit"
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 30 * time.Second
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 30
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password; say no more than that.
		return nil, fmt.Errorf("pgstore: connection URL: %w", err)
	}
	if opts.Password != "" {
		cfg.ConnConfig.Password = opts.Password
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	params := cfg.ConnConfig.RuntimeParams
	params["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	if params["application_name"] == "" {
		params["application_name"] = "soarkit"
	}
	if opts.StatementTimeout > 0 {
		ms := strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		params["statement_timeout"] = ms
		// A replica that stops in the middle of a transaction (paused, partitioned) must not hold its locks for long;
		// a minute at least, so a busy client between two statements is not taken for a stopped one.
		idle := max(2*opts.StatementTimeout, time.Minute)
		params["idle_in_transaction_session_timeout"] = strconv.FormatInt(idle.Milliseconds(), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	s := &Store{pool: pool, opts: opts, log: log, schema: opts.Schema}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate brings the schema to the newest version this build knows, in one transaction that holds an advisory lock
// on the schema's name, so replicas starting together apply each migration once. A schema newer than this build is
// refused rather than written to with wrong assumptions.
func (s *Store) migrate(ctx context.Context) error {
	latest := migrations[len(migrations)-1].version
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Waiting for another replica's migration, and the migration itself, are bounded by ctx only.
		if _, err := tx.Exec(ctx, sqlMigrateNoTimeout); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlMigrateLock, s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(sqlCreateSchema, pgx.Identifier{s.schema}.Sanitize())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlCreateMigrations); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, sqlSchemaVersion).Scan(&have); err != nil {
			return err
		}
		if have > latest {
			return fmt.Errorf("schema %q is at version %d, this build knows up to %d: upgrade the connector", s.schema, have, latest)
		}
		for _, m := range migrations[have:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, sqlRecordMigration, m.version, m.name); err != nil {
				return err
			}
			s.log.Debug("pgstore: migrated", "schema", s.schema, "version", m.version, "name", m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate schema %q: %w", s.schema, err)
	}
	return nil
}

// SchemaVersion returns the version of the schema in the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	var v int
	if err := s.pool.QueryRow(ctx, sqlSchemaVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("pgstore: schema version: %w", err)
	}
	return v, nil
}

// Ping checks that the database answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

// Schema returns the PostgreSQL schema that holds the store.
func (s *Store) Schema() string { return s.schema }

// Close closes the connection pool, after the operations in progress have ended. Later calls return
// connector.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.pool.Close()
	return nil
}

// acquire takes the read lock for one operation and checks that the store is open and ctx alive.
func (s *Store) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, connector.ErrClosed
	}
	return s.mu.RUnlock, nil
}

// View runs fn in a read-only transaction on one snapshot (REPEATABLE READ, READ ONLY).
func (s *Store) View(ctx context.Context, fn func(connector.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, true, nil, fn)
}

// Update runs fn in a SERIALIZABLE transaction and commits it when fn returns nil. A transaction that fails with a
// serialization failure or a deadlock runs again (up to Options.MaxRetries times), as connector.Store allows.
func (s *Store) Update(ctx context.Context, fn func(connector.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, false, nil, fn)
}

// run runs fn in a transaction, retrying it on serialization failures and deadlocks. check, when set, runs first in
// the same transaction (the fencing check of UpdateFenced). fn's own errors come back unchanged.
func (s *Store) run(ctx context.Context, txo pgx.TxOptions, readOnly bool, check func(context.Context, pgx.Tx) error,
	fn func(connector.Tx) error) error {
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, txo, readOnly, check, fn)
		if err == nil || !retryable(err) || attempt >= s.opts.MaxRetries {
			return err
		}
		s.log.Debug("pgstore: transaction conflict, retrying", "attempt", attempt+1, "error", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func (s *Store) attempt(ctx context.Context, txo pgx.TxOptions, readOnly bool, check func(context.Context, pgx.Tx) error,
	fn func(connector.Tx) error) error {
	pgtx, err := s.pool.BeginTx(ctx, txo)
	if err != nil {
		return dbError("begin", err)
	}
	defer pgtx.Rollback(context.WithoutCancel(ctx))
	if check != nil {
		if err := check(ctx, pgtx); err != nil {
			return err
		}
	}
	if err := fn(&tx{ctx: ctx, pg: pgtx, readOnly: readOnly}); err != nil {
		return err
	}
	if err := pgtx.Commit(ctx); err != nil {
		return dbError("commit", err)
	}
	return nil
}

// Prune removes final items last updated before cutoff, with the aliases that point to them and their action-log
// records, in one statement. The database keeps timestamps to the microsecond, so items updated within the same
// microsecond as cutoff are kept.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (connector.Pruned, error) {
	var pr connector.Pruned
	err := s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, false, nil, func(ctxTx connector.Tx) error {
		t := ctxTx.(*tx)
		var items, aliases, actions int64
		if err := t.pg.QueryRow(t.ctx, sqlPrune, cutoff).Scan(&items, &aliases, &actions); err != nil {
			return dbError("prune", err)
		}
		pr = connector.Pruned{Items: int(items), Aliases: int(aliases), Actions: int(actions)}
		return nil
	})
	return pr, err
}

// retryable reports whether err is a transaction conflict that running the transaction again resolves.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// backoff returns the wait before retry attempt+1: exponential from 2 ms, capped at 250 ms, with full jitter so
// conflicting replicas do not collide again in step.
func backoff(attempt int) time.Duration {
	return jitter.Full(jitter.Exponential(2*time.Millisecond, 250*time.Millisecond, attempt+1)) + 1
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// dbError wraps an error of the database driver with the operation it failed in.
func dbError(op string, err error) error {
	return fmt.Errorf("pgstore: %s: %w", op, err)
}
