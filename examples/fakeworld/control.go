package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
	"github.com/soarkit/soarkit/internal/fakehttp"
	"github.com/soarkit/soarkit/proofpoint"
	"github.com/soarkit/soarkit/sentinelone"
	"github.com/soarkit/soarkit/sentinelone/sentinelonetest"
	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// webhookSecret is the secret the examples sign webhook deliveries with.
const webhookSecret = "fakeworld-webhook-secret"

// maxControlBody bounds a control request's body (seeded files included).
const maxControlBody = 64 << 20

// controlHandler serves the control API (see README.md for every call).
func (s *Service) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /env", s.getEnv)
	mux.HandleFunc("POST /reset", s.reset)
	mux.HandleFunc("GET /requests/{service}", s.getRequests)
	mux.HandleFunc("POST /faults/{service}", s.addFault)
	mux.HandleFunc("DELETE /faults/{service}", s.clearFaults)
	mux.HandleFunc("POST /webhook", s.receiveWebhook)
	mux.HandleFunc("GET /webhook/calls", func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, s.hooks.calls()) })

	mux.HandleFunc("POST /vmray/samples", s.addVMRaySample)
	mux.HandleFunc("POST /vmray/outcomes", s.setVMRayOutcome)
	mux.HandleFunc("GET /vmray/samples", func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, s.World().VMRay.Samples()) })
	mux.HandleFunc("GET /vmray/submissions", s.getVMRaySubmissions)
	mux.HandleFunc("GET /vmray/unlocks", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().VMRay.Unlocks()))
	})

	mux.HandleFunc("POST /carbonblack/devices", s.addCBDevice)
	mux.HandleFunc("POST /carbonblack/alerts", s.addCBAlert)
	mux.HandleFunc("POST /carbonblack/processes", s.addCBProcess)
	mux.HandleFunc("POST /carbonblack/observations", s.addCBObservation)
	mux.HandleFunc("POST /carbonblack/binaries", s.addCBBinary)
	mux.HandleFunc("POST /carbonblack/device-files", s.addCBDeviceFile)
	mux.HandleFunc("POST /carbonblack/device-processes", s.addCBDeviceProcess)
	mux.HandleFunc("GET /carbonblack/alerts", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.Alerts()))
	})
	mux.HandleFunc("GET /carbonblack/reports", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.Reports()))
	})
	mux.HandleFunc("GET /carbonblack/watchlists", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.Watchlists()))
	})
	mux.HandleFunc("GET /carbonblack/bans", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.Overrides()))
	})
	mux.HandleFunc("GET /carbonblack/device-actions", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.DeviceActions()))
	})
	mux.HandleFunc("GET /carbonblack/liveresponse/commands", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().CarbonBlack.Commands()))
	})

	mux.HandleFunc("POST /sentinelone/agents", s.addS1Agent)
	mux.HandleFunc("POST /sentinelone/threats", s.addS1Threat)
	mux.HandleFunc("POST /sentinelone/agent-files", s.addS1AgentFile)
	mux.HandleFunc("GET /sentinelone/notes", s.getS1Notes)
	mux.HandleFunc("GET /sentinelone/blocklist", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().SentinelOne.Restrictions()))
	})
	mux.HandleFunc("GET /sentinelone/iocs", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, orEmpty(s.World().SentinelOne.IOCs()))
	})
	mux.HandleFunc("GET /sentinelone/actions", s.getS1Actions)

	mux.HandleFunc("POST /proofpoint/messages", s.addTAPMessage)
	mux.HandleFunc("POST /proofpoint/clicks", s.addTAPClick)
	return mux
}

// reply writes v as JSON.
func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers {"error": msg}.
func fail(w http.ResponseWriter, status int, format string, args ...any) {
	reply(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// decode reads a JSON body into v. Unknown fields are ignored, as the
// vendors' own objects carry more fields than the typed clients read.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody)).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "body: %v", err)
		return false
	}
	return true
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// content is a file's bytes as text or base64.
type content struct {
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"content_base64,omitempty"`
}

func (c content) bytes() ([]byte, error) {
	if c.ContentBase64 != "" {
		if c.Content != "" {
			return nil, errors.New("give content or content_base64, not both")
		}
		return base64.StdEncoding.DecodeString(c.ContentBase64)
	}
	return []byte(c.Content), nil
}

func (s *Service) getEnv(w http.ResponseWriter, r *http.Request) {
	ep := s.endpoints()
	if name := r.URL.Query().Get("example"); name != "" {
		if !isExample(name) {
			fail(w, http.StatusNotFound, "unknown example %q", name)
			return
		}
		reply(w, http.StatusOK, envFor(name, ep, s.caFile))
		return
	}
	all := map[string]map[string]string{}
	for _, n := range exampleNames() {
		all[n] = envFor(n, ep, s.caFile)
	}
	reply(w, http.StatusOK, all)
}

func (s *Service) reset(w http.ResponseWriter, r *http.Request) {
	if err := s.Reset(); err != nil {
		fail(w, http.StatusInternalServerError, "reset: %v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// faultTarget is the fault-injection surface every fake shares.
type faultTarget interface {
	InjectFault(fakehttp.Fault)
	ClearFaults()
	Requests() []fakehttp.Request
}

func (s *Service) target(w http.ResponseWriter, r *http.Request) (faultTarget, bool) {
	wd := s.World()
	switch r.PathValue("service") {
	case "vmray":
		return wd.VMRay, true
	case "carbonblack":
		return wd.CarbonBlack, true
	case "sentinelone":
		return wd.SentinelOne, true
	case "proofpoint":
		return wd.Proofpoint, true
	case "nsx":
		return nsxTarget{wd}, true
	}
	fail(w, http.StatusNotFound, "unknown service %q (vmray, carbonblack, sentinelone, proofpoint, nsx)", r.PathValue("service"))
	return nil, false
}

// nsxTarget gives the NSX fake, which has no fault injection, the
// faultTarget shape: faults are refused, requests are listed.
type nsxTarget struct{ w *World }

func (n nsxTarget) InjectFault(fakehttp.Fault)   {}
func (n nsxTarget) ClearFaults()                 {}
func (n nsxTarget) Requests() []fakehttp.Request { return n.w.NSX.Requests() }

// requestView is one recorded request as the control API shows it.
type requestView struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  string              `json:"query,omitempty"`
	Header map[string][]string `json:"header,omitempty"`
	Body   string              `json:"body,omitempty"`
	Time   time.Time           `json:"time"`
}

func (s *Service) getRequests(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	out := []requestView{}
	for _, q := range t.Requests() {
		h := q.Header.Clone()
		for _, secret := range []string{"Authorization", "X-Auth-Token"} {
			if h.Get(secret) != "" {
				h.Set(secret, "REDACTED")
			}
		}
		out = append(out, requestView{Method: q.Method, Path: q.Path, Query: q.RawQuery, Header: h, Body: string(q.Body), Time: q.Time})
	}
	reply(w, http.StatusOK, out)
}

// faultSpec is a fault as the control API takes it.
type faultSpec struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Times       int    `json:"times"`
	Latency     string `json:"latency"`
	Status      int    `json:"status"`
	RetryAfter  string `json:"retry_after"`
	Body        string `json:"body"`
	ContentType string `json:"content_type"`
	Drop        bool   `json:"drop"`
	Malformed   bool   `json:"malformed"`
}

func (s *Service) addFault(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	if _, isNSX := t.(nsxTarget); isNSX {
		fail(w, http.StatusBadRequest, "the NSX fake takes no faults")
		return
	}
	var f faultSpec
	if !decode(w, r, &f) {
		return
	}
	var lat time.Duration
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 {
			fail(w, http.StatusBadRequest, "latency %q: want a Go duration such as 250ms", f.Latency)
			return
		}
		lat = d
	}
	if f.Times < 0 || (f.Status != 0 && (f.Status < 100 || f.Status > 599)) {
		fail(w, http.StatusBadRequest, "times must be >= 0 and status a HTTP status")
		return
	}
	if f.Status == 0 && lat == 0 && !f.Drop && !f.Malformed {
		fail(w, http.StatusBadRequest, "a fault needs status, latency, drop or malformed")
		return
	}
	t.InjectFault(fakehttp.Fault{Method: f.Method, Path: f.Path, Times: f.Times, Latency: lat, Status: f.Status,
		RetryAfter: f.RetryAfter, Body: f.Body, ContentType: f.ContentType, Drop: f.Drop, Malformed: f.Malformed})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) clearFaults(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.target(w, r); ok {
		t.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}
}

// webhookCall is one delivery the webhook receiver got.
type webhookCall struct {
	Header map[string][]string `json:"header"`
	Body   json.RawMessage     `json:"body"`
	Time   time.Time           `json:"time"`
}

// webhookLog keeps the webhook deliveries.
type webhookLog struct {
	mu   sync.Mutex
	list []webhookCall
}

func (l *webhookLog) add(c webhookCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, c)
}

func (l *webhookLog) calls() []webhookCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]webhookCall{}, l.list...)
}

func (l *webhookLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = nil
}

func (s *Service) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		fail(w, http.StatusBadRequest, "body: %v", err)
		return
	}
	body := json.RawMessage(b)
	if !json.Valid(b) {
		body, _ = json.Marshal(string(b))
	}
	s.hooks.add(webhookCall{Header: r.Header.Clone(), Body: body, Time: s.now().UTC()})
	w.WriteHeader(http.StatusNoContent)
}

// outcomeSpec is a VMRay analysis outcome as the control API takes it.
type outcomeSpec struct {
	Verdict         vmray.Verdict           `json:"verdict"`
	Score           int                     `json:"score"`
	Classifications []string                `json:"classifications"`
	ThreatNames     []string                `json:"threat_names"`
	VTIs            []vmray.ThreatIndicator `json:"vtis"`
	IOCs            vmray.IOCs              `json:"iocs"`
	FailAnalysis    string                  `json:"fail_analysis"`
}

func (o outcomeSpec) outcome() vmraytest.Outcome {
	return vmraytest.Outcome{Verdict: o.Verdict, Score: o.Score, Classifications: o.Classifications, ThreatNames: o.ThreatNames,
		VTIs: o.VTIs, IOCs: o.IOCs, FailAnalysis: o.FailAnalysis}
}

func (s *Service) addVMRaySample(w http.ResponseWriter, r *http.Request) {
	var in struct {
		content
		Filename string      `json:"filename"`
		SHA256   string      `json:"sha256"`
		Locked   bool        `json:"locked"`
		Outcome  outcomeSpec `json:"outcome"`
	}
	if !decode(w, r, &in) {
		return
	}
	b, err := in.bytes()
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	smp, err := s.World().VMRay.AddSample(vmraytest.Sample{Filename: in.Filename, Content: b, SHA256: in.SHA256, Locked: in.Locked,
		Outcome: in.Outcome.outcome()})
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	reply(w, http.StatusCreated, smp)
}

func (s *Service) setVMRayOutcome(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SHA256  string      `json:"sha256"`
		Outcome outcomeSpec `json:"outcome"`
	}
	if !decode(w, r, &in) {
		return
	}
	if len(in.SHA256) != 64 {
		fail(w, http.StatusBadRequest, "sha256 must be 64 hex digits")
		return
	}
	s.World().VMRay.SetOutcome(in.SHA256, in.Outcome.outcome())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) getVMRaySubmissions(w http.ResponseWriter, r *http.Request) {
	vm := s.World().VMRay
	out := []vmray.Submission{}
	if h := r.URL.Query().Get("sha256"); h != "" {
		out = append(out, vm.SubmissionsFor(h)...)
	} else {
		for _, smp := range vm.Samples() {
			out = append(out, vm.SubmissionsFor(smp.SHA256)...)
		}
	}
	reply(w, http.StatusOK, out)
}

func (s *Service) addCBDevice(w http.ResponseWriter, r *http.Request) {
	var d carbonblack.Device
	if decode(w, r, &d) {
		reply(w, http.StatusCreated, s.World().CarbonBlack.AddDevice(d))
	}
}

func (s *Service) addCBAlert(w http.ResponseWriter, r *http.Request) {
	var a carbonblack.Alert
	if decode(w, r, &a) {
		reply(w, http.StatusCreated, s.World().CarbonBlack.AddAlert(a))
	}
}

func (s *Service) addCBProcess(w http.ResponseWriter, r *http.Request) {
	var p carbonblack.Process
	if decode(w, r, &p) {
		s.World().CarbonBlack.AddProcess(p)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Service) addCBObservation(w http.ResponseWriter, r *http.Request) {
	var o carbonblack.Observation
	if decode(w, r, &o) {
		s.World().CarbonBlack.AddObservation(o)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Service) addCBBinary(w http.ResponseWriter, r *http.Request) {
	var in content
	if !decode(w, r, &in) {
		return
	}
	b, err := in.bytes()
	if err != nil || len(b) == 0 {
		fail(w, http.StatusBadRequest, "content: %v", errOrEmpty(err))
		return
	}
	sha, err := s.World().CarbonBlack.AddBinary(carbonblacktest.Binary{Content: b})
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	reply(w, http.StatusCreated, map[string]string{"sha256": sha})
}

func errOrEmpty(err error) error {
	if err == nil {
		return errors.New("empty")
	}
	return err
}

func (s *Service) addCBDeviceFile(w http.ResponseWriter, r *http.Request) {
	var in struct {
		content
		DeviceID int64  `json:"device_id"`
		Path     string `json:"path"`
	}
	if !decode(w, r, &in) {
		return
	}
	b, err := in.bytes()
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := s.World().CarbonBlack.AddDeviceFile(in.DeviceID, in.Path, b); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) addCBDeviceProcess(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeviceID int64                 `json:"device_id"`
		Process  carbonblack.LRProcess `json:"process"`
	}
	if !decode(w, r, &in) {
		return
	}
	if err := s.World().CarbonBlack.AddDeviceProcess(in.DeviceID, in.Process); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) addS1Agent(w http.ResponseWriter, r *http.Request) {
	var a sentinelone.Agent
	if !decode(w, r, &a) {
		return
	}
	wd := s.World()
	a = wd.SentinelOne.AddAgent(a)
	wd.remember(&wd.agentIDs, a.ID)
	reply(w, http.StatusCreated, a)
}

func (s *Service) addS1Threat(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Threat sentinelone.Threat `json:"threat"`
		File   *struct {
			content
			Path string `json:"path"`
		} `json:"file"`
	}
	if !decode(w, r, &in) {
		return
	}
	wd := s.World()
	t := wd.SentinelOne.AddThreat(in.Threat)
	wd.remember(&wd.threatIDs, t.ID)
	if in.File != nil {
		b, err := in.File.bytes()
		if err != nil {
			fail(w, http.StatusBadRequest, "file: %v", err)
			return
		}
		if !wd.SentinelOne.SetThreatFile(t.ID, sentinelonetest.File{Path: in.File.Path, Content: b}) {
			fail(w, http.StatusBadRequest, "threat %s: file not accepted", t.ID)
			return
		}
	}
	reply(w, http.StatusCreated, t)
}

func (s *Service) addS1AgentFile(w http.ResponseWriter, r *http.Request) {
	var in struct {
		content
		AgentID string `json:"agent_id"`
		Path    string `json:"path"`
	}
	if !decode(w, r, &in) {
		return
	}
	b, err := in.bytes()
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if !s.World().SentinelOne.AddAgentFile(in.AgentID, sentinelonetest.File{Path: in.Path, Content: b}) {
		fail(w, http.StatusNotFound, "no agent %q", in.AgentID)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) getS1Notes(w http.ResponseWriter, r *http.Request) {
	wd := s.World()
	ids := wd.known(wd.threatIDs)
	if id := r.URL.Query().Get("threat_id"); id != "" {
		ids = []string{id}
	}
	out := map[string][]sentinelone.Note{}
	for _, id := range ids {
		if n := wd.SentinelOne.Notes(id); len(n) > 0 {
			out[id] = n
		}
	}
	reply(w, http.StatusOK, out)
}

func (s *Service) getS1Actions(w http.ResponseWriter, r *http.Request) {
	wd := s.World()
	out := struct {
		Threats map[string][]string `json:"threats"`
		Agents  map[string][]string `json:"agents"`
	}{map[string][]string{}, map[string][]string{}}
	for _, id := range wd.known(wd.threatIDs) {
		if a := wd.SentinelOne.ThreatActions(id); len(a) > 0 {
			out.Threats[id] = a
		}
	}
	for _, id := range wd.known(wd.agentIDs) {
		if a := wd.SentinelOne.AgentActions(id); len(a) > 0 {
			out.Agents[id] = a
		}
	}
	reply(w, http.StatusOK, out)
}

func (s *Service) addTAPMessage(w http.ResponseWriter, r *http.Request) {
	pp := s.World().Proofpoint
	addTAPEvent(w, r, "message", map[string]func(proofpoint.Message, time.Time){
		"delivered": pp.AddDeliveredMessage, "blocked": pp.AddBlockedMessage})
}

func (s *Service) addTAPClick(w http.ResponseWriter, r *http.Request) {
	pp := s.World().Proofpoint
	addTAPEvent(w, r, "click", map[string]func(proofpoint.Click, time.Time){
		"permitted": pp.AddPermittedClick, "blocked": pp.AddBlockedClick})
}

// addTAPEvent reads {"kind": ..., "<field>": event, "indexed_at": time} and
// seeds the event with the adder of its kind.
func addTAPEvent[T any](w http.ResponseWriter, r *http.Request, field string, adders map[string]func(T, time.Time)) {
	var in struct {
		Kind      string
		IndexedAt time.Time
	}
	var raw map[string]json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	var ev T
	if err := errors.Join(unmarshalIf(raw["kind"], &in.Kind), unmarshalIf(raw["indexed_at"], &in.IndexedAt),
		unmarshalIf(raw[field], &ev)); err != nil {
		fail(w, http.StatusBadRequest, "body: %v", err)
		return
	}
	add, ok := adders[in.Kind]
	if !ok {
		kinds := make([]string, 0, len(adders))
		for k := range adders {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		fail(w, http.StatusBadRequest, "kind must be one of %v", kinds)
		return
	}
	add(ev, in.IndexedAt)
	w.WriteHeader(http.StatusNoContent)
}

// unmarshalIf decodes raw into v when raw is present.
func unmarshalIf(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}
