// Package memstore is an in-memory connector.Store for tests and demos.
//
// It keeps everything in maps guarded by one lock: Update runs its function under the write lock and applies the
// staged writes only when the function succeeds, so transactions are atomic and serialisable. Records are stored
// encoded, as a durable store would, so a caller never shares memory with the store. Nothing survives the process;
// Reopen returns a fresh handle on the same data to simulate a restart in tests. Use connector/boltstore for real
// deployments.
package memstore
