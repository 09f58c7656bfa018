package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// FeedOptions configure NewFeedReport.
type FeedOptions struct {
	// Name is the responder's name (default "cbc-feed-report").
	Name string
	// Feed is the name of the private feed the reports go to; it is created
	// when missing (the original Proofpoint connector's [actions] watchlist).
	Feed string
	// ProviderURL, Summary and Category describe a feed this responder
	// creates (defaults: "https://github.com/soarkit/soarkit", "Files found
	// malicious by soarkit", "Partner").
	ProviderURL, Summary, Category string
	// Watchlist is the name of the watchlist subscribed to the feed, created
	// with the feed, so its reports raise hits (default: the feed's name). The
	// original created only the feed, which alerts nobody.
	Watchlist string
	// NoWatchlist leaves the feed without a subscribed watchlist.
	NoWatchlist bool
	// AlertsEnabled makes that watchlist raise alerts (default true).
	AlertsEnabled *bool
	// Title makes a report's title (default "[<verdict>] <classifications>:
	// <sha256>").
	Title func(connector.Finding) string
	// Description makes a report's description (default "This IOC was
	// identified by <analyzer> as <verdict>.").
	Description func(connector.Finding) string
	// VerifyDelay guards against writes Carbon Black applies late: a write
	// replaces the whole report list, so an earlier write landing after a
	// later one drops the later one's report. With 0 a report is read back
	// right after its write and written again when missing; with a delay the
	// report counts as added only when it is still in the feed VerifyDelay
	// after the attempt that wrote it (connector.Finding.EarlierAttempt): until then
	// Respond returns connector.RetryLater, and a report missing by then is
	// written again. Set it to the longest time a request may take to apply.
	VerifyDelay time.Duration
	// ReportsPerFeed caps the reports of one feed of the series (default
	// DefaultReportsPerFeed). Carbon Black replaces a feed's reports as a
	// whole, so adding reports moves every report of the feed three times
	// (read, write, read-back); the cap bounds that. When the current feed is
	// full the responder creates the next one of the series with the same
	// settings, "<Feed> (2)", "(3)", ..., each with its own subscribed
	// watchlist "<Watchlist> (2)", ... Reports are never moved between feeds.
	ReportsPerFeed int
}

// DefaultReportsPerFeed is the default of FeedOptions.ReportsPerFeed: a feed report carries its whole text (about
// 500 bytes), so a batch then rewrites at most about 500 KB of JSON.
const DefaultReportsPerFeed = 1000

// FeedReport is a responder that adds one report per file to a private
// feed: an equality IOC on process_hash with the file's SHA-256, the
// verdict's severity (1-10, never 0), its link and tags. The report id is
// the SHA-256, so a file already reported (by id or as an IOC value) is
// Unchanged. Carbon Black replaces a feed's report list as a whole; the
// read-modify-write is serialised per feed in this process and re-read before
// each write, so concurrent reports are not lost.
//
// The reports are spread over a series of feeds of at most ReportsPerFeed
// reports each: Feed, then "Feed (2)", "Feed (3)", ... created on demand, so
// what a batch rewrites does not grow with the files reported so far. A new
// process finds the series by name with one listing of the feeds, and reads
// the reports of the full feeds once (to know the files they report); each
// batch then reads and writes only the last feed.
type FeedReport struct {
	c    *carbonblack.Client
	opts FeedOptions

	mu sync.Mutex
	// loaded is set once the series is found.
	loaded bool
	// members is the series by position (0 is Feed); a missing member has an empty id.
	members []feedMember
	// sealed maps the SHA-256s (report ids and equality IOC values) reported by the members before the last to the
	// report that holds them.
	sealed map[string]string
	// probe is the name of a feed whose creation failed without a clear answer: it is looked up before being
	// created.
	probe string
	// written holds the reports this responder wrote within the last keepWritten VerifyDelays (with VerifyDelay
	// set), by id, with their feed and when; a write to that feed puts back any of them a late write dropped.
	written map[string]writtenReport
}

// feedMember is one feed of the series.
type feedMember struct {
	id         string
	n          int  // reports, as last read or written
	subscribed bool // a watchlist subscribes to it (or none is wanted)
}

// NewFeedReport returns a feed report responder.
func NewFeedReport(c *carbonblack.Client, opts FeedOptions) (*FeedReport, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if strings.TrimSpace(opts.Feed) == "" {
		return nil, errors.New("carbonblackconn: the feed name is empty")
	}
	if opts.Name == "" {
		opts.Name = "cbc-feed-report"
	}
	if opts.ProviderURL == "" {
		opts.ProviderURL = "https://github.com/soarkit/soarkit"
	}
	if opts.Summary == "" {
		opts.Summary = "Files found malicious by soarkit"
	}
	if opts.Category == "" {
		opts.Category = "Partner"
	}
	if opts.Watchlist == "" {
		opts.Watchlist = opts.Feed
	}
	if opts.AlertsEnabled == nil {
		on := true
		opts.AlertsEnabled = &on
	}
	if opts.Title == nil {
		opts.Title = defaultFeedTitle
	}
	if opts.Description == nil {
		opts.Description = defaultFeedDescription
	}
	if opts.ReportsPerFeed < 0 {
		return nil, fmt.Errorf("carbonblackconn: ReportsPerFeed is %d, want 0 (the default) or more", opts.ReportsPerFeed)
	}
	if opts.ReportsPerFeed == 0 {
		opts.ReportsPerFeed = DefaultReportsPerFeed
	}
	return &FeedReport{c: c, opts: opts, sealed: map[string]string{}}, nil
}

func defaultFeedTitle(f connector.Finding) string {
	what := strings.Join(mergeTags(f.Verdict.Classifications, f.Verdict.ThreatNames), " ")
	if what == "" {
		what = "file"
	}
	return fmt.Sprintf("[%s] %s: %s", f.Verdict.Kind, what, strings.ToLower(f.Evidence.Hashes.SHA256))
}

func defaultFeedDescription(f connector.Finding) string {
	by := f.Verdict.Analyzer
	if by == "" {
		by = "soarkit"
	}
	return fmt.Sprintf("This IOC was identified by %s as %s.", by, f.Verdict.Kind)
}

// Name returns the responder's name.
func (r *FeedReport) Name() string { return r.opts.Name }

// Scope is per file.
func (r *FeedReport) Scope() connector.Scope { return connector.ScopeEvidence }

// Respond adds the file's report unless the feed already has it (a batch of one; see RespondBatch).
func (r *FeedReport) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	out := r.RespondBatch(ctx, []connector.Finding{f})[0]
	return out.Result, out.Err
}

// RespondBatch adds the reports of several files with one read of the last feed's reports, one write of the merged
// set (carbonblack.FeedsService.AddReports: a read and a replace) and one read-back that verifies every added report
// is listed; when the batch fills that feed, the rest go to the next feed of the series, created with them. With
// VerifyDelay, an added report is also checked on the finding's next attempt, once a late write can no longer drop
// it (see FeedOptions.VerifyDelay), and each write puts back the reports of this responder a late write dropped from
// that feed. The responder's lock is held for one batch.
func (r *FeedReport) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	outs := make([]connector.Outcome, len(fs))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(ctx); err != nil {
		return failAll(outs, err)
	}
	have := map[string]string{} // SHA-256 -> the report of the last feed that holds it (see indexReports)
	if k := r.current(); k >= 0 {
		reps, err := r.c.Feeds.Reports(ctx, r.members[k].id)
		if err != nil {
			return failAll(outs, classify("reading the reports of feed "+seriesName(r.opts.Feed, k), err))
		}
		r.members[k].n = len(reps)
		indexReports(have, reps)
	}
	now := time.Now()
	var add []carbonblack.Report
	var at []int
	batch := map[string]bool{}
	for i, f := range fs {
		sha := strings.ToLower(f.Evidence.Hashes.SHA256)
		rid, ok := have[sha]
		if !ok {
			rid, ok = r.sealed[sha]
		}
		if !ok && batch[sha] {
			rid, ok = sha, true
		}
		switch {
		case !isHex(sha, 64):
			outs[i].Result, outs[i].Err = skipped("the evidence has no SHA-256")
		case ok && rid == sha && !f.EarlierAttempt.IsZero() && r.opts.VerifyDelay > 0:
			outs[i].Result, outs[i].Err = r.checkWritten(sha, f.EarlierAttempt, now)
		case ok && rid == sha:
			outs[i].Result, outs[i].Err = unchanged("feed %q already has report %s", r.opts.Feed, sha)
		case ok:
			outs[i].Result, outs[i].Err = unchanged("feed %q already reports %s (report %s)", r.opts.Feed, sha, rid)
		default:
			batch[sha] = true
			add, at = append(add, r.report(f, sha)), append(at, i)
		}
	}
	if len(add) == 0 {
		return outs
	}
	placed, err := r.place(ctx, add, have)
	for k, i := range at {
		name, ok := placed[add[k].ID]
		switch {
		case !ok:
			outs[i].Err = err
		case r.opts.VerifyDelay > 0:
			outs[i].Err = connector.RetryLater(fmt.Errorf("report %s written to feed %q: %w", add[k].ID, name, errVerifying), r.opts.VerifyDelay)
		default:
			outs[i].Result, outs[i].Err = acted("added report %s to feed %q", add[k].ID, name)
		}
	}
	return outs
}

// indexReports maps the report ids and equality IOC values of reps (lower case) to the report that holds them.
func indexReports(m map[string]string, reps []carbonblack.Report) {
	for _, rep := range reps {
		m[strings.ToLower(rep.ID)] = rep.ID
		for _, ioc := range rep.IOCsV2 {
			if ioc.MatchType != carbonblack.MatchEquality {
				continue
			}
			for _, v := range ioc.Values {
				if _, ok := m[strings.ToLower(v)]; !ok {
					m[strings.ToLower(v)] = rep.ID
				}
			}
		}
	}
}

// current returns the position of the last feed of the series, or -1 when there is none.
func (r *FeedReport) current() int {
	for k := len(r.members) - 1; k >= 0; k-- {
		if r.members[k].id != "" {
			return k
		}
	}
	return -1
}

// setMember records the feed at position k of the series.
func (r *FeedReport) setMember(k int, m feedMember) {
	for len(r.members) <= k {
		r.members = append(r.members, feedMember{})
	}
	r.members[k] = m
}

// place adds reports to the series: to the last feed up to ReportsPerFeed (verified by one read-back), the rest to
// new feeds, each created with its reports. have indexes the last feed's reports; when that feed is left behind
// full, its reports join the sealed set. It returns the feed each added report joined; on an error the reports not
// in the map are not added.
func (r *FeedReport) place(ctx context.Context, add []carbonblack.Report, have map[string]string) (map[string]string, error) {
	limit := r.opts.ReportsPerFeed
	placed := make(map[string]string, len(add))
	for len(add) > 0 {
		k := r.current()
		if k >= 0 && r.members[k].n < limit {
			take := add[:min(limit-r.members[k].n, len(add))]
			name := seriesName(r.opts.Feed, k)
			n, err := r.addTo(ctx, r.members[k].id, name, take)
			if err != nil {
				return placed, err
			}
			r.members[k].n = n
			for _, rep := range take {
				placed[rep.ID] = name
				have[rep.ID] = rep.ID
			}
			add = add[len(take):]
			continue
		}
		// The last feed is full (or there is none): what it reports is sealed, the next one starts.
		maps.Copy(r.sealed, have)
		clear(have)
		k++
		name := seriesName(r.opts.Feed, k)
		if r.probe == name {
			// The last creation failed without a clear answer: it may have happened.
			info, err := r.c.Feeds.FindByName(ctx, name, false)
			switch {
			case errors.Is(err, carbonblack.ErrNotFound):
			case err != nil:
				return placed, classify("looking up feed "+name, err)
			default:
				reps, err := r.c.Feeds.Reports(ctx, info.ID)
				if err != nil {
					return placed, classify("reading the reports of feed "+name, err)
				}
				indexReports(have, reps)
				r.setMember(k, feedMember{id: info.ID, n: len(reps), subscribed: r.opts.NoWatchlist})
				if err := r.subscribeAll(ctx); err != nil {
					return placed, err
				}
			}
			r.probe = ""
			if r.current() == k {
				continue
			}
		}
		take := add[:min(limit, len(add))]
		info, err := r.c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: name, Owner: r.c.OrgKey(),
			ProviderURL: r.opts.ProviderURL, Summary: r.opts.Summary, Category: r.opts.Category, Access: "private"}, take...)
		if err != nil {
			if !errors.Is(err, carbonblack.ErrInvalidRequest) {
				r.probe = name
			}
			return placed, classify("creating feed "+name, err)
		}
		r.setMember(k, feedMember{id: info.ID, n: len(take), subscribed: r.opts.NoWatchlist})
		r.rewrite(info.ID, take) // remembered for the feed's next writes
		if err := r.subscribeAll(ctx); err != nil {
			// The reports are in the feed, which the next batch subscribes before anything else.
			return placed, err
		}
		for _, rep := range take {
			placed[rep.ID] = name
			have[rep.ID] = rep.ID
		}
		add = add[len(take):]
	}
	return placed, nil
}

// addTo adds reports to the feed id with one merge (with VerifyDelay, together with the reports this responder wrote
// to that feed lately; see rewrite), verifies them with one read-back, and returns how many reports the feed then
// has.
func (r *FeedReport) addTo(ctx context.Context, id, name string, reports []carbonblack.Report) (int, error) {
	all := reports
	if again := r.rewrite(id, reports); len(again) > 0 {
		all = append(slices.Clip(reports), again...)
	}
	if err := r.c.Feeds.AddReports(ctx, id, all...); err != nil {
		return 0, classify(fmt.Sprintf("adding %d reports to feed %s", len(reports), name), err)
	}
	reps, err := r.c.Feeds.Reports(ctx, id)
	if err != nil {
		return 0, classify("reading back the reports of feed "+name, err)
	}
	listed := make(map[string]bool, len(reps))
	for _, rep := range reps {
		listed[rep.ID] = true
	}
	for _, rep := range reports {
		if !listed[rep.ID] {
			return 0, fmt.Errorf("carbonblackconn: report %s is missing from feed %q after the update (another writer replaced the reports)", rep.ID, name)
		}
	}
	return len(reps), nil
}

// report is the feed report of one file.
func (r *FeedReport) report(f connector.Finding, sha string) carbonblack.Report {
	ioc := carbonblack.EqualityIOC(carbonblack.FieldProcessHash, sha)
	ioc.ID, ioc.Link = sha, f.Verdict.ReportURL
	tags := mergeTags([]string{f.Verdict.Kind.String()}, append(append([]string{}, f.Verdict.Classifications...), f.Verdict.ThreatNames...))
	return carbonblack.Report{ID: sha, Title: r.opts.Title(f), Description: r.opts.Description(f), Severity: severityOf(f.Verdict),
		Link: f.Verdict.ReportURL, Tags: tags, IOCsV2: []carbonblack.IOC{ioc}}
}

// errVerifying is the cause of the RetryLater of a report written less than VerifyDelay ago.
var errVerifying = errors.New("the report counts as added once a late write can no longer drop it")

// writtenReport is a report this responder wrote, the feed it wrote it to, and when.
type writtenReport struct {
	rep  carbonblack.Report
	feed string
	at   time.Time
}

// checkWritten answers for a report present in the feed whose finding's earlier attempt (the one that wrote it,
// started at started) is known: within VerifyDelay of that attempt a late write may still drop it, so the finding
// waits (connector.ErrActionSettling keeps the writing attempt's start); after it, the report is verified.
func (r *FeedReport) checkWritten(sha string, started, now time.Time) (connector.Result, error) {
	if wait := r.opts.VerifyDelay - now.Sub(started); wait > 0 {
		return connector.Result{}, connector.RetryLater(fmt.Errorf("report %s was written at %s: %w (%w)",
			sha, started.UTC().Format(time.RFC3339), errVerifying, connector.ErrActionSettling), wait)
	}
	return acted("added report %s to feed %q (verified)", sha, r.opts.Feed)
}

// keepWritten is how long, in VerifyDelays, a written report is put back when a later write finds it missing: a
// late write is applied within one VerifyDelay of being sent, so after a few none can drop it any more.
const keepWritten = 3

// rewrite returns the reports this responder wrote to the feed id within the last keepWritten VerifyDelays, to be
// written again with the next write to that feed (a late write may have dropped them; the write merges by id), and
// remembers reports as written now. It does nothing without VerifyDelay.
func (r *FeedReport) rewrite(id string, reports []carbonblack.Report) []carbonblack.Report {
	if r.opts.VerifyDelay <= 0 {
		return nil
	}
	now := time.Now()
	writing := make(map[string]bool, len(reports))
	for _, rep := range reports {
		writing[rep.ID] = true
	}
	var again []carbonblack.Report
	for wid, w := range r.written {
		switch {
		case now.Sub(w.at) > keepWritten*r.opts.VerifyDelay:
			delete(r.written, wid)
		case w.feed == id && !writing[wid]:
			again = append(again, w.rep)
		}
	}
	if r.written == nil {
		r.written = map[string]writtenReport{}
	}
	for _, rep := range reports {
		r.written[rep.ID] = writtenReport{rep, id, now}
	}
	return again
}

// load finds the series once per process: one listing of the feeds, one read of the reports of each member but the
// last (into the sealed set), and the subscriptions checked with one listing of the watchlists. It also subscribes
// a member whose subscription failed earlier.
func (r *FeedReport) load(ctx context.Context) error {
	if r.loaded {
		return r.subscribeAll(ctx)
	}
	feeds, err := r.c.Feeds.List(ctx, false)
	if err != nil {
		return classify("listing feeds", err)
	}
	var members []feedMember
	for _, fd := range feeds {
		k, ok := seriesIndex(r.opts.Feed, fd.Name)
		if !ok || k < len(members) && members[k].id != "" {
			continue
		}
		for len(members) <= k {
			members = append(members, feedMember{})
		}
		members[k] = feedMember{id: fd.ID, subscribed: r.opts.NoWatchlist}
	}
	sealed := map[string]string{}
	last := len(members) - 1
	for k, m := range members {
		if m.id == "" || k == last {
			continue
		}
		reps, err := r.c.Feeds.Reports(ctx, m.id)
		if err != nil {
			return classify("reading the reports of feed "+seriesName(r.opts.Feed, k), err)
		}
		members[k].n = len(reps)
		indexReports(sealed, reps)
	}
	r.members, r.sealed, r.loaded = members, sealed, true
	return r.subscribeAll(ctx)
}

// subscribeAll makes sure a watchlist subscribes to every feed of the series, with one listing of the watchlists
// when one is not known to.
func (r *FeedReport) subscribeAll(ctx context.Context) error {
	var todo []int
	for k, m := range r.members {
		if m.id != "" && !m.subscribed {
			todo = append(todo, k)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	wls, err := r.c.Watchlists.List(ctx)
	if err != nil {
		return classify("listing watchlists", err)
	}
	subscribed := map[string]bool{}
	for _, w := range wls {
		if w.Classifier != nil && w.Classifier.Key == "feed_id" {
			subscribed[w.Classifier.Value] = true
		}
	}
	for _, k := range todo {
		m := &r.members[k]
		if !subscribed[m.id] {
			feed := seriesName(r.opts.Feed, k)
			_, err := r.c.Watchlists.Subscribe(ctx, m.id, seriesName(r.opts.Watchlist, k), "Subscribes to the feed "+feed, *r.opts.AlertsEnabled)
			if err != nil {
				return classify("subscribing a watchlist to feed "+feed, err)
			}
		}
		m.subscribed = true
	}
	return nil
}
