package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/connector/internal/pending"
)

// DefaultBanDescription is the original's AUTO_BAN_DESCRIPTION.
const DefaultBanDescription = "Detected as malicious by VMRay"

// BanOptions configure NewBan.
type BanOptions struct {
	// Name is the responder's name (default "cbc-ban").
	Name string
	// Description is the override's description (default
	// DefaultBanDescription).
	Description string
}

// Ban is a responder that puts a file's SHA-256 on the organisation's ban
// list (a BLACK_LIST reputation override, with the file name). A hash already
// banned is Unchanged.
type Ban struct {
	c    *carbonblack.Client
	opts BanOptions
}

// NewBan returns a ban responder.
func NewBan(c *carbonblack.Client, opts BanOptions) (*Ban, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "cbc-ban"
	}
	if opts.Description == "" {
		opts.Description = DefaultBanDescription
	}
	return &Ban{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (b *Ban) Name() string { return b.opts.Name }

// Scope is per file.
func (b *Ban) Scope() connector.Scope { return connector.ScopeEvidence }

// Respond bans the file unless it is banned already (a batch of one; see RespondBatch).
func (b *Ban) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	out := b.RespondBatch(ctx, []connector.Finding{f})[0]
	return out.Result, out.Err
}

// maxHashesPerSearch bounds the hashes one override search asks for.
const maxHashesPerSearch = 50

// RespondBatch bans several files: the overrides of all their hashes are looked up with one search (per 50
// hashes), and the missing bans are created concurrently.
func (b *Ban) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	outs := make([]connector.Outcome, len(fs))
	shas := make([]string, len(fs))
	var want []string
	for i, f := range fs {
		shas[i] = strings.ToLower(f.Evidence.Hashes.SHA256)
		if !isHex(shas[i], 64) {
			outs[i].Result, outs[i].Err = skipped("the evidence has no SHA-256")
			continue
		}
		if !slices.Contains(want, shas[i]) {
			want = append(want, shas[i])
		}
	}
	banned, err := b.banned(ctx, want)
	if err != nil {
		for i := range outs {
			if outs[i].Result.Status == "" {
				outs[i].Err = err
			}
		}
		return outs
	}
	var todo []int
	asked := map[string]bool{}
	for i := range fs {
		switch sha := shas[i]; {
		case outs[i].Result.Status != "":
		case banned[sha] != nil:
			outs[i].Result, outs[i].Err = unchanged("already banned (override %s)", banned[sha].ID)
		case asked[sha]:
			outs[i].Result, outs[i].Err = unchanged("banned by an earlier finding of the batch")
		default:
			asked[sha] = true
			todo = append(todo, i)
		}
	}
	parallel(len(todo), func(k int) {
		i := todo[k]
		o, err := b.c.Reputations.Create(ctx, carbonblack.ReputationOverride{OverrideList: carbonblack.OverrideBlackList,
			OverrideType: carbonblack.OverrideSHA256, SHA256Hash: shas[i], Filename: fileName(fs[i]), Description: b.opts.Description})
		switch {
		case errors.Is(err, carbonblack.ErrConflict):
			outs[i].Result, outs[i].Err = unchanged("already banned")
		case err != nil:
			outs[i].Err = classify("creating a reputation override", err)
		default:
			outs[i].Result, outs[i].Err = acted("banned %s (override %s)", shas[i], o.ID)
		}
	})
	return outs
}

// banned returns the BLACK_LIST overrides of the given SHA-256s, by hash: one search per 50 hashes, whose free-text
// query names them all ("h1 OR h2 ..."), kept only where the override's hash is one asked for.
func (b *Ban) banned(ctx context.Context, shas []string) (map[string]*carbonblack.ReputationOverride, error) {
	out := map[string]*carbonblack.ReputationOverride{}
	for chunk := range slices.Chunk(shas, maxHashesPerSearch) {
		q := carbonblack.OverrideSearch{Criteria: carbonblack.Criteria{"override_list": carbonblack.OverrideBlackList,
			"override_type": carbonblack.OverrideSHA256}, Query: strings.Join(chunk, " OR "), Rows: 100}
		for o, err := range b.c.Reputations.All(ctx, q) {
			if err != nil {
				return nil, classify("searching reputation overrides", err)
			}
			sha := strings.ToLower(o.SHA256Hash)
			if slices.Contains(chunk, sha) && out[sha] == nil {
				out[sha] = &o
			}
		}
	}
	return out, nil
}

// fileName is the evidence's file name, else the base name of a sighting's
// path.
func fileName(f connector.Finding) string {
	if f.Evidence.FileName != "" {
		return f.Evidence.FileName
	}
	if f.Sighting != nil && f.Sighting.FilePath != "" {
		return baseName(f.Sighting.FilePath)
	}
	for _, s := range f.Evidence.Sightings {
		if s.FilePath != "" {
			return baseName(s.FilePath)
		}
	}
	return ""
}

// sightingDevice returns the Carbon Black device id of the finding's
// sighting, and false when it names none.
func sightingDevice(f connector.Finding) (int64, bool) {
	if f.Sighting == nil || f.Sighting.DeviceID == "" {
		return 0, false
	}
	id, err := strconv.ParseInt(f.Sighting.DeviceID, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// getDevice reads a device; an unknown device is a permanent failure.
func getDevice(ctx context.Context, c *carbonblack.Client, id int64) (*carbonblack.Device, error) {
	d, err := c.Devices.Get(ctx, id)
	if errors.Is(err, carbonblack.ErrNotFound) {
		return nil, connector.Permanent(fmt.Errorf("carbonblackconn: device %d does not exist: %w", id, err))
	}
	return d, classify(fmt.Sprintf("reading device %d", id), err)
}

// Quarantine is a responder that isolates every device that saw a file from
// the network (device action QUARANTINE). A device already quarantined is
// Unchanged, and so is one this responder asked to quarantine in the last ten
// minutes (Carbon Black applies device actions when the sensor checks in, so
// the device may not read as quarantined yet); calls for one device never run
// at once.
type Quarantine struct {
	c       *carbonblack.Client
	name    string
	pending *pending.Actions
}

// NewQuarantine returns a quarantine responder named name (default
// "cbc-quarantine").
func NewQuarantine(c *carbonblack.Client, name string) (*Quarantine, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if name == "" {
		name = "cbc-quarantine"
	}
	return &Quarantine{c: c, name: name, pending: pending.New(0, nil)}, nil
}

// SetSettleDelay sets how long an action that may have been sent (by this
// process, or by an attempt before a restart: see connector.Finding.EarlierAttempt)
// and that the device does not show yet is waited for before it is sent
// again (default ten minutes). Call it before the first Respond.
func (q *Quarantine) SetSettleDelay(d time.Duration) { q.pending.SetHold(d) }

// Name returns the responder's name.
func (q *Quarantine) Name() string { return q.name }

// Scope is per device.
func (q *Quarantine) Scope() connector.Scope { return connector.ScopeDevice }

// Respond quarantines the sighting's device unless it is quarantined or
// its quarantine was requested and is not in effect yet (a batch of one; see
// RespondBatch).
func (q *Quarantine) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	out := q.RespondBatch(ctx, []connector.Finding{f})[0]
	return out.Result, out.Err
}

// RespondBatch quarantines the devices of several findings: one device
// search by ids reads their state, and one device action quarantines every
// device that needs it. A device named by several findings is acted on
// once; the others report Unchanged.
func (q *Quarantine) RespondBatch(ctx context.Context, fs []connector.Finding) []connector.Outcome {
	outs := make([]connector.Outcome, len(fs))
	at := map[int64]int{} // device -> its index in ids
	var ids []int64
	var first []int         // per device, its first finding
	var earlier []time.Time // per device, the latest earlier attempt of any of its findings
	for i, f := range fs {
		id, ok := sightingDevice(f)
		if !ok {
			outs[i].Result, outs[i].Err = skipped("the sighting names no Carbon Black device")
			continue
		}
		if k, seen := at[id]; seen {
			outs[i].Result, outs[i].Err = unchanged("device %d is handled by an earlier finding of the batch", id)
			if f.EarlierAttempt.After(earlier[k]) {
				earlier[k] = f.EarlierAttempt
			}
			continue
		}
		at[id] = len(ids)
		ids, first, earlier = append(ids, id), append(first, i), append(earlier, f.EarlierAttempt)
	}
	if len(ids) == 0 {
		return outs
	}
	keys := make([]string, len(ids))
	for k, id := range ids {
		keys[k] = strconv.FormatInt(id, 10)
	}
	res, errs := q.pending.DoAll(keys, earlier, func(rs []pending.Request) ([]connector.Result, []bool, []error) {
		return q.quarantine(ctx, ids, rs)
	})
	for k := range ids {
		outs[first[k]] = connector.Outcome{Result: res[k], Err: errs[k]}
	}
	return outs
}

// quarantine reads the devices ids with one search and quarantines, with one
// action, those that are neither quarantined nor pending (rs).
func (q *Quarantine) quarantine(ctx context.Context, ids []int64, rs []pending.Request) ([]connector.Result, []bool, []error) {
	res, sent, errs := make([]connector.Result, len(ids)), make([]bool, len(ids)), make([]error, len(ids))
	devices, err := q.c.Devices.ByIDs(ctx, ids...)
	if err != nil {
		err = classify(fmt.Sprintf("searching %d devices", len(ids)), err)
		for k := range errs {
			errs[k] = err
		}
		return res, sent, errs
	}
	byID := make(map[int64]*carbonblack.Device, len(devices))
	for i := range devices {
		byID[devices[i].ID] = &devices[i]
	}
	var act []int
	for k, id := range ids {
		d := byID[id]
		switch {
		case d == nil:
			errs[k] = connector.Permanent(fmt.Errorf("carbonblackconn: device %d does not exist: %w", id, carbonblack.ErrNotFound))
		case d.Quarantined:
			res[k], errs[k] = unchanged("device %d (%s) is already quarantined", id, d.Name)
		default:
			if r, ok, err := q.pending.Pending(rs[k], fmt.Sprintf("quarantine of device %d (%s)", id, d.Name)); ok {
				res[k], errs[k] = r, err
				continue
			}
			act = append(act, k)
		}
	}
	if len(act) == 0 {
		return res, sent, errs
	}
	actIDs := make([]int64, len(act))
	for n, k := range act {
		actIDs[n] = ids[k]
	}
	err = q.c.Devices.Quarantine(ctx, true, actIDs...)
	for _, k := range act {
		sent[k] = true
		if err != nil {
			errs[k] = classify(fmt.Sprintf("quarantining %d devices", len(act)), err)
			continue
		}
		res[k], errs[k] = acted("quarantined device %d (%s)", ids[k], byID[ids[k]].Name)
	}
	return res, sent, errs
}

// PolicyMove is a responder that moves every device that saw a file to a
// policy, named by id or by name (looked up once in the Policy Service; the
// original's lookup used the retired Policy v3 API). A device already in the
// policy is Unchanged, and so is one this responder moved in the last ten
// minutes (the move may not show yet); calls for one device never run at
// once.
type PolicyMove struct {
	c       *carbonblack.Client
	name    string
	policy  string
	pending *pending.Actions

	mu       sync.Mutex
	policyID int64
}

// NewPolicyMove returns a policy move responder for policy (a numeric id or
// a name), named name (default "cbc-policy").
func NewPolicyMove(c *carbonblack.Client, policy, name string) (*PolicyMove, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	policy = strings.TrimSpace(policy)
	if policy == "" {
		return nil, errors.New("carbonblackconn: the policy is empty")
	}
	if name == "" {
		name = "cbc-policy"
	}
	p := &PolicyMove{c: c, name: name, policy: policy, pending: pending.New(0, nil)}
	if id, err := strconv.ParseInt(policy, 10, 64); err == nil && id > 0 {
		p.policyID = id
	}
	return p, nil
}

// SetSettleDelay sets how long an action that may have been sent (by this
// process, or by an attempt before a restart: see connector.Finding.EarlierAttempt)
// and that the device does not show yet is waited for before it is sent
// again (default ten minutes). Call it before the first Respond.
func (p *PolicyMove) SetSettleDelay(d time.Duration) { p.pending.SetHold(d) }

// Name returns the responder's name.
func (p *PolicyMove) Name() string { return p.name }

// Scope is per device.
func (p *PolicyMove) Scope() connector.Scope { return connector.ScopeDevice }

// PolicyID resolves the policy to its id (once).
func (p *PolicyMove) PolicyID(ctx context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.policyID != 0 {
		return p.policyID, nil
	}
	s, err := p.c.Policies.FindByName(ctx, p.policy)
	if errors.Is(err, carbonblack.ErrNotFound) {
		return 0, connector.Permanent(fmt.Errorf("carbonblackconn: no policy is named %q", p.policy))
	}
	if err != nil {
		return 0, classify("looking up policy "+p.policy, err)
	}
	p.policyID = s.ID
	return s.ID, nil
}

// Respond moves the sighting's device to the policy unless it is in it or
// its move was requested and does not show yet.
func (p *PolicyMove) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	id, ok := sightingDevice(f)
	if !ok {
		return skipped("the sighting names no Carbon Black device")
	}
	pid, err := p.PolicyID(ctx)
	if err != nil {
		return connector.Result{}, err
	}
	return p.pending.Do(strconv.FormatInt(id, 10), f.EarlierAttempt, func(r pending.Request) (connector.Result, bool, error) {
		d, err := getDevice(ctx, p.c, id)
		if err != nil {
			return connector.Result{}, false, err
		}
		if d.PolicyID == pid {
			res, err := unchanged("device %d (%s) is already in policy %d", id, d.Name, pid)
			return res, false, err
		}
		if res, ok, err := p.pending.Pending(r, fmt.Sprintf("move of device %d (%s) to policy %d", id, d.Name, pid)); ok {
			return res, false, err
		}
		if err := p.c.Devices.UpdatePolicy(ctx, pid, id); err != nil {
			return connector.Result{}, true, classify(fmt.Sprintf("moving device %d to policy %d", id, pid), err)
		}
		res, err := acted("moved device %d (%s) from policy %d to %d", id, d.Name, d.PolicyID, pid)
		return res, true, err
	})
}
