package sentineloneconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/sentinelone"
)

// DefaultBlocklistDescription is the original's BLACKLIST.*.DESCRIPTION.
const DefaultBlocklistDescription = "Reported from VMRay Analyzer"

// GlobalBlocklistOptions configure NewGlobalBlocklist.
type GlobalBlocklistOptions struct {
	// Name is the responder's name (default "s1-blocklist").
	Name string
	// Scope is where the entries are created (required): the account, or
	// the configured sites.
	Scope *Scope
	// Description of the entries (default DefaultBlocklistDescription).
	Description string
	// OSTypes are the OS types blocked. Empty blocks the OS types of the
	// file's sightings (windows when they name none), as the original did
	// per threat.
	OSTypes []string
}

// GlobalBlocklist is a responder that puts a file's SHA1 on the blocklist
// (/restrictions, type black_hash), one entry per OS type. Entries that
// exist already are left alone; when all exist the result is Unchanged.
type GlobalBlocklist struct {
	c    *sentinelone.Client
	opts GlobalBlocklistOptions
}

var osTypes = []string{sentinelone.OSWindows, sentinelone.OSMacOS, sentinelone.OSLinux, sentinelone.OSWindowsLegacy}

// NewGlobalBlocklist returns a blocklist responder.
func NewGlobalBlocklist(c *sentinelone.Client, opts GlobalBlocklistOptions) (*GlobalBlocklist, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Scope == nil {
		return nil, errors.New("sentineloneconn: the blocklist needs a Scope")
	}
	if opts.Name == "" {
		opts.Name = "s1-blocklist"
	}
	if opts.Description == "" {
		opts.Description = DefaultBlocklistDescription
	}
	for _, o := range opts.OSTypes {
		if !slices.Contains(osTypes, o) {
			return nil, fmt.Errorf("sentineloneconn: unknown OS type %q (use %s)", o, strings.Join(osTypes, ", "))
		}
	}
	return &GlobalBlocklist{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (g *GlobalBlocklist) Name() string { return g.opts.Name }

// Scope is per file.
func (g *GlobalBlocklist) Scope() connector.Scope { return connector.ScopeEvidence }

// osTypesOf returns the configured OS types or those of the sightings.
func (g *GlobalBlocklist) osTypesOf(ev connector.Evidence) []string {
	if len(g.opts.OSTypes) > 0 {
		return g.opts.OSTypes
	}
	var out []string
	for _, s := range ev.Sightings {
		if o := strings.ToLower(s.OS); slices.Contains(osTypes, o) && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		out = []string{sentinelone.OSWindows}
	}
	slices.Sort(out)
	return out
}

// Respond blocks the SHA1 for every OS type not blocked yet.
func (g *GlobalBlocklist) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	sha1 := strings.ToLower(f.Evidence.Hashes.SHA1)
	if len(sha1) != 40 {
		return skipped("the evidence has no SHA1")
	}
	sc, err := g.opts.Scope.Resolve(ctx)
	if err != nil {
		return connector.Result{}, err
	}
	scope := sc.Filter()
	var created []string
	for _, os := range g.osTypesOf(f.Evidence) {
		page, err := g.c.Blocklist.List(ctx, sentinelone.RestrictionListOptions{Scope: scope, Type: sentinelone.RestrictionBlackHash,
			Value: sha1, OSTypes: []string{os}, ListOptions: sentinelone.ListOptions{Limit: 1}})
		if err != nil {
			return connector.Result{}, classify("searching the blocklist", err)
		}
		if len(page.Items) > 0 {
			continue
		}
		res, err := g.c.Blocklist.Create(ctx, scope, sentinelone.NewRestriction{Type: sentinelone.RestrictionBlackHash, Value: sha1,
			OSType: os, Description: g.opts.Description})
		if err != nil {
			return connector.Result{}, classify("adding "+sha1+" to the blocklist", err)
		}
		if !res.AlreadyExists {
			created = append(created, os)
		}
	}
	if len(created) == 0 {
		return unchanged("%s is already blocked", sha1)
	}
	return acted("blocked %s for %s", sha1, strings.Join(created, ", "))
}

// ThreatBlocklistOptions configure NewThreatBlocklist.
type ThreatBlocklistOptions struct {
	// Name is the responder's name (default "s1-threat-blocklist").
	Name string
	// TargetScope is group, site, account (default, as the original) or
	// tenant.
	TargetScope string
	// Description of the entry (default DefaultBlocklistDescription).
	Description string
}

// ThreatBlocklist is a responder that blocklists a file through each of its
// threats (POST /threats/add-to-blacklist). A hash already blocked is
// Unchanged.
type ThreatBlocklist struct {
	c    *sentinelone.Client
	opts ThreatBlocklistOptions
}

// NewThreatBlocklist returns a threat blocklist responder.
func NewThreatBlocklist(c *sentinelone.Client, opts ThreatBlocklistOptions) (*ThreatBlocklist, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "s1-threat-blocklist"
	}
	if opts.TargetScope == "" {
		opts.TargetScope = "account"
	}
	if !slices.Contains([]string{"group", "site", "account", "tenant"}, opts.TargetScope) {
		return nil, fmt.Errorf("sentineloneconn: unknown target scope %q (use group, site, account or tenant)", opts.TargetScope)
	}
	if opts.Description == "" {
		opts.Description = DefaultBlocklistDescription
	}
	return &ThreatBlocklist{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (t *ThreatBlocklist) Name() string { return t.opts.Name }

// Scope is per sighting (per threat).
func (t *ThreatBlocklist) Scope() connector.Scope { return connector.ScopeSighting }

// Respond adds the threat's hash to the blocklist.
func (t *ThreatBlocklist) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	tid := threatID(f)
	if tid == "" {
		return skipped("the sighting is not a SentinelOne threat")
	}
	res, err := t.c.Threats.AddToBlacklist(ctx, sentinelone.ThreatFilter{IDs: []string{tid}},
		sentinelone.BlacklistData{TargetScope: t.opts.TargetScope, Description: t.opts.Description})
	if err != nil {
		return connector.Result{}, classify("blocklisting threat "+tid, err)
	}
	for _, d := range res.Details {
		switch d.Result {
		case "already_exists":
			return unchanged("the hash of threat %s is already blocked", tid)
		case "threat_has_no_hash":
			return skipped("threat %s has no hash", tid)
		}
	}
	if res.Affected == 0 && len(res.Details) == 0 {
		return connector.Result{}, connector.Permanent(fmt.Errorf("sentineloneconn: threat %s does not exist (nothing blocked)", tid))
	}
	if res.Affected == 0 {
		return unchanged("the hash of threat %s is already blocked", tid)
	}
	return acted("blocked the hash of threat %s (%s scope)", tid, t.opts.TargetScope)
}

// DVBlocklistOptions configure NewDVBlocklist.
type DVBlocklistOptions struct {
	// Name is the responder's name (default "s1-dv-blocklist").
	Name string
	// Scope resolves the account, to check for an existing entry
	// (required).
	Scope *Scope
	// TargetScope is site, group, account (default, as the original) or
	// global.
	TargetScope string
}

// DVBlocklist is a responder that blocklists a file's SHA1 through Deep
// Visibility (POST /threats/dv-add-to-blacklist), once per agent that saw
// it. A hash already on the blocklist for the agent's OS is Unchanged.
type DVBlocklist struct {
	c    *sentinelone.Client
	opts DVBlocklistOptions
}

// NewDVBlocklist returns a Deep Visibility blocklist responder.
func NewDVBlocklist(c *sentinelone.Client, opts DVBlocklistOptions) (*DVBlocklist, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Scope == nil {
		return nil, errors.New("sentineloneconn: the DV blocklist needs a Scope")
	}
	if opts.Name == "" {
		opts.Name = "s1-dv-blocklist"
	}
	if opts.TargetScope == "" {
		opts.TargetScope = "account"
	}
	if !slices.Contains([]string{"site", "group", "account", "global"}, opts.TargetScope) {
		return nil, fmt.Errorf("sentineloneconn: unknown target scope %q (use site, group, account or global)", opts.TargetScope)
	}
	return &DVBlocklist{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (d *DVBlocklist) Name() string { return d.opts.Name }

// Scope is per device (agent).
func (d *DVBlocklist) Scope() connector.Scope { return connector.ScopeDevice }

// Respond blocklists the SHA1 for the sighting's agent.
func (d *DVBlocklist) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	sha1 := strings.ToLower(f.Evidence.Hashes.SHA1)
	if len(sha1) != 40 {
		return skipped("the evidence has no SHA1")
	}
	if f.Sighting == nil || f.Sighting.AgentID == "" {
		return skipped("the sighting names no SentinelOne agent")
	}
	agent := f.Sighting.AgentID
	sc, err := d.opts.Scope.Resolve(ctx)
	if err != nil {
		return connector.Result{}, err
	}
	opts := sentinelone.RestrictionListOptions{Scope: sentinelone.Scope{AccountIDs: []string{sc.AccountID}}, Type: sentinelone.RestrictionBlackHash,
		Value: sha1, IncludeChildren: true, IncludeParents: true, ListOptions: sentinelone.ListOptions{Limit: 1}}
	if os := strings.ToLower(f.Sighting.OS); slices.Contains(osTypes, os) {
		opts.OSTypes = []string{os}
	}
	page, err := d.c.Blocklist.List(ctx, opts)
	if err != nil {
		return connector.Result{}, classify("searching the blocklist", err)
	}
	if len(page.Items) > 0 {
		return unchanged("%s is already blocked", sha1)
	}
	n, err := d.c.Threats.DVAddToBlacklist(ctx, d.opts.TargetScope, []sentinelone.AgentHash{{AgentID: agent, Hash: sha1}})
	if err != nil {
		return connector.Result{}, classify("blocklisting "+sha1+" through Deep Visibility", err)
	}
	if n == 0 {
		return unchanged("%s is already blocked for agent %s", sha1, agent)
	}
	return acted("blocked %s through Deep Visibility (agent %s, %s scope)", sha1, agent, d.opts.TargetScope)
}
