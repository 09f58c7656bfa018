package carbonblacktest

import (
	"crypto/cipher"
	"net/http"

	"github.com/soarkit/soarkit/carbonblack"
)

type state struct {
	denied []denial

	devices     map[int64]*device
	deviceOrder []int64
	policies    []carbonblack.Policy
	actions     []DeviceAction

	alerts       []*crec
	processes    []*crec
	observations []*crec
	ix           indexes
	intern       interner
	jobs         map[string]*job

	binaries    map[hashVal]*binary
	oddBinaries map[string]*binary // by a SHA-256 given that is not 64 hex characters
	links       map[string]*link

	watchlists     map[string]*watchlist
	watchlistOrder []string
	reports        map[[16]byte]*storedReport // by a canonical UUID id
	oddReports     map[string]*storedReport   // by any other id
	reportOrder    []*storedReport            // creation order
	reportTables   reportTables
	ignored        map[string]bool
	feeds          map[string]*feed
	feedOrder      []string

	// overrides are the reputation overrides by creation number (nil once deleted); overridesBySHA chains the
	// SHA-256 overrides of each hash, so a search that names hashes and a create's conflict check do not look at
	// every override; idCipher derives their ids.
	overrides      []*storedOverride
	overridesBySHA map[[32]byte]*storedOverride
	idCipher       cipher.Block

	sessions   map[string]*session
	sessionSeq int
	commands   []CommandRecord
}

func newState() state {
	return state{
		devices:  map[int64]*device{},
		ix:       newIndexes(),
		jobs:     map[string]*job{},
		binaries: map[hashVal]*binary{},

		oddBinaries: map[string]*binary{},
		links:       map[string]*link{},
		watchlists:  map[string]*watchlist{},
		reports:     map[[16]byte]*storedReport{},
		oddReports:  map[string]*storedReport{},
		ignored:     map[string]bool{},
		feeds:       map[string]*feed{},
		sessions:    map[string]*session{},

		overridesBySHA: map[[32]byte]*storedOverride{},
		idCipher:       newIDCipher(),
	}
}

// retired lists the API roots Carbon Black deactivated in 2024; the fake
// answers them 410 Gone.
var retired = []string{
	"POST /appservices/v6/orgs/{org}/alerts/{rest...}",
	"GET /appservices/v6/orgs/{org}/alerts/{rest...}",
	"POST /api/investigate/v2/orgs/{org}/enriched_events/{rest...}",
	"GET /api/investigate/v2/orgs/{org}/enriched_events/{rest...}",
	"POST /api/investigate/v1/orgs/{org}/enriched_events/{rest...}",
	"GET /api/investigate/v1/orgs/{org}/enriched_events/{rest...}",
	"GET /api/investigate/v1/orgs/{org}/processes/search_validation",
	"/integrationServices/v3/{rest...}",
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, fn http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if !s.authorize(w, r) {
				return
			}
			fn(w, r)
		})
	}
	for _, p := range retired {
		h(p, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusGone, "GONE", "This API was deactivated; use its replacement")
		})
	}
	const alerts = "/api/alerts/v7/orgs/{org}/alerts"
	h("POST "+alerts+"/_search", s.searchAlerts)
	h("GET "+alerts+"/{id}", s.getAlert)

	const inv = "/api/investigate/v2/orgs/{org}"
	h("POST "+inv+"/processes/search_validation", s.validatePOST)
	h("GET "+inv+"/observations/search_validation", s.validateGET)
	for _, kind := range []string{"processes", "observations"} {
		h("POST "+inv+"/"+kind+"/search_jobs", s.startJob(kind))
		h("GET "+inv+"/"+kind+"/search_jobs/{id}/results", s.jobResults(kind))
	}
	h("POST "+inv+"/processes/detail_jobs", s.startDetailJob)
	h("POST "+inv+"/observations/detail_jobs", s.startObservationDetailJob)
	h("GET "+inv+"/observations/detail_jobs/{id}/results", s.jobResults("observations"))
	h("POST "+inv+"/processes/summary_jobs", s.startSummaryJob)
	h("GET "+inv+"/processes/summary_jobs/{id}/results", s.summaryResults)
	h("GET "+inv+"/processes/detail_jobs/{id}/results", s.jobResults("processes"))

	const ubs = "/ubs/v1/orgs/{org}"
	h("GET "+ubs+"/sha256/{sha}/metadata", s.binaryMetadata)
	h("GET "+ubs+"/sha256/{sha}/summary/device", s.binaryDevices)
	h("POST "+ubs+"/file/_download", s.downloadLinks)
	mux.HandleFunc("GET /cdc-file-storage/{name}", s.serveStorage)

	const wl = "/threathunter/watchlistmgr/v3/orgs/{org}"
	h("GET "+wl+"/watchlists", s.listWatchlists)
	h("POST "+wl+"/watchlists", s.createWatchlist)
	h("GET "+wl+"/watchlists/{id}", s.getWatchlist)
	h("PUT "+wl+"/watchlists/{id}", s.updateWatchlist)
	h("DELETE "+wl+"/watchlists/{id}", s.deleteWatchlist)
	h("GET "+wl+"/watchlists/{id}/alert", s.watchlistAlert)
	h("PUT "+wl+"/watchlists/{id}/alert", s.watchlistAlert)
	h("DELETE "+wl+"/watchlists/{id}/alert", s.watchlistAlert)
	h("POST "+wl+"/reports", s.createReport)
	h("GET "+wl+"/reports/{id}", s.getReport)
	h("PUT "+wl+"/reports/{id}", s.updateReport)
	h("DELETE "+wl+"/reports/{id}", s.deleteReport)
	h("GET "+wl+"/reports/{id}/ignore", s.reportIgnore)
	h("PUT "+wl+"/reports/{id}/ignore", s.reportIgnore)
	h("DELETE "+wl+"/reports/{id}/ignore", s.reportIgnore)

	const fm = "/threathunter/feedmgr/v2/orgs/{org}"
	h("GET "+fm+"/feeds", s.listFeeds)
	h("POST "+fm+"/feeds", s.createFeed)
	h("GET "+fm+"/feeds/{id}", s.getFeed)
	h("DELETE "+fm+"/feeds/{id}", s.deleteFeed)
	h("PUT "+fm+"/feeds/{id}/feedinfo", s.updateFeedInfo)
	h("GET "+fm+"/feeds/{id}/reports", s.feedReports)
	h("POST "+fm+"/feeds/{id}/reports", s.replaceFeedReports)
	h("PUT "+fm+"/feeds/{id}/reports/{rid}", s.updateFeedReport)
	h("DELETE "+fm+"/feeds/{id}/reports/{rid}", s.deleteFeedReport)

	const rep = "/appservices/v6/orgs/{org}/reputations/overrides"
	h("POST "+rep, s.createOverride)
	h("POST "+rep+"/_search", s.searchOverrides)
	h("GET "+rep+"/{id}", s.getOverride)
	h("DELETE "+rep+"/{id}", s.deleteOverride)

	const dev = "/appservices/v6/orgs/{org}"
	h("POST "+dev+"/devices/_search", s.searchDevices)
	h("GET "+dev+"/devices/{id}", s.getDevice)
	h("POST "+dev+"/device_actions", s.deviceAction)
	h("GET /policyservice/v1/orgs/{org}/policies/summary", s.policySummary)
	h("GET /policyservice/v1/orgs/{org}/policies/{id}", s.getPolicy)

	const lr = "/appservices/v6/orgs/{org}/liveresponse/sessions"
	h("POST "+lr, s.startSession)
	h("GET "+lr+"/{id}", s.getSession)
	h("DELETE "+lr+"/{id}", s.closeSession)
	h("POST "+lr+"/{id}/commands", s.startCommand)
	h("GET "+lr+"/{id}/commands/{cid}", s.getCommand)
	h("GET "+lr+"/{id}/files/{fid}/content", s.fileContent)
	mux.HandleFunc("GET /lr-file-storage/{name}", s.serveStorage)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		notFound(w, "No route for %s %s", r.Method, r.URL.Path)
	})
	return mux
}
