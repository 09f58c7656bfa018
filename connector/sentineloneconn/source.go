package sentineloneconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/sentinelone"
)

// Defaults of SourceOptions, those of the original connector where it had
// one.
const (
	// DefaultThreatSourceName and DefaultDVSourceName name the sources.
	DefaultThreatSourceName = "sentinelone-threats"
	DefaultDVSourceName     = "sentinelone-dv"
	// DefaultLookBack is how far back the first run reads (the original's
	// SentinelOneConfig.TIME_SPAN, 3600 s).
	DefaultLookBack = time.Hour
	// DefaultOverlap is re-read before the checkpoint on later runs, for
	// threats the console indexed late; re-read threats merge into the
	// evidence the engine holds.
	DefaultOverlap = time.Minute
	// DefaultMaxWindow is the longest window one Collect reads; a longer
	// backlog (after downtime) is read in several windows.
	DefaultMaxWindow = 24 * time.Hour
	// DefaultDVQuery is the original's PROCESS.FILTER_QUERY.
	DefaultDVQuery = `ObjectType = "Process"`
	// DefaultDVLimit is the original's MAX_DV_DATA_COUNT.
	DefaultDVLimit = 20000
)

// DefaultConfidenceLevels are the original's SELECTED_CONFIDENCE_LEVELS.
var DefaultConfidenceLevels = []string{sentinelone.ConfidenceMalicious, sentinelone.ConfidenceSuspicious, sentinelone.ConfidenceNA}

// FetchMethod selects how a threat's file is retrieved (the original's
// DOWNLOAD.EVIDENCE_DOWNLOAD_METHOD).
type FetchMethod string

// The fetch methods.
const (
	// FetchFromAgent asks the agent to upload the file (POST
	// /threats/fetch-file; the default).
	FetchFromAgent FetchMethod = "fetch-file"
	// FetchFromCloud downloads the Binary Vault copy (needs the Complete
	// SKU with Binary Vault enabled).
	FetchFromCloud FetchMethod = "download-cloud"
)

// Attribute names of the sightings.
const (
	AttrConfidenceLevel = "confidence_level"
	AttrClassification  = "classification"
	AttrThreatName      = "threat_name"
	AttrAnalystVerdict  = "analyst_verdict"
	AttrProcessName     = "process_name"
	AttrKind            = "kind" // "threat" or "process"
)

// SourceOptions configure the sources. Zero values select the defaults named
// on each field.
type SourceOptions struct {
	// Name is the source's stable name (default DefaultThreatSourceName or
	// DefaultDVSourceName).
	Name string
	// Scope is the account and sites to read (required; see NewScope).
	Scope *Scope
	// LookBack is how far back the first run reads (default
	// DefaultLookBack).
	LookBack time.Duration
	// Overlap is re-read before the checkpoint (default DefaultOverlap; a
	// negative value means none).
	Overlap time.Duration
	// MaxWindow is the longest window one Collect reads (default
	// DefaultMaxWindow); Collect asks to be called again (Batch.More) until
	// it has caught up with now.
	MaxWindow time.Duration
	// ConfidenceLevels filter the threats (default
	// DefaultConfidenceLevels). The Deep Visibility source uses them to
	// decide which threats' SHA1s it skips.
	ConfidenceLevels []string
	// SkipThreatHashes makes the Deep Visibility source leave out processes
	// whose SHA1 belongs to a threat the threat source collects (same scope
	// and confidence levels): set it when both sources run, so those files
	// are handled as threats, with their threat ids.
	SkipThreatHashes bool
	// DVQuery is the Deep Visibility query (default DefaultDVQuery).
	DVQuery string
	// DVLimit caps the events of one query (default DefaultDVLimit).
	DVLimit int
	// Fetch configures file retrieval.
	Fetch FetchOptions
	// Logger receives warnings (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// FetchOptions configure how the sources deliver files.
type FetchOptions struct {
	// Method is FetchFromAgent (default) or FetchFromCloud for threats;
	// Deep Visibility processes, which have no threat, are always fetched
	// from the agent by path.
	Method FetchMethod
	// Password protects agent uploads. Empty (the default) generates a
	// fresh password per fetch that meets the console's rules; a configured
	// one must meet them too (sentinelone.ValidatePassword).
	Password string
	// CloudPassword opens Binary Vault zips (default
	// sentinelone.BinaryVaultPassword, the original's ZIP_PASSWORD).
	CloudPassword string
	// OfflineRetry is the delay Fetch asks for when every agent holding the
	// file is offline (default DefaultOfflineRetry). The engine's retry
	// budget still applies: a file whose agents stay offline becomes a dead
	// letter.
	OfflineRetry time.Duration
}

// DefaultOfflineRetry is how long Fetch asks the engine to wait when every
// agent that holds the file is offline.
const DefaultOfflineRetry = 5 * time.Minute

// Source is a connector.Source and connector.Fetcher over SentinelOne
// threats (NewThreatSource) or Deep Visibility processes (NewDVSource).
type Source struct {
	c    *sentinelone.Client
	opts SourceOptions
	dv   bool
	log  *slog.Logger
}

var (
	_ connector.Source  = (*Source)(nil)
	_ connector.Fetcher = (*Source)(nil)
)

// NewThreatSource returns a source of the threats created since the
// checkpoint, filtered by confidence level, in the scope's sites.
func NewThreatSource(c *sentinelone.Client, opts SourceOptions) (*Source, error) {
	if opts.Name == "" {
		opts.Name = DefaultThreatSourceName
	}
	return newSource(c, opts, false)
}

// NewDVSource returns a source of the processes Deep Visibility recorded
// since the checkpoint (with SkipThreatHashes, only those whose SHA1 is not
// that of a collected threat).
func NewDVSource(c *sentinelone.Client, opts SourceOptions) (*Source, error) {
	if opts.Name == "" {
		opts.Name = DefaultDVSourceName
	}
	return newSource(c, opts, true)
}

func newSource(c *sentinelone.Client, opts SourceOptions, dv bool) (*Source, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Scope == nil {
		return nil, errors.New("sentineloneconn: the source needs a Scope")
	}
	if opts.LookBack == 0 {
		opts.LookBack = DefaultLookBack
	}
	if opts.LookBack < 0 {
		return nil, fmt.Errorf("sentineloneconn: negative LookBack %v", opts.LookBack)
	}
	if opts.MaxWindow < 0 || opts.MaxWindow > 0 && opts.MaxWindow <= opts.Overlap {
		return nil, fmt.Errorf("sentineloneconn: MaxWindow %v must be longer than Overlap %v", opts.MaxWindow, opts.Overlap)
	}
	if opts.MaxWindow == 0 {
		opts.MaxWindow = DefaultMaxWindow
	}
	switch {
	case opts.Overlap == 0:
		opts.Overlap = DefaultOverlap
	case opts.Overlap < 0:
		opts.Overlap = 0
	}
	if len(opts.ConfidenceLevels) == 0 {
		opts.ConfidenceLevels = slices.Clone(DefaultConfidenceLevels)
	}
	for i, l := range opts.ConfidenceLevels {
		l = strings.ToLower(strings.TrimSpace(l))
		if !slices.Contains(DefaultConfidenceLevels, l) {
			return nil, fmt.Errorf("sentineloneconn: unknown confidence level %q (use malicious, suspicious or n/a)", l)
		}
		opts.ConfidenceLevels[i] = l
	}
	if strings.TrimSpace(opts.DVQuery) == "" {
		opts.DVQuery = DefaultDVQuery
	}
	if opts.DVLimit == 0 {
		opts.DVLimit = DefaultDVLimit
	}
	if opts.DVLimit < 1 || opts.DVLimit > 100000 {
		return nil, fmt.Errorf("sentineloneconn: DVLimit %d outside 1..100000", opts.DVLimit)
	}
	if err := checkFetch(&opts.Fetch); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{c: c, opts: opts, dv: dv, log: log}, nil
}

func checkFetch(f *FetchOptions) error {
	switch f.Method {
	case "":
		f.Method = FetchFromAgent
	case FetchFromAgent, FetchFromCloud:
	default:
		return fmt.Errorf("sentineloneconn: unknown fetch method %q (use %q or %q)", f.Method, FetchFromAgent, FetchFromCloud)
	}
	if f.Password != "" {
		if err := sentinelone.ValidatePassword(f.Password); err != nil {
			return fmt.Errorf("sentineloneconn: fetch password: %w", err)
		}
	}
	if f.OfflineRetry < 0 {
		return fmt.Errorf("sentineloneconn: negative OfflineRetry %v", f.OfflineRetry)
	}
	if f.OfflineRetry == 0 {
		f.OfflineRetry = DefaultOfflineRetry
	}
	if f.CloudPassword == "" {
		f.CloudPassword = sentinelone.BinaryVaultPassword
	}
	return nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.opts.Name }

// checkpoint is the persisted position: the end of the last window read.
type checkpoint struct {
	Until time.Time `json:"until"`
}

// window returns the time range to read after cp, at most MaxWindow long,
// and whether it ends before now.
func (s *Source) window(cp connector.Checkpoint) (from, until time.Time, more bool, err error) {
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	if len(cp) == 0 {
		from = now.Add(-s.opts.LookBack)
	} else {
		var c checkpoint
		if err := json.Unmarshal(cp, &c); err != nil || c.Until.IsZero() {
			return time.Time{}, time.Time{}, false, connector.Permanent(fmt.Errorf("sentineloneconn: %s: unreadable checkpoint %q", s.opts.Name, cp))
		}
		from = c.Until.Add(-s.opts.Overlap)
		if now.Before(c.Until) { // the clock went back: keep the checkpoint
			now = c.Until
		}
	}
	until = now
	if end := from.Add(s.opts.MaxWindow); end.Before(now) {
		until, more = end, true
	}
	return from, until, more, nil
}

// Collect reads one window, from the checkpoint (the first run: LookBack
// before now) to now or at most MaxWindow, every page of it.
func (s *Source) Collect(ctx context.Context, cp connector.Checkpoint) (connector.Batch, error) {
	from, until, more, err := s.window(cp)
	if err != nil {
		return connector.Batch{}, err
	}
	sc, err := s.opts.Scope.Resolve(ctx)
	if err != nil {
		return connector.Batch{}, err
	}
	var evs []connector.Evidence
	if s.dv {
		evs, err = s.collectDV(ctx, sc, from, until)
	} else {
		evs, err = s.collectThreats(ctx, sc, from, until)
	}
	if err != nil {
		return connector.Batch{}, err
	}
	next, err := json.Marshal(checkpoint{Until: until})
	if err != nil {
		return connector.Batch{}, err
	}
	return connector.Batch{Evidence: evs, Next: next, More: more}, nil
}

func (s *Source) collectThreats(ctx context.Context, sc *Resolved, from, until time.Time) ([]connector.Evidence, error) {
	opts := sentinelone.ThreatListOptions{
		ThreatFilter: sentinelone.ThreatFilter{Scope: sc.Filter(), ConfidenceLevels: s.opts.ConfidenceLevels,
			CreatedAtGt: sentinelone.NewTime(from), CreatedAtLte: sentinelone.NewTime(until)},
		ListOptions: sentinelone.ListOptions{SortBy: "createdAt", SortOrder: sentinelone.Ascending},
	}
	var out []connector.Evidence
	for t, err := range s.c.Threats.All(ctx, opts) {
		if err != nil {
			return nil, classify("listing threats", err)
		}
		ev, ok := s.threatEvidence(t)
		if !ok {
			s.log.Warn("sentineloneconn: threat without a SHA1 skipped", "threat", t.ID, "name", t.ThreatInfo.ThreatName)
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

// threatEvidence maps one threat: the file by SHA1 (and SHA256 when the
// console has it) and one sighting for the threat.
func (s *Source) threatEvidence(t sentinelone.Threat) (connector.Evidence, bool) {
	ti, ri := t.ThreatInfo, t.AgentRealtimeInfo
	h := connector.Hashes{SHA1: strings.ToLower(ti.SHA1), SHA256: strings.ToLower(ti.SHA256), MD5: strings.ToLower(ti.MD5)}
	if len(h.SHA1) != 40 {
		return connector.Evidence{}, false
	}
	if len(h.SHA256) != 64 {
		h.SHA256 = ""
	}
	if len(h.MD5) != 32 {
		h.MD5 = ""
	}
	file := string(ti.FilePath)
	sg := connector.Sighting{
		Source: s.opts.Name, ID: t.ID, Time: ti.CreatedAt.Time, ThreatID: t.ID,
		AgentID: ri.AgentID, DeviceName: ri.AgentComputerName, OS: ri.AgentOSType,
		AccountID: ri.AccountID, AccountName: ri.AccountName, SiteID: ri.SiteID, SiteName: ri.SiteName, FilePath: file,
		Attributes: nonEmptyAttrs(map[string]string{
			AttrKind: "threat", AttrConfidenceLevel: ti.ConfidenceLevel, AttrClassification: ti.Classification,
			AttrThreatName: ti.ThreatName, AttrAnalystVerdict: ti.AnalystVerdict,
		}),
	}
	return connector.Evidence{Hashes: h, FileName: baseName(file), Size: ti.FileSize, Source: s.opts.Name,
		Sightings: []connector.Sighting{sg}}, true
}

func (s *Source) collectDV(ctx context.Context, sc *Resolved, from, until time.Time) ([]connector.Evidence, error) {
	verbose := false
	q := sentinelone.DVQuery{Scope: sc.Filter(), Query: s.opts.DVQuery, FromDate: sentinelone.NewTime(from),
		ToDate: sentinelone.NewTime(until), Limit: s.opts.DVLimit, QueryType: []string{"events"}, IsVerbose: &verbose}
	byHash := map[string]*connector.Evidence{}
	var order []string
	for e, err := range s.c.DeepVisibility.AllQueryEvents(ctx, q) {
		if err != nil {
			return nil, classify("Deep Visibility process query", err)
		}
		sha1 := strings.ToLower(e.ProcessImageSha1Hash)
		if len(sha1) != 40 || e.AgentID == "" {
			continue
		}
		ev := byHash[sha1]
		if ev == nil {
			ev = &connector.Evidence{Hashes: connector.Hashes{SHA1: sha1}, FileName: baseName(e.ProcessImagePath), Source: s.opts.Name}
			byHash[sha1] = ev
			order = append(order, sha1)
		}
		t := e.ProcessStartTime.Time
		if t.IsZero() {
			t = e.CreatedAt.Time
		}
		ev.Sightings = append(ev.Sightings, connector.Sighting{
			Source: s.opts.Name, Time: t, AgentID: e.AgentID, DeviceName: e.AgentName, OS: strings.ToLower(e.AgentOS),
			AccountID: e.AccountID, SiteID: e.SiteID, SiteName: e.SiteName, FilePath: e.ProcessImagePath,
			Attributes: nonEmptyAttrs(map[string]string{AttrKind: "process", AttrProcessName: e.ProcessName}),
		})
	}
	threats := map[string]bool{}
	if s.opts.SkipThreatHashes {
		found, err := s.threatHashes(ctx, sc, order)
		if err != nil {
			return nil, err
		}
		threats = found
	}
	var out []connector.Evidence
	for _, h := range order {
		if threats[h] {
			continue
		}
		ev := byHash[h]
		ev.Sightings = dedupeSightings(ev.Sightings)
		out = append(out, *ev)
	}
	return out, nil
}

// threatHashes returns which of hashes belong to threats the threat source
// would collect (same scope and confidence levels): those are handled as
// threats, with their threat ids.
func (s *Source) threatHashes(ctx context.Context, sc *Resolved, hashes []string) (map[string]bool, error) {
	found := map[string]bool{}
	for chunk := range slices.Chunk(hashes, 100) {
		opts := sentinelone.ThreatListOptions{ThreatFilter: sentinelone.ThreatFilter{Scope: sc.Filter(),
			ContentHashes: chunk, ConfidenceLevels: s.opts.ConfidenceLevels}}
		for t, err := range s.c.Threats.All(ctx, opts) {
			if err != nil {
				return nil, classify("listing threats by hash", err)
			}
			found[strings.ToLower(t.ThreatInfo.SHA1)] = true
		}
	}
	return found, nil
}

// dedupeSightings keeps one sighting per (agent, path), the earliest.
func dedupeSightings(in []connector.Sighting) []connector.Sighting {
	seen := map[string]int{}
	var out []connector.Sighting
	for _, sg := range in {
		k := sg.AgentID + "\x00" + strings.ToLower(sg.FilePath)
		if i, ok := seen[k]; ok {
			if sg.Time.Before(out[i].Time) {
				out[i].Time = sg.Time
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, sg)
	}
	return out
}

func nonEmptyAttrs(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// baseName returns the last element of a Windows or POSIX path.
func baseName(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return ""
	}
	b := path.Base(p)
	if b == "/" || b == "." {
		return ""
	}
	return b
}
