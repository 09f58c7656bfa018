package sentinelone

import (
	"context"

	"github.com/soarkit/soarkit/internal/rest"
)

// SystemService covers /system.
type SystemService service

// SystemInfo describes the console release. The fields are String because
// consoles differ in sending some of them as numbers.
type SystemInfo struct {
	Build              FlexString `json:"build"`
	Version            FlexString `json:"version"`
	Release            FlexString `json:"release"`
	Patch              FlexString `json:"patch"`
	LatestAgentVersion FlexString `json:"latestAgentVersion"`
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
