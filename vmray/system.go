package vmray

import (
	"context"

	"github.com/soarkit/soarkit/internal/rest"
)

// SystemService reads appliance information and settings.
type SystemService service

// SystemInfo describes the VMRay Platform ("SystemInfo").
type SystemInfo struct {
	Version         string `json:"version"`
	VersionMajor    int    `json:"version_major"`
	VersionMinor    int    `json:"version_minor"`
	VersionRevision int    `json:"version_revision"`
	// APIItemsPerRequest is the chunk size of list results; longer lists
	// continue through continuation ids.
	APIItemsPerRequest int `json:"api_items_per_request"`
	// MaxAPIItems is the most items one query returns before it is truncated.
	MaxAPIItems                int    `json:"max_api_items"`
	FileParamHTTPSchemeEnabled bool   `json:"file_param_http_scheme_enabled"`
	WebifAlias                 string `json:"webif_alias"`
	WebifBaseURL               string `json:"webif_base_url"`
	WebifMaxSampleSize         int64  `json:"webif_max_sample_size"`
	WebifMaxUploadSize         int64  `json:"webif_max_upload_size"`
}

// Info returns the version and limits of the platform. It is the cheapest
// authenticated call, which VMRay's connectors use as a health check.
//
// API: GET /rest/system_info
func (s *SystemService) Info(ctx context.Context) (*SystemInfo, error) {
	return getObject[SystemInfo](ctx, s.c, &rest.Request{Op: "System.Info", Path: "/system_info"})
}

// DownloadPassword returns the password of the ZIP archives served by
// [SamplesService.DownloadZip] (a system setting, "infected" by default).
//
// API: GET /rest/download_password
func (s *SystemService) DownloadPassword(ctx context.Context) (string, error) {
	return get[string](ctx, s.c, &rest.Request{Op: "System.DownloadPassword", Path: "/download_password"})
}
