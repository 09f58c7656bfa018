package connector

import (
	"context"
	"io"
)

// Checkpoint is a source's opaque position: a time, a cursor, a window. The engine stores it durably and hands it
// back to the next Collect; nil means "first run". A source encodes whatever it needs (JSON, a time in text form).
type Checkpoint []byte

// Batch is what one Collect call delivers.
type Batch struct {
	// Evidence collected since the checkpoint. May be empty.
	Evidence []Evidence
	// Next is the checkpoint to resume from. The engine stores it in the same transaction as Evidence, so it
	// advances only once the evidence is durably recorded. A nil Next keeps the current checkpoint.
	Next Checkpoint
	// More asks the engine to call Collect again at once with Next (another page or time window is ready). When
	// false, the source is caught up and is called again on the next run.
	More bool
}

// Source collects evidence from a vendor.
//
// Contract:
//   - Name is stable across restarts: checkpoints and sightings are stored under it.
//   - Collect returns the evidence seen since cp (nil on the first run: the source decides how far to look back) and
//     the checkpoint to continue from. Delivery is at-least-once: a crash may replay a batch, and overlapping
//     windows are fine, because the engine merges evidence by hash and sighting.
//   - Collect must not advance any state of its own: everything it needs next time goes into Batch.Next.
//   - An error means nothing of the batch is used; return ErrEndOfInput when the source is finished for good.
//   - Collect honours ctx and returns promptly once it is done.
type Source interface {
	Name() string
	Collect(ctx context.Context, cp Checkpoint) (Batch, error)
}

// Fetcher is implemented by a Source that can deliver the file itself (Carbon Black's binary store, SentinelOne's
// fetch-file). The engine calls Fetch when the analyzer does not know the file yet; when several sources saw the file
// it tries each fetcher that saw it, in order, until one delivers.
//
// Fetch receives the merged evidence (sightings of every source); it uses the sightings of its own source
// (Sighting.Source == Name()) to find the file. It returns a Permanent error when it cannot deliver this file (not
// stored, agent gone), so the engine tries the next source; other errors are retried.
type Fetcher interface {
	Fetch(ctx context.Context, ev Evidence) (Sample, error)
}

// Sample is a file delivered by a Fetcher, streamed: the engine passes Body to the analyzer without holding the file
// in memory and always closes it.
type Sample struct {
	// Body streams the file's bytes. Close must release everything the fetcher holds (temporary files, connections).
	Body io.ReadCloser
	// Name is the file name to submit under.
	Name string
	// Size is the number of bytes Body will deliver, or 0 when unknown.
	Size int64
	// Truncated is set when the source holds only part of the file (Carbon Black's binary store keeps the first
	// part of big files). A truncated sample's own hash differs from the evidence's.
	Truncated bool
	// Hashes are the hashes of the bytes Body delivers, when the fetcher knows them before streaming. For a truncated
	// sample they let the engine look the truncated file up before uploading it. The engine always computes the
	// delivered SHA256 itself while streaming and records it with the item.
	Hashes Hashes
}
