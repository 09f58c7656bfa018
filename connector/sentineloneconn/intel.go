package sentineloneconn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/sentinelone"
)

// Defaults of IndicatorOptions, the original's INDICATOR settings.
const (
	DefaultIndicatorName        = "Indicator based on a VMRay Analyzer Report"
	DefaultIndicatorDescription = "Indicator based on a VMRay Analyzer Report"
	DefaultIndicatorSource      = "VMRay"
)

// IndicatorType maps an IOC onto a SentinelOne Threat Intelligence type
// (seed C.3: ipv4 IPV4, sha256 SHA256, domain DNS, url URL, sha1 SHA1,
// md5 MD5; IPv6 addresses IPV6). Other IOC types have none (ok false).
func IndicatorType(ioc connector.IOC) (typ, value string, ok bool) {
	v := strings.TrimSpace(ioc.Value)
	if v == "" {
		return "", "", false
	}
	switch ioc.Type {
	case connector.IOCSHA256:
		return sentinelone.IOCTypeSHA256, strings.ToLower(v), true
	case connector.IOCSHA1:
		return sentinelone.IOCTypeSHA1, strings.ToLower(v), true
	case connector.IOCMD5:
		return sentinelone.IOCTypeMD5, strings.ToLower(v), true
	case connector.IOCDomain:
		return sentinelone.IOCTypeDNS, strings.ToLower(v), true
	case connector.IOCURL:
		return sentinelone.IOCTypeURL, v, true
	case connector.IOCIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", "", false
		}
		if a = a.Unmap(); a.Is4() {
			return sentinelone.IOCTypeIPv4, a.String(), true
		}
		return sentinelone.IOCTypeIPv6, a.String(), true
	}
	return "", "", false
}

// DefaultIndicatorBaselineTTL is the default IndicatorOptions.BaselineTTL:
// the Threat Intelligence API allows 30 calls a minute, so the account's
// indicators are not listed again for every file.
const DefaultIndicatorBaselineTTL = 15 * time.Minute

// IndicatorOptions configure NewIndicators.
type IndicatorOptions struct {
	// Name is the responder's name (default "s1-indicators").
	Name string
	// Scope is where the indicators are created (required).
	Scope *Scope
	// IndicatorName, Description and Source are written on every indicator
	// (defaults DefaultIndicatorName, DefaultIndicatorDescription,
	// DefaultIndicatorSource).
	IndicatorName string
	Description   string
	Source        string
	// Verdicts keep only IOCs whose own verdict is in the set (VMRay gives
	// one per IOC); zero keeps every IOC.
	Verdicts connector.KindSet
	// ValidFor sets validUntil that far after creation (default: none).
	ValidFor time.Duration
	// BaselineTTL is how long the set of indicator values already in the
	// account is reused before it is read again (default
	// DefaultIndicatorBaselineTTL). Values this responder creates join the
	// set at once, so an IOC shared by two files is created once.
	BaselineTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Indicators is a responder that creates SentinelOne Threat Intelligence
// indicators for a file's IOCs: only values not already present in the
// account (any type), all in one request. Nothing new is Unchanged. Calls
// are serialised, so two files sharing an IOC never create it twice.
type Indicators struct {
	c    *sentinelone.Client
	opts IndicatorOptions

	mu       sync.Mutex
	existing map[string]bool
	loaded   time.Time
}

// NewIndicators returns an indicator responder.
func NewIndicators(c *sentinelone.Client, opts IndicatorOptions) (*Indicators, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Scope == nil {
		return nil, errors.New("sentineloneconn: indicators need a Scope")
	}
	if opts.Name == "" {
		opts.Name = "s1-indicators"
	}
	if opts.IndicatorName == "" {
		opts.IndicatorName = DefaultIndicatorName
	}
	if opts.Description == "" {
		opts.Description = DefaultIndicatorDescription
	}
	if opts.Source == "" {
		opts.Source = DefaultIndicatorSource
	}
	if opts.ValidFor < 0 || opts.BaselineTTL < 0 {
		return nil, fmt.Errorf("sentineloneconn: negative ValidFor %v or BaselineTTL %v", opts.ValidFor, opts.BaselineTTL)
	}
	if opts.BaselineTTL == 0 {
		opts.BaselineTTL = DefaultIndicatorBaselineTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Indicators{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (in *Indicators) Name() string { return in.opts.Name }

// Scope is per file.
func (in *Indicators) Scope() connector.Scope { return connector.ScopeEvidence }

// Respond creates the indicators that do not exist yet.
func (in *Indicators) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if err := ctx.Err(); err != nil {
		return connector.Result{}, err
	}
	type key struct{ typ, value string }
	var want []key
	seen := map[key]bool{}
	for _, ioc := range f.Verdict.IOCs {
		if in.opts.Verdicts != 0 && !in.opts.Verdicts.Has(ioc.Verdict) {
			continue
		}
		typ, v, ok := IndicatorType(ioc)
		if k := (key{typ, v}); ok && !seen[k] {
			seen[k] = true
			want = append(want, k)
		}
	}
	if len(want) == 0 {
		return skipped("the verdict has no IOC SentinelOne can take")
	}
	sc, err := in.opts.Scope.Resolve(ctx)
	if err != nil {
		return connector.Result{}, err
	}
	scope := sentinelone.Scope{AccountIDs: []string{sc.AccountID}}
	in.mu.Lock()
	defer in.mu.Unlock()
	existing, err := in.baseline(ctx, scope)
	if err != nil {
		return connector.Result{}, err
	}
	now := in.opts.Now().UTC()
	var batch []sentinelone.IOC
	for _, k := range want {
		if existing[strings.ToLower(k.value)] {
			continue
		}
		ioc := sentinelone.IOC{Type: k.typ, Value: k.value, Source: in.opts.Source, Method: "EQUALS",
			Name: in.opts.IndicatorName, Description: in.opts.Description, CreationTime: sentinelone.NewTime(now)}
		if f.Verdict.ReportURL != "" {
			ioc.Reference = []string{f.Verdict.ReportURL}
		}
		if in.opts.ValidFor > 0 {
			ioc.ValidUntil = sentinelone.NewTime(now.Add(in.opts.ValidFor))
		}
		batch = append(batch, ioc)
	}
	if len(batch) == 0 {
		return unchanged("all %d indicators exist", len(want))
	}
	if _, err := in.c.ThreatIntelligence.CreateIOCs(ctx, scope, batch); err != nil {
		// The request may have been applied: read the account again next time.
		in.existing = nil
		return connector.Result{}, classify("creating indicators", err)
	}
	for _, ioc := range batch {
		existing[strings.ToLower(ioc.Value)] = true
	}
	return acted("created %d of %d indicators", len(batch), len(want))
}

// baseline returns the values of the account's indicators, read again when
// older than BaselineTTL. The caller holds in.mu.
func (in *Indicators) baseline(ctx context.Context, scope sentinelone.Scope) (map[string]bool, error) {
	now := in.opts.Now()
	if in.existing != nil && now.Sub(in.loaded) < in.opts.BaselineTTL {
		return in.existing, nil
	}
	existing := map[string]bool{}
	for ioc, err := range in.c.ThreatIntelligence.AllIOCs(ctx, sentinelone.IOCListOptions{Scope: scope}) {
		if err != nil {
			return nil, classify("listing indicators", err)
		}
		existing[strings.ToLower(ioc.Value)] = true
	}
	in.existing, in.loaded = existing, now
	return existing, nil
}
