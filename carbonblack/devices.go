package carbonblack

import (
	"context"
	"iter"
	"net/http"
	"slices"
	"strconv"

	"github.com/soarkit/soarkit/internal/rest"
)

// DevicesService searches devices (Devices v6) and runs device actions.
type DevicesService service

// Device is an endpoint with a Carbon Black sensor. Unknown fields are
// ignored.
type Device struct {
	ID                  int64    `json:"id"`
	Name                string   `json:"name"`
	OS                  string   `json:"os,omitempty"`
	OSVersion           string   `json:"os_version,omitempty"`
	Status              string   `json:"status,omitempty"`
	Quarantined         bool     `json:"quarantined"`
	PolicyID            int64    `json:"policy_id"`
	PolicyName          string   `json:"policy_name,omitempty"`
	PolicyOverride      bool     `json:"policy_override"`
	CurrentSensorPolicy string   `json:"current_sensor_policy_name,omitempty"`
	SensorStates        []string `json:"sensor_states"`
	SensorVersion       string   `json:"sensor_version,omitempty"`
	SensorOutOfDate     bool     `json:"sensor_out_of_date"`
	SensorPendingUpdate bool     `json:"sensor_pending_update"`
	SensorKitType       string   `json:"sensor_kit_type,omitempty"`
	// LastContactTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	LastContactTime Timestamp `json:"last_contact_time"`
	// LastReportedTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	LastReportedTime Timestamp `json:"last_reported_time"`
	// RegisteredTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	RegisteredTime Timestamp `json:"registered_time"`
	// DeregisteredTime is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	DeregisteredTime      Timestamp    `json:"deregistered_time"`
	LastInternalIPAddress string       `json:"last_internal_ip_address,omitempty"`
	LastExternalIPAddress string       `json:"last_external_ip_address,omitempty"`
	LastLocation          string       `json:"last_location,omitempty"`
	MACAddress            string       `json:"mac_address,omitempty"`
	LoginUserName         string       `json:"login_user_name,omitempty"`
	Email                 string       `json:"email,omitempty"`
	OrganizationID        int64        `json:"organization_id,omitempty"`
	OrganizationName      string       `json:"organization_name,omitempty"`
	TargetPriority        string       `json:"target_priority,omitempty"`
	DeploymentType        string       `json:"deployment_type,omitempty"`
	AVStatus              []string     `json:"av_status,omitempty"`
	PassiveMode           bool         `json:"passive_mode"`
	VirtualMachine        bool         `json:"virtual_machine"`
	ScanStatus            string       `json:"scan_status,omitempty"`
	ADGroupID             int64        `json:"ad_group_id"`
	AssetGroup            []AssetGroup `json:"asset_group,omitempty"`
}

// AssetGroup is a device's membership in an asset group.
type AssetGroup struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	MembershipType string `json:"membership_type"`
}

// Sensor states that matter to the connectors.
const (
	SensorStateLiveResponseEnabled  = "LIVE_RESPONSE_ENABLED"
	SensorStateLiveResponseDisabled = "LIVE_RESPONSE_DISABLED"
	SensorStateActive               = "ACTIVE"
)

// LiveResponseEnabled reports whether the sensor accepts Live Response
// sessions.
func (d *Device) LiveResponseEnabled() bool {
	return slices.Contains(d.SensorStates, SensorStateLiveResponseEnabled)
}

// DeviceSearch is the body of a device search. Criteria keys include id,
// os, status, policy_id, target_priority, last_contact_time (a [TimeRange]).
type DeviceSearch struct {
	Criteria   Criteria    `json:"criteria,omitempty"`
	Exclusions Criteria    `json:"exclusions,omitempty"`
	Query      string      `json:"query,omitempty"`
	Sort       []SortField `json:"sort,omitempty"`
	// Rows is the page size (at most 10,000).
	Rows int `json:"rows,omitempty"`
	// Start is the 1-based offset of the first result.
	Start int `json:"start,omitempty"`
}

// DevicePage is one page of device search results.
type DevicePage struct {
	Results  []Device `json:"results"`
	NumFound int      `json:"num_found"`
	// SkippedItems lists the results of this page that did not decode and
	// are not in Results; each was also logged and passed to the skip
	// handler.
	SkippedItems []SkippedItem `json:"-"`
}

// Search returns one page of devices.
//
// API: POST /appservices/v6/orgs/{org_key}/devices/_search
func (s *DevicesService) Search(ctx context.Context, q DeviceSearch) (*DevicePage, error) {
	return call[DevicePage](ctx, s.c, &rest.Request{
		Op: "Devices.Search", Method: http.MethodPost, Path: "/appservices/v6/orgs/{}/devices/_search",
		PathArgs: s.c.org(), Body: rest.JSONBody(q), Idempotent: true,
	})
}

// All iterates over every device matching q, paging with q.Rows (default
// 1,000) up to Carbon Black's 10,000-result window.
//
// API: POST /appservices/v6/orgs/{org_key}/devices/_search
func (s *DevicesService) All(ctx context.Context, q DeviceSearch) iter.Seq2[Device, error] {
	if q.Rows <= 0 {
		q.Rows = 1000
	}
	q.Rows = min(q.Rows, s.c.cfg.resultWindow)
	return offsetPages(ctx, 1, q.Rows, s.c.cfg.resultWindow, func(ctx context.Context, start int) ([]Device, int, int, error) {
		q.Start = start
		page, err := s.Search(ctx, q)
		if err != nil {
			return nil, 0, 0, err
		}
		return page.Results, len(page.Results) + len(page.SkippedItems), page.NumFound, nil
	})
}

// ByIDs returns the devices with the given ids (one search).
//
// API: POST /appservices/v6/orgs/{org_key}/devices/_search
func (s *DevicesService) ByIDs(ctx context.Context, ids ...int64) ([]Device, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatInt(id, 10)
	}
	return rest.Collect(s.All(ctx, DeviceSearch{Criteria: Criteria{"id": strs}, Rows: len(ids)}))
}

// Get returns one device.
//
// API: GET /appservices/v6/orgs/{org_key}/devices/{id}
func (s *DevicesService) Get(ctx context.Context, id int64) (*Device, error) {
	return call[Device](ctx, s.c, &rest.Request{Op: "Devices.Get", Path: "/appservices/v6/orgs/{}/devices/{}", PathArgs: s.c.org(strconv.FormatInt(id, 10))})
}

// Device action types.
const (
	ActionQuarantine          = "QUARANTINE"
	ActionBypass              = "BYPASS"
	ActionBackgroundScan      = "BACKGROUND_SCAN"
	ActionUpdatePolicy        = "UPDATE_POLICY"
	ActionUpdateSensorVersion = "UPDATE_SENSOR_VERSION"
)

// DeviceAction is the body of a device action: an action type, the target
// devices and the action's options.
type DeviceAction struct {
	ActionType string `json:"action_type"`
	// DeviceIDs lists the target devices.
	DeviceIDs []int64 `json:"device_id"`
	// Options: {"toggle":"ON"|"OFF"} for QUARANTINE, BYPASS and
	// BACKGROUND_SCAN; {"policy_id":n} for UPDATE_POLICY;
	// {"sensor_version":{"WINDOWS":"x.y.z.w"}} for UPDATE_SENSOR_VERSION.
	Options map[string]any `json:"options,omitempty"`
}

// Action runs a device action. Carbon Black answers 204 and applies the
// change asynchronously. Action is not repeated once the request may have
// reached Carbon Black (a reset, a timeout or a 5xx can follow an action that
// was applied): only a 429 or a failure to connect is retried, and otherwise
// the caller reads the device state and decides whether to ask again (the
// connector's device responders wait out a settle delay first).
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) Action(ctx context.Context, a DeviceAction) error {
	if len(a.DeviceIDs) == 0 {
		return &Error{Vendor: "carbonblack", Op: "Devices.Action", Err: errNoDevices}
	}
	_, err := s.c.do(ctx, &rest.Request{
		Op: "Devices.Action", Method: http.MethodPost, Path: "/appservices/v6/orgs/{}/device_actions",
		PathArgs: s.c.org(), Body: rest.JSONBody(a),
	}, nil)
	return err
}

func toggle(on bool) map[string]any {
	if on {
		return map[string]any{"toggle": "ON"}
	}
	return map[string]any{"toggle": "OFF"}
}

// Quarantine isolates the devices from the network (on) or releases them.
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) Quarantine(ctx context.Context, on bool, ids ...int64) error {
	return s.Action(ctx, DeviceAction{ActionType: ActionQuarantine, DeviceIDs: ids, Options: toggle(on)})
}

// Bypass turns bypass mode on or off.
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) Bypass(ctx context.Context, on bool, ids ...int64) error {
	return s.Action(ctx, DeviceAction{ActionType: ActionBypass, DeviceIDs: ids, Options: toggle(on)})
}

// BackgroundScan starts or stops a background scan.
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) BackgroundScan(ctx context.Context, on bool, ids ...int64) error {
	return s.Action(ctx, DeviceAction{ActionType: ActionBackgroundScan, DeviceIDs: ids, Options: toggle(on)})
}

// UpdatePolicy moves the devices to the policy.
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) UpdatePolicy(ctx context.Context, policyID int64, ids ...int64) error {
	return s.Action(ctx, DeviceAction{ActionType: ActionUpdatePolicy, DeviceIDs: ids, Options: map[string]any{"policy_id": policyID}})
}

// UpdateSensorVersion schedules a sensor upgrade; versions maps a sensor
// kit or OS (for example "WINDOWS", "RHEL") to a version ("3.8.0.627").
//
// API: POST /appservices/v6/orgs/{org_key}/device_actions
func (s *DevicesService) UpdateSensorVersion(ctx context.Context, versions map[string]string, ids ...int64) error {
	return s.Action(ctx, DeviceAction{ActionType: ActionUpdateSensorVersion, DeviceIDs: ids, Options: map[string]any{"sensor_version": versions}})
}
