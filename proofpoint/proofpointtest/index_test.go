package proofpointtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/soarkit/soarkit/proofpoint"
)

// examinedBy returns how many stored items fn made the fake look at.
func examinedBy(s *Server, fn func()) int {
	s.mu.Lock()
	before := s.examined
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.examined - before
}

// Each request looks only at the items it answers with, however many the
// fake holds: a SIEM window at its messages and clicks, campaign/ids at the
// campaigns updated in its interval, a campaign and a threat's campaign by
// id, a people report at its page. Items seeded out of time order still come
// in the order they were added.
func TestRequestsExamineOnlyTheirAnswer(t *testing.T) {
	const n = 3000
	t0 := time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)
	s := NewServer(t, WithClock(NewManualClock(t0)))
	// n messages and clicks a second apart over the last hours, added newest first.
	for i := range n {
		at := t0.Add(-time.Duration(i+1) * time.Second)
		s.AddDeliveredMessage(proofpoint.Message{GUID: fmt.Sprintf("m%05d", i), MessageTime: proofpoint.Time{Time: at}}, time.Time{})
		s.AddPermittedClick(proofpoint.Click{ID: fmt.Sprintf("c%05d", i), ClickTime: proofpoint.Time{Time: at}, ThreatStatus: "active"}, time.Time{})
		s.AddCampaign(proofpoint.Campaign{ID: fmt.Sprintf("camp%05d", i),
			CampaignMembers: []proofpoint.CampaignMember{{ID: fmt.Sprintf("threat%05d", i)}}}, at)
		s.AddVAPUser(proofpoint.VAPUser{Identity: proofpoint.Identity{GUID: fmt.Sprintf("v%05d", i)},
			ThreatStatistics: proofpoint.ThreatStatistics{AttackIndex: int64(i % 7)}})
		s.AddTopClicker(proofpoint.TopClicker{Identity: proofpoint.Identity{GUID: fmt.Sprintf("t%05d", i)},
			ClickStatistics: proofpoint.ClickStatistics{ClickCount: int64(i % 5)}})
	}
	c := s.Client()
	ctx := context.Background()

	// The minute from 10 to 9 minutes ago holds the items 540 to 599 (60 each).
	win := proofpoint.Interval{Start: t0.Add(-10 * time.Minute), End: t0.Add(-9 * time.Minute)}
	var ev *proofpoint.Events
	if got := examinedBy(s, func() {
		var err error
		if ev, err = c.SIEM.List(ctx, proofpoint.StreamAll, proofpoint.SIEMOptions{Interval: win}); err != nil {
			t.Fatal(err)
		}
	}); got != 120 {
		t.Errorf("a SIEM minute examined %d items, want its 60 messages and 60 clicks", got)
	}
	var guids []string
	for _, m := range ev.MessagesDelivered {
		guids = append(guids, m.GUID)
	}
	if len(guids) != 60 || guids[0] != "m00540" || guids[59] != "m00599" || !slices.IsSorted(guids) {
		t.Errorf("the window's messages: %d, %v ... %v; want m00540 to m00599 in the order added", len(guids), guids[:1], guids[len(guids)-1:])
	}

	day := proofpoint.Interval{Start: t0.Add(-20 * time.Minute), End: t0.Add(-10 * time.Minute)}
	if got := examinedBy(s, func() {
		page, err := c.Campaigns.ListIDs(ctx, proofpoint.CampaignIDsOptions{Interval: day, Size: 200})
		if err != nil || len(page.Campaigns) != 200 || page.Campaigns[0].ID != "camp00600" {
			t.Errorf("campaign ids: %+v %v", page, err)
		}
	}); got != 600 {
		t.Errorf("campaign/ids over 10 minutes examined %d campaigns, want the 600 updated in them", got)
	}
	if got := examinedBy(s, func() {
		if cp, err := c.Campaigns.Get(ctx, "camp01234"); err != nil || cp.ID != "camp01234" {
			t.Errorf("campaign: %+v %v", cp, err)
		}
	}); got != 1 {
		t.Errorf("a campaign by id examined %d, want 1", got)
	}
	s.mu.Lock()
	if got := s.campaignOf("threat02999"); got != "camp02999" {
		t.Errorf("threat02999 is in campaign %q, want camp02999", got)
	}
	s.mu.Unlock()

	if got := examinedBy(s, func() {
		page, err := c.People.ListVAP(ctx, proofpoint.PeopleOptions{Window: 14, Size: 10, Page: 2})
		if err != nil || page.TotalVAPUsers != n || len(page.Users) != 10 || page.Users[0].ThreatStatistics.AttackIndex != 6 ||
			page.Users[0].Identity.GUID != "v00076" {
			t.Errorf("vap page 2: %+v %v", page, err)
		}
	}); got != 10 {
		t.Errorf("a VAP page of 10 examined %d users", got)
	}
	if got := examinedBy(s, func() {
		page, err := c.People.ListTopClickers(ctx, proofpoint.PeopleOptions{Window: 14, Size: 5})
		if err != nil || page.TotalTopClickers != n || len(page.Users) != 5 || page.Users[4].Identity.GUID != "t00024" {
			t.Errorf("top clickers: %+v %v", page, err)
		}
	}); got != 5 {
		t.Errorf("a top-clickers page of 5 examined %d", got)
	}
}
