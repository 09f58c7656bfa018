package proofpoint

import (
	"context"
	"fmt"
	"net/http"

	"github.com/soarkit/soarkit/internal/rest"
)

// URLsService decodes URLs rewritten by Proofpoint URL Defense.
type URLsService service

// DecodedURL is the result for one URL.
type DecodedURL struct {
	EncodedURL string `json:"encodedUrl"`
	DecodedURL string `json:"decodedUrl,omitempty"`
	Success    bool   `json:"success"`
	// Error, MessageGUID, ClusterName and RecipientEmail are sent by some
	// tenants (the last three for v3 URLs).
	Error          string `json:"error,omitempty"`
	MessageGUID    string `json:"messageGuid,omitempty"`
	ClusterName    string `json:"clusterName,omitempty"`
	RecipientEmail string `json:"recipientEmail,omitempty"`
}

type decodeRequest struct {
	URLs []string `json:"urls"`
}

type decodeResponse struct {
	URLs []DecodedURL `json:"urls"`
}

// Decode decodes URL Defense v1, v2 and v3 rewritten URLs in one batch, in
// order. A URL TAP cannot decode comes back with Success false. The call is
// read-only, so it is retried like a GET. Counts against [PoolURLDecode].
//
// API: POST /v2/url/decode
func (s *URLsService) Decode(ctx context.Context, urls []string) ([]DecodedURL, error) {
	req := &rest.Request{Op: "URLs.Decode", Method: http.MethodPost, Path: "/v2/url/decode",
		Body: rest.JSONBody(decodeRequest{URLs: urls}), Idempotent: true}
	if len(urls) == 0 {
		return nil, s.c.refused(req, fmt.Errorf("%w: no URLs to decode", ErrInvalidRequest))
	}
	var out decodeResponse
	if err := s.c.do(ctx, PoolURLDecode, req, &out); err != nil {
		return nil, err
	}
	return out.URLs, nil
}
