package carbonblackconn

import (
	"context"
	"errors"
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
	search   func(ctx context.Context, s *Source, w window, acc *accumulator) error
	types    []string
	jobRows  int
}

func newSource(c *carbonblack.Client, opts SourceOptions, name string,
	search func(context.Context, *Source, window, *accumulator) error) (*Source, error) {
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
	bin := opts.Binaries
	if bin == nil {
		if bin, err = NewBinaries(c, BinariesOptions{Logger: opts.Logger}); err != nil {
			return nil, err
		}
	}
	return &Source{name: opts.Name, c: c, query: f.Query(), win: win, bin: bin, prefetch: !opts.NoPrefetch,
		log: opts.Logger, search: search, types: opts.AlertTypes, jobRows: opts.JobRows}, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Query returns the filter part of the searches, in Carbon Black's syntax.
func (s *Source) Query() string { return s.query }

// Collect searches the window after cp (the look-back before now on the first
// run), reads every page and reports one Evidence per SHA-256 with a
// sighting per process. Times are UTC. Unless NoPrefetch is set it then asks
// for the download links of the collected files in batches of 100.
func (s *Source) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	w, next, more, err := s.win.next(cp)
	if err != nil {
		return connector.Batch{}, err
	}
	acc := newAccumulator(s.name)
	if err := s.search(ctx, s, w, acc); err != nil {
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
