package carbonblacktest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// Windows HRESULTs the fake reports for failed commands.
const (
	hresultFileNotFound = -2147024894 // 0x80070002
	hresultPathNotFound = -2147024893 // 0x80070003
	hresultInvalidArg   = -2147024809 // 0x80070057
)

const (
	checkInTimeout = 900
	sessionTimeout = 900
)

type session struct {
	id       string
	deviceID int64
	polls    int
	active   bool
	created  time.Time
	commands []*command
	files    map[string][]byte
}

type command struct {
	id         int64
	name       string
	pid        int64
	path       string
	polls      int
	shown      bool // polled more than the configured polls: the outcome is visible
	status     string
	completion float64
	result     map[string]any
}

// CommandRecord is a Live Response command the fake received.
type CommandRecord struct {
	SessionID string
	DeviceID  int64
	Name      string
	PID       int64
	Path      string
}

// Commands returns the Live Response commands received, oldest first.
func (s *Server) Commands() []CommandRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.commands)
}

// OpenSessions returns the ids of the Live Response sessions not closed.
func (s *Server) OpenSessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.st.sessions {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

var windowsCommands = []string{carbonblack.CommandProcessList, carbonblack.CommandKill, carbonblack.CommandDeleteFile, carbonblack.CommandGetFile,
	carbonblack.CommandDirectoryList, carbonblack.CommandRegEnumKey, carbonblack.CommandRegCreateKey, carbonblack.CommandRegDeleteKey}

func supportedCommands(d *device) []string {
	if strings.EqualFold(d.d.OS, "WINDOWS") {
		return windowsCommands
	}
	return windowsCommands[:5]
}

func (s *Server) sessionWire(sess *session, d *device) map[string]any {
	m := map[string]any{"id": sess.id, "device_id": sess.deviceID, "check_in_timeout": checkInTimeout, "session_timeout": sessionTimeout,
		"current_command_index": len(sess.commands)}
	if !sess.active {
		m["status"] = "PENDING"
		m["create_time"] = carbonblack.FormatTime(sess.created)
		m["device_check_in_time"] = carbonblack.FormatTime(sess.created)
		return m
	}
	m["status"] = "ACTIVE"
	m["create_time"] = sess.created.UnixMilli()
	m["sensor_check_in_time"] = s.now().UnixMilli()
	m["hostname"], m["address"], m["os_version"] = nil, nil, nil
	m["supported_commands"] = supportedCommands(d)
	if strings.EqualFold(d.d.OS, "WINDOWS") {
		m["current_working_directory"], m["drives"] = `C:\Windows\system32`, []string{`C:\`}
	} else {
		m["current_working_directory"], m["drives"] = "/", []string{"/"}
	}
	return m
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DeviceID carbonblack.FlexInt `json:"device_id"`
		SensorID carbonblack.FlexInt `json:"sensor_id"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	id := int64(body.DeviceID)
	if id == 0 {
		id = int64(body.SensorID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.devices[id]
	if !ok {
		notFound(w, "Device %d not found", id)
		return
	}
	for _, sess := range s.st.sessions {
		if sess.deviceID == id {
			writeJSON(w, http.StatusCreated, s.sessionWire(sess, d))
			return
		}
	}
	s.st.sessionSeq++
	sess := &session{id: fmt.Sprintf("%d:%d", s.st.sessionSeq, id), deviceID: id, created: s.now(), files: map[string][]byte{}}
	s.st.sessions[sess.id] = sess
	writeJSON(w, http.StatusCreated, s.sessionWire(sess, d))
}

// session looks a session up, expiring one whose device never checked in;
// the caller holds s.mu.
func (s *Server) session(w http.ResponseWriter, id string) (*session, *device, bool) {
	sess, ok := s.st.sessions[id]
	if ok && !sess.active && s.now().Sub(sess.created) > checkInTimeout*time.Second {
		delete(s.st.sessions, id)
		ok = false
	}
	if !ok {
		notFound(w, "Session not found")
		return nil, nil, false
	}
	return sess, s.st.devices[sess.deviceID], true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, d, ok := s.session(w, r.PathValue("id"))
	if !ok {
		return
	}
	if !sess.active {
		sess.polls++
		lr := slices.Contains(d.d.SensorStates, carbonblack.SensorStateLiveResponseEnabled)
		if lr && sess.polls > s.opts.sessionPolls {
			sess.active = true
		}
	}
	writeJSON(w, http.StatusOK, s.sessionWire(sess, d))
}

func (s *Server) closeSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, ok := s.session(w, r.PathValue("id")); !ok {
		return
	}
	delete(s.st.sessions, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

func (c *command) wire(sess *session) map[string]any {
	m := map[string]any{"id": c.id, "session_id": sess.id, "device_id": sess.deviceID, "command_timeout": 120, "status": c.status,
		"name": c.name, "completion_time": c.completion}
	if !c.shown {
		m["status"], m["completion_time"] = "PENDING", 0
	}
	switch {
	case c.name == carbonblack.CommandKill:
		m["object"] = c.pid
	case c.path != "":
		m["object"] = c.path
	}
	if c.shown {
		for k, v := range c.result {
			m[k] = v
		}
	}
	return m
}

func (s *Server) startCommand(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name   string              `json:"name"`
		PID    carbonblack.FlexInt `json:"pid"`
		Path   string              `json:"path"`
		Object any                 `json:"object"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, d, ok := s.session(w, r.PathValue("id"))
	if !ok {
		return
	}
	if !sess.active {
		badRequest(w, "Session %s is not active", sess.id)
		return
	}
	if !slices.Contains(supportedCommands(d), body.Name) {
		badRequest(w, "Command %q is not supported on this device", body.Name)
		return
	}
	c := &command{id: int64(len(sess.commands) + 1), name: body.Name, pid: int64(body.PID), path: body.Path, status: "PENDING"}
	if body.Object != nil && c.pid == 0 && c.path == "" {
		obj := strings.Join(strs(body.Object), "")
		if c.name == carbonblack.CommandKill {
			c.pid, _ = strconv.ParseInt(obj, 10, 64)
		} else {
			c.path = obj
		}
	}
	if c.name == carbonblack.CommandKill && c.pid <= 0 {
		badRequest(w, "kill needs a pid")
		return
	}
	if c.name != carbonblack.CommandKill && c.name != carbonblack.CommandProcessList && c.path == "" {
		badRequest(w, "%s needs a path", c.name)
		return
	}
	sess.commands = append(sess.commands, c)
	s.st.commands = append(s.st.commands, CommandRecord{SessionID: sess.id, DeviceID: sess.deviceID, Name: c.name, PID: c.pid, Path: c.path})
	// The device runs the command when it gets it, whether or not anyone
	// polls for the outcome (an answer lost on the way back does not undo
	// it); the outcome shows after the configured polls.
	s.execute(sess, d, c)
	c.shown = s.opts.commandPolls <= 0
	writeJSON(w, http.StatusCreated, c.wire(sess))
}

func (s *Server) getCommand(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, _, ok := s.session(w, r.PathValue("id"))
	if !ok {
		return
	}
	cid, err := strconv.ParseInt(r.PathValue("cid"), 10, 64)
	if err != nil || cid < 1 || cid > int64(len(sess.commands)) {
		notFound(w, "Command %s not found", r.PathValue("cid"))
		return
	}
	c := sess.commands[cid-1]
	if !c.shown {
		c.polls++
		c.shown = c.polls > s.opts.commandPolls
	}
	writeJSON(w, http.StatusOK, c.wire(sess))
}

// execute runs a command against the device's state.
func (s *Server) execute(sess *session, d *device, c *command) {
	fail := func(code int64, desc string) {
		c.status = "ERROR"
		c.result = map[string]any{"result_code": code, "result_type": "WinHresult", "result_desc": desc}
	}
	c.status = "COMPLETE"
	c.completion = float64(s.now().UnixMilli()) / 1000
	switch c.name {
	case carbonblack.CommandProcessList:
		c.result = map[string]any{"processes": append([]carbonblack.LRProcess{}, d.procs...)}
	case carbonblack.CommandKill:
		i := slices.IndexFunc(d.procs, func(p carbonblack.LRProcess) bool { return p.ProcessPID == c.pid })
		if i < 0 {
			fail(hresultInvalidArg, "The parameter is incorrect.")
			return
		}
		d.procs = slices.Delete(d.procs, i, i+1)
	case carbonblack.CommandDeleteFile:
		if _, ok := d.files[fileKey(c.path)]; !ok {
			fail(hresultFileNotFound, "The system cannot find the file specified.")
			return
		}
		delete(d.files, fileKey(c.path))
	case carbonblack.CommandGetFile:
		content, ok := d.files[fileKey(c.path)]
		if !ok {
			fail(hresultFileNotFound, "The system cannot find the file specified.")
			return
		}
		fid := randomHex(16)
		sess.files[fid] = content
		c.result = map[string]any{"file_details": carbonblack.FileDetails{Offset: 0, Count: int64(len(content)), FileID: fid}}
	case carbonblack.CommandDirectoryList:
		files, ok := listDir(d, c.path, s.now())
		if !ok {
			fail(hresultPathNotFound, "The system cannot find the path specified.")
			return
		}
		c.result = map[string]any{"files": files}
	case carbonblack.CommandRegCreateKey:
		d.registry[strings.ToLower(c.path)] = c.path
	case carbonblack.CommandRegDeleteKey:
		if _, ok := d.registry[strings.ToLower(c.path)]; !ok {
			fail(hresultFileNotFound, "The system cannot find the file specified.")
			return
		}
		delete(d.registry, strings.ToLower(c.path))
	case carbonblack.CommandRegEnumKey:
		prefix := strings.ToLower(strings.TrimRight(c.path, `\`)) + `\`
		var subs []string
		for k, orig := range d.registry {
			if rest, ok := strings.CutPrefix(k, prefix); ok && !strings.Contains(rest, `\`) {
				subs = append(subs, orig[len(orig)-len(rest):])
			}
		}
		slices.Sort(subs)
		c.result = map[string]any{"sub_keys": append([]string{}, subs...), "values": []carbonblack.RegistryValue{}}
	}
}

// listDir lists the entries directly under a directory path; every entry
// carries now (whole seconds) as its file times.
func listDir(d *device, p string, now time.Time) ([]carbonblack.LRFile, bool) {
	dir := strings.TrimSuffix(fileKey(p), "*")
	if !strings.HasSuffix(dir, `\`) {
		dir += `\`
	}
	seen := map[string]bool{}
	files := []carbonblack.LRFile{}
	for k, content := range d.files {
		rest, ok := strings.CutPrefix(k, dir)
		if !ok {
			continue
		}
		name, sub, isDir := strings.Cut(rest, `\`)
		_ = sub
		if seen[name] {
			continue
		}
		seen[name] = true
		at := carbonblack.EpochSeconds{Time: now.Truncate(time.Second)}
		f := carbonblack.LRFile{Filename: name, Attributes: []string{"ARCHIVE"}, Size: int64(len(content)),
			CreateTime: at, LastAccessTime: at, LastWriteTime: at}
		if isDir {
			f.Attributes, f.Size = []string{"DIRECTORY"}, 0
		}
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b carbonblack.LRFile) int { return strings.Compare(a.Filename, b.Filename) })
	return files, len(files) > 0
}

// fileContent redirects to the object store, like the service.
func (s *Server) fileContent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sess, _, ok := s.session(w, r.PathValue("id"))
	if !ok {
		s.mu.Unlock()
		return
	}
	content, ok := sess.files[r.PathValue("fid")]
	if !ok {
		s.mu.Unlock()
		notFound(w, "File %s not found", r.PathValue("fid"))
		return
	}
	name := r.PathValue("fid")
	s.st.links[name] = &link{open: func() io.Reader { return bytes.NewReader(content) }, size: int64(len(content))}
	target := s.presign(r, "lr-file-storage", name, 300)
	s.mu.Unlock()
	http.Redirect(w, r, target, http.StatusFound)
}
