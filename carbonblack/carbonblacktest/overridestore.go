package carbonblacktest

import (
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"math"
	"slices"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// storedOverride is a reputation override in its compact form; wire builds
// it as the service answers it. Its id is derived from its creation number
// (overrideID), a SHA-256 override's hash is kept as bytes, its list and
// type as codes, its creator is the fake's API id and its description is
// shared with the overrides that have the same one; what a ban does not
// have (signer, authority, path, child processes, a hash of another kind of
// override) is in extra.
type storedOverride struct {
	sha     [32]byte // when the type is SHA256
	created int64    // Unix nanoseconds, unless extra holds the time
	// next is the next override of the same hash, in creation order.
	next        *storedOverride
	extra       *overrideExtra
	description string
	filename    string
	seq         uint32 // creation number, from 1
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

// overrideID is the id of the override created seq-th: the hex of seq
// encrypted with the state's key, so ids look random, never repeat, and
// lead back to their override without an index.
func (st *state) overrideID(seq uint32) string {
	var b [16]byte
	b[12], b[13], b[14], b[15] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	st.idCipher.Encrypt(b[:], b[:])
	return hex.EncodeToString(b[:])
}

// overrideByID returns the stored override with this id, if any.
func (st *state) overrideByID(id string) (*storedOverride, bool) {
	var b [16]byte
	if len(id) != 32 {
		return nil, false
	}
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return nil, false
	}
	st.idCipher.Decrypt(b[:], b[:])
	if [12]byte(b[:12]) != [12]byte{} {
		return nil, false
	}
	seq := uint32(b[12])<<24 | uint32(b[13])<<16 | uint32(b[14])<<8 | uint32(b[15])
	if seq == 0 || int(seq) > len(st.overrides) || st.overrides[seq-1] == nil || st.overrideID(seq) != id {
		return nil, false
	}
	return st.overrides[seq-1], true
}

// newIDCipher returns the cipher of override ids, with a random key.
func newIDCipher() cipher.Block {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	c, _ := aes.NewCipher(key) // a 16-byte key is always valid
	return c
}

// storeOverride returns the compact form of a validated override (list and
// type among the known ones, a SHA-256 override's hash lower case) with the
// next creation number.
func (st *state) storeOverride(o *carbonblack.ReputationOverride) *storedOverride {
	so := &storedOverride{seq: uint32(len(st.overrides) + 1), description: st.intern.str(o.Description), filename: o.Filename,
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
func (st *state) overrideWire(so *storedOverride, apiID string) carbonblack.ReputationOverride {
	o := carbonblack.ReputationOverride{ID: st.overrideID(so.seq), CreatedBy: apiID, Description: so.description,
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

// addOverrideLocked stores an override and indexes it.
func (st *state) addOverrideLocked(so *storedOverride) {
	st.overrides = append(st.overrides, so)
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
	st.overrides[so.seq-1] = nil
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
	var out []*storedOverride
	for _, so := range st.overrides {
		if so != nil {
			out = append(out, so)
		}
	}
	return out
}

// sortBySeq puts overrides in creation order.
func sortBySeq(os []*storedOverride) {
	slices.SortFunc(os, func(a, b *storedOverride) int { return cmp.Compare(a.seq, b.seq) })
}
