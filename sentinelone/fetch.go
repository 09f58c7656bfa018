package sentinelone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
)

// fetchSettings are the client-wide defaults of file fetches.
type fetchSettings struct {
	poll      PollPolicy
	tempDir   string
	maxSample int64 // 0: the archive defaults (2 GiB)
}

// pollPolicy fills the defaults: every 5 s, growing to 15 s, for 3 minutes.
func (f fetchSettings) pollPolicy(override PollPolicy) PollPolicy {
	p := f.poll
	if override != (PollPolicy{}) {
		p = override
	}
	if p.Interval <= 0 {
		p.Interval = 5 * time.Second
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = max(15*time.Second, p.Interval)
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1.5
	}
	if p.Timeout <= 0 {
		p.Timeout = 3 * time.Minute
	}
	return p
}

// FetchRequest records a file request so that its upload can be found, also
// after a restart (it holds no secret; keep the password elsewhere).
type FetchRequest struct {
	// ThreatID is set for threat-file requests.
	ThreatID string `json:"threatId,omitempty"`
	// AgentID is the agent asked to upload (known for agent fetches, and
	// for threat fetches started by Threats.FetchFile).
	AgentID string `json:"agentId,omitempty"`
	// Paths are the requested paths of an agent fetch.
	Paths []string `json:"paths,omitempty"`
	// ActivityType is the completion activity to wait for: 86 for threat
	// files, 80 for agent fetches.
	ActivityType int `json:"activityType"`
	// RequestedAt is a console-clock time just before the request; only
	// activities created after it are taken, so an older upload of the same
	// file is never mistaken for this one.
	RequestedAt time.Time `json:"requestedAt"`
	// Skip lists upload activities found to belong to another request (the
	// console's clock has second resolution, so an upload finished just
	// before this request can pass the time filter): their zip did not open
	// with this request's password or did not list its paths.
	Skip []string `json:"skip,omitempty"`
}

// FetchOptions tune a whole fetch flow.
type FetchOptions struct {
	// Password protects the uploaded zip; empty generates one.
	Password string
	// ExpectedSHA1 is the hash the file must have. Threat fetches default to
	// the threat's SHA1, agent fetches to the manifest's.
	ExpectedSHA1 string
	// SkipOnlineCheck skips the agent check before the request (and the
	// offline diagnosis after a timeout).
	SkipOnlineCheck bool
	// Poll overrides the client's wait policy for the upload.
	Poll PollPolicy
	// Path selects the file to open when an agent fetch asked for several
	// (default: the first requested path).
	Path string
}

// requestTime picks the lower bound for completion activities: the
// console's Date header (second resolution) minus a second, or the local time
// before sending when the header is missing.
func requestTime(resp *rest.Response, sent time.Time) time.Time {
	if resp != nil {
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return d.Add(-time.Second).UTC()
		}
	}
	return sent.Add(-time.Second).UTC()
}

// RequestFile asks the agent that reported a threat to upload the threat's
// file in a zip protected by password (see ValidatePassword). Wait for the
// upload with Activities.WaitUpload, then open it with Agents.OpenUpload.
// A threat id that matches nothing (or a token without
// Threats.fetchThreatFile) is reported as ErrNotFound.
//
// API: POST /threats/fetch-file
func (s *ThreatsService) RequestFile(ctx context.Context, threatID, password string) (*FetchRequest, error) {
	const op = "Threats.RequestFile"
	if err := ValidatePassword(password); err != nil {
		return nil, fmt.Errorf("sentinelone: %s: %w", op, err)
	}
	if threatID == "" {
		return nil, invalidf(op, "empty threat id")
	}
	body := actionBody{Filter: ThreatFilter{IDs: []string{threatID}}, Data: map[string]string{"password": password}}
	sent := time.Now()
	var out affectedResult
	req := &rest.Request{Op: op, Method: http.MethodPost, Path: "/threats/fetch-file", Body: rest.JSONBody(body)}
	_, resp, err := s.c.do(ctx, req, &out)
	if err != nil {
		return nil, err
	}
	if out.Affected == 0 {
		return nil, s.c.answerError(req, http.StatusOK, "no threat "+threatID+" in scope (affected 0)", nil, ErrNotFound)
	}
	return &FetchRequest{ThreatID: threatID, ActivityType: ActivityThreatFileUploaded, RequestedAt: requestTime(resp, sent)}, nil
}

// MaxFetchPaths is the most files one fetch-files command may name.
const MaxFetchPaths = 10

// RequestFiles asks an agent to upload files by absolute path (at most 10,
// 10 MB in total, no wildcards) in a zip protected by password.
//
// API: POST /agents/{agent_id}/actions/fetch-files
func (s *AgentsService) RequestFiles(ctx context.Context, agentID string, paths []string, password string) (*FetchRequest, error) {
	const op = "Agents.RequestFiles"
	if err := ValidatePassword(password); err != nil {
		return nil, fmt.Errorf("sentinelone: %s: %w", op, err)
	}
	if len(paths) == 0 || len(paths) > MaxFetchPaths {
		return nil, invalidf(op, "need 1 to %d paths, got %d", MaxFetchPaths, len(paths))
	}
	for _, p := range paths {
		if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "*?") {
			return nil, invalidf(op, "path %q is empty or has wildcards", p)
		}
	}
	body := map[string]any{"data": map[string]any{"password": password, "files": paths}}
	sent := time.Now()
	var out struct {
		Success bool `json:"success"`
	}
	req := &rest.Request{Op: op, Method: http.MethodPost, Path: "/agents/{}/actions/fetch-files", PathArgs: []string{agentID}, Body: rest.JSONBody(body)}
	_, resp, err := s.c.do(ctx, req, &out)
	if err != nil {
		return nil, err
	}
	if !out.Success {
		return nil, s.c.answerError(req, http.StatusOK, "console did not accept the fetch (success false)", nil)
	}
	return &FetchRequest{AgentID: agentID, Paths: append([]string(nil), paths...), ActivityType: ActivityFetchedFilesUploaded,
		RequestedAt: requestTime(resp, sent)}, nil
}

// FindUpload returns the completion activity of req (type 86 or 80, created
// after req.RequestedAt, for the same threat or agent, with a download link,
// not in req.Skip), or nil when the agent has not uploaded yet. Of several
// candidates the newest is taken; Threats.FetchFile and Agents.FetchFile
// skip (and add to req.Skip) one whose zip proves to be another request's.
//
// API: GET /activities
func (s *ActivitiesService) FindUpload(ctx context.Context, req *FetchRequest) (*Activity, error) {
	opts := ActivityListOptions{
		ActivityTypes: []int{req.ActivityType},
		CreatedAtGt:   NewTime(req.RequestedAt),
		ListOptions:   ListOptions{SortBy: "createdAt", SortOrder: Descending, Limit: 100},
	}
	if req.ThreatID != "" {
		opts.ThreatIDs = []string{req.ThreatID}
	} else {
		opts.AgentIDs = []string{req.AgentID}
	}
	p, err := s.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for i := range p.Items {
		a := &p.Items[i]
		switch {
		case a.ActivityType != req.ActivityType, !a.CreatedAt.After(req.RequestedAt), slices.Contains(req.Skip, a.ID):
		case req.ThreatID != "" && a.ThreatID != req.ThreatID:
		case req.AgentID != "" && a.AgentID != "" && a.AgentID != req.AgentID:
		case uploadLink(a) == "" && (a.AgentID == "" || a.ID == ""):
		default:
			return a, nil
		}
	}
	return nil, nil
}

// WaitUpload polls FindUpload within the client's fetch poll policy (or
// poll, when non-zero) and returns the activity, or an error matching
// ErrWaitTimeout.
//
// API: GET /activities
func (s *ActivitiesService) WaitUpload(ctx context.Context, req *FetchRequest, poll PollPolicy) (*Activity, error) {
	var found *Activity
	err := rest.Poll(ctx, rest.PollPolicy(s.c.fs.pollPolicy(poll)), func(ctx context.Context) (bool, error) {
		a, err := s.FindUpload(ctx, req)
		found = a
		return a != nil, err
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// DownloadUpload streams an uploaded zip as the console serves it. The
// caller closes the body.
//
// API: GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) DownloadUpload(ctx context.Context, agentID, activityID string) (*http.Response, error) {
	return s.c.rest.Stream(ctx, &rest.Request{Op: "Agents.DownloadUpload", Path: "/agents/{}/uploads/{}", PathArgs: []string{agentID, activityID},
		Header: http.Header{"Accept": {"application/octet-stream, application/json"}}})
}

// uploadLink is an upload activity's download link: data.downloadUrl, or
// data.filePath, which carries the same link on some consoles.
func uploadLink(a *Activity) string {
	if a.Data.DownloadURL != "" {
		return a.Data.DownloadURL
	}
	if strings.Contains(a.Data.FilePath, "/uploads/") {
		return a.Data.FilePath
	}
	return ""
}

// downloadActivity streams the zip an upload activity links to. The link is
// relative to the API prefix (/agents/<agent>/uploads/<activity>); absolute
// links are followed, with the token only on the console's own host.
func (s *AgentsService) downloadActivity(ctx context.Context, a *Activity) (*http.Response, error) {
	link := strings.TrimPrefix(uploadLink(a), APIPrefix)
	if link == "" {
		return s.DownloadUpload(ctx, a.AgentID, a.ID)
	}
	if u, err := url.Parse(link); err == nil && u.IsAbs() {
		return s.c.rest.Stream(ctx, &rest.Request{Op: "Agents.DownloadUpload", URL: link})
	}
	segs := strings.Split(strings.Trim(link, "/"), "/")
	if len(segs) == 4 && segs[0] == "agents" && segs[2] == "uploads" {
		return s.DownloadUpload(ctx, segs[1], segs[3])
	}
	return nil, invalidf("Agents.DownloadUpload", "unexpected download link %q", link)
}

// OpenUpload downloads the zip of an upload activity and opens the file
// described by opts (see OpenArchive). The download is spooled to a
// temporary file, so memory use does not grow with the file.
//
// API: GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) OpenUpload(ctx context.Context, a *Activity, password string, opts ArchiveOptions) (*FetchedFile, error) {
	resp, err := s.downloadActivity(ctx, a)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if opts.TempDir == "" {
		opts.TempDir = s.c.fs.tempDir
	}
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = s.c.fs.maxSample
	}
	f, err := OpenArchive(ctx, resp.Body, password, opts)
	if err != nil {
		return nil, err
	}
	f.Activity = a
	return f, nil
}

// ReadUpload downloads the zip of an upload activity and reads its
// manifest, for uploads of several files (see FetchedArchive).
//
// API: GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) ReadUpload(ctx context.Context, a *Activity, password string, opts ArchiveOptions) (*FetchedArchive, error) {
	resp, err := s.downloadActivity(ctx, a)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if opts.TempDir == "" {
		opts.TempDir = s.c.fs.tempDir
	}
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = s.c.fs.maxSample
	}
	arc, err := ReadArchive(ctx, resp.Body, password, opts)
	if err != nil {
		return nil, err
	}
	arc.Activity = a
	return arc, nil
}

// checkOnline reports ErrAgentOffline for an agent that is not active.
func (c *Client) checkOnline(ctx context.Context, agentID string) error {
	ag, err := c.Agents.Get(ctx, agentID)
	if err != nil {
		return err
	}
	if !ag.IsActive {
		return fmt.Errorf("sentinelone: agent %s (%s): %w", agentID, ag.ComputerName, ErrAgentOffline)
	}
	return nil
}

// maxForeignUploads bounds how many uploads of other requests a fetch skips.
const maxForeignUploads = 10

// CompleteFetch finishes a fetch started with Threats.RequestFile or
// Agents.RequestFiles (for example one persisted across a restart): it waits
// within the fetch poll bound for the upload activity, downloads and opens
// the zip with password, and returns the SHA1-verified file (opts.Path
// selects one of several requested paths; default the first). An upload
// that proves to belong to another request (it does not open with password,
// or its manifest does not list the path) is added to req.Skip and the wait
// goes on. When the wait times out and the agent is off line, the error
// matches both ErrAgentOffline and ErrWaitTimeout.
//
// API: GET /activities, GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) CompleteFetch(ctx context.Context, req *FetchRequest, password string, opts FetchOptions) (*FetchedFile, error) {
	archive := ArchiveOptions{ExpectedSHA1: opts.ExpectedSHA1, RequireManifest: true, Path: opts.Path}
	if archive.Path == "" && len(req.Paths) > 0 {
		archive.Path = req.Paths[0]
	}
	return awaitUpload(ctx, s.c, req, opts, func(ctx context.Context, a *Activity) (*FetchedFile, error) {
		return s.OpenUpload(ctx, a, password, archive)
	})
}

// CompleteFetchFiles is CompleteFetch for an agent fetch of several paths:
// it returns the whole archive, whose manifest must list every requested
// path. Open each file with FetchedArchive.Open and Close the archive.
//
// API: GET /activities, GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) CompleteFetchFiles(ctx context.Context, req *FetchRequest, password string, opts FetchOptions) (*FetchedArchive, error) {
	return awaitUpload(ctx, s.c, req, opts, func(ctx context.Context, a *Activity) (*FetchedArchive, error) {
		arc, err := s.ReadUpload(ctx, a, password, ArchiveOptions{RequireManifest: true})
		if err != nil {
			return nil, err
		}
		for _, p := range req.Paths {
			if _, err := pickManifestEntry(arc.Manifest, p); err != nil {
				arc.Close()
				return nil, err
			}
		}
		return arc, nil
	})
}

// awaitUpload waits for req's upload and opens it with open, skipping
// uploads that prove to be another request's, within one overall bound.
func awaitUpload[T any](ctx context.Context, c *Client, req *FetchRequest, opts FetchOptions, open func(context.Context, *Activity) (T, error)) (T, error) {
	var zero T
	poll := c.fs.pollPolicy(opts.Poll)
	deadline := time.Now().Add(poll.Timeout)
	for {
		poll.Timeout = max(time.Until(deadline), time.Millisecond)
		a, err := c.Activities.WaitUpload(ctx, req, poll)
		if err != nil {
			if errors.Is(err, ErrWaitTimeout) && !opts.SkipOnlineCheck && req.AgentID != "" {
				if oerr := c.checkOnline(ctx, req.AgentID); errors.Is(oerr, ErrAgentOffline) {
					return zero, errors.Join(oerr, err)
				}
			}
			return zero, err
		}
		out, err := open(ctx, a)
		if (errors.Is(err, ErrWrongPassword) || errors.Is(err, errNotListed)) && len(req.Skip) < maxForeignUploads {
			req.Skip = append(req.Skip, a.ID)
			continue
		}
		return out, err
	}
}

// FetchFiles retrieves several files from an agent in one command (at most
// 10 paths): online check, request, bounded wait, download and manifest. The
// caller opens each file from the returned archive (a path the agent could
// not collect is a *FetchFailedError from Open) and closes the archive.
//
// API: GET /agents, POST /agents/{agent_id}/actions/fetch-files, GET /activities, GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) FetchFiles(ctx context.Context, agentID string, paths []string, opts FetchOptions) (*FetchedArchive, error) {
	if !opts.SkipOnlineCheck {
		if err := s.c.checkOnline(ctx, agentID); err != nil {
			return nil, err
		}
	}
	pw := opts.Password
	if pw == "" {
		pw = GeneratePassword()
	}
	req, err := s.RequestFiles(ctx, agentID, paths, pw)
	if err != nil {
		return nil, err
	}
	return s.CompleteFetchFiles(ctx, req, pw, opts)
}

// FetchFile retrieves a threat's file from the endpoint, as one call: it
// reads the threat (agent and SHA1), checks that the agent is online,
// requests the upload with a password, waits (bounded) for the type-86
// activity created after the request, downloads and decrypts the zip, reads
// manifest.json (a non-empty reason is a *FetchFailedError) and returns the
// file as a stream whose SHA1 is computed while reading and checked at the
// end against the expected hash. The caller closes the file.
//
// API: GET /threats, GET /agents, POST /threats/fetch-file, GET /activities, GET /agents/{agent_id}/uploads/{activity_id}
func (s *ThreatsService) FetchFile(ctx context.Context, threatID string, opts FetchOptions) (*FetchedFile, error) {
	t, err := s.Get(ctx, threatID)
	if err != nil {
		return nil, err
	}
	agentID := t.AgentRealtimeInfo.AgentID
	if opts.ExpectedSHA1 == "" {
		opts.ExpectedSHA1 = t.ThreatInfo.SHA1
	}
	if !opts.SkipOnlineCheck && agentID != "" {
		if err := s.c.checkOnline(ctx, agentID); err != nil {
			return nil, err
		}
	}
	pw := opts.Password
	if pw == "" {
		pw = GeneratePassword()
	}
	req, err := s.RequestFile(ctx, threatID, pw)
	if err != nil {
		return nil, err
	}
	req.AgentID = agentID
	return s.c.Agents.CompleteFetch(ctx, req, pw, opts)
}

// FetchFile retrieves one file from an agent by absolute path, as one call:
// online check, fetch-files request, bounded wait for the type-80 activity
// created after the request, download, decryption, manifest check and a
// SHA1-verified stream (against opts.ExpectedSHA1, or else the manifest's
// hash). The caller closes the file.
//
// API: GET /agents, POST /agents/{agent_id}/actions/fetch-files, GET /activities, GET /agents/{agent_id}/uploads/{activity_id}
func (s *AgentsService) FetchFile(ctx context.Context, agentID, path string, opts FetchOptions) (*FetchedFile, error) {
	if !opts.SkipOnlineCheck {
		if err := s.c.checkOnline(ctx, agentID); err != nil {
			return nil, err
		}
	}
	pw := opts.Password
	if pw == "" {
		pw = GeneratePassword()
	}
	req, err := s.RequestFiles(ctx, agentID, []string{path}, pw)
	if err != nil {
		return nil, err
	}
	opts.Path = path
	return s.CompleteFetch(ctx, req, pw, opts)
}

// DownloadCloudFile streams the Binary Vault zip a CloudDownload links to,
// without sending the API token (the link is pre-signed).
func (s *ThreatsService) DownloadCloudFile(ctx context.Context, link *CloudDownload) (*http.Response, error) {
	return s.c.rest.Stream(ctx, &rest.Request{Op: "Threats.DownloadCloudFile", URL: link.DownloadURL, NoAuth: true,
		Header: http.Header{"Accept": {"application/octet-stream, */*"}}})
}

// FetchFileFromCloud retrieves a threat's file from the Binary Vault: it
// asks for the pre-signed link, downloads it without the token, decrypts it
// (opts.Password, default BinaryVaultPassword) and returns a SHA1-verified
// stream (against opts.ExpectedSHA1, default the threat's SHA1). The vault
// zip needs no manifest.
//
// API: GET /threats/{threat_id}/download-from-cloud
func (s *ThreatsService) FetchFileFromCloud(ctx context.Context, threatID string, opts FetchOptions) (*FetchedFile, error) {
	if opts.ExpectedSHA1 == "" {
		t, err := s.Get(ctx, threatID)
		if err != nil {
			return nil, err
		}
		opts.ExpectedSHA1 = t.ThreatInfo.SHA1
	}
	link, err := s.DownloadFromCloud(ctx, threatID)
	if err != nil {
		return nil, err
	}
	resp, err := s.DownloadCloudFile(ctx, link)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	pw := opts.Password
	if pw == "" {
		pw = BinaryVaultPassword
	}
	return OpenArchive(ctx, resp.Body, pw, ArchiveOptions{ExpectedSHA1: opts.ExpectedSHA1, TempDir: s.c.fs.tempDir,
		MaxFileBytes: s.c.fs.maxSample})
}
