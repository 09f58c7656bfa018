package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/connector"
)

// ApprovalRequest is what an approver is asked: one executed action.
type ApprovalRequest struct {
	// ID is stable for the action (the same on a repeated request).
	ID     string `json:"id"`
	Action string `json:"action"`
	Target string `json:"target"`
	// Summary describes the action in words.
	Summary string `json:"summary"`
	Reason  string `json:"reason"`
	Who     Caller `json:"who"`
}

// Decision is an approver's answer.
type Decision struct {
	Approved bool `json:"approved"`
	// By names who decided (the webhook's approver, "user" for an
	// elicitation, "none" when no approval is configured).
	By      string `json:"by,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Approver decides whether an executed action may go ahead. It is asked
// only for actions that passed the guard and are not dry runs; an error is
// a denial. (Approval by MCP elicitation is not an Approver: it needs a
// round trip through the client, see elicit.go.)
type Approver interface {
	Approve(ctx context.Context, r ApprovalRequest) (Decision, error)
}

// newApprover returns the approver of the configured mode.
func newApprover(cfg Approval) (Approver, error) {
	switch cfg.Mode {
	case approvalNone, "":
		return noApproval{}, nil
	case approvalWebhook:
		return &WebhookApprover{URL: cfg.WebhookURL, Secret: []byte(cfg.WebhookSecret.Value()), Timeout: cfg.Timeout,
			Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
	case approvalElicitation:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown approval mode %q", cfg.Mode)
}

// noApproval approves everything the guard allowed.
type noApproval struct{}

func (noApproval) Approve(context.Context, ApprovalRequest) (Decision, error) {
	return Decision{Approved: true, By: "none"}, nil
}

// WebhookApprover POSTs the request as JSON to URL and approves only when
// the answer is 200 with {"answer":"yes"} (optionally "approver" and
// "comment"). A signature header (connector.DefaultSignatureHeader, HMAC
// of timestamp "." body) is sent when Secret is set, so the receiver knows
// the request is ours.
type WebhookApprover struct {
	URL     string
	Secret  []byte
	Timeout time.Duration
	Client  *http.Client
}

// webhookAnswer is the webhook's reply.
type webhookAnswer struct {
	Answer   string `json:"answer"`
	Approver string `json:"approver"`
	Comment  string `json:"comment"`
}

// Approve asks the webhook.
func (w *WebhookApprover) Approve(ctx context.Context, r ApprovalRequest) (Decision, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Decision{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Decision{}, fmt.Errorf("approval webhook: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(connector.HeaderDelivery, r.ID)
	req.Header.Set(connector.HeaderTimestamp, ts)
	if len(w.Secret) > 0 {
		req.Header.Set(connector.DefaultSignatureHeader, connector.SignWebhook(w.Secret, ts, body))
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Decision{}, fmt.Errorf("approval webhook: no answer: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Decision{}, fmt.Errorf("approval webhook: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Decision{}, fmt.Errorf("approval webhook: answered HTTP %d", resp.StatusCode)
	}
	var a webhookAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return Decision{}, fmt.Errorf("approval webhook: the answer is not {\"answer\":\"yes\"|\"no\"}: %w", err)
	}
	d := Decision{Approved: strings.EqualFold(strings.TrimSpace(a.Answer), "yes"), By: clip(a.Approver), Comment: clip(a.Comment)}
	if d.By == "" {
		d.By = "webhook"
	}
	return d, nil
}
