package carbonblack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// LiveResponseService runs Live Response v6 sessions and commands on
// devices. (Live Response v3 and the legacy Live Response key type were
// retired in 2024.)
type LiveResponseService service

// Session is a Live Response session as Carbon Black describes it.
// Statuses come in any case ("ACTIVE", "active"); compare with
// strings.EqualFold or use [Session.Active].
type Session struct {
	ID       string  `json:"id"`
	DeviceID FlexInt `json:"device_id"`
	SensorID FlexInt `json:"sensor_id,omitempty"`
	Status   string  `json:"status"`
	// CheckInTimeout and SessionTimeout are in seconds.
	CheckInTimeout      int `json:"check_in_timeout"`
	SessionTimeout      int `json:"session_timeout"`
	CurrentCommandIndex int `json:"current_command_index"`
	// CreateTime is RFC 3339 in UTC with milliseconds when a session is
	// created and epoch milliseconds when it is read; both decode.
	CreateTime Timestamp `json:"create_time"`
	// DeviceCheckInTime is RFC 3339 in UTC with milliseconds.
	DeviceCheckInTime Timestamp `json:"device_check_in_time,omitzero"`
	// SensorCheckInTime is epoch milliseconds (RFC 3339 also decodes).
	SensorCheckInTime Timestamp `json:"sensor_check_in_time,omitzero"`
	SupportedCommands []string  `json:"supported_commands,omitempty"`
	Drives            []string  `json:"drives,omitempty"`
	CurrentWorkingDir string    `json:"current_working_directory,omitempty"`
	Hostname          *string   `json:"hostname,omitempty"`
	Address           *string   `json:"address,omitempty"`
	OSVersion         *string   `json:"os_version,omitempty"`
}

// Active reports whether the session accepts commands.
func (s *Session) Active() bool { return strings.EqualFold(s.Status, "ACTIVE") }

// Device returns the device id (some payloads name it sensor_id).
func (s *Session) Device() int64 {
	if s.DeviceID != 0 {
		return int64(s.DeviceID)
	}
	return int64(s.SensorID)
}

// Supports reports whether the session lists name among its supported
// commands (true when the list is not known yet).
func (s *Session) Supports(name string) bool {
	if len(s.SupportedCommands) == 0 {
		return true
	}
	for _, c := range s.SupportedCommands {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// Live Response command names.
const (
	CommandProcessList     = "process list"
	CommandKill            = "kill"
	CommandDeleteFile      = "delete file"
	CommandGetFile         = "get file"
	CommandDirectoryList   = "directory list"
	CommandCreateDirectory = "create directory"
	CommandRegEnumKey      = "reg enum key"
	CommandRegCreateKey    = "reg create key"
	CommandRegDeleteKey    = "reg delete key"
	CommandRegQueryValue   = "reg query value"
	CommandCreateProcess   = "create process"
	CommandMemdump         = "memdump"
)

// Command is the body of a Live Response command.
type Command struct {
	Name string `json:"name"`
	// Path is the file, directory, registry key or command line.
	Path string `json:"path,omitempty"`
	// PID is the process to kill.
	PID int64 `json:"pid,omitempty"`
	// Wait and OutputFile apply to "create process".
	Wait       bool   `json:"wait,omitempty"`
	OutputFile string `json:"output_file,omitempty"`
}

// CommandResult is a command's state and, once complete, its output.
type CommandResult struct {
	ID        int64   `json:"id"`
	SessionID string  `json:"session_id"`
	DeviceID  FlexInt `json:"device_id"`
	// CommandTimeout is in seconds.
	CommandTimeout int `json:"command_timeout"`
	// Status is PENDING, IN PROGRESS, COMPLETE, ERROR or CANCELLED. The
	// service answers in upper case, some recordings in lower case: use
	// [CommandResult.Complete] and [CommandResult.Finished], which compare
	// case-blind.
	Status string          `json:"status"`
	Name   string          `json:"name"`
	Object json.RawMessage `json:"object,omitempty"`
	// CompletionTime is epoch seconds, possibly with a fraction; 0 until
	// the command finished. See [CommandResult.Completed].
	CompletionTime float64         `json:"completion_time"`
	ResultCode     int64           `json:"result_code,omitempty"`
	ResultType     string          `json:"result_type,omitempty"`
	ResultDesc     string          `json:"result_desc,omitempty"`
	Processes      []LRProcess     `json:"processes,omitempty"`
	Files          []LRFile        `json:"files,omitempty"`
	FileDetails    *FileDetails    `json:"file_details,omitempty"`
	SubKeys        []string        `json:"sub_keys,omitempty"`
	Values         []RegistryValue `json:"values,omitempty"`
}

// Completed is CompletionTime as a time, zero while the command runs.
func (r *CommandResult) Completed() time.Time {
	if r.CompletionTime <= 0 {
		return time.Time{}
	}
	t, _ := fromSeconds(r.CompletionTime)
	return t
}

// Complete reports whether the command finished successfully.
func (r *CommandResult) Complete() bool { return strings.EqualFold(r.Status, "complete") }

// Finished reports whether the command reached a final status (complete,
// error or cancelled).
func (r *CommandResult) Finished() bool {
	switch strings.ToLower(r.Status) {
	case "complete", "error", "cancelled", "canceled":
		return true
	}
	return false
}

// LRProcess is one entry of a process list.
type LRProcess struct {
	ProcessPID      int64  `json:"process_pid"`
	ProcessPath     string `json:"process_path"`
	ProcessCmdline  string `json:"process_cmdline,omitempty"`
	ProcessUsername string `json:"process_username,omitempty"`
	// CreateTime is sent in epoch seconds.
	CreateTime EpochSeconds `json:"create_time,omitzero"`
	ProcGUID   string       `json:"proc_guid,omitempty"`
	ParentPID  int64        `json:"parent_pid,omitempty"`
	ParentGUID string       `json:"parent_guid,omitempty"`
	SID        string       `json:"sid,omitempty"`
}

// LRFile is one entry of a directory list.
type LRFile struct {
	Filename   string   `json:"filename"`
	Attributes []string `json:"attributes,omitempty"`
	Size       int64    `json:"size"`
	// The file times are sent in epoch seconds.
	CreateTime EpochSeconds `json:"create_time,omitzero"`
	// LastAccessTime is epoch seconds.
	LastAccessTime EpochSeconds `json:"last_access_time,omitzero"`
	// LastWriteTime is epoch seconds.
	LastWriteTime EpochSeconds `json:"last_write_time,omitzero"`
}

// IsDir reports whether the entry is a directory.
func (f *LRFile) IsDir() bool {
	for _, a := range f.Attributes {
		if strings.EqualFold(a, "DIRECTORY") {
			return true
		}
	}
	return false
}

// FileDetails locates the content a "get file" command collected.
type FileDetails struct {
	Offset int64  `json:"offset"`
	Count  int64  `json:"count"`
	FileID string `json:"file_id"`
}

// RegistryValue is one value of a registry key.
type RegistryValue struct {
	ValueName string `json:"value_name"`
	ValueType string `json:"value_type"`
	ValueData any    `json:"value_data"`
}

func (s *LiveResponseService) sessionPath() string {
	return "/appservices/v6/orgs/{}/liveresponse/sessions"
}

// StartSession asks for a session on a device; it starts PENDING until the
// sensor checks in.
//
// API: POST /appservices/v6/orgs/{org_key}/liveresponse/sessions
func (s *LiveResponseService) StartSession(ctx context.Context, deviceID int64) (*Session, error) {
	return call[Session](ctx, s.c, &rest.Request{
		Op: "LiveResponse.StartSession", Method: http.MethodPost, Path: s.sessionPath(),
		PathArgs: s.c.org(), Body: rest.JSONBody(map[string]int64{"device_id": deviceID}),
	})
}

// Session returns a session's state. An expired session answers 404.
//
// API: GET /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}
func (s *LiveResponseService) Session(ctx context.Context, id string) (*Session, error) {
	return call[Session](ctx, s.c, &rest.Request{Op: "LiveResponse.Session", Path: s.sessionPath() + "/{}", PathArgs: s.c.org(id)})
}

// WaitSession polls a session until it is ACTIVE, within the session
// polling bound ([WithSessionPolling]). A session that ends in ERROR or
// CLOSED gives an error matching ErrSessionFailed; one that never checks in
// gives ErrWaitTimeout (or ErrNotFound once Carbon Black drops it).
//
// API: GET /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}
func (s *LiveResponseService) WaitSession(ctx context.Context, id string) (*Session, error) {
	var last *Session
	err := rest.Poll(ctx, s.c.cfg.sessionPoll, func(ctx context.Context) (bool, error) {
		sess, err := s.Session(ctx, id)
		if err != nil {
			return false, err
		}
		last = sess
		switch strings.ToUpper(sess.Status) {
		case "ACTIVE":
			return true, nil
		case "ERROR", "CLOSED", "CLOSE":
			return false, fmt.Errorf("%w: session %s is %s", ErrSessionFailed, id, sess.Status)
		}
		return false, nil
	})
	if err != nil {
		return last, fmt.Errorf("carbonblack: live response session %s: %w", id, err)
	}
	return last, nil
}

// CloseSession ends a session.
//
// API: DELETE /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}
func (s *LiveResponseService) CloseSession(ctx context.Context, id string) error {
	_, err := s.c.do(ctx, &rest.Request{Op: "LiveResponse.CloseSession", Method: http.MethodDelete, Path: s.sessionPath() + "/{}", PathArgs: s.c.org(id)}, nil)
	return err
}

// Execute submits a command to an active session and returns it pending.
//
// API: POST /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}/commands
func (s *LiveResponseService) Execute(ctx context.Context, sessionID string, cmd Command) (*CommandResult, error) {
	return call[CommandResult](ctx, s.c, &rest.Request{
		Op: "LiveResponse.Execute", Method: http.MethodPost, Path: s.sessionPath() + "/{}/commands",
		PathArgs: s.c.org(sessionID), Body: rest.JSONBody(cmd),
	})
}

// Command returns a command's state.
//
// API: GET /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}/commands/{command_id}
func (s *LiveResponseService) Command(ctx context.Context, sessionID string, commandID int64) (*CommandResult, error) {
	return call[CommandResult](ctx, s.c, &rest.Request{
		Op: "LiveResponse.Command", Path: s.sessionPath() + "/{}/commands/{}",
		PathArgs: s.c.org(sessionID, strconv.FormatInt(commandID, 10)),
	})
}

// WaitCommand polls a command until it is finished, within the command
// polling bound ([WithCommandPolling]). A command that ends in error gives
// its result and a *CommandError (matching ErrCommandFailed).
//
// API: GET /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}/commands/{command_id}
func (s *LiveResponseService) WaitCommand(ctx context.Context, sessionID string, commandID int64) (*CommandResult, error) {
	var last *CommandResult
	err := rest.Poll(ctx, s.c.cfg.commandPoll, func(ctx context.Context) (bool, error) {
		r, err := s.Command(ctx, sessionID, commandID)
		if err != nil {
			return false, err
		}
		last = r
		return r.Finished(), nil
	})
	if err != nil {
		return last, fmt.Errorf("carbonblack: live response command %d: %w", commandID, err)
	}
	if !last.Complete() {
		return last, &CommandError{SessionID: sessionID, CommandID: commandID, Name: last.Name, Status: last.Status,
			ResultCode: last.ResultCode, ResultType: last.ResultType, ResultDesc: last.ResultDesc}
	}
	return last, nil
}

// Run executes a command and waits for it.
//
// API: POST .../sessions/{id}/commands, then GET .../commands/{command_id}
func (s *LiveResponseService) Run(ctx context.Context, sessionID string, cmd Command) (*CommandResult, error) {
	r, err := s.Execute(ctx, sessionID, cmd)
	if err != nil {
		return nil, err
	}
	if r.Finished() {
		if !r.Complete() {
			return r, &CommandError{SessionID: sessionID, CommandID: r.ID, Name: r.Name, Status: r.Status,
				ResultCode: r.ResultCode, ResultType: r.ResultType, ResultDesc: r.ResultDesc}
		}
		return r, nil
	}
	return s.WaitCommand(ctx, sessionID, r.ID)
}

// FileContent streams the content a "get file" command collected. Carbon
// Black answers with a redirect to object storage, which is followed
// without the X-Auth-Token header. The caller must close the body.
//
// API: GET /appservices/v6/orgs/{org_key}/liveresponse/sessions/{id}/files/{file_id}/content
func (s *LiveResponseService) FileContent(ctx context.Context, sessionID, fileID string) (io.ReadCloser, error) {
	resp, err := s.c.rest.Stream(ctx, &rest.Request{
		Op: "LiveResponse.FileContent", Path: s.sessionPath() + "/{}/files/{}/content",
		PathArgs: s.c.org(sessionID, fileID), Header: http.Header{"Accept": {"*/*"}},
	})
	if err != nil {
		return nil, markRetired(err)
	}
	return resp.Body, nil
}

// Open checks that the device accepts Live Response, starts a session and
// waits until it is active. A device whose sensor does not report
// LIVE_RESPONSE_ENABLED gives a *LiveResponseUnavailableError at once
// instead of a session that would never check in. Close the returned
// session when done.
//
// API: GET /appservices/v6/orgs/{org_key}/devices/{id}, POST .../liveresponse/sessions, GET .../sessions/{id}
func (s *LiveResponseService) Open(ctx context.Context, deviceID int64) (*LiveSession, error) {
	dev, err := s.c.Devices.Get(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	if !dev.LiveResponseEnabled() {
		return nil, &LiveResponseUnavailableError{DeviceID: deviceID, SensorStates: dev.SensorStates}
	}
	sess, err := s.StartSession(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	if !sess.Active() {
		active, err := s.WaitSession(ctx, sess.ID)
		if err != nil {
			// Do not leave a pending session behind, even when ctx ended;
			// the wait error matters more than the close's.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
			_ = s.CloseSession(cctx, sess.ID)
			cancel()
			return nil, err
		}
		sess = active
	}
	return &LiveSession{Session: *sess, svc: s}, nil
}

// closeTimeout bounds the clean-up close of a session that never became
// active.
const closeTimeout = 15 * time.Second

// LiveSession is an active session with helpers for the common commands.
// Each helper runs one command and waits for it.
type LiveSession struct {
	// Session is the session's state when it became active.
	Session Session
	svc     *LiveResponseService
}

// ID is the session id.
func (l *LiveSession) ID() string { return l.Session.ID }

// Run executes a command and waits for it.
func (l *LiveSession) Run(ctx context.Context, cmd Command) (*CommandResult, error) {
	return l.svc.Run(ctx, l.Session.ID, cmd)
}

// ProcessList returns the device's processes.
func (l *LiveSession) ProcessList(ctx context.Context) ([]LRProcess, error) {
	r, err := l.Run(ctx, Command{Name: CommandProcessList})
	if err != nil {
		return nil, err
	}
	return r.Processes, nil
}

// Kill terminates a process.
func (l *LiveSession) Kill(ctx context.Context, pid int64) error {
	_, err := l.Run(ctx, Command{Name: CommandKill, PID: pid})
	return err
}

// DeleteFile deletes a file on the device.
func (l *LiveSession) DeleteFile(ctx context.Context, path string) error {
	_, err := l.Run(ctx, Command{Name: CommandDeleteFile, Path: path})
	return err
}

// ListDirectory lists a directory (path ending with a separator, or a
// wildcard pattern).
func (l *LiveSession) ListDirectory(ctx context.Context, path string) ([]LRFile, error) {
	r, err := l.Run(ctx, Command{Name: CommandDirectoryList, Path: path})
	if err != nil {
		return nil, err
	}
	return r.Files, nil
}

// GetFile collects a file from the device and streams its content. The
// caller must close the stream.
func (l *LiveSession) GetFile(ctx context.Context, path string) (io.ReadCloser, error) {
	r, err := l.Run(ctx, Command{Name: CommandGetFile, Path: path})
	if err != nil {
		return nil, err
	}
	if r.FileDetails == nil || r.FileDetails.FileID == "" {
		return nil, &rest.Error{Vendor: "carbonblack", Op: "LiveResponse.GetFile", StatusCode: http.StatusOK,
			Message: "completed get file command has no file_details.file_id", Err: ErrMalformedResponse}
	}
	return l.svc.FileContent(ctx, l.Session.ID, r.FileDetails.FileID)
}

// CreateRegistryKey creates a registry key (Windows only).
func (l *LiveSession) CreateRegistryKey(ctx context.Context, path string) error {
	_, err := l.Run(ctx, Command{Name: CommandRegCreateKey, Path: path})
	return err
}

// DeleteRegistryKey deletes a registry key (Windows only).
func (l *LiveSession) DeleteRegistryKey(ctx context.Context, path string) error {
	_, err := l.Run(ctx, Command{Name: CommandRegDeleteKey, Path: path})
	return err
}

// ListRegistryKey returns a registry key's sub-keys and values.
func (l *LiveSession) ListRegistryKey(ctx context.Context, path string) (subKeys []string, values []RegistryValue, err error) {
	r, err := l.Run(ctx, Command{Name: CommandRegEnumKey, Path: path})
	if err != nil {
		return nil, nil, err
	}
	return r.SubKeys, r.Values, nil
}

// Close ends the session.
func (l *LiveSession) Close(ctx context.Context) error { return l.svc.CloseSession(ctx, l.Session.ID) }
