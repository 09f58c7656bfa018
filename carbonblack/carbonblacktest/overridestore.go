package carbonblacktest

import (
	"cmp"
	"encoding/hex"
	"math"
	"slices"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// storedOverride is a reputation override in its compact form; wire builds
// it as the service answers it. Its id (16 random bytes, answered in hex)
// and a SHA-256 override's hash are kept as bytes, its list and type as
// codes, its creator is the fake's API id and its description is shared
// with the overrides that have the same one; what a ban does not have
// (signer, authority, path, child processes, a hash of another kind of
// override) is in extra.
type storedOverride struct {
	id      [16]byte
	sha     [32]byte // when the type is SHA256
	created int64    // Unix nanoseconds, unless extra holds the time
	seq     uint64   // creation order
	// next is the next override of the same hash, in creation order.
	next        *storedOverride
	extra       *overrideExtra
	description string
	filename    string
	list, typ   uint8
}

type overrideExtra struct {
	// ownTime is set when created holds the creation time (zero, or not
	// one Unix nanoseconds hold in UTC).
	ownTime               bool
	created               time.Time
	sha256Hash            string
	signedBy, ca, path    string
	includeChildProcesses *bool
}

var (
	overrideLists = []string{carbonblack.OverrideBlackList, carbonblack.OverrideWhiteList}
	overrideTypes = []string{carbonblack.OverrideSHA256, carbonblack.OverrideCert, carbonblack.OverrideITTool}
)

// minNanoTime and maxNanoTime bound the times Unix nanoseconds hold.
var minNanoTime, maxNanoTime = time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64)

// storeOverride returns the compact form of a validated override (list and
// type among the known ones, a SHA-256 override's hash lower case).
func (st *state) storeOverride(o *carbonblack.ReputationOverride, id [16]byte) *storedOverride {
	st.overrideSeq++
	so := &storedOverride{id: id, seq: st.overrideSeq, description: st.intern.str(o.Description), filename: o.Filename,
		list: uint8(slices.Index(overrideLists, o.OverrideList)), typ: uint8(slices.Index(overrideTypes, o.OverrideType))}
	var x overrideExtra
	if t := o.CreateTime.Time; !t.IsZero() && t.Location() == time.UTC && t.After(minNanoTime) && t.Before(maxNanoTime) {
		so.created = t.UnixNano()
	} else {
		x.ownTime, x.created = true, t
	}
	if o.OverrideType == carbonblack.OverrideSHA256 {
		_, _ = hex.Decode(so.sha[:], []byte(o.SHA256Hash))
	} else {
		x.sha256Hash = o.SHA256Hash
	}
	x.signedBy, x.ca, x.path, x.includeChildProcesses = o.SignedBy, o.CertificateAuthority, o.Path, o.IncludeChildProcesses
	if x != (overrideExtra{}) {
		so.extra = &x
	}
	return so
}

// wire builds the override as the service answers it.
func (so *storedOverride) wire(apiID string) carbonblack.ReputationOverride {
	o := carbonblack.ReputationOverride{ID: hex.EncodeToString(so.id[:]), CreatedBy: apiID, Description: so.description,
		OverrideList: overrideLists[so.list], OverrideType: overrideTypes[so.typ], Filename: so.filename}
	o.CreateTime.Time = time.Unix(0, so.created).UTC()
	if x := so.extra; x != nil {
		if x.ownTime {
			o.CreateTime.Time = x.created
		}
		o.SHA256Hash, o.SignedBy, o.CertificateAuthority, o.Path = x.sha256Hash, x.signedBy, x.ca, x.path
		o.IncludeChildProcesses = x.includeChildProcesses
	}
	if o.OverrideType == carbonblack.OverrideSHA256 {
		o.SHA256Hash = hex.EncodeToString(so.sha[:])
	}
	return o
}

// addOverrideLocked indexes a stored override.
func (st *state) addOverrideLocked(so *storedOverride) {
	st.overrides[so.id] = so
	if overrideTypes[so.typ] != carbonblack.OverrideSHA256 {
		return
	}
	p := st.overridesBySHA[so.sha]
	if p == nil {
		st.overridesBySHA[so.sha] = so
		return
	}
	for p.next != nil {
		p = p.next
	}
	p.next = so
}

// removeOverrideLocked forgets an override.
func (st *state) removeOverrideLocked(so *storedOverride) {
	delete(st.overrides, so.id)
	if overrideTypes[so.typ] != carbonblack.OverrideSHA256 {
		return
	}
	head := st.overridesBySHA[so.sha]
	switch {
	case head == so && so.next == nil:
		delete(st.overridesBySHA, so.sha)
	case head == so:
		st.overridesBySHA[so.sha] = so.next
	default:
		for p := head; p != nil; p = p.next {
			if p.next == so {
				p.next = so.next
				break
			}
		}
	}
	so.next = nil
}

// allOverridesLocked returns every override, oldest first.
func (st *state) allOverridesLocked() []*storedOverride {
	out := make([]*storedOverride, 0, len(st.overrides))
	for _, so := range st.overrides {
		out = append(out, so)
	}
	sortBySeq(out)
	return out
}

// sortBySeq puts overrides in creation order.
func sortBySeq(os []*storedOverride) {
	slices.SortFunc(os, func(a, b *storedOverride) int { return cmp.Compare(a.seq, b.seq) })
}
