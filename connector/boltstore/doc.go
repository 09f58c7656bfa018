// Package boltstore is the embedded default connector.Store: one bbolt file, for one process.
//
// Every Update is a bbolt read-write transaction, committed with fsync before it returns, so a crash (even SIGKILL)
// leaves the file at the last committed transaction. Concurrent Updates from the pipeline's workers are coalesced
// into one commit (bbolt's Batch, Options.BatchDelay), which keeps the cost of the durable state per file low on
// slow disks (see docs/performance.md); Stats counts Updates and the commits they shared. The file is locked against a second process; Options.LockTimeout bounds the
// wait.
//
// Layout: buckets for checkpoints, items (JSON), a per-state index, hash aliases and the action log (keyed by item,
// responder and target, so an item's actions are one range). Retention: Prune (called by the pipeline with
// connector.Config.Retention) removes final items older than a cutoff together with their aliases and action-log
// records; Compact rewrites the file to give the freed pages back to the file system. Snapshot writes a consistent
// copy of the file while the store is in use (the example connectors' dry run works on one).
//
// A replicated deployment needs a shared store on an existing database; boltstore is for one process.
package boltstore
