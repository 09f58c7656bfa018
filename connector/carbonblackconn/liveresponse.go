package carbonblackconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/connector"
)

// Windows result codes Live Response reports for a file that is not there.
const (
	hresultFileNotFound = -2147024894 // 0x80070002
	hresultPathNotFound = -2147024893 // 0x80070003
)

// LiveResponseOptions configure NewLiveResponse.
type LiveResponseOptions struct {
	// Name is the responder's name (default "cbc-live-response").
	Name string
	// Timeout bounds one session from its start to the last command (default
	// 10 min); the session is closed in every case.
	Timeout time.Duration
	// KeepFile only kills the processes and leaves the file in place.
	KeepFile bool
}

// LiveResponse is a responder that, per sighting, opens a Live Response
// session on the device, kills the sighting's process (checked by pid and
// path, so a reused pid is not killed) and any other process running the
// same file, deletes the file, and closes the session. This is the
// original Proofpoint connector's action.py, bounded and with the session
// always closed. A device without Live Response fails permanently with the
// reason; a process already gone and a file already deleted are Unchanged.
type LiveResponse struct {
	c    *carbonblack.Client
	opts LiveResponseOptions
}

// NewLiveResponse returns a Live Response responder.
func NewLiveResponse(c *carbonblack.Client, opts LiveResponseOptions) (*LiveResponse, error) {
	if c == nil {
		return nil, errors.New("carbonblackconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "cbc-live-response"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	return &LiveResponse{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (l *LiveResponse) Name() string { return l.opts.Name }

// Scope is per sighting: one process on one device.
func (l *LiveResponse) Scope() connector.Scope { return connector.ScopeSighting }

// Respond kills the process and deletes the file on the sighting's device.
func (l *LiveResponse) Respond(ctx context.Context, f connector.Finding) (res connector.Result, err error) {
	id, ok := sightingDevice(f)
	if !ok {
		return skipped("the sighting names no Carbon Black device")
	}
	path, pid := f.Sighting.FilePath, f.Sighting.PID
	if path == "" && pid == 0 {
		return skipped("the sighting names neither a process nor a file")
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	sess, err := l.c.LiveResponse.Open(ctx, id)
	var unavailable *carbonblack.LiveResponseUnavailableError
	if errors.As(err, &unavailable) {
		return connector.Result{}, connector.Permanent(fmt.Errorf(
			"carbonblackconn: Live Response is not enabled on device %d (sensor states %s); enable it in the device's policy: %w",
			id, strings.Join(unavailable.SensorStates, ", "), err))
	}
	if errors.Is(err, carbonblack.ErrNotFound) {
		return connector.Result{}, connector.Permanent(fmt.Errorf("carbonblackconn: device %d does not exist: %w", id, err))
	}
	if err != nil {
		return connector.Result{}, classify(fmt.Sprintf("opening a Live Response session on device %d", id), err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ccancel()
		cerr := sess.Close(cctx)
		if errors.Is(cerr, carbonblack.ErrNotFound) {
			// A retried close whose first answer was lost, or a session the
			// device already ended: either way it is closed.
			cerr = nil
		}
		if cerr != nil && err == nil {
			res, err = connector.Result{}, classify("closing Live Response session "+sess.ID(), cerr)
		}
	}()

	procs, err := sess.ProcessList(ctx)
	if err != nil {
		return connector.Result{}, classify("listing processes on device "+f.Sighting.DeviceID, err)
	}
	windows := f.Sighting.OS == "windows" || strings.Contains(path, `\`)
	var killed []int64
	for _, p := range procs {
		samePath := path != "" && pathEqual(p.ProcessPath, path, windows)
		if !(samePath || p.ProcessPID == pid && path == "") {
			continue
		}
		if err := sess.Kill(ctx, p.ProcessPID); err != nil {
			return connector.Result{}, classify(fmt.Sprintf("killing process %d on device %d", p.ProcessPID, id), err)
		}
		killed = append(killed, p.ProcessPID)
	}
	deleted := false
	if !l.opts.KeepFile && path != "" {
		err := sess.DeleteFile(ctx, path)
		var ce *carbonblack.CommandError
		switch {
		case errors.As(err, &ce) && (ce.ResultCode == hresultFileNotFound || ce.ResultCode == hresultPathNotFound):
		case err != nil:
			return connector.Result{}, classify(fmt.Sprintf("deleting %s on device %d", path, id), err)
		default:
			deleted = true
		}
	}
	switch {
	case len(killed) == 0 && !deleted:
		return unchanged("device %d: no process runs %s and the file is not there", id, path)
	case deleted:
		return acted("device %d: killed processes %v and deleted %s", id, killed, path)
	}
	return acted("device %d: killed processes %v", id, killed)
}

// pathEqual compares paths, without regard to case on Windows.
func pathEqual(a, b string, windows bool) bool {
	if windows {
		return strings.EqualFold(a, b)
	}
	return a == b
}
