package proofpointtest

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/proofpoint"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/siem/{stream...}", s.siem)
	mux.HandleFunc("GET /v2/forensics", s.forensics)
	mux.HandleFunc("GET /v2/campaign/ids", s.campaignIDs)
	mux.HandleFunc("GET /v2/campaign/{id}", s.campaign)
	mux.HandleFunc("GET /v2/people/vap", s.peopleVAP)
	mux.HandleFunc("GET /v2/people/top-clickers", s.topClickers)
	mux.HandleFunc("POST /v2/url/decode", s.urlDecode)
	mux.HandleFunc("GET /v2/threat/summary/{id}", s.threatSummary)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusNotFound, textNotFound)
	})
	return mux
}

// AddThreatForensics seeds the forensics returned for threatId=threatID.
// A zero Generated is answered with the fake's current time.
func (s *Server) AddThreatForensics(threatID string, f proofpoint.Forensics) {
	s.mu.Lock()
	s.threatForensics[threatID] = f
	s.mu.Unlock()
}

// AddCampaignForensics seeds the forensics returned for
// campaignId=campaignID, and appended to a threat's forensics when asked
// with includeCampaignForensics=true for a threat that is a member of the
// campaign (see [Server.AddCampaign]).
func (s *Server) AddCampaignForensics(campaignID string, f proofpoint.Forensics) {
	s.mu.Lock()
	s.campaignForensics[campaignID] = f
	s.mu.Unlock()
}

type storedCampaign struct {
	c       proofpoint.Campaign
	updated time.Time
}

// AddCampaign seeds a campaign; campaign/ids lists it for intervals that
// contain lastUpdatedAt. Adding a campaign with a known id replaces it.
func (s *Server) AddCampaign(c proofpoint.Campaign, lastUpdatedAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.campaignIndexLocked()
	if i, found := ix.byID[c.ID]; found {
		// A replacement moves every later campaign: the lookups are rebuilt when next needed.
		s.campaigns = slices.Delete(s.campaigns, i, i+1)
		s.campaignIx = nil
	}
	s.campaigns = append(s.campaigns, storedCampaign{c: c, updated: lastUpdatedAt})
	if s.campaignIx != nil {
		ix.addLocked(s.campaigns, len(s.campaigns)-1)
	}
}

// AddVAPUser seeds a very attacked person.
func (s *Server) AddVAPUser(u proofpoint.VAPUser) {
	s.mu.Lock()
	// After every user with the same attack index or a higher one.
	i := sort.Search(len(s.vapByIndex), func(i int) bool {
		return s.vapByIndex[i].ThreatStatistics.AttackIndex < u.ThreatStatistics.AttackIndex
	})
	s.vapByIndex = slices.Insert(s.vapByIndex, i, u)
	s.vapIndexSum += float64(u.ThreatStatistics.AttackIndex)
	s.mu.Unlock()
}

// AddTopClicker seeds a top clicker.
func (s *Server) AddTopClicker(u proofpoint.TopClicker) {
	s.mu.Lock()
	i := sort.Search(len(s.clickersByRank), func(i int) bool {
		return s.clickersByRank[i].ClickStatistics.ClickCount < u.ClickStatistics.ClickCount
	})
	s.clickersByRank = slices.Insert(s.clickersByRank, i, u)
	s.mu.Unlock()
}

// AddDecodedURL makes url/decode answer decoded for encoded, whatever the
// fake's own decoder would say.
func (s *Server) AddDecodedURL(encoded, decoded string) {
	s.mu.Lock()
	s.decoded[encoded] = decoded
	s.mu.Unlock()
}

// AddThreatSummary seeds the summary of threat t.ID.
func (s *Server) AddThreatSummary(t proofpoint.ThreatSummary) {
	s.mu.Lock()
	s.summaries[t.ID] = t
	s.mu.Unlock()
}

func (s *Server) forensics(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	q := r.URL.Query()
	threatID, campaignID := q.Get("threatId"), q.Get("campaignId")
	pool := proofpoint.PoolForensicsThreat
	if campaignID != "" && threatID == "" {
		pool = proofpoint.PoolForensicsCampaign
	}
	if !s.charge(w, pool) {
		return
	}
	if (threatID == "") == (campaignID == "") {
		writeText(w, http.StatusBadRequest, TextForensicsParams)
		return
	}
	include := false
	if q.Has("includeCampaignForensics") {
		v, err := strconv.ParseBool(q.Get("includeCampaignForensics"))
		if err != nil || threatID == "" {
			writeText(w, http.StatusBadRequest, TextForensicsInclude)
			return
		}
		include = v
	}
	s.mu.Lock()
	var f proofpoint.Forensics
	var ok bool
	if threatID != "" {
		f, ok = s.threatForensics[threatID]
		if ok && include {
			if cf, found := s.campaignForensics[s.campaignOf(threatID)]; found {
				f.Reports = append(slices.Clone(f.Reports), cf.Reports...)
			}
		}
	} else {
		f, ok = s.campaignForensics[campaignID]
	}
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusNotFound, textNotFound)
		return
	}
	if f.Generated.IsZero() {
		f.Generated = proofpoint.Time{Time: s.cfg.clock.Now().UTC()}
	}
	fakehttp.WriteJSON(w, http.StatusOK, f)
}

// campaignOf returns the id of the campaign threatID belongs to; callers
// hold s.mu.
func (s *Server) campaignOf(threatID string) string {
	return s.campaignIndexLocked().memberOf[threatID]
}

// paging reads size and page; ok is false after answering 400.
func paging(w http.ResponseWriter, q url.Values) (size, page int, ok bool) {
	size, page = proofpoint.DefaultPageSize, 1
	var err error
	if q.Has("size") {
		if size, err = strconv.Atoi(q.Get("size")); err != nil || size < 1 || size > proofpoint.MaxPageSize {
			writeText(w, http.StatusBadRequest, TextPaging)
			return 0, 0, false
		}
	}
	if q.Has("page") {
		if page, err = strconv.Atoi(q.Get("page")); err != nil || page < 1 {
			writeText(w, http.StatusBadRequest, TextPaging)
			return 0, 0, false
		}
	}
	return size, page, true
}

// pageOf cuts page number page of the given size out of items.
func pageOf[T any](items []T, size, page int) []T {
	start := (page - 1) * size
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+size, len(items))]
}

func (s *Server) campaignIDs(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) || !s.charge(w, proofpoint.PoolCampaignIDs) {
		return
	}
	q := r.URL.Query()
	iv, err := proofpoint.ParseInterval(q.Get("interval"))
	if err != nil || iv.Duration() < proofpoint.MinWindow || iv.Duration() > proofpoint.MaxCampaignWindow {
		writeText(w, http.StatusBadRequest, TextCampaignInterval)
		return
	}
	size, page, ok := paging(w, q)
	if !ok {
		return
	}
	type ref struct {
		ID            string `json:"id"`
		LastUpdatedAt string `json:"lastUpdatedAt"`
	}
	var refs []ref
	s.mu.Lock()
	in := s.campaignIndexLocked().byUpdated.within(iv.Start, iv.End)
	s.examined += len(in)
	for _, i := range in {
		sc := s.campaigns[i]
		refs = append(refs, ref{ID: sc.c.ID, LastUpdatedAt: sc.updated.UTC().Format("2006-01-02T15:04:05.000Z")})
	}
	s.mu.Unlock()
	got := pageOf(refs, size, page)
	if len(got) == 0 {
		writeText(w, http.StatusNotFound, textNotFound)
		return
	}
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{"campaigns": got})
}

func (s *Server) campaign(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	idx, found := s.campaignIndexLocked().byID[id]
	if !found {
		idx = -1
	}
	var c proofpoint.Campaign
	if idx >= 0 {
		c = s.campaigns[idx].c
		s.examined++
	}
	s.mu.Unlock()
	if idx < 0 {
		writeText(w, http.StatusNotFound, textNotFound)
		return
	}
	if c.CampaignMembers == nil {
		c.CampaignMembers = []proofpoint.CampaignMember{}
	}
	fakehttp.WriteJSON(w, http.StatusOK, c)
}

// peopleReport authorizes and charges a people request and validates its
// window, size and page; ok is false after answering.
func (s *Server) peopleReport(w http.ResponseWriter, r *http.Request, pool proofpoint.Pool) (interval string, size, page int, ok bool) {
	if !s.authorize(w, r) || !s.charge(w, pool) {
		return "", 0, 0, false
	}
	q := r.URL.Query()
	days, err := strconv.Atoi(q.Get("window"))
	if err != nil || (days != 14 && days != 30 && days != 90) {
		writeText(w, http.StatusBadRequest, TextWindow)
		return "", 0, 0, false
	}
	if size, page, ok = paging(w, q); !ok {
		return "", 0, 0, false
	}
	now := s.cfg.clock.Now().UTC().Truncate(time.Second)
	interval = proofpoint.Interval{Start: now.AddDate(0, 0, -days), End: now}.String()
	return interval, size, page, true
}

func (s *Server) peopleVAP(w http.ResponseWriter, r *http.Request) {
	interval, size, page, ok := s.peopleReport(w, r, proofpoint.PoolPeopleVAP)
	if !ok {
		return
	}
	// The users are kept in the report's order with their sum: a page is all a request copies.
	s.mu.Lock()
	total := len(s.vapByIndex)
	users := slices.Clone(pageOf(s.vapByIndex, size, page))
	avg := 0.0
	if total > 0 {
		avg = s.vapIndexSum / float64(total)
	}
	s.examined += len(users)
	s.mu.Unlock()
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{
		"users":                   users,
		"totalVapUsers":           total,
		"interval":                interval,
		"averageAttackIndex":      avg,
		"vapAttackIndexThreshold": s.cfg.vapThreshold,
	})
}

func (s *Server) topClickers(w http.ResponseWriter, r *http.Request) {
	interval, size, page, ok := s.peopleReport(w, r, proofpoint.PoolPeopleTopClickers)
	if !ok {
		return
	}
	s.mu.Lock()
	total := len(s.clickersByRank)
	users := slices.Clone(pageOf(s.clickersByRank, size, page))
	s.examined += len(users)
	s.mu.Unlock()
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{
		"users":            users,
		"totalTopClickers": total,
		"interval":         interval,
	})
}

func (s *Server) threatSummary(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	s.mu.Lock()
	t, ok := s.summaries[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusNotFound, textNotFound)
		return
	}
	fakehttp.WriteJSON(w, http.StatusOK, t)
}

func (s *Server) urlDecode(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) || !s.charge(w, proofpoint.PoolURLDecode) {
		return
	}
	var body struct {
		URLs []string `json:"urls"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || decodeJSON(r, &body) != nil || len(body.URLs) == 0 {
		writeText(w, http.StatusBadRequest, TextDecodeBody)
		return
	}
	type result struct {
		EncodedURL string `json:"encodedUrl"`
		DecodedURL string `json:"decodedUrl,omitempty"`
		Success    bool   `json:"success"`
	}
	out := make([]result, 0, len(body.URLs))
	s.mu.Lock()
	for _, u := range body.URLs {
		dec, ok := s.decoded[u]
		if !ok {
			var err error
			dec, err = DecodeURLDefense(u)
			ok = err == nil
		}
		out = append(out, result{EncodedURL: u, DecodedURL: dec, Success: ok})
	}
	s.mu.Unlock()
	fakehttp.WriteJSON(w, http.StatusOK, map[string]any{"urls": out})
}
