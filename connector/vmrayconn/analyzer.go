package vmrayconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// Defaults of Options, those of the original connectors.
const (
	DefaultName                  = "vmray"
	DefaultComment               = "Sample from soarkit"
	DefaultAnalyzerMode          = vmray.AnalyzerReputationStaticDynamic
	DefaultTruncatedAnalyzerMode = vmray.AnalyzerReputationStatic
	DefaultSandboxTimeout        = 120 * time.Second
)

// Options configure an Analyzer. Zero values select the defaults named on each
// field.
type Options struct {
	// Name is the analyzer's stable name; tickets carry it (default "vmray").
	Name string

	// Comment is shown with every submission (default DefaultComment; the
	// originals sent "Sample from VMRay CarbonBlack Connector" and "Sample from
	// VMRay Analyzer - SentinelOne Connector").
	Comment string
	// Tags label every submission (the originals' SUBMISSION_TAGS). VMRay
	// refuses tags with white space or commas; New rejects them.
	Tags []string
	// SightingTags derives further tags from each sighting of the evidence
	// (the SentinelOne connector's SEND_CUSTOM_SUBMISSION_TAGS with
	// SUBMISSION_CUSTOM_TAG_PROPERTY); see AttributeTags. Every run of
	// characters other than letters and digits in a value becomes "_".
	SightingTags func(connector.Sighting) []string
	// AnalyzerMode is the analyzer mode of complete samples (default
	// reputation_static_dynamic, the original DEFAULT_ANALYZER_MODE).
	AnalyzerMode vmray.AnalyzerMode
	// TruncatedAnalyzerMode is the mode of truncated samples, which a dynamic
	// analysis could not run (default reputation_static, the original
	// TRUNCATED_FILE_ANALYZER_MODE).
	TruncatedAnalyzerMode vmray.AnalyzerMode
	// SandboxTimeout is the analysis run time in the sandbox, sent as
	// user_config {"timeout": seconds} (default 120 s, the original
	// ANALYSIS_TIMEOUT; negative: not sent, the key's default applies).
	SandboxTimeout time.Duration
	// ArchivePassword opens password-protected archives ("archive_password").
	ArchivePassword string
	// MaxJobs caps the jobs job rules create per submission ("max_jobs",
	// 1-100; 0: not sent). The Carbon Black connector's README documented 3.
	MaxJobs int
	// MaxRecursiveSamples caps recursive child analyses
	// ("max_recursive_samples", 0-50; nil: not sent). The Carbon Black
	// connector's README documented 5.
	MaxRecursiveSamples *int
	// AnalysisCaching selects whether VMRay reuses earlier analyses of a
	// submitted file ("analysis_caching"; empty: the key's setting). Set
	// CachingDisabled when the engine resubmits known files (Config.Resubmit)
	// and a fresh analysis is wanted.
	AnalysisCaching vmray.AnalysisCaching

	// IOCVerdicts limits the IOCs read to those with these verdicts, with one
	// call per verdict as the originals did for SELECTED_VERDICTS; empty reads
	// every IOC in one call. Each connector.IOC carries its own verdict either
	// way.
	IOCVerdicts []vmray.Verdict
	// UnlockReports unlocks the locked reports of samples whose verdict is
	// not clean, for Verdict (detector) API keys (the original
	// AUTO_UNLOCK_REPORT). It spends report quota, so clean samples are never
	// unlocked and unlocked ones are not unlocked again.
	UnlockReports bool

	// PollInterval is the first, short wait between checks of a submission
	// that is still queued or in work (default DefaultPollInterval); the
	// waits then double up to MaxPollInterval. Await does not check before
	// the submission is expected to be done (see Await), so a short setting
	// does not cost calls.
	PollInterval time.Duration
	// MaxPollInterval caps the wait between checks (default
	// DefaultMaxPollInterval).
	MaxPollInterval time.Duration
	// AwaitFor is how long one Await call keeps polling before it returns
	// connector.RetryLater (default 0: a single check per call, so the engine
	// persists and schedules every poll).
	AwaitFor time.Duration
	// TicketSkew widens the time window FindTicket searches, for clock skew
	// between this host and VMRay (default 2 min).
	TicketSkew time.Duration
	// SettleDelay is how long FindTicket waits, after a first look found no
	// submission of ours, before it looks again and lets the engine submit:
	// a submission sent before a crash or a timeout can be applied by VMRay
	// later than it was received. It must be at least the engine's submit
	// timeout (connector.Config.Submit.Timeout); default DefaultSettleDelay.
	SettleDelay time.Duration

	// Logger receives warnings (default: discard).
	Logger *slog.Logger
	// Now is the clock for ticket times (default time.Now).
	Now func() time.Time
}

// Analyzer is a connector.Analyzer and connector.TicketFinder on the VMRay
// Platform. Create it with New.
type Analyzer struct {
	c      *vmray.Client
	opts   Options
	log    *slog.Logger
	settle settling
	pace   pace
}

var (
	_ connector.Analyzer     = (*Analyzer)(nil)
	_ connector.TicketFinder = (*Analyzer)(nil)
)

// New returns an analyzer using c. It checks the static tags and the analyzer
// modes, and fills in the defaults.
func New(c *vmray.Client, opts Options) (*Analyzer, error) {
	if c == nil {
		return nil, errors.New("vmrayconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Comment == "" {
		opts.Comment = DefaultComment
	}
	if opts.AnalyzerMode == "" {
		opts.AnalyzerMode = DefaultAnalyzerMode
	}
	if opts.TruncatedAnalyzerMode == "" {
		opts.TruncatedAnalyzerMode = DefaultTruncatedAnalyzerMode
	}
	if opts.SandboxTimeout == 0 {
		opts.SandboxTimeout = DefaultSandboxTimeout
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxPollInterval <= 0 {
		opts.MaxPollInterval = DefaultMaxPollInterval
	}
	opts.MaxPollInterval = max(opts.MaxPollInterval, opts.PollInterval)
	if opts.TicketSkew <= 0 {
		opts.TicketSkew = 2 * time.Minute
	}
	if opts.SettleDelay <= 0 {
		opts.SettleDelay = DefaultSettleDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkTags(opts.Tags); err != nil {
		return nil, err
	}
	for _, m := range []vmray.AnalyzerMode{opts.AnalyzerMode, opts.TruncatedAnalyzerMode} {
		if !validMode(m) {
			return nil, fmt.Errorf("vmrayconn: unknown analyzer mode %q", m)
		}
	}
	if opts.MaxJobs < 0 || opts.MaxJobs > 100 {
		return nil, fmt.Errorf("vmrayconn: MaxJobs %d is outside 0-100", opts.MaxJobs)
	}
	if r := opts.MaxRecursiveSamples; r != nil && (*r < 0 || *r > 50) {
		return nil, fmt.Errorf("vmrayconn: MaxRecursiveSamples %d is outside 0-50", *r)
	}
	for _, v := range opts.IOCVerdicts {
		if !v.Known() {
			return nil, fmt.Errorf("vmrayconn: IOC verdict %q is not clean, suspicious or malicious", v)
		}
	}
	return &Analyzer{c: c, opts: opts, log: opts.Logger}, nil
}

// ParseAnalyzerMode checks an analyzer mode name (reputation,
// reputation_static, reputation_static_dynamic, static, static_dynamic,
// system_default).
func ParseAnalyzerMode(s string) (vmray.AnalyzerMode, error) {
	m := vmray.AnalyzerMode(strings.ToLower(strings.TrimSpace(s)))
	if !validMode(m) {
		return "", fmt.Errorf("vmrayconn: unknown analyzer mode %q", s)
	}
	return m, nil
}

func validMode(m vmray.AnalyzerMode) bool {
	switch m {
	case vmray.AnalyzerReputation, vmray.AnalyzerReputationStatic, vmray.AnalyzerReputationStaticDynamic,
		vmray.AnalyzerStatic, vmray.AnalyzerStaticDynamic, vmray.AnalyzerSystemDefault:
		return true
	}
	return false
}

// Name returns the analyzer's name.
func (a *Analyzer) Name() string { return a.opts.Name }

// lookupHash returns the strongest hash of h: SHA-256, else SHA-1, else MD5.
func lookupHash(h connector.Hashes) (string, error) {
	for _, v := range []string{h.SHA256, h.SHA1, h.MD5} {
		if v != "" {
			return v, nil
		}
	}
	return "", connector.Permanent(ErrNoHash)
}

// Lookup looks the file up by its strongest hash and returns the verdict of
// the sample VMRay already holds, with VTIs and IOCs for verdicts that are not
// clean. found is false when VMRay does not know the file or holds it without
// a verdict yet (an analysis still running); every failure is an error, never
// "not found". Lookups use no quota.
//
// API: GET /rest/sample/{sha256|sha1|md5}/{hash}, then for verdicts that are
// not clean GET /rest/sample/{id}/vtis and /rest/sample/{id}/iocs
func (a *Analyzer) Lookup(ctx context.Context, ev connector.Evidence) (connector.Verdict, bool, error) {
	hash, err := lookupHash(ev.Hashes)
	if err != nil {
		return connector.Verdict{}, false, err
	}
	samples, err := a.c.Samples.Lookup(ctx, hash)
	if err != nil {
		return connector.Verdict{}, false, classify("lookup", err)
	}
	s := pickSample(samples)
	if s == nil {
		return connector.Verdict{}, false, nil
	}
	v, err := a.verdict(ctx, s)
	if err != nil {
		return connector.Verdict{}, false, err
	}
	return v, true, nil
}

// pickSample returns the first sample with a verdict, or nil.
func pickSample(samples []vmray.Sample) *vmray.Sample {
	for i := range samples {
		if samples[i].EffectiveVerdict().Known() {
			return &samples[i]
		}
	}
	return nil
}

// verdict maps the sample and, unless it is clean, adds its VTIs and IOCs and
// unlocks its reports when configured. Results VMRay has not finished
// collecting are a RetryLater error.
func (a *Analyzer) verdict(ctx context.Context, s *vmray.Sample) (connector.Verdict, error) {
	v := a.sampleVerdict(s)
	if v.Kind == connector.Clean || v.Kind == connector.Unknown {
		return v, nil
	}
	if a.opts.UnlockReports {
		if err := a.unlock(ctx, s.ID); err != nil {
			return connector.Verdict{}, err
		}
	}
	t, err := a.threatIndicators(ctx, s.ID)
	if err != nil {
		return connector.Verdict{}, err
	}
	v.VTIs = vtis(t)
	iocs, err := a.iocs(ctx, s.ID)
	if err != nil {
		return connector.Verdict{}, err
	}
	v.IOCs = IOCs(iocs)
	return v, nil
}

// errUnfinished reports VTI or IOC lists VMRay is still assembling.
var errUnfinished = errors.New("vmrayconn: VMRay is still collecting the sample's results")

func (a *Analyzer) threatIndicators(ctx context.Context, id int64) ([]vmray.ThreatIndicator, error) {
	res, err := a.c.Samples.VTIs(ctx, id)
	if errors.Is(err, vmray.ErrNotFound) {
		// Appliances older than the /vtis path serve the same list here.
		res, err = a.c.Samples.ThreatIndicators(ctx, id)
	}
	if err != nil {
		return nil, classify("VTIs", err)
	}
	if res.Status != "" && !res.Finished() {
		return nil, connector.RetryLater(errUnfinished, a.opts.PollInterval)
	}
	return res.ThreatIndicators, nil
}

func (a *Analyzer) iocs(ctx context.Context, id int64) (*vmray.IOCs, error) {
	verdicts := a.opts.IOCVerdicts
	if len(verdicts) == 0 {
		verdicts = []vmray.Verdict{""}
	}
	var all vmray.IOCs
	for _, verdict := range verdicts {
		res, err := a.c.Samples.IOCs(ctx, id, &vmray.IOCOptions{Verdict: verdict})
		if err != nil {
			return nil, classify("IOCs", err)
		}
		if res.Status != "" && !res.Finished() {
			return nil, connector.RetryLater(errUnfinished, a.opts.PollInterval)
		}
		appendIOCs(&all, &res.IOCs)
	}
	return &all, nil
}

func appendIOCs(dst, src *vmray.IOCs) {
	dst.Files = append(dst.Files, src.Files...)
	dst.Filenames = append(dst.Filenames, src.Filenames...)
	dst.Mutexes = append(dst.Mutexes, src.Mutexes...)
	dst.Registry = append(dst.Registry, src.Registry...)
	dst.IPs = append(dst.IPs, src.IPs...)
	dst.URLs = append(dst.URLs, src.URLs...)
	dst.Domains = append(dst.Domains, src.Domains...)
	dst.EmailAddresses = append(dst.EmailAddresses, src.EmailAddresses...)
	dst.Emails = append(dst.Emails, src.Emails...)
	dst.Processes = append(dst.Processes, src.Processes...)
}

// unlock unlocks the sample's reports if any of its analyses is locked.
func (a *Analyzer) unlock(ctx context.Context, sampleID int64) error {
	locked := false
	for an, err := range a.c.Analyses.AllBySample(ctx, sampleID, nil) {
		if err != nil {
			return classify("list analyses", err)
		}
		if an.Locked() {
			locked = true
			break
		}
	}
	if !locked {
		return nil
	}
	res, err := a.c.Samples.UnlockReports(ctx, sampleID)
	if err != nil {
		return classify("unlock reports", err)
	}
	a.log.InfoContext(ctx, "vmrayconn: unlocked reports", "sample_id", sampleID, "analyses", len(res.UnlockedAnalysisIDs))
	return nil
}

// submitName is the file name VMRay shows: the evidence's, the sample's, or
// the hash.
func submitName(ev connector.Evidence, s connector.Sample) string {
	for _, n := range []string{ev.FileName, s.Name} {
		if n = path.Base(strings.ReplaceAll(n, `\`, "/")); n != "" && n != "." && n != "/" {
			return n
		}
	}
	h, _ := lookupHash(ev.Hashes)
	return h
}

// SubmitOptions returns the submission parameters Submit sends for ev and s.
// The comment is Options.Comment followed by ev's Marker (the comment alone
// when ev has no hash, which Submit refuses).
func (a *Analyzer) SubmitOptions(ev connector.Evidence, s connector.Sample) *vmray.SubmitOptions {
	comment, err := a.markedComment(ev)
	if err != nil {
		comment = a.opts.Comment
	}
	o := &vmray.SubmitOptions{
		Comment:             comment,
		Tags:                a.tagsFor(ev),
		AnalyzerMode:        a.opts.AnalyzerMode,
		ArchivePassword:     a.opts.ArchivePassword,
		MaxRecursiveSamples: a.opts.MaxRecursiveSamples,
		AnalysisCaching:     a.opts.AnalysisCaching,
	}
	if s.Truncated {
		o.AnalyzerMode = a.opts.TruncatedAnalyzerMode
	}
	if a.opts.SandboxTimeout > 0 {
		o.UserConfig = &vmray.UserConfig{Timeout: int(a.opts.SandboxTimeout / time.Second)}
	}
	if a.opts.MaxJobs > 0 {
		n := a.opts.MaxJobs
		o.MaxJobs = &n
	}
	return o
}

// Submit streams the sample to VMRay with the configured comment, tags,
// analyzer mode (TruncatedAnalyzerMode for truncated samples), sandbox
// timeout, archive password and limits, and returns a ticket naming the
// submission and sample. A submission VMRay refuses is a permanent error.
//
// API: POST /rest/sample/submit
func (a *Analyzer) Submit(ctx context.Context, ev connector.Evidence, s connector.Sample) (connector.Ticket, error) {
	if s.Body == nil {
		return connector.Ticket{}, connector.Permanent(errors.New("vmrayconn: sample has no body"))
	}
	if _, err := a.Marker(ev); err != nil {
		return connector.Ticket{}, err
	}
	res, err := a.c.Submissions.SubmitFile(ctx, submitName(ev, s), s.Body, a.SubmitOptions(ev, s))
	if err != nil {
		return connector.Ticket{}, classify("submit", err)
	}
	sub := res.Submission()
	if sub == nil {
		return connector.Ticket{}, connector.Permanent(errors.New("vmrayconn: submit: VMRay answered without a submission"))
	}
	id := TicketID{Submission: sub.ID, Sample: sub.SampleID}
	if id.Sample == 0 {
		if smp := res.Sample(); smp != nil {
			id.Sample = smp.ID
		}
	}
	return connector.Ticket{Analyzer: a.opts.Name, ID: id.String(), Submitted: a.opts.Now()}, nil
}

// FindTicket finds the latest submission of ev's file that carries this
// analyzer's Marker for the file and was made at or after since (less
// TicketSkew for clock differences), so a crash or a lost answer between a
// submission and the engine storing its ticket does not submit the file
// again. Submissions of the file by anyone else are ignored.
//
// A submission can reach VMRay's records after the first look (VMRay applies
// what it received later, or the request was still on its way): when the
// first look for a submit attempt finds nothing, FindTicket returns
// connector.RetryLater for SettleDelay, and only a look at least SettleDelay
// later that finds nothing either reports found=false, letting the engine
// submit. A first look more than twice SettleDelay after the attempt began
// needs no second one: whatever was sent has had SettleDelay to appear. The first miss is remembered in memory: after a restart FindTicket
// waits again, which costs time but never a duplicate. It searches the
// samples VMRay holds for any of the evidence's hashes; a truncated sample has
// hashes of its own and is not found this way.
//
// API: GET /rest/sample/{kind}/{hash}, GET /rest/submission/sample/{id}
func (a *Analyzer) FindTicket(ctx context.Context, ev connector.Evidence, since time.Time) (connector.Ticket, bool, error) {
	marker, err := a.Marker(ev)
	if err != nil {
		return connector.Ticket{}, false, err
	}
	t, ok, err := a.findMarked(ctx, ev, marker, since)
	if err != nil {
		return connector.Ticket{}, false, err
	}
	k := settleKey{marker: marker, since: since.UnixNano()}
	if ok {
		a.settle.found(k)
		return t, true, nil
	}
	if left := a.settle.miss(k, a.opts.Now(), a.opts.SettleDelay); left > 0 {
		return connector.Ticket{}, false, connector.RetryLater(errSettling, left)
	}
	return connector.Ticket{}, false, nil
}

// findMarked looks once for the latest submission of ev's file carrying marker
// made at or after since less TicketSkew.
func (a *Analyzer) findMarked(ctx context.Context, ev connector.Evidence, marker string, since time.Time) (connector.Ticket, bool, error) {
	hash, err := lookupHash(ev.Hashes)
	if err != nil {
		return connector.Ticket{}, false, err
	}
	samples, err := a.c.Samples.Lookup(ctx, hash)
	if err != nil {
		return connector.Ticket{}, false, classify("lookup", err)
	}
	from := since.Add(-a.opts.TicketSkew)
	var best *vmray.Submission
	for _, smp := range samples {
		for sub, err := range a.c.Submissions.AllBySample(ctx, smp.ID, nil) {
			if err != nil {
				return connector.Ticket{}, false, classify("list submissions", err)
			}
			if sub.Created.Before(from) || !carries(sub, marker) {
				continue
			}
			if best == nil || sub.Created.After(best.Created.Time) || (sub.Created.Equal(best.Created.Time) && sub.ID > best.ID) {
				best = &sub
			}
		}
	}
	if best == nil {
		return connector.Ticket{}, false, nil
	}
	id := TicketID{Submission: best.ID, Sample: best.SampleID}
	return connector.Ticket{Analyzer: a.opts.Name, ID: id.String(), Submitted: best.Created.Time}, true, nil
}

// Await checks the ticket's submission. While it is queued or in work it
// returns connector.RetryLater (after polling for up to AwaitFor), so the
// engine keeps the ticket and calls again. The checks follow VMRay's pace
// (see pace): none before the submission has been under way as long as
// recent submissions took to finish, then after PollInterval, doubling up to
// MaxPollInterval. Once finished it reads the sample
// and returns its verdict like Lookup. A submission whose analyses all failed,
// or that finished without a verdict, is a permanent error matching
// ErrAnalysisFailed with VMRay's reasons.
//
// API: GET /rest/submission/{id}, GET /rest/analysis/submission/{id},
// GET /rest/sample/{id} (+ /vtis, /iocs)
func (a *Analyzer) Await(ctx context.Context, t connector.Ticket) (connector.Verdict, error) {
	id, err := ParseTicketID(t.ID)
	if err != nil {
		return connector.Verdict{}, connector.Permanent(err)
	}
	elapsed := a.opts.Now().Sub(t.Submitted)
	if wait := a.pace.expected() - elapsed; !t.Submitted.IsZero() && wait > 0 {
		return connector.Verdict{}, connector.RetryLater(fmt.Errorf("vmrayconn: submission %d is expected to take %s more",
			id.Submission, wait.Round(time.Millisecond)), wait)
	}
	sub, err := a.poll(ctx, id.Submission, elapsed)
	if err != nil {
		return connector.Verdict{}, err
	}
	if err := a.checkAnalyses(ctx, sub); err != nil {
		return connector.Verdict{}, err
	}
	sampleID := id.Sample
	if sampleID == 0 {
		sampleID = sub.SampleID
	}
	smp, err := a.c.Samples.Get(ctx, sampleID)
	if err != nil {
		return connector.Verdict{}, classify("get sample", notFoundPermanent(err))
	}
	if !smp.EffectiveVerdict().Known() {
		return connector.Verdict{}, connector.Permanent(fmt.Errorf("%w: submission %d finished with status %q and sample %d has no verdict",
			ErrAnalysisFailed, sub.ID, sub.Status, smp.ID))
	}
	v, err := a.verdict(ctx, smp)
	if err != nil {
		return connector.Verdict{}, err
	}
	v.Attributes["submission_id"] = fmt.Sprint(sub.ID)
	v.Time = sub.FinishTime.Time
	return v, nil
}

// poll gets the submission until it is finished or AwaitFor has passed;
// elapsed is the time since the submission was made.
func (a *Analyzer) poll(ctx context.Context, id int64, elapsed time.Duration) (*vmray.Submission, error) {
	deadline := time.Now().Add(a.opts.AwaitFor)
	interval := min(max(a.opts.AwaitFor/10, 100*time.Millisecond), 5*time.Second)
	for {
		sub, err := a.c.Submissions.Get(ctx, id)
		if err != nil {
			return nil, classify("get submission", notFoundPermanent(err))
		}
		if sub.Finished {
			if !sub.FinishTime.IsZero() && !sub.Created.IsZero() {
				a.pace.observe(sub.FinishTime.Sub(sub.Created.Time))
			}
			return sub, nil
		}
		if !time.Now().Add(interval).Before(deadline) {
			return nil, connector.RetryLater(fmt.Errorf("vmrayconn: submission %d is %s", id, sub.Status),
				a.pace.next(elapsed, a.opts.PollInterval, a.opts.MaxPollInterval))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// checkAnalyses fails permanently when every analysis of a finished
// submission failed, naming VMRay's reasons; the failures of some analyses
// next to successful ones are logged.
func (a *Analyzer) checkAnalyses(ctx context.Context, sub *vmray.Submission) error {
	var failed []string
	total := 0
	for an, err := range a.c.Analyses.AllBySubmission(ctx, sub.ID, nil) {
		if err != nil {
			return classify("list analyses", err)
		}
		total++
		if an.Failed() {
			reason := an.ResultStr
			if reason == "" {
				reason = "no reason given"
			}
			failed = append(failed, fmt.Sprintf("analysis %d: %s", an.ID, reason))
		}
	}
	switch {
	case len(failed) > 0 && len(failed) == total:
		return connector.Permanent(fmt.Errorf("%w: submission %d: %s", ErrAnalysisFailed, sub.ID, strings.Join(failed, "; ")))
	case len(failed) > 0:
		a.log.WarnContext(ctx, "vmrayconn: some analyses failed", "submission_id", sub.ID, "failed", strings.Join(failed, "; "))
	}
	return nil
}

// notFoundPermanent marks a 404 on a ticket's own ids permanent: the
// submission or sample is gone and waiting cannot bring it back.
func notFoundPermanent(err error) error {
	if errors.Is(err, vmray.ErrNotFound) {
		return connector.Permanent(err)
	}
	return err
}
