package carbonblackconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// Defaults of WatchlistOptions, from the original connector.
const (
	DefaultWatchlistName        = "VMRay Connector"
	DefaultWatchlistDescription = "VMRay Connector Watchlist"
	DefaultBaselineTTL          = 15 * time.Minute
	// DefaultReportsPerWatchlist is the default of WatchlistOptions.ReportsPerWatchlist: a batch then rewrites a
	// list of at most 5,000 report ids (about 200 KB of JSON), and 100,000 files fill 20 watchlists.
	DefaultReportsPerWatchlist = 5000
)

// WatchlistOptions configure NewWatchlistReport.
type WatchlistOptions struct {
	// Name is the responder's name (default "cbc-watchlist-report").
	Name string
	// Watchlist and Description name the watchlist the reports go to; it is
	// created with the first report when missing (defaults: the original's
	// WATCHLIST_NAME and WATCHLIST_DESCRIPTION).
	Watchlist   string
	Description string
	// ReportsPerWatchlist caps the reports one watchlist of the series holds
	// (default DefaultReportsPerWatchlist). Carbon Black replaces a report
	// watchlist's report_ids as a whole, so adding reports moves the whole
	// list three times (read, write, read-back); the cap bounds that list.
	// When the current watchlist is full the responder creates the next one
	// of the series, with the same settings: "<Watchlist> (2)", "(3)", and so
	// on. Reports are never moved between watchlists, so lowering the cap
	// only makes the next new report start a new watchlist.
	ReportsPerWatchlist int
	// AlertsEnabled makes a watchlist this responder creates raise alerts on
	// hits (default true; the original created it with alerts off, so hits
	// only tagged events). An existing watchlist is left as it is.
	AlertsEnabled *bool
	// IOCVerdicts keeps only indicators whose own verdict is in the set, or
	// that carry none (default: malicious, the original's SELECTED_VERDICTS).
	IOCVerdicts connector.KindSet
	// BaselineTTL is how long the set of IOCs already present in the
	// organisation's watchlists and feeds is reused before it is read again
	// (default DefaultBaselineTTL). A refresh lists the watchlists and feeds
	// and reads only the watchlist reports it has not read before (the
	// original read every report twice per cycle). IOCs this responder adds
	// join the set at once.
	BaselineTTL time.Duration
	// IncludePublicFeeds adds Carbon Black's public feeds to that set.
	IncludePublicFeeds bool
	// Logger receives information records (default: discard).
	Logger *slog.Logger
	// Now is the clock of the baseline's age (default time.Now).
	Now func() time.Time
}

// WatchlistReport is a responder that writes one watchlist report per file
// with the verdict's indicators mapped to Carbon Black fields (see MapIOCs):
// one equality IOC per (field, value), each linking to the analysis report.
// IOCs already present as equality IOCs in any watchlist report or feed of
// the organisation are left out; when nothing is new no report is written
// (Unchanged). A later verdict with new indicators updates the file's report
// instead of creating a second one. Calls are serialised, so two files that
// share an indicator never both add it.
//
// The reports are spread over a series of watchlists of at most
// ReportsPerWatchlist reports each: Watchlist, then "Watchlist (2)",
// "Watchlist (3)", ... created on demand, so what a batch rewrites does not
// grow with the files reported so far. The series is found again by name
// after a restart; an existing single watchlist is its first member.
type WatchlistReport struct {
	c    *carbonblack.Client
	opts WatchlistOptions

	mu       sync.Mutex
	base     *baseline
	loadedAt time.Time
	// shards is the series of watchlists, by position (0 is Watchlist, k is
	// "Watchlist (k+1)"); a missing member has an empty id. It is read with
	// the baseline and kept up to date by every update.
	shards []shard
	// probe is the name of a watchlist whose creation failed without a
	// clear answer: it may exist, so it is looked up before being created.
	probe string
	// reports caches the equality IOCs of every watchlist report read, by
	// id, so a refresh reads only the reports that are new since the last.
	reports map[string]reportEntry
}

// shard is one watchlist of the series.
type shard struct {
	id string
	n  int // report ids listed, as last read or written
}

// reportEntry is what the baseline needs of one watchlist report.
type reportEntry struct {
	keys []iocID // each equality IOC value
	sha  string  // the file a report of this responder is about, if any
}

func entryOf(r *carbonblack.Report) reportEntry {
	e := reportEntry{sha: reportHash(r.Title)}
	for _, ioc := range r.IOCsV2 {
		if ioc.MatchType != carbonblack.MatchEquality {
			continue
		}
		for _, v := range ioc.Values {
			e.keys = append(e.keys, iocKey(ioc.Field, v))
		}
	}
	return e
}

// baseline is the set of equality IOCs present in the organisation, and this
// responder's reports by file.
type baseline struct {
	values   map[iocID]bool
	reports  map[string]string // SHA-256 -> report id in our watchlist (or created for it)
	attached map[string]bool   // report ids listed by our watchlist
	checked  map[string]bool   // SHA-256s whose derived report id is known not to exist
}

func (b *baseline) add(e reportEntry) {
	for _, k := range e.keys {
		b.values[k] = true
	}
}

// NewWatchlistReport returns a watchlist report responder.
func NewWatchlistReport(c *carbonblack.Client, opts WatchlistOptions) (*WatchlistReport, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "cbc-watchlist-report"
	}
	if strings.TrimSpace(opts.Watchlist) == "" {
		opts.Watchlist = DefaultWatchlistName
	}
	if opts.Description == "" {
		opts.Description = DefaultWatchlistDescription
	}
	if opts.AlertsEnabled == nil {
		on := true
		opts.AlertsEnabled = &on
	}
	if opts.IOCVerdicts == 0 {
		opts.IOCVerdicts = connector.Kinds(connector.Malicious)
	}
	if opts.BaselineTTL <= 0 {
		opts.BaselineTTL = DefaultBaselineTTL
	}
	if opts.ReportsPerWatchlist < 0 {
		return nil, fmt.Errorf("carbonblackconn: ReportsPerWatchlist is %d, want 0 (the default) or more", opts.ReportsPerWatchlist)
	}
	if opts.ReportsPerWatchlist == 0 {
		opts.ReportsPerWatchlist = DefaultReportsPerWatchlist
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &WatchlistReport{c: c, opts: opts, reports: map[string]reportEntry{}}, nil
}

// Name returns the responder's name.
func (r *WatchlistReport) Name() string { return r.opts.Name }

// Scope is per file: one report per file.
func (r *WatchlistReport) Scope() connector.Scope { return connector.ScopeEvidence }

// Respond writes or extends the file's report with the IOCs that are new (a batch of one; see RespondBatch).
func (r *WatchlistReport) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	out := r.RespondBatch(ctx, []connector.Finding{f})[0]
	return out.Result, out.Err
}

// watchlistWork is what a batch does for one finding.
type watchlistWork struct {
	sha   string
	fresh []FieldValue // IOCs no watchlist, feed or earlier finding of the batch holds
	id    string       // the file's report, when it has one
	// written is the report created or extended for the finding; attach is set when the report must join the
	// watchlist.
	written *carbonblack.Report
	created bool
	attach  bool
	done    bool // the outcome is final before the watchlist update
}

// RespondBatch writes or extends the reports of several files: the reports are read (crash recovery), created and
// extended concurrently, then listed in the current watchlist of the series with one update, verified by one
// read-back (see carbonblack.WatchlistsService.AddReports); when the batch fills that watchlist, the rest go to the
// next one, created with them. The responder's lock is held for one batch; the engine makes one batch at a time.
func (r *WatchlistReport) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	outs := make([]connector.Outcome, len(fs))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(ctx); err != nil {
		return failAll(outs, err)
	}
	work := make([]watchlistWork, len(fs))
	seen := map[string]bool{}
	var check []int
	for i, f := range fs {
		w := &work[i]
		w.sha = strings.ToLower(f.Evidence.Hashes.SHA256)
		switch {
		case !isHex(w.sha, 64):
			outs[i].Result, outs[i].Err = skipped("the evidence has no SHA-256")
			w.done = true
		case seen[w.sha]:
			// The engine holds one item per file, so this is a caller's repeat: its twin answers for it.
			outs[i].Result, outs[i].Err = unchanged("the same file is earlier in the batch")
			w.done = true
		default:
			seen[w.sha] = true
			if _, ok := r.base.reports[w.sha]; !ok && !r.base.checked[w.sha] {
				check = append(check, i)
			}
		}
	}
	r.recoverAll(ctx, work, check, outs)
	claimed := map[iocID]bool{}
	for i, f := range fs {
		w := &work[i]
		if w.done {
			continue
		}
		for _, p := range MapIOCs(f, r.opts.IOCVerdicts) {
			k := iocKey(p.Field, p.Value)
			if !r.base.values[k] && !claimed[k] {
				claimed[k] = true
				w.fresh = append(w.fresh, p)
			}
		}
		w.id = r.base.reports[w.sha]
		if len(w.fresh) == 0 {
			switch {
			case w.id != "" && !r.base.attached[w.id]:
				w.attach = true
			case w.id != "":
				outs[i].Result, outs[i].Err = unchanged("report %s already holds every IOC", w.id)
				w.done = true
			default:
				outs[i].Result, outs[i].Err = unchanged("no new IOCs: all %d are already in the organisation's watchlists or feeds", len(MapIOCs(f, r.opts.IOCVerdicts)))
				w.done = true
			}
		}
	}
	r.writeAll(ctx, fs, work, outs)
	r.attachAll(ctx, work, outs)
	return outs
}

// recoverAll runs recover for the findings at check concurrently; a finding whose read failed is done with that
// error.
func (r *WatchlistReport) recoverAll(ctx context.Context, work []watchlistWork, check []int, outs []connector.Outcome) {
	found := make([]*carbonblack.Report, len(check))
	errs := make([]error, len(check))
	parallel(len(check), func(k int) {
		found[k], errs[k] = r.lookupReport(ctx, work[check[k]].sha)
	})
	for k, i := range check {
		switch {
		case errs[k] != nil:
			outs[i].Err, work[i].done = errs[k], true
		case found[k] == nil:
			r.base.checked[work[i].sha] = true
		default:
			r.base.reports[work[i].sha] = found[k].ID
			r.remember(found[k])
		}
	}
}

// lookupReport reads the report of a file under its derived id: one created by an earlier process that stopped
// before it was added to the watchlist. It returns nil when there is none.
func (r *WatchlistReport) lookupReport(ctx context.Context, sha string) (*carbonblack.Report, error) {
	rep, err := r.c.Reports.Get(ctx, r.reportID(sha))
	if errors.Is(err, carbonblack.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, classify("reading watchlist report "+r.reportID(sha), err)
	}
	return rep, nil
}

// writeAll creates or extends, concurrently, the reports of the findings with fresh IOCs, and marks them for the
// watchlist update.
func (r *WatchlistReport) writeAll(ctx context.Context, fs []connector.Finding, work []watchlistWork, outs []connector.Outcome) {
	var todo []int
	for i := range work {
		if !work[i].done && len(work[i].fresh) > 0 {
			todo = append(todo, i)
		}
	}
	errs := make([]error, len(todo))
	parallel(len(todo), func(k int) {
		w := &work[todo[k]]
		w.written, w.created, errs[k] = r.write(ctx, fs[todo[k]], w.sha, w.id, w.fresh)
	})
	for k, i := range todo {
		w := &work[i]
		if errs[k] != nil {
			outs[i].Err, w.done = errs[k], true
			continue
		}
		w.id = w.written.ID
		r.base.reports[w.sha] = w.id
		r.remember(w.written)
		w.attach = !r.base.attached[w.id]
		if !w.attach {
			outs[i].Result, outs[i].Err = acted("updated report %s with %d new IOCs", w.id, len(w.fresh))
			w.done = true
		}
	}
}

// write extends the file's report id with fresh IOCs, or creates the file's report when it has none (or it was
// deleted), and returns the report as written and whether it was created. It touches no state of r, so writes run
// concurrently.
func (r *WatchlistReport) write(ctx context.Context, f connector.Finding, sha, id string, fresh []FieldValue) (*carbonblack.Report, bool, error) {
	if id != "" {
		old, err := r.c.Reports.Get(ctx, id)
		switch {
		case err == nil:
			next := buildReport(f, fresh)
			next.ID = id
			next.IOCsV2 = append(old.IOCsV2, next.IOCsV2...)
			next.Tags = mergeTags(old.Tags, next.Tags)
			updated, err := r.c.Reports.Update(ctx, next)
			if err != nil {
				return nil, false, classify("updating watchlist report "+id, err)
			}
			return updated, false, nil
		case !errors.Is(err, carbonblack.ErrNotFound):
			return nil, false, classify("reading watchlist report "+id, err)
		}
		// The report was deleted by someone: write a new one.
	}
	rep := buildReport(f, fresh)
	rep.ID = r.reportID(sha)
	created, err := r.c.Reports.Create(ctx, rep)
	if err != nil {
		return nil, false, classify("creating a watchlist report", err)
	}
	return created, true, nil
}

// attachAll lists the reports of the batch that the series lacks with one update of the current watchlist (verified
// by reading it back), or two when it fills up, and gives their findings the outcome.
func (r *WatchlistReport) attachAll(ctx context.Context, work []watchlistWork, outs []connector.Outcome) {
	var ids []string
	for i := range work {
		if !work[i].done && work[i].attach {
			ids = append(ids, work[i].id)
		}
	}
	if len(ids) == 0 {
		return
	}
	placed, err := r.attach(ctx, ids)
	for i := range work {
		w := &work[i]
		if w.done || !w.attach {
			continue
		}
		list, ok := placed[w.id]
		switch {
		case !ok:
			outs[i].Err = err
		case w.written == nil:
			outs[i].Result, outs[i].Err = acted("added report %s to watchlist %q", w.id, list)
		case w.created:
			outs[i].Result, outs[i].Err = acted("created report %s with %d IOCs in watchlist %q", w.id, len(w.fresh), list)
		default:
			outs[i].Result, outs[i].Err = acted("updated report %s with %d new IOCs", w.id, len(w.fresh))
		}
	}
}

// failAll gives every finding of a batch err.
func failAll(outs []connector.Outcome, err error) []connector.Outcome {
	for i := range outs {
		outs[i].Err = err
	}
	return outs
}

// maxParallel bounds the vendor calls one batch makes at once.
const maxParallel = 64

// parallel runs fn(0..n-1), at most maxParallel at once, and returns when all are done.
func parallel(n int, fn func(i int)) {
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// reportID is the id this responder asks for the report of a file: derived
// from the watchlist's name and the file's hash, so a report created just
// before a crash (and not yet in the watchlist) is found again after a
// restart instead of being written twice. It has the form of a UUID.
func (r *WatchlistReport) reportID(sha string) string {
	sum := sha256.Sum256([]byte("soarkit/carbonblackconn/watchlist-report\x00" + r.opts.Watchlist + "\x00" + sha))
	sum[6] = sum[6]&0x0f | 0x50 // version 5 layout (name-based)
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// shardName is the name of the watchlist at position k of the series.
func (r *WatchlistReport) shardName(k int) string { return seriesName(r.opts.Watchlist, k) }

// shardIndex returns the position in the series of the watchlist named name, or false when it is not one of the
// series.
func (r *WatchlistReport) shardIndex(name string) (int, bool) {
	return seriesIndex(r.opts.Watchlist, name)
}

// seriesName is the name of member k of the series named base: base, then "base (2)", "base (3)", ...
func seriesName(base string, k int) string {
	if k == 0 {
		return base
	}
	return fmt.Sprintf("%s (%d)", base, k+1)
}

// seriesIndex returns the position of name in the series named base, or false when it is not one of the series.
func seriesIndex(base, name string) (int, bool) {
	if name == base {
		return 0, true
	}
	rest, ok := strings.CutPrefix(name, base+" (")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, ")")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 6 {
		return 0, false
	}
	k := 0
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		k = k*10 + int(d-'0')
	}
	if k < 2 {
		return 0, false
	}
	return k - 1, true
}

// setShard records the watchlist at position k of the series.
func (r *WatchlistReport) setShard(k int, s shard) {
	for len(r.shards) <= k {
		r.shards = append(r.shards, shard{})
	}
	r.shards[k] = s
}

// current returns the position of the last watchlist of the series, or -1 when there is none.
func (r *WatchlistReport) current() int {
	for k := len(r.shards) - 1; k >= 0; k-- {
		if r.shards[k].id != "" {
			return k
		}
	}
	return -1
}

// attach lists reports in the series: in the current watchlist up to ReportsPerWatchlist with one update, the rest in
// the next watchlists, each created with its reports. It returns the watchlist each listed id joined; on an error the
// ids not in the map are not listed.
func (r *WatchlistReport) attach(ctx context.Context, ids []string) (map[string]string, error) {
	limit := r.opts.ReportsPerWatchlist
	placed := make(map[string]string, len(ids))
	for len(ids) > 0 {
		k := r.current()
		if k >= 0 && r.shards[k].n < limit {
			take := ids[:min(limit-r.shards[k].n, len(ids))]
			w, err := r.c.Watchlists.AddReports(ctx, r.shards[k].id, take...)
			if err != nil {
				return placed, classify(fmt.Sprintf("adding %d reports to watchlist %s", len(take), r.shardName(k)), err)
			}
			r.shards[k].n = len(w.ReportIDs)
			r.placed(placed, take, r.shardName(k))
			ids = ids[len(take):]
			continue
		}
		k++
		name := r.shardName(k)
		if r.probe == name {
			// The last creation failed without a clear answer: it may have happened.
			found, err := r.findShard(ctx, name)
			if err != nil {
				return placed, err
			}
			r.probe = ""
			if found != nil {
				r.setShard(k, shard{id: found.ID, n: len(found.ReportIDs)})
				continue
			}
		}
		take := ids[:min(limit, len(ids))]
		w, err := r.c.Watchlists.Create(ctx, carbonblack.Watchlist{Name: name, Description: r.opts.Description,
			TagsEnabled: true, AlertsEnabled: *r.opts.AlertsEnabled, ReportIDs: take})
		if err != nil {
			if !errors.Is(err, carbonblack.ErrInvalidRequest) {
				r.probe = name
			}
			return placed, classify("creating watchlist "+name, err)
		}
		r.setShard(k, shard{id: w.ID, n: len(take)})
		r.opts.Logger.Info("created watchlist", "watchlist", name, "id", w.ID, "alerts", w.AlertsEnabled, "reports", len(take))
		r.placed(placed, take, name)
		ids = ids[len(take):]
	}
	return placed, nil
}

// placed records ids as listed in the watchlist named list.
func (r *WatchlistReport) placed(m map[string]string, ids []string, list string) {
	for _, id := range ids {
		r.base.attached[id] = true
		m[id] = list
	}
}

// findShard returns the report watchlist named name, or nil when there is none.
func (r *WatchlistReport) findShard(ctx context.Context, name string) (*carbonblack.Watchlist, error) {
	wls, err := r.c.Watchlists.List(ctx)
	if err != nil {
		return nil, classify("listing watchlists", err)
	}
	for i := range wls {
		if wls[i].Name == name && wls[i].Classifier == nil {
			return &wls[i], nil
		}
	}
	return nil, nil
}

// remember records a report this responder wrote in the cache and the
// baseline.
func (r *WatchlistReport) remember(rep *carbonblack.Report) {
	e := entryOf(rep)
	r.reports[rep.ID] = e
	r.base.add(e)
}

// refresh reads the baseline when it is missing or older than BaselineTTL:
// every equality IOC of every watchlist report (reports read before come
// from the cache) and of every feed, and this responder's reports (titles
// naming a file) in its series of watchlists.
func (r *WatchlistReport) refresh(ctx context.Context) error {
	now := r.opts.Now()
	if r.base != nil && now.Sub(r.loadedAt) < r.opts.BaselineTTL {
		return nil
	}
	b := &baseline{values: map[iocID]bool{}, reports: map[string]string{}, attached: map[string]bool{}, checked: map[string]bool{}}
	wls, err := r.c.Watchlists.List(ctx)
	if err != nil {
		return classify("listing watchlists", err)
	}
	var shards []shard
	listed := map[string]bool{}
	for _, w := range wls {
		k, ours := r.shardIndex(w.Name)
		ours = ours && w.Classifier == nil
		if ours && (k >= len(shards) || shards[k].id == "") {
			for len(shards) <= k {
				shards = append(shards, shard{})
			}
			shards[k] = shard{id: w.ID, n: len(w.ReportIDs)}
		}
		for _, id := range w.ReportIDs {
			e, ok := r.reports[id]
			if !ok {
				rep, err := r.c.Reports.Get(ctx, id)
				if errors.Is(err, carbonblack.ErrNotFound) {
					continue
				}
				if err != nil {
					return classify("reading watchlist report "+id, err)
				}
				e = entryOf(rep)
				r.reports[id] = e
			}
			listed[id] = true
			b.add(e)
			if ours && e.sha != "" {
				b.reports[e.sha], b.attached[id] = id, true
			}
		}
	}
	feeds, err := r.c.Feeds.List(ctx, r.opts.IncludePublicFeeds)
	if err != nil {
		return classify("listing feeds", err)
	}
	for _, fd := range feeds {
		reps, err := r.c.Feeds.Reports(ctx, fd.ID)
		if errors.Is(err, carbonblack.ErrNotFound) {
			continue
		}
		if err != nil {
			return classify("reading the reports of feed "+fd.Name, err)
		}
		for i := range reps {
			b.add(entryOf(&reps[i]))
		}
	}
	// Reports created but not attached before a failure are kept across
	// refreshes, so the next call attaches them instead of writing new ones.
	if r.base != nil {
		for sha, id := range r.base.reports {
			if _, ok := b.reports[sha]; !ok && !r.base.attached[id] {
				b.reports[sha] = id
				b.add(r.reports[id])
				listed[id] = true
			}
		}
	}
	for id := range r.reports {
		if !listed[id] {
			delete(r.reports, id)
		}
	}
	r.base, r.shards, r.loadedAt = b, shards, now
	return nil
}

// reportTitleMark separates the verdict and analyzer from the file hash in
// report titles: "[malicious] VMRAY Report for <sha256>".
const reportTitleMark = " Report for "

// reportHash returns the SHA-256 a report title of this responder names.
func reportHash(title string) string {
	i := strings.LastIndex(title, reportTitleMark)
	if i < 0 {
		return ""
	}
	sha := strings.ToLower(strings.TrimSpace(title[i+len(reportTitleMark):]))
	if !isHex(sha, 64) {
		return ""
	}
	return strings.Clone(sha) // not the whole title, which the baseline would keep

}

// buildReport makes the report of a finding with the given IOCs, as the
// original did: title "[<verdict>] <ANALYZER> Report for <sha256>",
// description and link the analysis report, tags the classifications, threat
// names and VTI operations.
func buildReport(f connector.Finding, pairs []FieldValue) carbonblack.Report {
	v := f.Verdict
	analyzer := strings.ToUpper(v.Analyzer)
	if analyzer == "" {
		analyzer = "VMRAY"
	}
	desc := v.ReportURL
	if desc == "" {
		desc = fmt.Sprintf("%s verdict: %s", analyzer, v.Kind)
	}
	rep := carbonblack.Report{
		Title:       fmt.Sprintf("[%s] %s%s%s", v.Kind, analyzer, reportTitleMark, strings.ToLower(f.Evidence.Hashes.SHA256)),
		Description: desc,
		Severity:    severityOf(v),
		Link:        v.ReportURL,
	}
	var tags []string
	tags = append(tags, v.Classifications...)
	tags = append(tags, v.ThreatNames...)
	for _, vti := range v.VTIs {
		tags = append(tags, vti.Operation)
	}
	rep.Tags = mergeTags(nil, tags)
	for _, p := range pairs {
		ioc := carbonblack.EqualityIOC(p.Field, p.Value)
		ioc.Link = v.ReportURL
		rep.IOCsV2 = append(rep.IOCsV2, ioc)
	}
	return rep
}

// severityOf maps a verdict to Carbon Black's 1-10 severity: the verdict's
// own severity, else its score (0-100), else its kind (malicious 10,
// suspicious 5, otherwise 1), as the original did for VTI scores.
func severityOf(v connector.Verdict) int {
	switch {
	case v.Severity >= 1 && v.Severity <= 10:
		return v.Severity
	case v.Score > 0:
		return carbonblack.Severity(v.Score)
	case v.Kind == connector.Malicious:
		return 10
	case v.Kind == connector.Suspicious:
		return 5
	}
	return 1
}

// mergeTags appends tags to old, trimmed, printable and without duplicates
// (ignoring case).
func mergeTags(old, tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range append(append([]string{}, old...), tags...) {
		t = strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsPrint(r) {
				return r
			}
			return -1
		}, t))
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}
