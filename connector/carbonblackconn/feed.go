package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
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
}

// FeedReport is a responder that adds one report per file to a private
// feed: an equality IOC on process_hash with the file's SHA-256, the
// verdict's severity (1-10, never 0), its link and tags. The report id is
// the SHA-256, so a file already reported (by id or as an IOC value) is
// Unchanged. Carbon Black replaces a feed's report list as a whole; the
// read-modify-write is serialised per feed in this process and re-read before
// each write, so concurrent reports are not lost.
type FeedReport struct {
	c    *carbonblack.Client
	opts FeedOptions

	mu     sync.Mutex
	feedID string
	// written holds the reports this responder wrote within the last
	// keepWritten (with VerifyDelay set), by id, and when; a write puts back
	// any of them a late write dropped.
	written map[string]writtenReport
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
	return &FeedReport{c: c, opts: opts}, nil
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

// RespondBatch adds the reports of several files with one read of the feed's reports, one write of the merged set
// (carbonblack.FeedsService.AddReports: a read and a replace) and, without VerifyDelay, one read-back that verifies
// every added report is listed. With VerifyDelay, an added report is checked on the finding's next attempt instead
// (see FeedOptions.VerifyDelay), and each write also puts back the reports of this responder a late write dropped.
// The responder's lock is held for one batch.
func (r *FeedReport) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	outs := make([]connector.Outcome, len(fs))
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.feed(ctx)
	if err != nil {
		return failAll(outs, err)
	}
	reps, err := r.c.Feeds.Reports(ctx, id)
	if err != nil {
		return failAll(outs, classify("reading the reports of feed "+r.opts.Feed, err))
	}
	have := map[string]string{} // SHA-256 -> the report that holds it
	for _, rep := range reps {
		have[strings.ToLower(rep.ID)] = rep.ID
		for _, ioc := range rep.IOCsV2 {
			if ioc.MatchType != carbonblack.MatchEquality {
				continue
			}
			for _, v := range ioc.Values {
				if _, ok := have[strings.ToLower(v)]; !ok {
					have[strings.ToLower(v)] = rep.ID
				}
			}
		}
	}
	now := time.Now()
	var add []carbonblack.Report
	var at []int
	for i, f := range fs {
		sha := strings.ToLower(f.Evidence.Hashes.SHA256)
		switch rid, ok := have[sha]; {
		case !isHex(sha, 64):
			outs[i].Result, outs[i].Err = skipped("the evidence has no SHA-256")
		case ok && rid == sha && !f.EarlierAttempt.IsZero() && r.opts.VerifyDelay > 0:
			outs[i].Result, outs[i].Err = r.checkWritten(sha, f.EarlierAttempt, now)
		case ok && rid == sha:
			outs[i].Result, outs[i].Err = unchanged("feed %q already has report %s", r.opts.Feed, sha)
		case ok:
			outs[i].Result, outs[i].Err = unchanged("feed %q already reports %s (report %s)", r.opts.Feed, sha, rid)
		default:
			have[sha] = sha
			add, at = append(add, r.report(f, sha)), append(at, i)
		}
	}
	if len(add) == 0 {
		return outs
	}
	err = r.write(ctx, id, have, add, now)
	for k, i := range at {
		switch {
		case err != nil:
			outs[i].Err = err
		case r.opts.VerifyDelay > 0:
			outs[i].Err = connector.RetryLater(fmt.Errorf("report %s written to feed %q: %w", add[k].ID, r.opts.Feed, errVerifying), r.opts.VerifyDelay)
		default:
			outs[i].Result, outs[i].Err = acted("added report %s to feed %q", add[k].ID, r.opts.Feed)
		}
	}
	return outs
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

// writtenReport is a report this responder wrote, and when.
type writtenReport struct {
	rep carbonblack.Report
	at  time.Time
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

// write adds reports to the feed, with every report this responder wrote recently that the feed (have) lacks, and
// without VerifyDelay reads the feed back once to verify that every added report is listed.
func (r *FeedReport) write(ctx context.Context, id string, have map[string]string, add []carbonblack.Report, now time.Time) error {
	all := add
	if r.opts.VerifyDelay > 0 {
		for wid, w := range r.written {
			switch {
			case now.Sub(w.at) > keepWritten*r.opts.VerifyDelay:
				delete(r.written, wid)
			case have[wid] == "":
				all = append(all, w.rep)
			}
		}
		if r.written == nil {
			r.written = map[string]writtenReport{}
		}
		for _, rep := range add {
			r.written[rep.ID] = writtenReport{rep, now}
		}
	}
	if err := r.c.Feeds.AddReports(ctx, id, all...); err != nil {
		return classify(fmt.Sprintf("adding %d reports to feed %s", len(all), r.opts.Feed), err)
	}
	if r.opts.VerifyDelay > 0 {
		return nil
	}
	return r.verify(ctx, id, add)
}

// verify reads the feed's reports back once and fails (transiently) when a report just added is missing: another
// writer replaced the set in between, and the retry adds it again.
func (r *FeedReport) verify(ctx context.Context, id string, added []carbonblack.Report) error {
	reps, err := r.c.Feeds.Reports(ctx, id)
	if err != nil {
		return classify("reading back the reports of feed "+r.opts.Feed, err)
	}
	listed := make(map[string]bool, len(reps))
	for _, rep := range reps {
		listed[rep.ID] = true
	}
	for _, rep := range added {
		if !listed[rep.ID] {
			return fmt.Errorf("carbonblackconn: report %s is missing from feed %q after the update (another writer replaced the reports)", rep.ID, r.opts.Feed)
		}
	}
	return nil
}

// feed returns the feed's id, creating the feed (and its watchlist) when
// missing.
func (r *FeedReport) feed(ctx context.Context) (string, error) {
	if r.feedID != "" {
		return r.feedID, nil
	}
	info, err := r.c.Feeds.FindByName(ctx, r.opts.Feed, false)
	switch {
	case errors.Is(err, carbonblack.ErrNotFound):
		info, err = r.c.Feeds.Create(ctx, carbonblack.FeedInfo{Name: r.opts.Feed, Owner: r.c.OrgKey(),
			ProviderURL: r.opts.ProviderURL, Summary: r.opts.Summary, Category: r.opts.Category, Access: "private"})
		if err != nil {
			return "", classify("creating feed "+r.opts.Feed, err)
		}
	case err != nil:
		return "", classify("looking up feed "+r.opts.Feed, err)
	}
	if !r.opts.NoWatchlist {
		if err := r.subscribe(ctx, info.ID); err != nil {
			return "", err
		}
	}
	r.feedID = info.ID
	return info.ID, nil
}

// subscribe makes sure a watchlist subscribes to the feed.
func (r *FeedReport) subscribe(ctx context.Context, feedID string) error {
	wls, err := r.c.Watchlists.List(ctx)
	if err != nil {
		return classify("listing watchlists", err)
	}
	for _, w := range wls {
		if w.Classifier != nil && w.Classifier.Key == "feed_id" && w.Classifier.Value == feedID {
			return nil
		}
	}
	_, err = r.c.Watchlists.Subscribe(ctx, feedID, r.opts.Watchlist, "Subscribes to the feed "+r.opts.Feed, *r.opts.AlertsEnabled)
	return classify("subscribing a watchlist to feed "+r.opts.Feed, err)
}
