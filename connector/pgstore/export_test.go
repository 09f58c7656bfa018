package pgstore

import "github.com/soarkit/soarkit/connector"

// LatestSchemaVersion is the version the newest migration brings the schema to.
var LatestSchemaVersion = migrations[len(migrations)-1].version

// Exec runs sql inside a store transaction, for tests that need the server to misbehave (a slow statement).
func Exec(t connector.Tx, sql string) error {
	_, err := t.(*tx).pg.Exec(t.(*tx).ctx, sql)
	return err
}
