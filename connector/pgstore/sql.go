package pgstore

// Every SQL statement of the store lives in this file. Tables are not schema-qualified: each connection's search_path
// is set to Options.Schema when it is opened, so one database can hold several stores side by side.

// migration is one step of the schema. Versions are consecutive from 1; a migration, once released, never changes:
// a later change is a new migration.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema's history, applied in order by migrate inside one transaction under an advisory lock.
var migrations = []migration{
	{1, "records", `
CREATE TABLE checkpoints (
	source     text PRIMARY KEY,
	checkpoint bytea NOT NULL,
	updated    timestamptz NOT NULL DEFAULT now()
);

-- One row per distinct file. item is the JSON of connector.Item, the record of truth; state and updated are copies
-- kept for the indexes (state queries, retention).
CREATE TABLE items (
	key     text COLLATE "C" PRIMARY KEY,
	state   text NOT NULL,
	updated timestamptz NOT NULL,
	item    jsonb NOT NULL
);
CREATE INDEX items_state_key ON items (state, key);
CREATE INDEX items_final_updated ON items (updated) WHERE state IN ('done', 'failed');

CREATE TABLE aliases (
	hash text COLLATE "C" PRIMARY KEY,
	item text COLLATE "C" NOT NULL
);
CREATE INDEX aliases_item ON aliases (item);

CREATE TABLE actions (
	item      text COLLATE "C" NOT NULL,
	responder text COLLATE "C" NOT NULL,
	target    text COLLATE "C" NOT NULL,
	action    jsonb NOT NULL,
	PRIMARY KEY (item, responder, target)
);
`},
	{2, "leases", `
-- Fencing tokens: one sequence for every lease, so a resource's tokens only grow.
CREATE SEQUENCE lease_tokens;

-- next_attempt copies the item's retry.next (connector.RetryState.Next, when its last try failed): claims skip items
-- whose next attempt lies in the future. The lease columns hold the current claim on the item.
ALTER TABLE items
	ADD COLUMN next_attempt  timestamptz,
	ADD COLUMN lease_owner   text,
	ADD COLUMN lease_expires timestamptz,
	ADD COLUMN lease_token   bigint;
CREATE INDEX items_claimable ON items (state, next_attempt NULLS FIRST, key);

CREATE TABLE source_leases (
	source        text PRIMARY KEY,
	lease_owner   text,
	lease_expires timestamptz,
	lease_token   bigint NOT NULL
);
`},
	{3, "work notifications", `
-- Wakes listening replicas (LISTEN soarkit_work, payload: the schema) when an item becomes claimable: stored in an
-- open state without a lease, moved into an open state, or released. Notifications of one transaction with the same
-- payload are delivered once, at commit. The open states are connector.OpenStates().
CREATE FUNCTION notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IN ('new', 'submitting', 'awaiting', 'responding') AND NEW.lease_owner IS NULL
		AND (TG_OP = 'INSERT' OR OLD.lease_owner IS NOT NULL OR OLD.state IS DISTINCT FROM NEW.state) THEN
		PERFORM pg_notify('soarkit_work', TG_TABLE_SCHEMA);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER items_notify_work AFTER INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION notify_work();
`},
}

// Schema bookkeeping. The advisory lock serialises replicas that start at once; it is a transaction lock, so a
// replica that dies while migrating releases it with its connection.
const (
	sqlCreateSchema     = `CREATE SCHEMA IF NOT EXISTS %s`
	sqlMigrateNoTimeout = `SET LOCAL statement_timeout = 0`
	sqlMigrateLock      = `SELECT pg_advisory_xact_lock(hashtextextended('soarkit pgstore migrate ' || $1, 0))`
	sqlCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`
	sqlSchemaVersion   = `SELECT coalesce(max(version), 0) FROM schema_migrations`
	sqlRecordMigration = `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`
)

// connector.Tx.
const (
	sqlCheckpoint    = `SELECT checkpoint FROM checkpoints WHERE source = $1`
	sqlSetCheckpoint = `INSERT INTO checkpoints (source, checkpoint, updated) VALUES ($1, $2, now())
ON CONFLICT (source) DO UPDATE SET checkpoint = excluded.checkpoint, updated = excluded.updated`
	sqlItem    = `SELECT item FROM items WHERE key = $1`
	sqlPutItem = `INSERT INTO items (key, state, updated, next_attempt, item) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated = excluded.updated,
	next_attempt = excluded.next_attempt, item = excluded.item`
	// sqlItemsPage reads one page of an Items iteration (keyset pagination, so the caller may query between pages).
	sqlItemsPage = `SELECT key, item FROM items WHERE state = $1 AND key > $2 ORDER BY key LIMIT $3`
	sqlItemCount = `SELECT count(*) FROM items WHERE state = $1`
	sqlAlias     = `SELECT item FROM aliases WHERE hash = $1`
	sqlPutAlias  = `INSERT INTO aliases (hash, item) VALUES ($1, $2) ON CONFLICT (hash) DO UPDATE SET item = excluded.item`
	sqlAction    = `SELECT action FROM actions WHERE item = $1 AND responder = $2 AND target = $3`
	sqlPutAction = `INSERT INTO actions (item, responder, target, action) VALUES ($1, $2, $3, $4)
ON CONFLICT (item, responder, target) DO UPDATE SET action = excluded.action`
	sqlActions    = `SELECT action FROM actions WHERE item = $1 ORDER BY responder, target`
	sqlDeleteItem = `WITH gone AS (
	DELETE FROM items WHERE key = $1 RETURNING key
), gone_aliases AS (
	DELETE FROM aliases WHERE item = $1 RETURNING 1
)
DELETE FROM actions WHERE item = $1`
)

// Retention: one statement removes old final items and everything that hangs off them.
const sqlPrune = `WITH gone AS (
	DELETE FROM items WHERE state IN ('done', 'failed') AND updated < $1 RETURNING key
), gone_aliases AS (
	DELETE FROM aliases WHERE item IN (SELECT key FROM gone) RETURNING 1
), gone_actions AS (
	DELETE FROM actions WHERE item IN (SELECT key FROM gone) RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone_aliases), (SELECT count(*) FROM gone_actions)`

// Leases. $now is the caller's clock when Options.Now is set and NULL otherwise, in which case the database's clock
// decides: replicas with skewed clocks then still agree on who holds a lease.
const (
	sqlClaimItems = `WITH claimable AS (
	SELECT key FROM items
	WHERE state = ANY($1) AND (lease_expires IS NULL OR lease_expires <= coalesce($4::timestamptz, now()))
		AND (next_attempt IS NULL OR next_attempt <= coalesce($4::timestamptz, now()))
	ORDER BY next_attempt NULLS FIRST, key
	LIMIT $2
	FOR UPDATE SKIP LOCKED
)
UPDATE items SET lease_owner = $3, lease_token = nextval('lease_tokens'),
	lease_expires = coalesce($4::timestamptz, now()) + $5::interval
FROM claimable WHERE items.key = claimable.key
RETURNING items.key, items.lease_token, items.lease_expires, items.item`
	sqlClaimItem = `UPDATE items SET lease_owner = $2, lease_token = nextval('lease_tokens'),
	lease_expires = coalesce($3::timestamptz, now()) + $4::interval
WHERE key = $1 AND (lease_expires IS NULL OR lease_expires <= coalesce($3::timestamptz, now()))
RETURNING lease_token, lease_expires, item`
	sqlRenewItem = `UPDATE items SET lease_expires = coalesce($4::timestamptz, now()) + $5::interval
WHERE key = $1 AND lease_owner = $2 AND lease_token = $3
RETURNING lease_expires`
	sqlReleaseItem = `UPDATE items SET lease_owner = NULL, lease_expires = NULL
WHERE key = $1 AND lease_owner = $2 AND lease_token = $3`
	// sqlItemLease is the fencing check: FOR SHARE makes a concurrent claim wait until the fenced transaction ends,
	// and makes the fenced transaction fail (and retry) if a claim committed after its snapshot.
	sqlItemLease  = `SELECT lease_owner, lease_token FROM items WHERE key = $1 FOR SHARE`
	sqlItemHolder = `SELECT lease_owner, lease_token FROM items WHERE key = $1`

	sqlClaimSource = `INSERT INTO source_leases AS l (source, lease_owner, lease_expires, lease_token)
VALUES ($1, $2, coalesce($3::timestamptz, now()) + $4::interval, nextval('lease_tokens'))
ON CONFLICT (source) DO UPDATE SET lease_owner = excluded.lease_owner, lease_expires = excluded.lease_expires,
	lease_token = excluded.lease_token
WHERE l.lease_expires IS NULL OR l.lease_expires <= coalesce($3::timestamptz, now())
RETURNING lease_token, lease_expires`
	sqlRenewSource = `UPDATE source_leases SET lease_expires = coalesce($4::timestamptz, now()) + $5::interval
WHERE source = $1 AND lease_owner = $2 AND lease_token = $3
RETURNING lease_expires`
	sqlReleaseSource = `UPDATE source_leases SET lease_owner = NULL, lease_expires = NULL
WHERE source = $1 AND lease_owner = $2 AND lease_token = $3`
	sqlSourceLease  = `SELECT lease_owner, lease_token FROM source_leases WHERE source = $1 FOR SHARE`
	sqlSourceHolder = `SELECT lease_owner, lease_token FROM source_leases WHERE source = $1`

	sqlListenWork = `LISTEN soarkit_work`

	sqlSwapCheckpoint = `UPDATE checkpoints SET checkpoint = $3, updated = now()
WHERE source = $1 AND checkpoint = $2`
	sqlInsertCheckpoint = `INSERT INTO checkpoints (source, checkpoint, updated) VALUES ($1, $2, now())
ON CONFLICT (source) DO NOTHING`
)
