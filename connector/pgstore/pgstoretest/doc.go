// Package pgstoretest gives tests a PostgreSQL database for connector/pgstore: the URL in SOARKIT_TEST_POSTGRES_URL,
// a fresh schema per test (dropped when the test ends) and stores opened on it.
//
// Without SOARKIT_TEST_POSTGRES_URL the tests that need a database are skipped with a message that says how to start
// one; with CI=true they fail instead, so CI never passes without running them. Developers run the same two commands
// as CI:
//
//	eval "$(.ci/postgres.sh start)"
//	go test -race -count=1 ./...
//
// and `.ci/postgres.sh stop` to delete the cluster.
package pgstoretest
