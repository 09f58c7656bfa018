package carbonblack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/soarkit/soarkit/internal/rest"
	"github.com/soarkit/soarkit/internal/zipx"
)

// UBSService reads the Unified Binary Store (Enterprise EDR): metadata,
// device summaries, and samples downloaded through pre-signed links.
type UBSService service

// MaxDownloadHashes is the number of hashes one file/_download call takes;
// [UBSService.DownloadLinks] splits longer lists.
const MaxDownloadHashes = 100

// BinaryMetadata describes a binary UBS knows about.
type BinaryMetadata struct {
	SHA256             string   `json:"sha256"`
	MD5                string   `json:"md5"`
	Architecture       []string `json:"architecture"`
	AvailableFileSize  int64    `json:"available_file_size"`
	FileSize           int64    `json:"file_size"`
	FileAvailable      bool     `json:"file_available"`
	OSType             string   `json:"os_type"`
	CharsetID          *int     `json:"charset_id"`
	LangID             *int     `json:"lang_id"`
	Comments           *string  `json:"comments"`
	CompanyName        *string  `json:"company_name"`
	Copyright          *string  `json:"copyright"`
	FileDescription    *string  `json:"file_description"`
	FileVersion        *string  `json:"file_version"`
	InternalName       *string  `json:"internal_name"`
	OriginalFilename   *string  `json:"original_filename"`
	PrivateBuild       *string  `json:"private_build"`
	ProductDescription *string  `json:"product_description"`
	ProductName        *string  `json:"product_name"`
	ProductVersion     *string  `json:"product_version"`
	SpecialBuild       *string  `json:"special_build"`
	Trademark          *string  `json:"trademark"`
}

// Truncated reports whether UBS holds only the first part of the file.
func (m *BinaryMetadata) Truncated() bool {
	return m.AvailableFileSize > 0 && m.AvailableFileSize < m.FileSize
}

// Metadata returns what UBS knows about a binary; a binary UBS did not
// store gives an error matching ErrNotFound.
//
// API: GET /ubs/v1/orgs/{org_key}/sha256/{sha256}/metadata
func (s *UBSService) Metadata(ctx context.Context, sha256 string) (*BinaryMetadata, error) {
	return call[BinaryMetadata](ctx, s.c, &rest.Request{Op: "UBS.Metadata", Path: "/ubs/v1/orgs/{}/sha256/{}/metadata", PathArgs: s.c.org(strings.ToLower(sha256))})
}

// DeviceSummary tells which devices saw a binary first and last.
type DeviceSummary struct {
	SHA256     string `json:"sha256"`
	NumDevices int    `json:"num_devices"`
	// FirstSeenDeviceTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	FirstSeenDeviceTimestamp Timestamp `json:"first_seen_device_timestamp"`
	FirstSeenDeviceID        int64     `json:"first_seen_device_id"`
	FirstSeenDeviceName      string    `json:"first_seen_device_name"`
	// LastSeenDeviceTimestamp is RFC 3339 in UTC with milliseconds ("2023-12-17T15:25:41.416Z").
	LastSeenDeviceTimestamp Timestamp `json:"last_seen_device_timestamp"`
	LastSeenDeviceID        int64     `json:"last_seen_device_id"`
	LastSeenDeviceName      string    `json:"last_seen_device_name"`
}

// DeviceSummary returns the devices that saw a binary.
//
// API: GET /ubs/v1/orgs/{org_key}/sha256/{sha256}/summary/device
func (s *UBSService) DeviceSummary(ctx context.Context, sha256 string) (*DeviceSummary, error) {
	return call[DeviceSummary](ctx, s.c, &rest.Request{Op: "UBS.DeviceSummary", Path: "/ubs/v1/orgs/{}/sha256/{}/summary/device", PathArgs: s.c.org(strings.ToLower(sha256))})
}

// DownloadLink is a pre-signed link to one binary's zip archive.
type DownloadLink struct {
	SHA256 string `json:"sha256"`
	URL    string `json:"url"`
}

// DownloadLinks is the answer of a batch download request.
type DownloadLinks struct {
	// Found holds a link for each stored binary.
	Found []DownloadLink `json:"found"`
	// NotFound lists the hashes UBS does not hold.
	NotFound []string `json:"not_found"`
	// Error lists the hashes UBS could not serve now; ask again later.
	Error []string `json:"error"`
}

// DownloadLinks asks UBS for pre-signed links to the archives of many
// binaries, 100 hashes per call, and merges the answers. Every hash ends up
// in exactly one of Found, NotFound and Error. expiration is the links'
// lifetime (0 selects one hour). When a batch fails, the links gathered
// from the earlier batches are returned with the error.
//
// API: POST /ubs/v1/orgs/{org_key}/file/_download
func (s *UBSService) DownloadLinks(ctx context.Context, expiration time.Duration, hashes ...string) (*DownloadLinks, error) {
	if expiration <= 0 {
		expiration = time.Hour
	}
	seen := make(map[string]bool, len(hashes))
	var uniq []string
	for _, h := range hashes {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "" && !seen[h] {
			seen[h] = true
			uniq = append(uniq, h)
		}
	}
	all := &DownloadLinks{Found: []DownloadLink{}, NotFound: []string{}, Error: []string{}}
	for len(uniq) > 0 {
		batch := uniq[:min(len(uniq), MaxDownloadHashes)]
		uniq = uniq[len(batch):]
		var out DownloadLinks
		_, err := s.c.do(ctx, &rest.Request{
			Op: "UBS.DownloadLinks", Method: http.MethodPost, Path: "/ubs/v1/orgs/{}/file/_download", PathArgs: s.c.org(),
			Body:       rest.JSONBody(map[string]any{"sha256": batch, "expiration_seconds": int(expiration / time.Second)}),
			Idempotent: true,
		}, &out)
		if err != nil {
			return all, err
		}
		answered := map[string]bool{}
		for _, f := range out.Found {
			f.SHA256 = strings.ToLower(f.SHA256)
			answered[f.SHA256] = true
			all.Found = append(all.Found, f)
		}
		for _, h := range out.NotFound {
			answered[strings.ToLower(h)] = true
			all.NotFound = append(all.NotFound, strings.ToLower(h))
		}
		for _, h := range out.Error {
			answered[strings.ToLower(h)] = true
			all.Error = append(all.Error, strings.ToLower(h))
		}
		// A hash the service left out is reported as a transient error
		// rather than silently dropped.
		for _, h := range batch {
			if !answered[h] {
				all.Error = append(all.Error, h)
			}
		}
	}
	return all, nil
}

// OpenLink downloads the archive behind a pre-signed link (without Carbon
// Black credentials: the link carries its own signature) and returns its
// filedata entry as a stream that hashes what it delivers. The archive is
// spooled (see [WithSampleSpool]), so memory stays small whatever the size.
// After reading the sample to the end, call [Sample.Verify] to learn
// whether UBS held a truncated copy. The caller must Close the sample.
//
// API: GET <pre-signed url>
func (s *UBSService) OpenLink(ctx context.Context, link DownloadLink) (*Sample, error) {
	resp, err := s.c.rest.Stream(ctx, &rest.Request{Op: "UBS.OpenLink", URL: link.URL, NoAuth: true, Header: http.Header{"Accept": {"application/zip, */*"}}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	cfg := s.c.cfg
	opts := []zipx.Option{
		// The cap is the sample's: the archive around it may be larger by
		// the zip's headers and a deflate stream that did not shrink.
		zipx.WithMaxArchiveBytes(cfg.maxSample + cfg.maxSample/10 + 1<<20), zipx.WithMaxEntryBytes(cfg.maxSample),
		// Malware padded with zeros compresses extremely well; the entry
		// size cap bounds the output instead.
		zipx.WithMaxRatio(zipx.Unlimited),
	}
	if cfg.spoolDir != "" {
		opts = append(opts, zipx.WithTempDir(cfg.spoolDir))
	}
	if cfg.spoolMemory != 0 {
		opts = append(opts, zipx.WithSpoolMemory(cfg.spoolMemory))
	}
	zr, err := zipx.Spool(ctx, resp.Body, opts...)
	if err != nil {
		return nil, sampleError(link.SHA256, err)
	}
	entry, err := zr.Open("filedata")
	if err != nil {
		zr.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s: archive has no filedata entry", ErrSampleFormat, link.SHA256)
		}
		return nil, sampleError(link.SHA256, err)
	}
	return &Sample{requested: strings.ToLower(link.SHA256), r: entry, entry: entry, archive: zr, h: sha256.New()}, nil
}

// Open asks UBS for a link to one binary and opens its sample. A hash UBS
// does not hold gives an error matching ErrNotFound; one it cannot serve
// now gives an error matching ErrServer (try again later).
//
// API: POST /ubs/v1/orgs/{org_key}/file/_download, then GET <pre-signed url>
func (s *UBSService) Open(ctx context.Context, sha256 string) (*Sample, error) {
	links, err := s.DownloadLinks(ctx, 0, sha256)
	if err != nil {
		return nil, err
	}
	if len(links.Found) == 0 {
		e := &Error{Vendor: "carbonblack", Op: "UBS.Open", Method: http.MethodPost, Path: "/ubs/v1/orgs/" + s.c.orgKey + "/file/_download"}
		if len(links.NotFound) > 0 {
			e.StatusCode = http.StatusNotFound
			e.Message = "UBS does not hold " + strings.ToLower(sha256)
		} else {
			e.StatusCode = http.StatusServiceUnavailable
			e.Message = "UBS could not serve " + strings.ToLower(sha256) + " now; retry later"
		}
		return nil, e
	}
	return s.OpenLink(ctx, links.Found[0])
}

// Download copies one binary's sample to w and reports its size and hash.
// A truncated copy is written in full and reported with a
// *TruncatedSampleError (matching ErrTruncatedSample) next to the non-nil
// result, so callers can analyse the partial file under its own hash.
//
// API: POST /ubs/v1/orgs/{org_key}/file/_download, then GET <pre-signed url>
func (s *UBSService) Download(ctx context.Context, sha256 string, w io.Writer) (*SampleInfo, error) {
	smp, err := s.Open(ctx, sha256)
	if err != nil {
		return nil, err
	}
	defer smp.Close()
	return smp.copyTo(w)
}

// SampleInfo describes a sample read to the end.
type SampleInfo struct {
	// Requested is the SHA-256 asked for; SHA256 that of the bytes read.
	Requested string
	SHA256    string
	Size      int64
	// Truncated is true when the hashes differ (UBS kept only the first
	// part of the file).
	Truncated bool
}

// Sample is a binary's content streamed out of its UBS archive. It hashes
// what it delivers; after the last byte, [Sample.Verify] compares the hash
// with the requested one.
type Sample struct {
	requested string
	r         io.Reader
	entry     io.Closer
	archive   *zipx.Reader
	h         hash.Hash
	n         int64
	eof       bool
	closed    bool
}

// Read reads the sample.
func (s *Sample) Read(p []byte) (int, error) {
	if s.closed {
		return 0, fs.ErrClosed
	}
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	switch {
	case err == io.EOF:
		s.eof = true
	case err != nil:
		err = sampleError(s.requested, err)
	}
	return n, err
}

// sampleError maps archive errors to this package's sentinels: a size limit
// matches ErrResponseTooLarge, a damaged or unexpected archive (or a
// checksum mismatch) ErrSampleFormat; other errors (transport, context) are
// wrapped as they are.
func sampleError(sha string, err error) error {
	switch {
	case errors.Is(err, zipx.ErrLimitExceeded):
		return fmt.Errorf("carbonblack: UBS sample %s: %w: %v", sha, ErrResponseTooLarge, err)
	case errors.Is(err, zipx.ErrCorrupt), errors.Is(err, zipx.ErrChecksum), errors.Is(err, zipx.ErrUnsupportedMethod),
		errors.Is(err, zipx.ErrWrongPassword), errors.Is(err, zipx.ErrAmbiguous):
		return fmt.Errorf("%w: %s: %v", ErrSampleFormat, sha, err)
	}
	return fmt.Errorf("carbonblack: UBS sample %s: %w", sha, err)
}

// Close releases the spooled archive.
func (s *Sample) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.entry.Close()
	if cerr := s.archive.Close(); err == nil {
		err = cerr
	}
	return err
}

// RequestedSHA256 is the hash the sample was downloaded for.
func (s *Sample) RequestedSHA256() string { return s.requested }

// Size is the number of bytes read so far.
func (s *Sample) Size() int64 { return s.n }

// SHA256 is the hash of the bytes read so far (the sample's hash once read
// to the end).
func (s *Sample) SHA256() string { return hex.EncodeToString(s.h.Sum(nil)) }

// Verify reports, once the sample was read to the end, nil when its hash is
// the requested one and a *TruncatedSampleError otherwise. Before the end
// it returns an error saying so.
func (s *Sample) Verify() error {
	if !s.eof {
		return fmt.Errorf("carbonblack: sample %s not read to the end (%d bytes so far)", s.requested, s.n)
	}
	if got := s.SHA256(); got != s.requested {
		return &TruncatedSampleError{Requested: s.requested, Actual: got, Size: s.n}
	}
	return nil
}

// Info describes the sample read so far.
func (s *Sample) Info() *SampleInfo {
	got := s.SHA256()
	return &SampleInfo{Requested: s.requested, SHA256: got, Size: s.n, Truncated: s.eof && got != s.requested}
}

func (s *Sample) copyTo(w io.Writer) (*SampleInfo, error) {
	if _, err := io.Copy(w, s); err != nil {
		return s.Info(), err
	}
	return s.Info(), s.Verify()
}
