package sentinelone

import (
	"context"

	"github.com/soarkit/soarkit/internal/rest"
)

// SystemService covers /system.
type SystemService service

// SystemInfo describes the console release.
type SystemInfo struct {
	Build              string `json:"build"`
	Version            string `json:"version"`
	Release            string `json:"release"`
	Patch              string `json:"patch"`
	LatestAgentVersion string `json:"latestAgentVersion"`
}

// Info returns the console's version information.
//
// API: GET /system/info
func (s *SystemService) Info(ctx context.Context) (*SystemInfo, error) {
	var out SystemInfo
	if _, _, err := s.c.do(ctx, &rest.Request{Op: "System.Info", Path: "/system/info"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
