package carbonblacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/carbonblack"
)

// device is a device record plus the state Live Response works on.
type device struct {
	d        carbonblack.Device
	procs    []carbonblack.LRProcess
	files    map[string][]byte
	registry map[string]string // lower-cased path -> path as created
}

// AddDevice stores a device. Zero id gets the next free id; an empty status
// becomes REGISTERED; nil sensor states become ACTIVE and
// LIVE_RESPONSE_ENABLED (give other states to model a device without Live
// Response). It returns the stored device.
func (s *Server) AddDevice(d carbonblack.Device) carbonblack.Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == 0 {
		d.ID = 1000
		for _, id := range s.st.deviceOrder {
			d.ID = max(d.ID, id+1)
		}
	}
	if d.Status == "" {
		d.Status = "REGISTERED"
	}
	if d.SensorStates == nil {
		d.SensorStates = []string{carbonblack.SensorStateActive, "LIVE_RESPONSE_NOT_RUNNING", carbonblack.SensorStateLiveResponseEnabled}
	}
	if d.LastContactTime.IsZero() {
		d.LastContactTime.Time = s.now()
	}
	if d.OS == "" {
		d.OS = "WINDOWS"
	}
	if d.PolicyName == "" && d.PolicyID != 0 {
		for _, p := range s.st.policies {
			if p.ID == d.PolicyID {
				d.PolicyName = p.Name
			}
		}
	}
	if _, ok := s.st.devices[d.ID]; !ok {
		s.st.deviceOrder = append(s.st.deviceOrder, d.ID)
	}
	s.st.devices[d.ID] = &device{d: d, files: map[string][]byte{}, registry: map[string]string{}}
	return d
}

// Device returns a device as it is now (after actions).
func (s *Server) Device(id int64) (carbonblack.Device, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[id]
	if !ok {
		return carbonblack.Device{}, false
	}
	return d.d, true
}

// AddDeviceProcess adds a process to a device's process table (for Live
// Response process list and kill).
func (s *Server) AddDeviceProcess(deviceID int64, p carbonblack.LRProcess) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[deviceID]
	if !ok {
		return fmt.Errorf("%w: device %d", errNoSuch, deviceID)
	}
	if p.CreateTime.IsZero() {
		p.CreateTime.Time = s.now()
	}
	d.procs = append(d.procs, p)
	return nil
}

// DeviceProcesses returns a device's process table.
func (s *Server) DeviceProcesses(deviceID int64) []carbonblack.LRProcess {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.st.devices[deviceID]; ok {
		return slices.Clone(d.procs)
	}
	return nil
}

// AddDeviceFile puts a file on a device's file system (Windows paths are
// compared case-insensitively).
func (s *Server) AddDeviceFile(deviceID int64, path string, content []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[deviceID]
	if !ok {
		return fmt.Errorf("%w: device %d", errNoSuch, deviceID)
	}
	d.files[fileKey(path)] = append([]byte(nil), content...)
	return nil
}

// DeviceFile returns a file of a device's file system.
func (s *Server) DeviceFile(deviceID int64, path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[deviceID]
	if !ok {
		return nil, false
	}
	b, ok := d.files[fileKey(path)]
	return b, ok
}

// RegistryKeys returns the registry keys Live Response created on a device.
func (s *Server) RegistryKeys(deviceID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[deviceID]
	if !ok {
		return nil
	}
	var out []string
	for _, k := range d.registry {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fileKey(p string) string { return strings.ToLower(strings.ReplaceAll(p, "/", `\`)) }

// AddPolicy stores a policy (for UPDATE_POLICY and the policy service).
func (s *Server) AddPolicy(p carbonblack.Policy) carbonblack.Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == 0 {
		p.ID = 6000 + int64(len(s.st.policies))
	}
	if p.OrgKey == "" {
		p.OrgKey = s.opts.orgKey
	}
	if p.PriorityLevel == "" {
		p.PriorityLevel = "MEDIUM"
	}
	s.st.policies = append(s.st.policies, p)
	return p
}

// DeviceAction is a device action the fake received.
type DeviceAction struct {
	ActionType string
	DeviceIDs  []int64
	Options    map[string]any
}

// DeviceActions returns the device actions received, oldest first.
func (s *Server) DeviceActions() []DeviceAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.actions)
}

func (s *Server) deviceRecords() []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]record, 0, len(s.st.deviceOrder))
	for _, id := range s.st.deviceOrder {
		out = append(out, toRecord(s.st.devices[id].d))
	}
	return out
}

func (s *Server) searchDevices(w http.ResponseWriter, r *http.Request) {
	var body searchBody
	if !decodeBody(w, r, &body) {
		return
	}
	start, rows, ok := pageParams(w, &body, 20, 1)
	if !ok {
		return
	}
	if start+rows-1 > s.opts.resultWindow {
		badRequest(w, "start + rows must not exceed %d; use _scroll", s.opts.resultWindow)
		return
	}
	matched, ok := filterOrFail(&body, w, s.deviceRecords(), "", s.now())
	if !ok {
		return
	}
	sortRecords(matched, body.Sort)
	writeJSON(w, http.StatusOK, map[string]any{"results": pageOf(matched, start-1, rows), "num_found": len(matched)})
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		badRequest(w, "device id must be an integer")
		return
	}
	d, ok := s.Device(id)
	if !ok {
		notFound(w, "Device %d not found", id)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deviceAction(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ActionType string                     `json:"action_type"`
		DeviceID   []carbonblack.FlexInt      `json:"device_id"`
		Options    map[string]json.RawMessage `json:"options"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if len(body.DeviceID) == 0 {
		badRequest(w, "device_id must list at least one device")
		return
	}
	ids := make([]int64, len(body.DeviceID))
	for i, id := range body.DeviceID {
		ids[i] = int64(id)
	}
	opts := map[string]any{}
	for k, v := range body.Options {
		opts[k] = toRecord(json.RawMessage(`{"v":` + string(v) + `}`))["v"]
	}
	toggle := strings.ToUpper(fmt.Sprint(opts["toggle"]))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.st.devices[id]; !ok {
			badRequest(w, "unknown device %d", id)
			return
		}
	}
	apply := func(fn func(d *carbonblack.Device)) {
		for _, id := range ids {
			fn(&s.st.devices[id].d)
		}
	}
	switch body.ActionType {
	case carbonblack.ActionQuarantine, carbonblack.ActionBypass, carbonblack.ActionBackgroundScan:
		if toggle != "ON" && toggle != "OFF" {
			badRequest(w, "options.toggle must be ON or OFF")
			return
		}
		on := toggle == "ON"
		apply(func(d *carbonblack.Device) {
			switch body.ActionType {
			case carbonblack.ActionQuarantine:
				d.Quarantined = on
			case carbonblack.ActionBypass:
				d.Status = map[bool]string{true: "BYPASS", false: "REGISTERED"}[on]
			default:
				d.ScanStatus = map[bool]string{true: "IN_PROGRESS", false: "STOPPED"}[on]
			}
		})
	case carbonblack.ActionUpdatePolicy:
		pid, err := strconv.ParseInt(strings.Join(strs(opts["policy_id"]), ""), 10, 64)
		var pol *carbonblack.Policy
		for i := range s.st.policies {
			if s.st.policies[i].ID == pid {
				pol = &s.st.policies[i]
			}
		}
		if err != nil || pol == nil {
			badRequest(w, "unknown policy_id %v", opts["policy_id"])
			return
		}
		apply(func(d *carbonblack.Device) { d.PolicyID, d.PolicyName, d.PolicyOverride = pol.ID, pol.Name, true })
	case carbonblack.ActionUpdateSensorVersion:
		vers, ok := opts["sensor_version"].(map[string]any)
		if !ok || len(vers) == 0 {
			badRequest(w, "options.sensor_version must map an OS to a version")
			return
		}
		apply(func(d *carbonblack.Device) {
			for k, v := range vers {
				if strings.EqualFold(k, d.OS) || strings.EqualFold(k, d.SensorKitType) {
					d.SensorPendingUpdate = true
					_ = v
				}
			}
		})
	default:
		badRequest(w, "unknown action_type %q", body.ActionType)
		return
	}
	s.st.actions = append(s.st.actions, DeviceAction{ActionType: body.ActionType, DeviceIDs: ids, Options: opts})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) policySummary(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]carbonblack.PolicySummary, 0, len(s.st.policies))
	for i, p := range s.st.policies {
		n := 0
		for _, d := range s.st.devices {
			if d.d.PolicyID == p.ID {
				n++
			}
		}
		out = append(out, carbonblack.PolicySummary{ID: p.ID, Name: p.Name, Description: p.Description, PriorityLevel: p.PriorityLevel,
			IsSystem: p.IsSystem, NumDevices: n, Position: max(p.Position, i+1)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": out})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		badRequest(w, "policy id must be an integer")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.policies {
		if p.ID == id {
			writeJSON(w, http.StatusOK, p)
			return
		}
	}
	notFound(w, "Policy %d not found", id)
}
