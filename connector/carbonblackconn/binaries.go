package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// Defaults of BinariesOptions.
const (
	DefaultBatchWindow  = 50 * time.Millisecond
	DefaultLinkLifetime = time.Hour
	DefaultSpoolMemory  = 1 << 20
	notFoundTTL         = 10 * time.Minute
)

// BinariesOptions configure NewBinaries.
type BinariesOptions struct {
	// BatchWindow is how long a Fetch waits for other Fetch calls to share
	// one file/_download request (default DefaultBatchWindow). A batch is
	// sent at once when it reaches carbonblack.MaxDownloadHashes.
	BatchWindow time.Duration
	// LinkLifetime is the expiration_seconds asked for the pre-signed links
	// (default one hour, the original's value). A link is used until
	// shortly before it expires, and dropped once its file is delivered.
	LinkLifetime time.Duration
	// CallTimeout bounds one batched file/_download call, which serves
	// several callers (default 1 min).
	CallTimeout time.Duration
	// SpoolDir and SpoolMemory say where a sample is kept between hashing
	// and upload: up to SpoolMemory bytes (default DefaultSpoolMemory) in
	// memory, bigger samples in a temporary file in SpoolDir ("" for the
	// system default), removed when the sample is closed. This is the
	// original's DOWNLOAD_DIR.
	SpoolDir    string
	SpoolMemory int64
	// Logger receives debug records of batches (default: discard).
	Logger *slog.Logger
	// Now is the clock for link expiry (default time.Now).
	Now func() time.Time
}

// Binaries fetches samples from Carbon Black's Unified Binary Store for the
// sources of this package. It asks for pre-signed links in batches: hashes
// prefetched at collection time and concurrent Fetch calls within
// BatchWindow share one file/_download request (the original made one per
// hash), and a link is kept until its file is delivered or it is about to
// expire, so the cache holds only links still to be used. Share one Binaries between
// the sources of one organisation. It is safe for concurrent use.
type Binaries struct {
	c    *carbonblack.Client
	opts BinariesOptions

	mu      sync.Mutex
	links   map[string]cachedLink
	pending *linkBatch
}

type cachedLink struct {
	url      string // "" when UBS does not hold the file
	deadline time.Time
}

// usable reports whether the entry can still be used at now: a link must
// leave margin for the download, a "not held" answer holds until its deadline.
func (l cachedLink) usable(now time.Time, margin time.Duration) bool {
	if l.url == "" {
		return now.Before(l.deadline)
	}
	return now.Add(margin).Before(l.deadline)
}

type linkBatch struct {
	hashes []string
	seen   map[string]bool
	done   chan struct{}
	res    *carbonblack.DownloadLinks
	err    error
}

// NewBinaries returns a Binaries reading the store of c's organisation.
func NewBinaries(c *carbonblack.Client, opts BinariesOptions) (*Binaries, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if opts.BatchWindow <= 0 {
		opts.BatchWindow = DefaultBatchWindow
	}
	if opts.LinkLifetime <= 0 {
		opts.LinkLifetime = DefaultLinkLifetime
	}
	if opts.LinkLifetime < time.Minute {
		return nil, fmt.Errorf("carbonblackconn: link lifetime %v is below one minute", opts.LinkLifetime)
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = time.Minute
	}
	if opts.SpoolMemory == 0 {
		opts.SpoolMemory = DefaultSpoolMemory
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Binaries{c: c, opts: opts, links: map[string]cachedLink{}}, nil
}

// margin is how long before its expiry a link is no longer handed out: the
// download must finish before the link expires.
func (b *Binaries) margin() time.Duration { return b.opts.LinkLifetime / 4 }

// Prefetch asks for links to the hashes not cached yet, in as few calls as
// possible (100 hashes each, prefetchParallel at once), and caches them.
// Sources call it at collection time, so the fetches that follow need no call
// of their own; the calls run side by side so a large window reaches the
// pipeline soon. Links of the calls that succeeded are cached even when
// another failed.
func (b *Binaries) Prefetch(ctx context.Context, hashes ...string) error {
	now := b.opts.Now()
	var want []string
	b.mu.Lock()
	seen := map[string]bool{}
	for _, h := range hashes {
		h = strings.ToLower(h)
		if seen[h] {
			continue
		}
		seen[h] = true
		if l, ok := b.links[h]; !ok || !l.usable(now, b.margin()) {
			want = append(want, h)
		}
	}
	b.mu.Unlock()
	if len(want) == 0 {
		return nil
	}
	err := inChunks(want, carbonblack.MaxDownloadHashes, prefetchParallel, func(chunk []string) error {
		res, err := b.c.UBS.DownloadLinks(ctx, b.opts.LinkLifetime, chunk...)
		b.store(now, res)
		return err
	})
	return classify("UBS download links", err)
}

// prefetchParallel is how many file/_download calls one Prefetch makes at once.
const prefetchParallel = 8

// inChunks calls fn on consecutive chunks of items of at most size, at most parallel at once, and returns the
// first error (every chunk is still tried).
func inChunks(items []string, size, parallel int, fn func([]string) error) error {
	var g errgroup.Group
	g.SetLimit(parallel)
	for chunk := range slices.Chunk(items, size) {
		g.Go(func() error { return fn(chunk) })
	}
	return g.Wait()
}

// store caches the answer of a download-links call made at start.
func (b *Binaries) store(start time.Time, res *carbonblack.DownloadLinks) {
	if res == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for h, l := range b.links {
		if start.After(l.deadline) {
			delete(b.links, h)
		}
	}
	for _, f := range res.Found {
		b.links[strings.ToLower(f.SHA256)] = cachedLink{url: f.URL, deadline: start.Add(b.opts.LinkLifetime)}
	}
	for _, h := range res.NotFound {
		b.links[h] = cachedLink{deadline: start.Add(notFoundTTL)}
	}
}

// forget drops a cached link (it was refused or expired early).
func (b *Binaries) forget(sha256 string) {
	b.mu.Lock()
	delete(b.links, sha256)
	b.mu.Unlock()
}

// link returns a usable link for sha256, from the cache or through a
// batched request.
func (b *Binaries) link(ctx context.Context, sha256 string) (carbonblack.DownloadLink, error) {
	now := b.opts.Now()
	b.mu.Lock()
	if l, ok := b.links[sha256]; ok && l.usable(now, b.margin()) {
		b.mu.Unlock()
		return b.answer(sha256, l)
	}
	batch := b.pending
	if batch == nil {
		batch = &linkBatch{seen: map[string]bool{}, done: make(chan struct{})}
		b.pending = batch
		time.AfterFunc(b.opts.BatchWindow, func() { b.flush(batch) })
	}
	if !batch.seen[sha256] {
		batch.seen[sha256] = true
		batch.hashes = append(batch.hashes, sha256)
	}
	full := len(batch.hashes) >= carbonblack.MaxDownloadHashes
	b.mu.Unlock()
	if full {
		go b.flush(batch)
	}
	select {
	case <-batch.done:
	case <-ctx.Done():
		return carbonblack.DownloadLink{}, ctx.Err()
	}
	if batch.err != nil {
		return carbonblack.DownloadLink{}, classify("UBS download links", batch.err)
	}
	for _, f := range batch.res.Found {
		if strings.EqualFold(f.SHA256, sha256) {
			return f, nil
		}
	}
	for _, h := range batch.res.NotFound {
		if h == sha256 {
			return b.answer(sha256, cachedLink{})
		}
	}
	return carbonblack.DownloadLink{}, connector.RetryLater(
		fmt.Errorf("carbonblackconn: the Unified Binary Store cannot serve %s now", sha256), 30*time.Second)
}

func (b *Binaries) answer(sha256 string, l cachedLink) (carbonblack.DownloadLink, error) {
	if l.url == "" {
		return carbonblack.DownloadLink{}, connector.Permanent(fmt.Errorf("%w: %s", ErrNotInUBS, sha256))
	}
	return carbonblack.DownloadLink{SHA256: sha256, URL: l.url}, nil
}

// flush sends a batch once (the timer and a full batch may both call it).
func (b *Binaries) flush(batch *linkBatch) {
	b.mu.Lock()
	if b.pending != batch {
		b.mu.Unlock()
		return
	}
	b.pending = nil
	hashes := batch.hashes
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CallTimeout)
	defer cancel()
	start := b.opts.Now()
	res, err := b.c.UBS.DownloadLinks(ctx, b.opts.LinkLifetime, hashes...)
	b.opts.Logger.Debug("UBS download links", "hashes", len(hashes), "error", err)
	b.store(start, res)
	if res == nil {
		res = &carbonblack.DownloadLinks{}
	}
	batch.res, batch.err = res, err
	close(batch.done)
}

// corruptDownloads is how many times Fetch downloads an archive that arrives
// damaged (a cut download) before it gives the file up as corrupt.
const corruptDownloads = 3

// Fetch downloads the file with the given SHA-256 from the store. The
// archive's filedata entry is read once through a hash into a spool (memory
// or a temporary file), so the sample is known to be whole or truncated
// before it is handed on. Content whose hash differs from the requested one
// is a truncated copy (UBS keeps only the first part of big files) only when
// UBS's metadata says the file is larger than what was delivered and that it
// holds exactly the delivered size: it is then delivered with Truncated set
// and its own hash in Hashes, so the engine looks that hash up before
// uploading. Any other mismatch is a permanent error matching
// ErrCorruptSample, so the engine tries another source. A damaged archive is downloaded again, up to three times
// in all, then is a permanent ErrCorruptSample too; an archive over the
// client's size limit (carbonblack.WithMaxSampleBytes) is permanent at once.
// A hash UBS does not hold is a permanent error matching ErrNotInUBS.
func (b *Binaries) Fetch(ctx context.Context, sha256, name string) (connector.Sample, error) {
	sha256 = strings.ToLower(sha256)
	if sha256 == "" {
		return connector.Sample{}, connector.Permanent(ErrNoSHA256)
	}
	var lastErr error
	relinked, damaged := false, 0
	for {
		link, err := b.link(ctx, sha256)
		if err != nil {
			return connector.Sample{}, err
		}
		s, err := b.open(ctx, link, name)
		if err == nil {
			// A delivered sample's link is not kept: the cache holds only links still to be used, however many
			// files a run fetches.
			b.forget(sha256)
			return s, nil
		}
		lastErr = err
		if (errors.Is(err, carbonblack.ErrForbidden) || errors.Is(err, carbonblack.ErrNotFound)) && !relinked {
			// A refused or vanished link (expired, revoked) is asked for again once.
			relinked = true
			b.forget(sha256)
			continue
		}
		if errors.Is(err, carbonblack.ErrSampleFormat) && ctx.Err() == nil {
			if damaged++; damaged < corruptDownloads {
				b.opts.Logger.Warn("UBS archive damaged; downloading it again", "sha256", sha256, "download", damaged, "err", err)
				continue
			}
		}
		break
	}
	switch {
	case errors.Is(lastErr, ErrCorruptSample):
		return connector.Sample{}, connector.Permanent(lastErr)
	case errors.Is(lastErr, carbonblack.ErrSampleFormat):
		return connector.Sample{}, connector.Permanent(fmt.Errorf("%w: %s: %d downloads: %w", ErrCorruptSample, sha256, damaged, lastErr))
	case errors.Is(lastErr, carbonblack.ErrResponseTooLarge):
		return connector.Sample{}, connector.Permanent(fmt.Errorf("carbonblackconn: downloading %s: %w", sha256, lastErr))
	case errors.Is(lastErr, carbonblack.ErrForbidden) || errors.Is(lastErr, carbonblack.ErrNotFound):
		// The object store refused a fresh link: transient from the engine's view.
		return connector.Sample{}, fmt.Errorf("carbonblackconn: downloading %s: %w", sha256, lastErr)
	}
	return connector.Sample{}, classify("downloading "+sha256, lastErr)
}

// truncated decides whether a download whose hash differs from the requested
// one is UBS's truncated copy: UBS must say the file is larger than the n
// bytes delivered and that the copy it holds is n bytes long. Anything else
// is an ErrCorruptSample.
func (b *Binaries) truncated(ctx context.Context, te *carbonblack.TruncatedSampleError) error {
	m, err := b.c.UBS.Metadata(ctx, te.Requested)
	if errors.Is(err, carbonblack.ErrNotFound) {
		return fmt.Errorf("%w: %s: delivered %d bytes hashing to %s, and UBS has no metadata for the file",
			ErrCorruptSample, te.Requested, te.Size, te.Actual)
	}
	if err != nil {
		return classify("UBS metadata", err)
	}
	if m.FileSize > te.Size && m.AvailableFileSize == te.Size {
		return nil
	}
	return fmt.Errorf("%w: %s: delivered %d bytes hashing to %s, but UBS says the file has %d bytes and holds %d",
		ErrCorruptSample, te.Requested, te.Size, te.Actual, m.FileSize, m.AvailableFileSize)
}

func (b *Binaries) open(ctx context.Context, link carbonblack.DownloadLink, name string) (connector.Sample, error) {
	smp, err := b.c.UBS.OpenLink(ctx, link)
	if err != nil {
		return connector.Sample{}, err
	}
	defer smp.Close()
	sp := newSpool(b.opts.SpoolDir, b.opts.SpoolMemory)
	if err := sp.fill(ctx, smp); err != nil {
		sp.Close()
		return connector.Sample{}, err
	}
	out := connector.Sample{Name: name, Size: smp.Size(), Hashes: connector.Hashes{SHA256: smp.SHA256()}}
	if name == "" {
		out.Name = link.SHA256
	}
	if err := smp.Verify(); err != nil {
		var te *carbonblack.TruncatedSampleError
		if !errors.As(err, &te) {
			sp.Close()
			return connector.Sample{}, err
		}
		if err := b.truncated(ctx, te); err != nil {
			sp.Close()
			return connector.Sample{}, err
		}
		out.Truncated = true
		b.opts.Logger.Info("UBS holds a truncated copy", "sha256", te.Requested, "sample_sha256", te.Actual, "size", te.Size)
	}
	body, err := sp.reader()
	if err != nil {
		sp.Close()
		return connector.Sample{}, err
	}
	out.Body = body
	return out, nil
}
