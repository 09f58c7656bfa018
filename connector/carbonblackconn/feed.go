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
	// after the attempt that wrote it (connector.ActionStarted): until then
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
	// written holds the reports this responder wrote; a write puts back any
	// of them a late write dropped.
	written map[string]carbonblack.Report
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

// Respond adds the file's report unless the feed already has it.
func (r *FeedReport) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	sha := strings.ToLower(f.Evidence.Hashes.SHA256)
	if !isHex(sha, 64) {
		return skipped("the evidence has no SHA-256")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.feed(ctx)
	if err != nil {
		return connector.Result{}, err
	}
	reps, err := r.c.Feeds.Reports(ctx, id)
	if err != nil {
		return connector.Result{}, classify("reading the reports of feed "+r.opts.Feed, err)
	}
	started := connector.ActionStarted(ctx)
	for _, rep := range reps {
		if rep.ID == sha {
			if wait := r.opts.VerifyDelay - time.Since(started); !started.IsZero() && wait > 0 {
				// Settling: the engine keeps the start of the attempt that wrote it.
				return connector.Result{}, connector.RetryLater(fmt.Errorf("report %s was written at %s: %w (%w)",
					sha, started.UTC().Format(time.RFC3339), errVerifying, connector.ErrActionSettling), wait)
			}
			if !started.IsZero() {
				return acted("added report %s to feed %q (verified)", sha, r.opts.Feed)
			}
			return unchanged("feed %q already has report %s", r.opts.Feed, sha)
		}
		for _, ioc := range rep.IOCsV2 {
			for _, v := range ioc.Values {
				if ioc.MatchType == carbonblack.MatchEquality && strings.EqualFold(v, sha) {
					return unchanged("feed %q already reports %s (report %s)", r.opts.Feed, sha, rep.ID)
				}
			}
		}
	}
	ioc := carbonblack.EqualityIOC(carbonblack.FieldProcessHash, sha)
	ioc.ID, ioc.Link = sha, f.Verdict.ReportURL
	tags := mergeTags([]string{f.Verdict.Kind.String()}, append(append([]string{}, f.Verdict.Classifications...), f.Verdict.ThreatNames...))
	rep := carbonblack.Report{ID: sha, Title: r.opts.Title(f), Description: r.opts.Description(f), Severity: severityOf(f.Verdict),
		Link: f.Verdict.ReportURL, Tags: tags, IOCsV2: []carbonblack.IOC{ioc}}
	return r.write(ctx, id, reps, rep)
}

// errVerifying is the cause of the RetryLater of a report written less than
// VerifyDelay ago.
var errVerifying = errors.New("the report is verified once a late write can no longer drop it")

// write adds rep to the feed with every report this responder wrote that
// the feed (reps) lacks, and verifies the write (see
// FeedOptions.VerifyDelay).
func (r *FeedReport) write(ctx context.Context, id string, reps []carbonblack.Report, rep carbonblack.Report) (connector.Result, error) {
	have := make(map[string]bool, len(reps))
	for _, x := range reps {
		have[x.ID] = true
	}
	add := []carbonblack.Report{rep}
	for wid, w := range r.written {
		if !have[wid] && wid != rep.ID {
			add = append(add, w)
		}
	}
	if r.written == nil {
		r.written = map[string]carbonblack.Report{}
	}
	r.written[rep.ID] = rep
	if err := r.c.Feeds.AddReports(ctx, id, add...); err != nil {
		return connector.Result{}, classify("adding a report to feed "+r.opts.Feed, err)
	}
	if r.opts.VerifyDelay > 0 {
		return connector.Result{}, connector.RetryLater(fmt.Errorf("report %s written: %w", rep.ID, errVerifying), r.opts.VerifyDelay)
	}
	after, err := r.c.Feeds.Reports(ctx, id)
	if err != nil {
		return connector.Result{}, classify("reading back the reports of feed "+r.opts.Feed, err)
	}
	for _, x := range after {
		if x.ID == rep.ID {
			return acted("added report %s to feed %q", rep.ID, r.opts.Feed)
		}
	}
	return connector.Result{}, fmt.Errorf("carbonblackconn: report %s is not in feed %q after it was written (a late write replaced the list?)", rep.ID, r.opts.Feed)
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
