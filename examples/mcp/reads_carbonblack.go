package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/carbonblack"
)

// PageInput is the paging part of every listing tool's input.
type PageInput struct {
	PageSize int    `json:"page_size,omitempty" jsonschema:"items per page (default and cap set by the server)"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page; empty for the first page"`
}

// Page is one page of a listing tool's output.
type Page[T any] struct {
	Items []T `json:"items"`
	// Total is the number of matches the vendor reports, when it does.
	Total int `json:"total,omitempty" jsonschema:"matches the vendor reports, when it does"`
	// NextCursor resumes the listing; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty" jsonschema:"pass it as cursor for the next page; empty on the last page"`
	// Truncated is true when the page ended early to stay within the size
	// limit.
	Truncated bool `json:"truncated,omitempty" jsonschema:"true when the page ended early to stay within the server's size limit"`
}

// offsetPage bounds items fetched at offset off and sets the cursor of the
// next page: more is whether the vendor holds items past them.
func offsetPage[T any](items []T, off, total int, more bool, maxBytes int) Page[T] {
	kept, n := bound(items, maxBytes)
	p := Page[T]{Items: kept, Total: total, Truncated: n < len(items)}
	if p.Items == nil {
		p.Items = []T{}
	}
	if n < len(items) || more {
		p.NextCursor = cursor{Offset: off + n}.encode()
	}
	return p
}

// AlertsInput is the input of cbc_alerts.
type AlertsInput struct {
	Query       string `json:"query,omitempty" jsonschema:"Carbon Black alert search query, for example device_name:WS-FIN-01"`
	SHA256      string `json:"sha256,omitempty" jsonschema:"only alerts on processes with this SHA-256"`
	DeviceID    int64  `json:"device_id,omitempty" jsonschema:"only alerts of this device"`
	MinSeverity int    `json:"min_severity,omitempty" jsonschema:"only alerts of at least this severity (1-10)"`
	SinceHours  int    `json:"since_hours,omitempty" jsonschema:"only alerts of the last N hours (default 24, at most 720)"`
	PageInput
}

// AlertItem is one Carbon Black alert.
type AlertItem struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Severity      int       `json:"severity"`
	Reason        string    `json:"reason,omitempty"`
	DeviceID      int64     `json:"device_id,omitempty"`
	DeviceName    string    `json:"device_name,omitempty"`
	ProcessName   string    `json:"process_name,omitempty"`
	ProcessSHA256 string    `json:"process_sha256,omitempty"`
	ProcessGUID   string    `json:"process_guid,omitempty"`
	Status        string    `json:"status,omitempty"`
	Time          time.Time `json:"time,omitzero"`
	Link          string    `json:"link"`
}

// alerts is cbc_alerts.
func (a *App) alerts(ctx context.Context, in AlertsInput) (Page[AlertItem], error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return Page[AlertItem]{}, err
	}
	hours := in.SinceHours
	if hours <= 0 {
		hours = 24
	}
	if hours > 720 {
		return Page[AlertItem]{}, fmt.Errorf("since_hours must be at most 720, got %d", hours)
	}
	crit := carbonblack.Criteria{}
	if in.SHA256 != "" {
		if !sha256RE.MatchString(in.SHA256) {
			return Page[AlertItem]{}, fmt.Errorf("sha256 %q is not 64 hex digits", in.SHA256)
		}
		crit["process_sha256"] = []string{strings.ToLower(in.SHA256)}
	}
	if in.DeviceID > 0 {
		crit["device_id"] = []int64{in.DeviceID}
	}
	if in.MinSeverity > 0 {
		crit["minimum_severity"] = in.MinSeverity
	}
	size := a.cfg.Limits.pageSize(in.PageSize)
	page, err := a.cb.Alerts.Search(ctx, carbonblack.AlertSearch{Query: in.Query, Criteria: crit,
		TimeRange: &carbonblack.TimeRange{Range: "-" + strconv.Itoa(hours) + "h"},
		Sort:      []carbonblack.SortField{{Field: "backend_timestamp", Order: "DESC"}}, Rows: size, Start: c.Offset + 1})
	if err != nil {
		return Page[AlertItem]{}, fmt.Errorf("searching Carbon Black alerts: %w", err)
	}
	items := make([]AlertItem, 0, len(page.Results))
	for _, al := range page.Results {
		status := ""
		if al.Workflow != nil {
			status = al.Workflow.Status
		}
		items = append(items, AlertItem{ID: al.ID, Type: al.Type, Severity: al.Severity, Reason: clip(al.Reason),
			DeviceID: int64(al.DeviceID), DeviceName: al.DeviceName, ProcessName: clip(al.ProcessName),
			ProcessSHA256: al.ProcessSHA256, ProcessGUID: al.ProcessGUID, Status: status,
			Time: al.BackendTimestamp.Time, Link: a.cbAlertLink(al.ID, al.AlertURL)})
	}
	more := c.Offset+len(page.Results) < min(page.NumAvailable, page.NumFound) && len(page.Results) > 0
	return offsetPage(items, c.Offset, page.NumFound, more, a.cfg.Limits.MaxResultBytes), nil
}

// ProcessSearchInput is the input of cbc_process_search.
type ProcessSearchInput struct {
	Query string `json:"query" jsonschema:"Carbon Black process search query, for example process_hash:<sha256> or process_name:powershell.exe"`
	// Window is the look-back of the search.
	Window string `json:"window,omitempty" jsonschema:"look-back such as -3d or -2w (default -2w)"`
	PageInput
}

// ProcessItem is one process.
type ProcessItem struct {
	GUID       string    `json:"process_guid"`
	Name       string    `json:"process_name,omitempty"`
	SHA256     string    `json:"process_sha256,omitempty"`
	PID        int64     `json:"pid,omitempty"`
	Cmdline    string    `json:"cmdline,omitempty"`
	Username   string    `json:"username,omitempty"`
	Reputation string    `json:"reputation,omitempty"`
	DeviceID   int64     `json:"device_id,omitempty"`
	DeviceName string    `json:"device_name,omitempty"`
	StartTime  time.Time `json:"start_time,omitzero"`
	Link       string    `json:"link"`
}

// processFields are the fields a process search returns.
var processFields = []string{"process_guid", "process_name", "process_sha256", "process_hash", "process_pid", "process_cmdline",
	"process_username", "process_effective_reputation", "process_start_time", "device_id", "device_name", "device_timestamp"}

// windowOK accepts Carbon Black's relative windows ("-3d").
func windowOK(w string) bool {
	if len(w) < 3 || w[0] != '-' || !strings.ContainsAny(w[len(w)-1:], "smhdwMy") {
		return false
	}
	_, err := strconv.Atoi(w[1 : len(w)-1])
	return err == nil
}

// processSearch is cbc_process_search: a search job, started on the first
// page and paged through by its id (the cursor carries it).
func (a *App) processSearch(ctx context.Context, in ProcessSearchInput) (Page[ProcessItem], error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return Page[ProcessItem]{}, err
	}
	if strings.TrimSpace(in.Query) == "" {
		return Page[ProcessItem]{}, fmt.Errorf("query is required")
	}
	window := in.Window
	if window == "" {
		window = "-2w"
	}
	if !windowOK(window) {
		return Page[ProcessItem]{}, fmt.Errorf("window %q is not a look-back such as -3d or -2w", window)
	}
	job := c.Vendor
	if job == "" {
		if _, err := a.cb.Processes.Validate(ctx, in.Query); err != nil {
			return Page[ProcessItem]{}, fmt.Errorf("validating the Carbon Black process query: %w", err)
		}
		if job, err = a.cb.Processes.Start(ctx, carbonblack.JobRequest{Query: in.Query, Fields: processFields,
			TimeRange: &carbonblack.TimeRange{Window: window}, Rows: 10_000}); err != nil {
			return Page[ProcessItem]{}, fmt.Errorf("starting the Carbon Black process search: %w", err)
		}
		if _, err := a.cb.Processes.Wait(ctx, job); err != nil {
			return Page[ProcessItem]{}, fmt.Errorf("waiting for the Carbon Black process search: %w", err)
		}
	}
	size := a.cfg.Limits.pageSize(in.PageSize)
	res, err := a.cb.Processes.ListResults(ctx, job, c.Offset, size)
	if err != nil {
		return Page[ProcessItem]{}, fmt.Errorf("reading the Carbon Black process search results: %w", err)
	}
	items := make([]ProcessItem, 0, len(res.Results))
	for _, p := range res.Results {
		it := ProcessItem{GUID: p.ProcessGUID, Name: clip(p.ProcessName), SHA256: p.ProcessSHA256,
			Reputation: p.ProcessEffectiveReputation, DeviceID: int64(p.DeviceID), DeviceName: p.DeviceName,
			StartTime: p.ProcessStartTime.Time, Link: a.cbProcessLink(p.ProcessGUID)}
		if it.SHA256 == "" {
			it.SHA256 = carbonblack.PickSHA256(p.ProcessHash)
		}
		if len(p.ProcessPID) > 0 {
			it.PID = p.ProcessPID[0]
		}
		if len(p.ProcessCmdline) > 0 {
			it.Cmdline = clip(p.ProcessCmdline[0])
		}
		if len(p.ProcessUsername) > 0 {
			it.Username = p.ProcessUsername[0]
		}
		items = append(items, it)
	}
	more := c.Offset+len(res.Results) < res.NumAvailable && len(res.Results) > 0
	p := offsetPage(items, c.Offset, res.NumFound, more, a.cfg.Limits.MaxResultBytes)
	if p.NextCursor != "" {
		next, _ := decodeCursor(p.NextCursor)
		next.Vendor = job
		p.NextCursor = next.encode()
	}
	return p, nil
}

// DeviceInput is the input of cbc_device.
type DeviceInput struct {
	DeviceID int64  `json:"device_id,omitempty" jsonschema:"the device id"`
	Name     string `json:"name,omitempty" jsonschema:"the device (host) name, when the id is not known"`
}

// DeviceOutput is one Carbon Black device.
type DeviceOutput struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	OS            string    `json:"os,omitempty"`
	OSVersion     string    `json:"os_version,omitempty"`
	Status        string    `json:"status,omitempty"`
	Quarantined   bool      `json:"quarantined"`
	PolicyID      int64     `json:"policy_id"`
	PolicyName    string    `json:"policy_name,omitempty"`
	SensorVersion string    `json:"sensor_version,omitempty"`
	LastContact   time.Time `json:"last_contact,omitzero"`
	InternalIP    string    `json:"internal_ip,omitempty"`
	ExternalIP    string    `json:"external_ip,omitempty"`
	LoginUser     string    `json:"login_user,omitempty"`
	Link          string    `json:"link"`
}

// device is cbc_device.
func (a *App) device(ctx context.Context, in DeviceInput) (DeviceOutput, error) {
	var d *carbonblack.Device
	switch {
	case in.DeviceID > 0:
		var err error
		if d, err = a.cb.Devices.Get(ctx, in.DeviceID); err != nil {
			return DeviceOutput{}, fmt.Errorf("reading Carbon Black device %d: %w", in.DeviceID, err)
		}
	case strings.TrimSpace(in.Name) != "":
		page, err := a.cb.Devices.Search(ctx, carbonblack.DeviceSearch{Query: "name:" + strings.TrimSpace(in.Name), Rows: 50})
		if err != nil {
			return DeviceOutput{}, fmt.Errorf("searching Carbon Black devices: %w", err)
		}
		for i := range page.Results {
			if strings.EqualFold(page.Results[i].Name, strings.TrimSpace(in.Name)) {
				d = &page.Results[i]
				break
			}
		}
		if d == nil {
			return DeviceOutput{}, fmt.Errorf("no Carbon Black device is named %q", in.Name)
		}
	default:
		return DeviceOutput{}, fmt.Errorf("give device_id or name")
	}
	return DeviceOutput{ID: d.ID, Name: d.Name, OS: d.OS, OSVersion: d.OSVersion, Status: d.Status, Quarantined: d.Quarantined,
		PolicyID: d.PolicyID, PolicyName: d.PolicyName, SensorVersion: d.SensorVersion, LastContact: d.LastContactTime.Time,
		InternalIP: d.LastInternalIPAddress, ExternalIP: d.LastExternalIPAddress, LoginUser: d.LoginUserName,
		Link: a.cbDeviceLink(d.ID)}, nil
}

// addCarbonBlackTools registers the Carbon Black read tools.
func (a *App) addCarbonBlackTools(s *mcp.Server) {
	addRead(a, s, &mcp.Tool{Name: "cbc_alerts", Title: "Carbon Black alerts",
		Description: "Lists Carbon Black Cloud alerts, newest first, filtered by query, file, device, severity and age. Paginated."}, a.alerts)
	addRead(a, s, &mcp.Tool{Name: "cbc_process_search", Title: "Carbon Black process search",
		Description: "Searches Carbon Black Cloud processes with the console's query syntax (for example process_hash:<sha256>). " +
			"Paginated: the cursor keeps the search job."}, a.processSearch)
	addRead(a, s, &mcp.Tool{Name: "cbc_device", Title: "Carbon Black device",
		Description: "Reads one Carbon Black Cloud device by id or name: OS, status, quarantine, policy, sensor, last contact."}, a.device)
}
