package proofpointtest

import (
	"cmp"
	"slices"
	"time"
)

// timeIndex orders the positions of stored items by a time, so that a query
// for a window examines only the items in it. Items are appended in any
// order; the index sorts itself at the first query after an out-of-order
// append.
type timeIndex struct {
	entries []timeEntry
	sorted  bool
}

type timeEntry struct {
	t   time.Time
	pos int
}

func (ix *timeIndex) add(t time.Time, pos int) {
	if n := len(ix.entries); n == 0 || ix.sorted && !t.Before(ix.entries[n-1].t) {
		ix.sorted = true
	} else {
		ix.sorted = false
	}
	ix.entries = append(ix.entries, timeEntry{t: t, pos: pos})
}

// within returns the positions of the items with start <= t < end, in the
// order they were stored.
func (ix *timeIndex) within(start, end time.Time) []int {
	if !ix.sorted {
		slices.SortStableFunc(ix.entries, func(a, b timeEntry) int { return a.t.Compare(b.t) })
		ix.sorted = true
	}
	from, _ := slices.BinarySearchFunc(ix.entries, start, func(e timeEntry, t time.Time) int {
		return cmp.Or(e.t.Compare(t), 1) // the first entry not before start
	})
	to, _ := slices.BinarySearchFunc(ix.entries, end, func(e timeEntry, t time.Time) int {
		return cmp.Or(e.t.Compare(t), 1) // the first entry not before end
	})
	if to < from {
		to = from
	}
	pos := make([]int, 0, to-from)
	for _, e := range ix.entries[from:to] {
		pos = append(pos, e.pos)
	}
	slices.Sort(pos)
	return pos
}

// campaignIndex holds the campaign lookups, rebuilt after campaigns change.
type campaignIndex struct {
	byID      map[string]int    // campaign id -> position
	memberOf  map[string]string // threat id -> the first campaign listing it
	byUpdated timeIndex
}

// campaignIndexLocked returns the campaign lookups, rebuilding them when a
// campaign was added since; callers hold s.mu.
func (s *Server) campaignIndexLocked() *campaignIndex {
	if s.campaignIx != nil {
		return s.campaignIx
	}
	ix := &campaignIndex{byID: map[string]int{}, memberOf: map[string]string{}}
	for i := range s.campaigns {
		ix.addLocked(s.campaigns, i)
	}
	s.campaignIx = ix
	return ix
}

// addLocked indexes campaigns[i], the last one added.
func (ix *campaignIndex) addLocked(campaigns []storedCampaign, i int) {
	sc := campaigns[i]
	ix.byID[sc.c.ID] = i
	for _, m := range sc.c.CampaignMembers {
		if _, found := ix.memberOf[m.ID]; !found {
			ix.memberOf[m.ID] = sc.c.ID
		}
	}
	ix.byUpdated.add(sc.updated, i)
}
