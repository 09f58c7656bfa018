package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// SourceOptions configure the sources of this package.
type SourceOptions struct {
	// Name is the source's stable name (defaults: "cbc-alerts",
	// "cbc-processes", "cbc-observations").
	Name string
	// Filters are the reputation and device OS exclusions (defaults: the
	// original's REPUTATION_FILTERS and DEVICE_OS_FILTERS).
	Filters Filters
	// Window controls the time windows (first-run look-back, overlap, maximum
	// window, clock).
	Window WindowOptions
	// Binaries fetches samples from the Unified Binary Store; share one
	// between the sources of an organisation (default: a new one with default
	// options).
	Binaries *Binaries
	// NoPrefetch stops Collect from asking for the download links of the
	// hashes it collects (one call per 100 hashes), leaving every link to the
	// batched Fetch.
	NoPrefetch bool
	// JobRows is how many results one search job keeps (default and maximum
	// 10,000, Carbon Black's limit); a window that matches more is split.
	JobRows int
	// PartRows is how many records one Collect hands over at most (default
	// DefaultPartRows, at most 9,999): a window that holds more is handed
	// over in parts, each with the checkpoint of the next, so the pipeline
	// works on the first part while the later ones are read, and a restart
	// goes on from the last part recorded. A part of an alert window ends
	// at a change of backend_timestamp, so it may hold a few more.
	PartRows int
	// AlertTypes restricts the alert source to these alert types (for
	// example CB_ANALYTICS, WATCHLIST); empty means every type.
	AlertTypes []string
	// Logger receives warnings (default: discard).
	Logger *slog.Logger
}

// Source is a Carbon Black Cloud evidence source: alerts, process searches
// or observation searches over time windows that resume from a checkpoint.
// It is also a connector.Fetcher that downloads the files from the Unified
// Binary Store. Create it with NewAlertSource, NewProcessSource or
// NewObservationSource.
type Source struct {
	name     string
	c        *carbonblack.Client
	query    string
	win      WindowOptions
	bin      *Binaries
	prefetch bool
	log      *slog.Logger
	search   searchFunc
	types    []string
	jobRows  int
	partRows int
}

// DefaultPartRows is the default of SourceOptions.PartRows: one page of
// results.
const DefaultPartRows = 1000

// searchFunc reads the next part of a window into acc, moving p past it;
// done reports that the window has been read in full.
type searchFunc func(ctx context.Context, s *Source, p *position, acc *accumulator) (done bool, err error)

func newSource(c *carbonblack.Client, opts SourceOptions, name string, search searchFunc) (*Source, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	f, err := opts.Filters.withDefaults()
	if err != nil {
		return nil, err
	}
	win, err := opts.Window.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = name
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.JobRows <= 0 || opts.JobRows > 10_000 {
		opts.JobRows = 10_000
	}
	switch {
	case opts.PartRows < 0 || opts.PartRows >= 10_000:
		return nil, fmt.Errorf("carbonblackconn: PartRows %d outside 1 to 9,999", opts.PartRows)
	case opts.PartRows == 0:
		opts.PartRows = DefaultPartRows
	}
	bin := opts.Binaries
	if bin == nil {
		if bin, err = NewBinaries(c, BinariesOptions{Logger: opts.Logger}); err != nil {
			return nil, err
		}
	}
	return &Source{name: opts.Name, c: c, query: f.Query(), win: win, bin: bin, prefetch: !opts.NoPrefetch,
		log: opts.Logger, search: search, types: opts.AlertTypes, jobRows: opts.JobRows, partRows: opts.PartRows}, nil
}

func (s *Source) paging() paging {
	return paging{name: s.name, jobRows: s.jobRows, partRows: s.partRows, log: s.log}
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Query returns the filter part of the searches, in Carbon Black's syntax.
func (s *Source) Query() string { return s.query }

// Collect reads the next part of the window after cp (the look-back before
// now on the first run): at most PartRows records, reported as one Evidence
// per SHA-256 with a sighting per record. Times are UTC. While the window
// holds more, the batch asks for the next part at once (Batch.More) with a
// checkpoint that records where it starts; the last part's checkpoint is
// the window's end. Unless NoPrefetch is set it then asks for the download
// links of the part's files in batches of 100.
func (s *Source) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	pos, err := s.win.position(cp)
	if err != nil {
		return connector.Batch{}, err
	}
	acc := newAccumulator(s.name)
	done, err := s.search(ctx, s, &pos, acc)
	if err != nil {
		return connector.Batch{}, err
	}
	evs := acc.evidence()
	if s.prefetch && len(evs) > 0 {
		hashes := make([]string, len(evs))
		for i, ev := range evs {
			hashes[i] = ev.Hashes.SHA256
		}
		if err := s.bin.Prefetch(ctx, hashes...); err != nil {
			s.log.Warn("prefetching UBS download links failed; fetches will ask again", "source", s.name, "error", err)
		}
	}
	next, more, err := s.win.after(pos, done)
	if err != nil {
		return connector.Batch{}, err
	}
	return connector.Batch{Evidence: evs, Next: next, More: more}, nil
}

// Fetch downloads the evidence's file from the Unified Binary Store (see
// Binaries.Fetch).
func (s *Source) Fetch(ctx context.Context, ev connector.Evidence) (connector.Sample, error) {
	return s.bin.Fetch(ctx, ev.Hashes.SHA256, ev.FileName)
}

// accumulator groups records into one Evidence per SHA-256, in the order
// first seen, with distinct sightings.
type accumulator struct {
	source string
	order  []string
	byHash map[string]*connector.Evidence
	seen   map[string]bool
}

func newAccumulator(source string) *accumulator {
	return &accumulator{source: source, byHash: map[string]*connector.Evidence{}, seen: map[string]bool{}}
}

// add records a sighting of the file sha256 (md5 optional). Values that are
// not hex hashes of the right length are ignored.
func (a *accumulator) add(sha256, md5 string, s connector.Sighting) {
	sha256, md5 = strings.ToLower(sha256), strings.ToLower(md5)
	if !isHex(sha256, 64) {
		return
	}
	if !isHex(md5, 32) {
		md5 = ""
	}
	s.Source = a.source
	ev, ok := a.byHash[sha256]
	if !ok {
		ev = &connector.Evidence{Hashes: connector.Hashes{SHA256: sha256, MD5: md5}, FileName: baseName(s.FilePath),
			Source: a.source}
		a.byHash[sha256] = ev
		a.order = append(a.order, sha256)
	}
	if ev.Hashes.MD5 == "" {
		ev.Hashes.MD5 = md5
	}
	if ev.FileName == "" {
		ev.FileName = baseName(s.FilePath)
	}
	k := sha256 + "|" + s.Key()
	if a.seen[k] {
		return
	}
	a.seen[k] = true
	ev.Sightings = append(ev.Sightings, s)
}

func (a *accumulator) evidence() []connector.Evidence {
	out := make([]connector.Evidence, len(a.order))
	for i, h := range a.order {
		out[i] = *a.byHash[h]
	}
	return out
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// baseName returns the last element of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// osFamily maps Carbon Black's device OS names to the connector's families.
func osFamily(os string) string {
	switch u := strings.ToUpper(os); u {
	case "":
		return ""
	case "WINDOWS":
		return "windows"
	case "MAC", "MACOS":
		return "macos"
	case "LINUX", "CENTOS", "RHEL", "UBUNTU", "SUSE", "DEBIAN", "AMAZON_LINUX", "ORACLE":
		return "linux"
	default:
		return strings.ToLower(u)
	}
}

func deviceID(id carbonblack.FlexInt) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(int64(id), 10)
}

// attrs builds a sighting's attributes, leaving out empty values.
func attrs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
