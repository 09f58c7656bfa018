package vmray

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// SamplesService reads samples: metadata and verdict, hash lookups, threat
// names, classifications, MITRE ATT&CK techniques, VMRay Threat Identifiers,
// IOCs, report unlocking, child samples and the sample file itself.
type SamplesService service

// Get returns the sample with the given id.
//
// API: GET /rest/sample/{sample_id}
func (s *SamplesService) Get(ctx context.Context, id int64) (*Sample, error) {
	const op = "Samples.Get"
	args, err := idArg("sample", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	return getObject[Sample](ctx, s.c, &rest.Request{Op: op, Path: "/sample/{}", PathArgs: args})
}

// HashKind returns the VMRay lookup kind of a hex hash by its length: "md5"
// (32), "sha1" (40) or "sha256" (64). Other lengths and non-hex characters are
// refused with an error matching [ErrInvalidRequest].
func HashKind(hash string) (string, error) {
	for _, r := range hash {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return "", fmt.Errorf("%w: hash %q is not hexadecimal", ErrInvalidRequest, hash)
		}
	}
	switch len(hash) {
	case 32:
		return "md5", nil
	case 40:
		return "sha1", nil
	case 64:
		return "sha256", nil
	}
	return "", fmt.Errorf("%w: hash of length %d is neither MD5, SHA-1 nor SHA-256", ErrInvalidRequest, len(hash))
}

// Lookup returns the samples VMRay holds for an MD5, SHA-1 or SHA-256 hash
// (chosen by length; the hash is sent lower-case). An unknown hash is not an
// error: the result is empty. Lookups use no quota. Some on-premises and
// multi-tenant systems return more than one sample; the first is the usual
// choice.
//
// API: GET /rest/sample/{md5|sha1|sha256}/{hash}
func (s *SamplesService) Lookup(ctx context.Context, hash string) ([]Sample, error) {
	const op = "Samples.Lookup"
	hash = strings.ToLower(strings.TrimSpace(hash))
	kind, err := HashKind(hash)
	if err != nil {
		return nil, invalid(op, err)
	}
	return get[[]Sample](ctx, s.c, &rest.Request{Op: op, Path: "/sample/" + kind + "/{}", PathArgs: []string{hash}})
}

// ThreatName is one threat name with the sources that gave it.
type ThreatName struct {
	ThreatName string   `json:"threat_name"`
	Sources    []string `json:"sources"`
}

// ThreatNames are the threat names of a sample and of its recursive children
// (children only for analyses made by VMRay 2026.2 or later).
type ThreatNames struct {
	Sample   []ThreatName `json:"sample_threat_names"`
	Children []ThreatName `json:"children_threat_names"`
}

// ThreatNames returns the sample's threat names.
//
// API: GET /rest/sample/{sample_id}/threat_names
func (s *SamplesService) ThreatNames(ctx context.Context, id int64) (*ThreatNames, error) {
	return getSub[ThreatNames](ctx, s.c, "Samples.ThreatNames", id, "threat_names")
}

// Classification is one classification such as "Ransomware".
type Classification struct {
	Name string `json:"classification_name"`
}

// Classifications are the classifications of a sample and of its children.
type Classifications struct {
	Sample   []Classification `json:"sample_classifications"`
	Children []Classification `json:"children_classifications"`
}

// Classifications returns the sample's classifications.
//
// API: GET /rest/sample/{sample_id}/classifications
func (s *SamplesService) Classifications(ctx context.Context, id int64) (*Classifications, error) {
	return getSub[Classifications](ctx, s.c, "Samples.Classifications", id, "classifications")
}

// ThreatIndicator is one VMRay Threat Identifier (VTI).
type ThreatIndicator struct {
	ID          int64   `json:"id"`
	AnalysisIDs []int64 `json:"analysis_ids"`
	// Category groups VTIs, for example "Injection" or "Network".
	Category string `json:"category"`
	// Operation describes the behaviour, for example "Creates mutex".
	Operation       string   `json:"operation"`
	Classifications []string `json:"classifications"`
	// Score rates the behaviour from 1 (informative) to 5 (malicious).
	Score int `json:"score"`
}

// VTIs are a sample's VMRay Threat Identifiers.
type VTIs struct {
	// Status is "finished" once every analysis contributed.
	Status           string            `json:"status"`
	ThreatIndicators []ThreatIndicator `json:"threat_indicators"`
}

// Finished reports whether the list is complete.
func (v *VTIs) Finished() bool { return v.Status == "" || v.Status == StatusFinished }

// VTIs returns the sample's VMRay Threat Identifiers.
//
// API: GET /rest/sample/{sample_id}/vtis
func (s *SamplesService) VTIs(ctx context.Context, id int64) (*VTIs, error) {
	return getSub[VTIs](ctx, s.c, "Samples.VTIs", id, "vtis")
}

// ThreatIndicators returns the same data as [SamplesService.VTIs] from the
// older path, for appliances that predate "/vtis".
//
// API: GET /rest/sample/{sample_id}/threat_indicators
func (s *SamplesService) ThreatIndicators(ctx context.Context, id int64) (*VTIs, error) {
	return getSub[VTIs](ctx, s.c, "Samples.ThreatIndicators", id, "threat_indicators")
}

// MitreTechnique is one MITRE ATT&CK technique seen in the analyses.
type MitreTechnique struct {
	ID          int64   `json:"id"`
	AnalysisIDs []int64 `json:"analysis_ids"`
	// MatrixVersion is the ATT&CK matrix version as a date-time, ISO 8601 in UTC.
	MatrixVersion    Time              `json:"matrix_version"`
	Tactics          []string          `json:"tactics"`
	Technique        string            `json:"technique"`
	TechniqueID      string            `json:"technique_id"`
	ThreatIndicators []ThreatIndicator `json:"threat_indicators"`
	Version          float64           `json:"version"`
}

// MitreAttack is a sample's MITRE ATT&CK mapping.
type MitreAttack struct {
	Status     string           `json:"status"`
	Techniques []MitreTechnique `json:"mitre_attack_techniques"`
}

// MitreAttack returns the sample's MITRE ATT&CK techniques.
//
// API: GET /rest/sample/{sample_id}/mitre_attack
func (s *SamplesService) MitreAttack(ctx context.Context, id int64) (*MitreAttack, error) {
	return getSub[MitreAttack](ctx, s.c, "Samples.MitreAttack", id, "mitre_attack")
}

// IOCOptions filter [SamplesService.IOCs]. Zero values select everything.
type IOCOptions struct {
	// Type selects one IOC list ("/iocs/type/{type}").
	Type IOCType
	// Verdict selects IOCs with this verdict ("/iocs/verdict/{verdict}");
	// VMRay's connectors ask once per verdict they act on.
	Verdict Verdict
	// Severity selects IOCs by deprecated severity ("ioc_severity").
	Severity Severity
	// AllArtifacts returns every artifact, IOC or not ("all_artifacts";
	// each item's IOC field tells which).
	AllArtifacts bool
}

// IOCs returns the sample's indicators of compromise, typed per kind.
//
// API: GET /rest/sample/{sample_id}/iocs[/type/{ioc_type}][/verdict/{verdict}]
func (s *SamplesService) IOCs(ctx context.Context, id int64, opts *IOCOptions) (*IOCResult, error) {
	const op = "Samples.IOCs"
	args, err := idArg("sample", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	path := "/sample/{}/iocs"
	q := url.Values{}
	if opts != nil {
		if opts.Type != "" {
			path += "/type/{}"
			args = append(args, string(opts.Type))
		}
		if opts.Verdict != "" {
			path += "/verdict/{}"
			args = append(args, string(opts.Verdict))
		}
		if opts.Severity != "" {
			q.Set("ioc_severity", string(opts.Severity))
		}
		if opts.AllArtifacts {
			q.Set("all_artifacts", "true")
		}
	}
	res, err := get[*IOCResult](ctx, s.c, &rest.Request{Op: op, Path: path, PathArgs: args, Query: q})
	if err == nil && res == nil {
		res = &IOCResult{}
	}
	return res, err
}

// UnlockResult lists the analyses whose reports were unlocked.
type UnlockResult struct {
	UnlockedAnalysisIDs []int64 `json:"unlocked_analysis_ids"`
}

// UnlockReports unlocks every report of the sample for a Verdict (detector)
// API key, which otherwise sees analyses with [LockLocked] status. It uses
// report quota, so VMRay's connectors call it only for samples that are not
// clean.
//
// API: POST /rest/sample/{sample_id}/unlock_reports
func (s *SamplesService) UnlockReports(ctx context.Context, id int64) (*UnlockResult, error) {
	const op = "Samples.UnlockReports"
	args, err := idArg("sample", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	res, err := get[*UnlockResult](ctx, s.c, &rest.Request{Op: op, Method: http.MethodPost, Path: "/sample/{}/unlock_reports", PathArgs: args, Idempotent: true})
	if err == nil && res == nil {
		res = &UnlockResult{}
	}
	return res, err
}

// Children returns the sample's recursive child samples (dropped and
// downloaded files, archive members, attachments) in the order of
// "sample_child_sample_ids".
//
// API: GET /rest/sample/{sample_id}, then GET /rest/sample/{child_id} per child
func (s *SamplesService) Children(ctx context.Context, id int64) ([]Sample, error) {
	parent, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(parent.ChildSampleIDs))
	for _, cid := range parent.ChildSampleIDs {
		child, err := s.Get(ctx, cid)
		if err != nil {
			return out, err
		}
		out = append(out, *child)
	}
	return out, nil
}

// RelationsPage returns the first chunk of the sample's relations, for
// samples whose embedded relation lists are truncated.
//
// API: GET /rest/sample_relation/sample/{sample_id}
func (s *SamplesService) RelationsPage(ctx context.Context, id int64, opts *ListOptions) (*Page[SampleRelation], error) {
	req, err := byIDRequest("Samples.Relations", "/sample_relation/sample/{}", "sample", id, opts, nil)
	if err != nil {
		return nil, err
	}
	return listPage[SampleRelation](ctx, s.c, req)
}

// Relations iterates over all the sample's relations.
//
// API: GET /rest/sample_relation/sample/{sample_id}, GET /rest/continuation/{id}
func (s *SamplesService) Relations(ctx context.Context, id int64, opts *ListOptions) iter.Seq2[SampleRelation, error] {
	req, err := byIDRequest("Samples.Relations", "/sample_relation/sample/{}", "sample", id, opts, nil)
	return iterate[SampleRelation](ctx, s.c, req, err)
}

// Report streams the sample's PDF report. Verdict keys get an error matching
// [ErrForbidden] while the report is locked. The caller closes the reader.
//
// API: GET /rest/sample/{sample_id}/report
func (s *SamplesService) Report(ctx context.Context, id int64) (io.ReadCloser, error) {
	return s.c.download(ctx, "Samples.Report", "/sample/{}/report", id, nil, "application/pdf")
}

// getSub reads GET /sample/{id}/{sub} into T.
func getSub[T any](ctx context.Context, c *Client, op string, id int64, sub string) (*T, error) {
	args, err := idArg("sample", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	res, err := get[*T](ctx, c, &rest.Request{Op: op, Path: "/sample/{}/" + sub, PathArgs: args})
	if err == nil && res == nil {
		res = new(T)
	}
	return res, err
}

// byIDRequest builds a list request filtered by one id in the path.
func byIDRequest(op, path, what string, id int64, opts *ListOptions, extra url.Values) (*rest.Request, error) {
	args, err := idArg(what, id)
	if err != nil {
		return nil, invalid(op, err)
	}
	return &rest.Request{Op: op, Path: path, PathArgs: args, Query: opts.values(extra)}, nil
}

// iterate is listAll, or an iterator yielding err when the request could not
// be built.
func iterate[T any](ctx context.Context, c *Client, req *rest.Request, err error) iter.Seq2[T, error] {
	if err != nil {
		return func(yield func(T, error) bool) {
			var zero T
			yield(zero, err)
		}
	}
	return listAll[T](ctx, c, req)
}

// download streams a binary endpoint of a sample.
func (c *Client) download(ctx context.Context, op, path string, id int64, q url.Values, accept string) (io.ReadCloser, error) {
	args, err := idArg("sample", id)
	if err != nil {
		return nil, invalid(op, err)
	}
	resp, err := c.rest.Stream(ctx, &rest.Request{
		Op: op, Path: path, PathArgs: args, Query: q,
		Header: http.Header{"Accept": {accept + ", application/octet-stream;q=0.9, application/json;q=0.5"}},
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
