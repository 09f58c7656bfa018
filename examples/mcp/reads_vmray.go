package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/vmray"
)

// HashVerdictInput is the input of vmray_hash_verdict.
type HashVerdictInput struct {
	Hash    string `json:"hash" jsonschema:"the file's SHA-256, SHA-1 or MD5"`
	MaxIOCs int    `json:"max_iocs,omitempty" jsonschema:"at most this many IOCs (default and cap: the server's page size limits)"`
}

// VerdictOutput is VMRay's verdict on a file.
type VerdictOutput struct {
	Found           bool        `json:"found" jsonschema:"false when VMRay has no finished analysis of the file"`
	Hash            string      `json:"hash"`
	Verdict         string      `json:"verdict,omitempty" jsonschema:"clean, suspicious, malicious or unknown"`
	Score           float64     `json:"score,omitempty" jsonschema:"VMRay's VTI score, 0-100"`
	Severity        int         `json:"severity,omitempty" jsonschema:"1 (lowest) to 10"`
	Classifications []string    `json:"classifications,omitempty"`
	ThreatNames     []string    `json:"threat_names,omitempty"`
	SampleID        string      `json:"sample_id,omitempty"`
	SampleSHA256    string      `json:"sample_sha256,omitempty"`
	VTIs            []VTIOutput `json:"vtis,omitempty" jsonschema:"behaviour indicators, highest score first"`
	IOCs            []IOCOutput `json:"iocs,omitempty"`
	// IOCCount is the number of IOCs VMRay holds; IOCsTruncated is true when
	// fewer are returned.
	IOCCount      int    `json:"ioc_count,omitempty"`
	IOCsTruncated bool   `json:"iocs_truncated,omitempty"`
	Link          string `json:"link,omitempty" jsonschema:"the VMRay console's report"`
}

// VTIOutput is one VMRay Threat Identifier.
type VTIOutput struct {
	Category  string `json:"category,omitempty"`
	Operation string `json:"operation"`
	Score     int    `json:"score" jsonschema:"1-5"`
}

// IOCOutput is one indicator of compromise.
type IOCOutput struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Verdict string `json:"verdict,omitempty"`
}

// hashKind returns the hashes with h in the field its length names.
func hashKind(h string) (connector.Hashes, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	switch {
	case sha256RE.MatchString(h):
		return connector.Hashes{SHA256: h}, nil
	case sha1RE.MatchString(h):
		return connector.Hashes{SHA1: h}, nil
	case md5RE.MatchString(h):
		return connector.Hashes{MD5: h}, nil
	}
	return connector.Hashes{}, fmt.Errorf("%q is not a SHA-256, SHA-1 or MD5 (64, 40 or 32 hex digits)", h)
}

// verdictOutput renders a verdict within the size limits.
func (a *App) verdictOutput(hash string, v connector.Verdict, maxIOCs int) VerdictOutput {
	out := VerdictOutput{Found: true, Hash: hash, Verdict: v.Kind.String(), Score: v.Score, Severity: v.Severity,
		Classifications: clipAll(v.Classifications, 20), ThreatNames: clipAll(v.ThreatNames, 20),
		SampleID: v.AnalysisID, SampleSHA256: v.SampleHashes.SHA256, Link: v.ReportURL}
	vtis := slices.Clone(v.VTIs)
	slices.SortStableFunc(vtis, func(x, y connector.VTI) int { return cmp.Compare(y.Score, x.Score) })
	for _, t := range vtis[:min(len(vtis), 25)] {
		out.VTIs = append(out.VTIs, VTIOutput{Category: clip(t.Category), Operation: clip(t.Operation), Score: t.Score})
	}
	iocs := make([]IOCOutput, 0, len(v.IOCs))
	for _, i := range v.IOCs {
		o := IOCOutput{Type: string(i.Type), Value: clip(i.Value)}
		if i.Verdict != connector.Unknown {
			o.Verdict = i.Verdict.String()
		}
		iocs = append(iocs, o)
	}
	out.IOCCount = len(iocs)
	kept, n := bound(iocs[:min(len(iocs), a.cfg.Limits.pageSize(maxIOCs))], a.cfg.Limits.MaxResultBytes/2)
	out.IOCs, out.IOCsTruncated = kept, n < len(iocs)
	return out
}

// hashVerdict is vmray_hash_verdict.
func (a *App) hashVerdict(ctx context.Context, in HashVerdictInput) (VerdictOutput, error) {
	hashes, err := hashKind(in.Hash)
	if err != nil {
		return VerdictOutput{}, err
	}
	key, _ := hashes.Key()
	v, found, err := a.analyzer.Lookup(ctx, connector.Evidence{Hashes: hashes})
	if err != nil {
		return VerdictOutput{}, fmt.Errorf("VMRay lookup of %s: %w", key.Hex, err)
	}
	if !found {
		return VerdictOutput{Hash: key.Hex}, nil
	}
	return a.verdictOutput(key.Hex, v, in.MaxIOCs), nil
}

// SubmitInput is the input of vmray_submit_sample.
type SubmitInput struct {
	URL           string `json:"url,omitempty" jsonschema:"a URL to analyse (give either url or file_name with content_base64)"`
	FileName      string `json:"file_name,omitempty" jsonschema:"the file's name, with content_base64"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"the file's bytes, base64 (standard encoding); size-limited by the server"`
	WaitSeconds   int    `json:"wait_seconds,omitempty" jsonschema:"how long to wait for the verdict (0: do not wait; capped by the server)"`
}

// SubmitOutput is the submission and, when it finished in time, its
// verdict.
type SubmitOutput struct {
	SubmissionID int64          `json:"submission_id"`
	SampleID     int64          `json:"sample_id"`
	SHA256       string         `json:"sha256,omitempty"`
	Finished     bool           `json:"finished" jsonschema:"false when the analysis is still running: ask vmray_hash_verdict later"`
	Verdict      *VerdictOutput `json:"verdict,omitempty"`
	Link         string         `json:"link,omitempty" jsonschema:"the VMRay console's view of the submission"`
}

// submit is vmray_submit_sample.
func (a *App) submit(ctx context.Context, in SubmitInput) (SubmitOutput, error) {
	opts := &vmray.SubmitOptions{Comment: a.cfg.VMRay.SubmissionComment, Tags: a.cfg.VMRay.SubmissionTags}
	var res *vmray.SubmitResult
	var err error
	switch {
	case in.URL != "" && in.ContentBase64 != "":
		return SubmitOutput{}, errors.New("give either url or content_base64, not both")
	case in.URL != "":
		res, err = a.vm.Submissions.SubmitURL(ctx, in.URL, opts)
	case in.ContentBase64 != "":
		if base64.StdEncoding.DecodedLen(len(in.ContentBase64)) > a.cfg.Limits.MaxUploadBytes+3 {
			return SubmitOutput{}, fmt.Errorf("the file is larger than the server's limit of %d bytes", a.cfg.Limits.MaxUploadBytes)
		}
		content, derr := base64.StdEncoding.DecodeString(in.ContentBase64)
		if derr != nil {
			return SubmitOutput{}, fmt.Errorf("content_base64 is not standard base64: %w", derr)
		}
		if len(content) > a.cfg.Limits.MaxUploadBytes {
			return SubmitOutput{}, fmt.Errorf("the file is larger than the server's limit of %d bytes", a.cfg.Limits.MaxUploadBytes)
		}
		if strings.TrimSpace(in.FileName) == "" {
			return SubmitOutput{}, errors.New("file_name is required with content_base64")
		}
		res, err = a.vm.Submissions.SubmitFile(ctx, in.FileName, bytes.NewReader(content), opts)
	default:
		return SubmitOutput{}, errors.New("give url, or file_name with content_base64")
	}
	if err != nil {
		return SubmitOutput{}, fmt.Errorf("VMRay submission: %w", err)
	}
	sub := res.Submission()
	if sub == nil {
		return SubmitOutput{}, errors.New("VMRay accepted the sample but returned no submission")
	}
	out := SubmitOutput{SubmissionID: sub.ID, SampleID: sub.SampleID, SHA256: strings.ToLower(sub.SampleSHA256), Link: sub.WebifURL}
	wait := min(time.Duration(in.WaitSeconds)*time.Second, a.cfg.Limits.MaxWait)
	if wait <= 0 {
		return out, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	_, err = a.vm.Submissions.Wait(wctx, sub.ID, vmray.WaitOptions{Interval: a.cfg.Limits.PollInterval,
		MaxInterval: max(a.cfg.Limits.PollInterval, 10*time.Second), QueueTimeout: wait, InWorkTimeout: wait})
	if errors.Is(err, vmray.ErrWaitTimeout) || (err != nil && wctx.Err() != nil && ctx.Err() == nil) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("waiting for VMRay submission %d: %w", sub.ID, err)
	}
	out.Finished = true
	if out.SHA256 != "" {
		v, found, err := a.analyzer.Lookup(ctx, connector.Evidence{Hashes: connector.Hashes{SHA256: out.SHA256}})
		if err != nil {
			return out, fmt.Errorf("reading the verdict of VMRay sample %d: %w", sub.SampleID, err)
		}
		if found {
			vo := a.verdictOutput(out.SHA256, v, 0)
			out.Verdict = &vo
		}
	}
	return out, nil
}

// addVMRayTools registers the VMRay read tools.
func (a *App) addVMRayTools(s *mcp.Server) {
	addRead(a, s, &mcp.Tool{Name: "vmray_hash_verdict", Title: "VMRay verdict of a file",
		Description: "Looks a file up in VMRay by hash (no upload, no quota) and returns the verdict, score, classifications, " +
			"threat names, VTIs (behaviour indicators) and IOCs, with a link to the report."}, a.hashVerdict)
	if a.cfg.VMRay.AllowSubmissions {
		mcp.AddTool(s, &mcp.Tool{Name: "vmray_submit_sample", Title: "Submit a sample to VMRay",
			Annotations: &mcp.ToolAnnotations{OpenWorldHint: ptr(true), DestructiveHint: ptr(false)},
			Description: "Submits a URL or a small file to VMRay for analysis (uses quota) and waits a bounded time for the verdict. " +
				"Look the hash up with vmray_hash_verdict first."},
			func(ctx context.Context, req *mcp.CallToolRequest, in SubmitInput) (*mcp.CallToolResult, SubmitOutput, error) {
				cctx, cancel := context.WithTimeout(ctx, a.cfg.Limits.CallTimeout+a.cfg.Limits.MaxWait)
				defer cancel()
				out, err := a.submit(cctx, in)
				rec := AuditRecord{Tool: "vmray_submit_sample", Kind: "read", Who: callerOf(req), Decision: decisionAllowed}
				// The file's bytes stay out of the audit log; its name and size go in.
				rec.What = submitAudit(in)
				if err != nil {
					rec.Decision, rec.Error = decisionFailed, err.Error()
				}
				a.audit.Record(ctx, rec)
				return nil, out, err
			})
	}
}

// submitAudit is what the audit log keeps of a submission's input.
func submitAudit(in SubmitInput) []byte {
	m := map[string]any{"wait_seconds": in.WaitSeconds}
	if in.URL != "" {
		m["url"] = clip(in.URL)
	}
	if in.ContentBase64 != "" {
		m["file_name"], m["content_bytes"] = clip(in.FileName), base64.StdEncoding.DecodedLen(len(in.ContentBase64))
	}
	b, _ := json.Marshal(m)
	return b
}
