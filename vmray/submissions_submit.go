package vmray

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/soarkit/soarkit/internal/rest"
)

// SubmitOptions are the optional parameters of a submission. Zero values are
// not sent, so the API key's and the system's defaults apply.
type SubmitOptions struct {
	// Comment is free text shown with the submission ("comment").
	Comment string
	// Tags label the submission ("tags", sent comma-joined). VMRay refuses
	// tags with spaces, so tags with white space or commas are rejected
	// before sending.
	Tags []string
	// AnalyzerMode selects the analyzers ("analyzer_mode").
	AnalyzerMode AnalyzerMode
	// UserConfig is the analysis configuration ("user_config", JSON).
	UserConfig *UserConfig
	// AnalysisCaching selects whether a known sample is analysed again
	// ("analysis_caching").
	AnalysisCaching AnalysisCaching
	// MaxJobs caps the jobs created by job rules ("max_jobs").
	MaxJobs *int
	// MaxRecursiveSamples caps recursive child analyses
	// ("max_recursive_samples", 0-50; 0 disables recursion).
	MaxRecursiveSamples *int
	// ArchivePassword opens password-protected archives ("archive_password").
	ArchivePassword string
	// DocumentPassword opens password-protected documents ("document_password").
	DocumentPassword string
	// ArchiveAction says how archives are analysed ("archive_action").
	ArchiveAction ArchiveAction
	// SampleType forces the sample type, for example "Windows Exe (x86-32)"
	// ("sample_type").
	SampleType string
	// Shareable allows sharing the hash with VirusTotal ("shareable").
	Shareable *bool
	// EnableReputation and EnableWhois toggle reputation and WHOIS lookups
	// ("enable_reputation", "enable_whois").
	EnableReputation *bool
	EnableWhois      *bool
	// KnownMalicious and KnownBenign toggle the known-file checks
	// ("known_malicious", "known_benign").
	KnownMalicious *bool
	KnownBenign    *bool
	// Reanalyze forces a new analysis of a known sample ("reanalyze").
	//
	// Deprecated: VMRay replaced it with analysis caching; use
	// AnalysisCaching.
	Reanalyze *bool
	// JobRuleEntries names explicit job rules ("jobrule_entries").
	JobRuleEntries string
}

// UserConfig is the "user_config" JSON of a submission.
type UserConfig struct {
	// Timeout is the analysis run time in seconds ("timeout").
	Timeout int `json:"timeout,omitzero"`
	// NetSchemeName selects a network scheme ("net_scheme_name").
	NetSchemeName string `json:"net_scheme_name,omitzero"`
	// Extra holds further keys; the typed fields win on conflicts.
	Extra map[string]any `json:"-"`
}

// MarshalJSON merges Extra with the typed fields.
func (u UserConfig) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(u.Extra)+2)
	for k, v := range u.Extra {
		m[k] = v
	}
	if u.Timeout != 0 {
		m["timeout"] = u.Timeout
	}
	if u.NetSchemeName != "" {
		m["net_scheme_name"] = u.NetSchemeName
	}
	return json.Marshal(m)
}

// fields encodes the options as form fields, in a stable order.
func (o *SubmitOptions) fields() ([]rest.Field, error) {
	if o == nil {
		return nil, nil
	}
	var f []rest.Field
	add := func(name, value string) {
		if value != "" {
			f = append(f, rest.Field{Name: name, Value: value})
		}
	}
	addBool := func(name string, b *bool) {
		if b != nil {
			add(name, strconv.FormatBool(*b))
		}
	}
	addInt := func(name string, n *int) {
		if n != nil {
			add(name, strconv.Itoa(*n))
		}
	}
	add("comment", o.Comment)
	if len(o.Tags) > 0 {
		for _, t := range o.Tags {
			if t == "" || strings.ContainsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
				return nil, fmt.Errorf("%w: tag %q is empty or contains white space or a comma", ErrInvalidRequest, t)
			}
		}
		add("tags", strings.Join(o.Tags, ","))
	}
	add("analyzer_mode", string(o.AnalyzerMode))
	if o.UserConfig != nil {
		b, err := json.Marshal(o.UserConfig)
		if err != nil {
			return nil, fmt.Errorf("%w: user_config: %v", ErrInvalidRequest, err)
		}
		if string(b) != "{}" {
			add("user_config", string(b))
		}
	}
	add("analysis_caching", string(o.AnalysisCaching))
	addInt("max_jobs", o.MaxJobs)
	if o.MaxRecursiveSamples != nil && (*o.MaxRecursiveSamples < 0 || *o.MaxRecursiveSamples > 50) {
		return nil, fmt.Errorf("%w: max_recursive_samples %d is outside 0-50", ErrInvalidRequest, *o.MaxRecursiveSamples)
	}
	addInt("max_recursive_samples", o.MaxRecursiveSamples)
	add("archive_password", o.ArchivePassword)
	add("document_password", o.DocumentPassword)
	add("archive_action", string(o.ArchiveAction))
	add("sample_type", o.SampleType)
	addBool("shareable", o.Shareable)
	addBool("enable_reputation", o.EnableReputation)
	addBool("enable_whois", o.EnableWhois)
	addBool("known_malicious", o.KnownMalicious)
	addBool("known_benign", o.KnownBenign)
	addBool("reanalyze", o.Reanalyze)
	add("jobrule_entries", o.JobRuleEntries)
	return f, nil
}

// SubmitResult is what a submission created ("SubmisssionResult"). A file
// submission normally yields one sample and one submission.
type SubmitResult struct {
	// Errors lists rejected files; a non-empty list is returned as an error
	// matching [ErrSubmissionRejected].
	Errors         []Rejection       `json:"errors"`
	Jobs           []Job             `json:"jobs"`
	StaticJobs     []Job             `json:"static_jobs"`
	ReputationJobs []ReputationJob   `json:"reputation_jobs"`
	VTJobs         []json.RawMessage `json:"vt_jobs"`
	WhoisJobs      []WhoisJob        `json:"whois_jobs"`
	MDJobs         []json.RawMessage `json:"md_jobs"`
	Samples        []Sample          `json:"samples"`
	Submissions    []Submission      `json:"submissions"`
}

// Submission returns the first submission, or nil.
func (r *SubmitResult) Submission() *Submission {
	if len(r.Submissions) == 0 {
		return nil
	}
	return &r.Submissions[0]
}

// Sample returns the first sample, or nil.
func (r *SubmitResult) Sample() *Sample {
	if len(r.Samples) == 0 {
		return nil
	}
	return &r.Samples[0]
}

// b64FilenameField carries a non-ASCII file name, base64 of its UTF-8.
const b64FilenameField = "sample_filename_b64enc"

// SubmitFile uploads a file for analysis. content is streamed as it is sent,
// never held in memory, and read once: the call is not retried after any of
// it was sent (a submission bills quota), only when the connection was
// refused or VMRay answered 429 before reading. name is the file name VMRay
// shows (directories are dropped); a non-ASCII name travels base64-encoded in
// "sample_filename_b64enc". A submission VMRay refuses inside an HTTP 200
// returns the result together with an error matching [ErrSubmissionRejected]
// (and [ErrNoJobsCreated] for a known sample under legacy caching). Look the
// hash up first: lookups are free, submissions are not.
//
// API: POST /rest/sample/submit (multipart/form-data, "sample_file")
func (s *SubmissionsService) SubmitFile(ctx context.Context, name string, content io.Reader, opts *SubmitOptions) (*SubmitResult, error) {
	const op = "Submissions.SubmitFile"
	if content == nil {
		return nil, invalid(op, fmt.Errorf("%w: no content", ErrInvalidRequest))
	}
	name = baseName(name)
	if name == "" {
		return nil, invalid(op, fmt.Errorf("%w: empty file name", ErrInvalidRequest))
	}
	fields, err := opts.fields()
	if err != nil {
		return nil, invalid(op, err)
	}
	partName := name
	if !isPrintableASCII(name) {
		partName = "@param=" + b64FilenameField
		fields = append(fields, rest.Field{Name: b64FilenameField, Value: base64.StdEncoding.EncodeToString([]byte(name))})
	}
	body := rest.MultipartBody(fields, rest.FilePart{Field: "sample_file", FileName: partName, Reader: content})
	return s.submit(ctx, &rest.Request{Op: op, Method: http.MethodPost, Path: "/sample/submit", Body: body})
}

// SubmitURL submits a URL for web analysis.
//
// API: POST /rest/sample/submit (form, "sample_url")
func (s *SubmissionsService) SubmitURL(ctx context.Context, rawURL string, opts *SubmitOptions) (*SubmitResult, error) {
	const op = "Submissions.SubmitURL"
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, invalid(op, fmt.Errorf("%w: empty URL", ErrInvalidRequest))
	}
	fields, err := opts.fields()
	if err != nil {
		return nil, invalid(op, err)
	}
	form := url.Values{"sample_url": {rawURL}}
	for _, f := range fields {
		form.Set(f.Name, f.Value)
	}
	return s.submit(ctx, &rest.Request{Op: op, Method: http.MethodPost, Path: "/sample/submit", Body: rest.FormBody(form)})
}

// submit sends a submission. It reads "data.errors" before the result
// field, since some servers flag a rejection with both, and reports a
// non-"ok" result whose data does not decode with VMRay's message.
func (s *SubmissionsService) submit(ctx context.Context, req *rest.Request) (*SubmitResult, error) {
	var raw envelope[json.RawMessage]
	resp, err := s.c.rest.Do(ctx, req, &raw)
	if err != nil {
		return nil, err
	}
	failed := raw.Result != "" && !strings.EqualFold(raw.Result, "ok")
	var res *SubmitResult
	if len(raw.Data) > 0 {
		if derr := json.Unmarshal(raw.Data, &res); derr != nil && !failed {
			e := s.c.in200Error(req, s.c.pathOf(req), "decoding response", fmt.Errorf("%w: %v", ErrMalformedResponse, derr))
			e.Body = s.c.excerpt(resp.Body)
			return nil, e
		}
	}
	if res != nil && len(res.Errors) > 0 {
		rej := &RejectedError{}
		var details []ErrorDetail
		for _, r := range res.Errors {
			r.Message = s.c.rest.Redact(r.Message)
			rej.Rejections = append(rej.Rejections, r)
			details = append(details, ErrorDetail{Code: r.Filename, Message: r.Message})
		}
		e := s.c.in200Error(req, s.c.pathOf(req), "submission rejected", rej)
		e.Details = details
		return res, e
	}
	if failed {
		msg := raw.ErrorMsg
		if msg == "" {
			msg = fmt.Sprintf("result %q", raw.Result)
		}
		return res, s.c.in200Error(req, s.c.pathOf(req), msg, nil, ErrResultError)
	}
	if res == nil || len(res.Submissions) == 0 {
		return res, s.c.in200Error(req, s.c.pathOf(req), "response names no submission", ErrMalformedResponse)
	}
	return res, nil
}

// baseName drops directories (with either separator) from a file name.
func baseName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
