package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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
// (carbonblack.FeedsService.AddReports: a read and a replace) and one read-back that verifies every added report is
// listed. The responder's lock is held for one batch.
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
	var add []carbonblack.Report
	var at []int
	for i, f := range fs {
		sha := strings.ToLower(f.Evidence.Hashes.SHA256)
		switch rid, ok := have[sha]; {
		case !isHex(sha, 64):
			outs[i].Result, outs[i].Err = skipped("the evidence has no SHA-256")
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
	err = r.c.Feeds.AddReports(ctx, id, add...)
	if err != nil {
		err = classify(fmt.Sprintf("adding %d reports to feed %s", len(add), r.opts.Feed), err)
	} else {
		err = r.verify(ctx, id, add)
	}
	for k, i := range at {
		if err != nil {
			outs[i].Err = err
			continue
		}
		outs[i].Result, outs[i].Err = acted("added report %s to feed %q", add[k].ID, r.opts.Feed)
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
