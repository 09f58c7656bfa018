package sentinelonetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/sentinelone"
)

// advanceLocked turns due fetches of online agents into uploads and their
// completion activities.
func (s *Server) advanceLocked() {
	now := s.now()
	kept := s.st.pending[:0]
	for _, p := range s.st.pending {
		ag := s.st.agent(p.agentID)
		if now.Before(p.due) || (ag != nil && !ag.a.IsActive) {
			kept = append(kept, p)
			continue
		}
		s.completeLocked(p, ag, now)
	}
	s.st.pending = kept
}

// completeLocked builds the upload of a fetch and logs its activity.
func (s *Server) completeLocked(p *pendingUpload, ag *agentRec, now time.Time) {
	up := &upload{password: p.password}
	var threat *threatRec
	if p.threatID != "" {
		threat = s.st.threat(p.threatID)
		f := File{Path: string(threat.t.ThreatInfo.FilePath), Reason: "The file was not found on the endpoint"}
		if threat.file != nil {
			f = *threat.file
		}
		s.addToUpload(up, f)
	} else {
		for _, fp := range p.paths {
			f, ok := ag.files[normPath(fp)]
			if !ok {
				f = File{Path: fp, Reason: "No such file or directory"}
			}
			f.Path = fp
			s.addToUpload(up, f)
		}
	}
	id := s.st.nextID()
	s.st.uploads[id] = up

	a := sentinelone.Activity{ID: id, ActivityType: p.activityType, AgentID: p.agentID, ThreatID: p.threatID,
		ActivityUUID: uuid(s.st.hexID("")), CreatedAt: sentinelone.NewTime(now), UpdatedAt: sentinelone.NewTime(now)}
	computer, ip := "", ""
	if ag != nil {
		computer, ip = ag.a.ComputerName, ag.a.ExternalIP
		a.AccountID, a.AccountName, a.SiteID, a.SiteName = ag.a.AccountID, ag.a.AccountName, ag.a.SiteID, ag.a.SiteName
		a.GroupID, a.GroupName = ag.a.GroupID, ag.a.GroupName
	}
	stamp := now.Format("2006-01-02_15_04_05.000")
	zipName := orDefault(computer, "agent") + "_" + stamp + ".zip"
	link := "/agents/" + p.agentID + "/uploads/" + id
	data := map[string]any{
		"accountName": nilIfEmpty(a.AccountName), "siteName": nilIfEmpty(a.SiteName), "groupName": nilIfEmpty(a.GroupName),
		"computerName": nilIfEmpty(computer), "externalIp": nilIfEmpty(ip), "ipAddress": nil, "realUser": nil,
		"commandBatchUuid": p.batch, "commandId": s.st.seq, "downloadUrl": link, "filePath": link,
		"filename": zipName, "uploadedFilename": zipName, "sourceType": "API",
		"fullScopeDetails":     "Group " + a.GroupName + " in Site " + a.SiteName + " of Account " + a.AccountName,
		"fullScopeDetailsPath": "Global / " + a.AccountName + " / " + a.SiteName + " / " + a.GroupName,
	}
	if threat != nil {
		ti := threat.t.ThreatInfo
		data["fileContentHash"], data["fileDisplayName"], data["fileSize"] = nilIfEmpty(ti.SHA1), nilIfEmpty(ti.ThreatName), ti.FileSize
		data["threatClassification"], data["threatClassificationSource"] = nilIfEmpty(ti.Classification), nilIfEmpty(ti.ClassificationSource)
		data["storyline"], data["escapedMaliciousProcessArguments"] = nilIfEmpty(ti.Storyline), nil
		a.PrimaryDescription = "Agent " + computer + " (" + ip + ") successfully uploaded a threat file."
	} else {
		data["scopeLevel"], data["scopeName"] = "Group", a.GroupName
		a.PrimaryDescription = "Agent " + computer + " (" + ip + ") successfully uploaded " + zipName + "."
	}
	a.SecondaryDescription = zipName + " (Group ID: " + a.GroupID + ")."
	raw, _ := json.Marshal(data)
	a.Data = sentinelone.ActivityData{Raw: raw}
	s.st.activities = append(s.st.activities, a)
}

// addToUpload records one requested file: a manifest entry and, when the
// agent could collect it, the file.
func (s *Server) addToUpload(up *upload, f File) {
	entry := sentinelone.ManifestEntry{Path: f.Path, Reason: f.Reason}
	if f.Reason == "" {
		entry.SHA1 = f.SHA1
		if entry.SHA1 == "" {
			entry.SHA1, _ = fileSHA1(&f)
		}
		up.files = append(up.files, zipFile{name: entryName(f.Path), file: f})
	}
	up.manifest = append(up.manifest, entry)
}

// manifestJSON renders manifest.json; failed entries carry their reason,
// collected ones an empty reason.
func manifestJSON(m []sentinelone.ManifestEntry) []byte {
	out := make([]map[string]any, len(m))
	for i, e := range m {
		out[i] = map[string]any{"path": e.Path, "sha1": nilIfEmpty(e.SHA1), "reason": e.Reason}
	}
	b, _ := json.Marshal(out)
	return b
}

func (s *Server) downloadUpload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.advanceLocked()
	up := s.st.uploads[r.PathValue("activity")]
	var owner string
	for _, a := range s.st.activities {
		if a.ID == r.PathValue("activity") {
			owner = a.AgentID
		}
	}
	s.mu.Unlock()
	if up == nil || owner != r.PathValue("id") {
		notFound(w, "Upload")
		return
	}
	s.serveZip(w, up, "upload_"+r.PathValue("activity")+".zip")
}

// serveZip streams an upload as a ZipCrypto zip, the way agents pack them
// (Python's zipfile decrypts it). Entries up to 8 MiB are deflated; bigger
// ones are stored, which keeps large test files cheap to produce.
func (s *Server) serveZip(w http.ResponseWriter, up *upload, name string) {
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	// A write error means the client went away; there is nobody to tell.
	_ = writeUploadZip(w, up, s.now())
}

// deflateLimit is the largest entry the fake compresses.
const deflateLimit = 8 << 20

func writeUploadZip(w io.Writer, up *upload, mod time.Time) error {
	zw := zipx.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		o := zipx.WriteOptions{Method: zipx.MethodDeflate, Encryption: zipx.EncryptionZipCrypto, Password: up.password, Modified: mod}
		if size > deflateLimit {
			o.Method = zipx.MethodStore
		}
		fw, err := zw.Create(name, o)
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, r)
		return err
	}
	if up.manifest != nil {
		m := manifestJSON(up.manifest)
		if err := add("manifest.json", int64(len(m)), bytes.NewReader(m)); err != nil {
			return err
		}
	}
	for _, f := range up.files {
		if err := add(f.name, f.file.size(), f.file.reader()); err != nil {
			return err
		}
	}
	return zw.Close()
}

func (s *Server) downloadFromCloud(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.st.threat(r.PathValue("id"))
	if t == nil {
		s.mu.Unlock()
		notFound(w, "Threat")
		return
	}
	if t.vault == nil {
		s.mu.Unlock()
		validation(w, "The file is not available in the Binary Vault.")
		return
	}
	token := s.st.hexID("")
	s.st.vaultLinks[token] = t.t.ID
	name := path.Base(strings.ReplaceAll(t.vault.Path, `\`, "/"))
	s.mu.Unlock()
	writeData(w, map[string]any{"fileName": name + ".zip", "downloadUrl": s.URL() + vaultPrefix + token + "?signature=" + token})
}

// vaultDownload serves a pre-signed Binary Vault link (no token).
func (s *Server) vaultDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var vault *File
	if t := s.st.threat(s.st.vaultLinks[r.PathValue("token")]); t != nil {
		vault = t.vault
	}
	s.mu.Unlock()
	if vault == nil {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	name := orDefault(entryName(vault.Path), "file")
	up := &upload{password: sentinelone.BinaryVaultPassword, files: []zipFile{{name: name, file: *vault}}}
	s.serveZip(w, up, "vault.zip")
}
