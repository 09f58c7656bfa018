package vmraytest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/vmray"
)

// maxFieldBytes bounds one non-file form field.
const maxFieldBytes = 64 << 10

// upload is a submitted file, hashed as it streamed in.
type upload struct {
	name    string
	size    int64
	hashes  fileHashes
	content []byte
	stored  bool
}

// errBadSubmit is a 400 with VMRay's error body.
type errBadSubmit string

func (e errBadSubmit) Error() string { return string(e) }

// invalidParam is VMRay's message for a parameter it cannot use.
func invalidParam(name string) error { return errBadSubmit("Invalid value for parameter " + name) }

// handleSubmit reads the upload without holding the state lock (a large file
// streams through hashes, never into memory beyond the store limit), then
// creates sample, submission and jobs.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "api_key ")
	s.mu.Lock()
	key := s.st.keys[token]
	s.mu.Unlock()
	if !found || key == nil {
		fail(w, http.StatusUnauthorized, "Invalid authentication")
		return
	}
	form, up, err := s.readSubmit(r)
	if err != nil {
		var bad errBadSubmit
		if errors.As(err, &bad) {
			fail(w, http.StatusBadRequest, bad.Error())
		} else {
			fail(w, http.StatusBadRequest, "Could not read the request")
		}
		return
	}
	p, err := parseSubmitParams(form, key)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.submitLocked(w, key, p, up)
}

// readSubmit parses a multipart or urlencoded submit body; query parameters
// count as form fields too.
func (s *Server) readSubmit(r *http.Request) (url.Values, *upload, error) {
	form := url.Values{}
	var up *upload
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, err
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			if part.FormName() == "sample_file" {
				if up != nil {
					return nil, nil, errBadSubmit("Only one sample_file per submission is supported")
				}
				if up, err = s.readUpload(part); err != nil {
					return nil, nil, err
				}
				up.name = part.FileName()
				continue
			}
			v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, nil, err
			}
			if len(v) > maxFieldBytes {
				return nil, nil, errBadSubmit("Parameter " + part.FormName() + " is too long")
			}
			form.Add(part.FormName(), string(v))
		}
	case "application/x-www-form-urlencoded", "":
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		form = r.PostForm
	default:
		return nil, nil, errBadSubmit("Unsupported content type " + mt)
	}
	for k, vs := range r.URL.Query() {
		if _, set := form[k]; !set {
			form[k] = vs
		}
	}
	return form, up, nil
}

// readUpload hashes a file part, keeping its bytes up to the store limit.
func (s *Server) readUpload(part io.Reader) (*upload, error) {
	hs := []hash.Hash{md5.New(), sha1.New(), sha256.New()}
	var kept bytes.Buffer
	keep := &limitedBuffer{buf: &kept, left: s.cfg.storeLimit}
	buf, _ := s.copyBufs.Get().(*[]byte)
	if buf == nil {
		buf = new(make([]byte, 256<<10))
	}
	defer s.copyBufs.Put(buf)
	n, err := io.CopyBuffer(io.MultiWriter(hs[0], hs[1], hs[2], keep), part, *buf)
	if err != nil {
		return nil, err
	}
	up := &upload{size: n, stored: !keep.overflow}
	hs[0].Sum(up.hashes.md5[:0])
	hs[1].Sum(up.hashes.sha1[:0])
	hs[2].Sum(up.hashes.sha256[:0])
	if up.stored {
		// Exactly the file: the buffer has room to spare, and the sample keeps it as long as the fake lives.
		up.content = bytes.Clone(kept.Bytes())
	}
	return up, nil
}

// limitedBuffer keeps writes until left is exhausted, then drops them all.
type limitedBuffer struct {
	buf      *bytes.Buffer
	left     int64
	overflow bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.overflow {
		return len(p), nil
	}
	if int64(len(p)) > l.left {
		l.overflow = true
		l.buf.Reset()
		l.buf = &bytes.Buffer{}
		return len(p), nil
	}
	l.left -= int64(len(p))
	return l.buf.Write(p)
}

// parseSubmitParams validates the submit parameters the fake models.
func parseSubmitParams(f url.Values, key *keyRec) (submitParams, error) {
	p := submitParams{maxJobs: 1, maxRec: 5, caching: key.AnalysisCaching, analyzerMode: vmray.AnalyzerReputationStaticDynamic,
		archiveAction: vmray.ArchiveSeparateSamples}
	p.url = strings.TrimSpace(f.Get("sample_url"))
	p.comment = f.Get("comment")
	p.sampleType = f.Get("sample_type")
	for t := range strings.SplitSeq(f.Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.tags = append(p.tags, t)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"shareable", &p.shareable}} {
		if v := f.Get(b.name); v != "" {
			parsed, err := strconv.ParseBool(strings.ToLower(v))
			if err != nil {
				return p, invalidParam(b.name)
			}
			*b.dst = parsed
		}
	}
	for _, name := range []string{"enable_reputation", "enable_whois", "known_malicious", "known_benign", "reanalyze"} {
		if v := f.Get(name); v != "" {
			if _, err := strconv.ParseBool(strings.ToLower(v)); err != nil {
				return p, invalidParam(name)
			}
		}
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"max_jobs", &p.maxJobs, 1, 100}, {"max_recursive_samples", &p.maxRec, 0, 50}} {
		if v := f.Get(n.name); v != "" {
			parsed, err := strconv.Atoi(v)
			if err != nil || parsed < n.min || parsed > n.max {
				return p, invalidParam(n.name)
			}
			*n.dst = parsed
		}
	}
	enums := []struct {
		name    string
		allowed []string
		set     func(string)
	}{
		{"analyzer_mode", []string{"reputation_static_dynamic", "reputation_static", "reputation", "static", "static_dynamic", "system_default"},
			func(v string) { p.analyzerMode = vmray.AnalyzerMode(v) }},
		{"analysis_caching", []string{"disabled", "enabled", "legacy", "smart", "system_default"},
			func(v string) { p.caching = vmray.AnalysisCaching(v) }},
		{"archive_action", []string{"sample", "compound_sample", "separate_samples", "system_default"},
			func(v string) { p.archiveAction = vmray.ArchiveAction(v) }},
	}
	for _, e := range enums {
		if v := f.Get(e.name); v != "" {
			if !slices.Contains(e.allowed, v) {
				return p, invalidParam(e.name)
			}
			e.set(v)
		}
	}
	if v := f.Get("user_config"); v != "" {
		var obj map[string]any
		if json.Unmarshal([]byte(v), &obj) != nil {
			return p, invalidParam("user_config")
		}
		p.userConfig = v
	}
	if v := f.Get("sample_filename_b64enc"); v != "" {
		name, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return p, invalidParam("sample_filename_b64enc")
		}
		p.filename = string(name)
	}
	return p, nil
}

// submitLocked creates the submission and answers with SubmisssionResult.
func (s *Server) submitLocked(w http.ResponseWriter, key *keyRec, p submitParams, up *upload) {
	switch {
	case up == nil && p.url == "":
		fail(w, http.StatusBadRequest, "Either sample_file or sample_url is required")
		return
	case up != nil && p.url != "":
		fail(w, http.StatusBadRequest, "Only one of sample_file and sample_url may be given")
		return
	}
	var h fileHashes
	var name, typ string
	var size int64
	if up != nil {
		h, size = up.hashes, up.size
		if p.filename == "" {
			p.filename = up.name
		}
		name, typ = p.filename, p.sampleType
	} else {
		h = fileHashes{md5: md5.Sum([]byte(p.url)), sha1: sha1.Sum([]byte(p.url)), sha256: sha256.Sum256([]byte(p.url))}
		size, typ = int64(len(p.url)), "URL"
		name, p.filename = hex.EncodeToString(h.sha256[:])+".url", p.url
	}
	if found := s.st.samplesWith(h.sha256[:]); len(found) > 0 && p.caching == vmray.CachingLegacy && len(s.st.sampleAnalyses(found[0])) > 0 {
		ok(w, rejection(p.filename))
		return
	}
	smp := s.sampleFor(h, name, typ, size)
	if p.url != "" {
		smp.extra().url = p.url
	}
	if up != nil && up.stored && !smp.stored {
		smp.content, smp.stored = up.content, true
	}
	sub := s.newSubmission(smp, key, p, nil)
	sub.outcome = s.outcomeFor(smp)
	view := s.sampleView(smp)
	view.SubmissionFilename = p.filename
	res := vmray.SubmitResult{
		Errors: []vmray.Rejection{}, Jobs: []vmray.Job{}, StaticJobs: []vmray.Job{}, ReputationJobs: []vmray.ReputationJob{},
		VTJobs: []json.RawMessage{}, MDJobs: []json.RawMessage{}, WhoisJobs: []vmray.WhoisJob{},
		Samples: []vmray.Sample{view}, Submissions: []vmray.Submission{s.submissionView(sub)},
	}
	for i := range int(sub.jobs) {
		if sub.static {
			res.StaticJobs = append(res.StaticJobs, s.jobView(sub, i))
		} else {
			res.Jobs = append(res.Jobs, s.jobView(sub, i))
		}
	}
	ok(w, res)
}

// rejection is the HTTP 200 answer to a submission that created no jobs.
func rejection(filename string) vmray.SubmitResult {
	return vmray.SubmitResult{
		Errors: []vmray.Rejection{{Filename: filename, Message: "Submission not stored because no jobs were created"}},
		Jobs:   []vmray.Job{}, StaticJobs: []vmray.Job{}, ReputationJobs: []vmray.ReputationJob{},
		VTJobs: []json.RawMessage{}, Samples: []vmray.Sample{}, Submissions: []vmray.Submission{},
		MDJobs: []json.RawMessage{}, WhoisJobs: []vmray.WhoisJob{},
	}
}

// outcomeFor picks the outcome for a sample: set per hash, else the one it
// was seeded with, else the default.
func (s *Server) outcomeFor(smp *sampleRec) *Outcome {
	if len(s.st.outcomes) > 0 {
		md5h, sha1h, sha256h := smp.hashes()
		for _, h := range []string{sha256h, sha1h, md5h} {
			if o, found := s.st.outcomes[h]; found {
				return o
			}
		}
	}
	if smp.outcome != nil {
		return smp.outcome
	}
	return s.cfg.defaultOutcome
}
