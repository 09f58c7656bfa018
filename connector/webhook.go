package connector

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	// HeaderDelivery carries a stable id per action (the same on every retry and after a restart), so receivers can
	// drop duplicates: a webhook cannot ask the receiver whether it already got a finding.
	HeaderDelivery = "X-Soarkit-Delivery"
	// HeaderTimestamp carries the send time in Unix seconds; it is part of the signed content.
	HeaderTimestamp = "X-Soarkit-Timestamp"
	// DefaultSignatureHeader carries "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
	DefaultSignatureHeader = "X-Soarkit-Signature"
)

// WebhookOptions configure NewWebhook.
type WebhookOptions struct {
	// Name is the responder's name (default "webhook").
	Name string
	// Scope is what one delivery is about. The zero value is ScopeSighting: one POST per sighting, as the
	// Proofpoint connector posted one per process.
	Scope Scope
	// Secret, when set, signs every delivery (see DefaultSignatureHeader). Verify it with VerifyWebhook.
	Secret []byte
	// SignatureHeader replaces DefaultSignatureHeader.
	SignatureHeader string
	// Header holds extra request headers, such as Authorization. Their values are never logged or put in errors.
	Header http.Header
	// Client sends the requests (default: http.DefaultTransport). Redirects are never followed.
	Client *http.Client
	// Timeout bounds one delivery attempt (default 30 s).
	Timeout time.Duration
	// Retry governs retries of one delivery on connection errors, 408, 425, 429 and 5xx (honouring Retry-After)
	// (default 3 tries, 1 s doubling up to 30 s). After them the engine's own retries apply.
	Retry Backoff
}

// Webhook is a Responder that POSTs each finding as JSON to a URL (see WebhookPayload), signed with HMAC-SHA256.
type Webhook struct {
	url    *url.URL
	opts   WebhookOptions
	client *http.Client
	retry  Responder
}

// WebhookPayload is the JSON body of a delivery.
type WebhookPayload struct {
	// ID is the delivery id, also sent in HeaderDelivery.
	ID        string    `json:"id"`
	Responder string    `json:"responder"`
	SentAt    time.Time `json:"sent_at"`
	Key       Key       `json:"key"`
	Target    string    `json:"target,omitempty"`
	Evidence  Evidence  `json:"evidence"`
	Sighting  *Sighting `json:"sighting,omitempty"`
	Verdict   Verdict   `json:"verdict"`
}

// NewWebhook returns a webhook responder for rawURL (http or https).
func NewWebhook(rawURL string, opts WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("connector: webhook URL must be an absolute http or https URL")
	}
	if opts.Name == "" {
		opts.Name = "webhook"
	}
	if opts.SignatureHeader == "" {
		opts.SignatureHeader = DefaultSignatureHeader
	}
	setDefault(&opts.Timeout, 30*time.Second)
	if opts.Retry.Attempts <= 0 {
		opts.Retry.Attempts = 3
	}
	setDefault(&opts.Retry.Initial, time.Second)
	setDefault(&opts.Retry.Max, 30*time.Second)
	client := &http.Client{}
	if opts.Client != nil {
		*client = *opts.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w := &Webhook{url: u, opts: opts, client: client}
	w.retry = Retry(webhookOnce{w}, opts.Retry)
	return w, nil
}

// Name returns the responder's name.
func (w *Webhook) Name() string { return w.opts.Name }

// Scope returns the responder's scope.
func (w *Webhook) Scope() Scope { return w.opts.Scope }

// Respond delivers the finding, retrying transient failures.
func (w *Webhook) Respond(ctx context.Context, f Finding) (Result, error) {
	return w.retry.Respond(ctx, f)
}

// site returns the URL without path, query or credentials, for messages.
func (w *Webhook) site() string { return w.url.Scheme + "://" + w.url.Host }

// DeliveryID returns the stable id of the action a finding stands for: the hex SHA256 of responder, key and target.
func DeliveryID(responder string, f Finding) string {
	sum := sha256.Sum256([]byte(responder + "\x00" + f.Key.String() + "\x00" + f.Target))
	return hex.EncodeToString(sum[:16])
}

// SignWebhook returns the signature header value for a body sent at timestamp (Unix seconds).
func SignWebhook(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a delivery's signature and that its timestamp is within maxAge of now, for receivers written
// in Go.
func VerifyWebhook(secret []byte, header http.Header, body []byte, signatureHeader string, maxAge time.Duration, now time.Time) error {
	if signatureHeader == "" {
		signatureHeader = DefaultSignatureHeader
	}
	ts := header.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("connector: webhook timestamp missing or malformed")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("connector: webhook timestamp off by %s", age.Round(time.Second))
	}
	if !hmac.Equal([]byte(header.Get(signatureHeader)), []byte(SignWebhook(secret, ts, body))) {
		return errors.New("connector: webhook signature does not match")
	}
	return nil
}

// webhookOnce makes one delivery attempt; Webhook wraps it in Retry.
type webhookOnce struct{ w *Webhook }

func (o webhookOnce) Name() string { return o.w.opts.Name }
func (o webhookOnce) Scope() Scope { return o.w.opts.Scope }

func (o webhookOnce) Respond(ctx context.Context, f Finding) (Result, error) {
	w := o.w
	now := time.Now().UTC()
	payload := WebhookPayload{ID: DeliveryID(w.opts.Name, f), Responder: w.opts.Name, SentAt: now, Key: f.Key,
		Target: f.Target, Evidence: f.Evidence, Sighting: f.Sighting, Verdict: f.Verdict}
	body, err := json.Marshal(payload)
	if err != nil {
		return Result{}, Permanent(fmt.Errorf("webhook: encode finding: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return Result{}, Permanent(fmt.Errorf("webhook %s: cannot build the request", w.site()))
	}
	for k, vs := range w.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "soarkit-connector")
	req.Header.Set(HeaderDelivery, payload.ID)
	req.Header.Set(HeaderTimestamp, ts)
	if len(w.opts.Secret) > 0 {
		req.Header.Set(w.opts.SignatureHeader, SignWebhook(w.opts.Secret, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error would repeat the full URL, which may hold a token
		}
		return Result{}, fmt.Errorf("webhook %s: %w", w.site(), err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Result{Status: Acted, Detail: fmt.Sprintf("delivered %s to %s (HTTP %d)", payload.ID, w.site(), resp.StatusCode)}, nil
	}
	err = fmt.Errorf("webhook %s: HTTP %d: %s", w.site(), resp.StatusCode, strings.TrimSpace(string(excerpt)))
	switch code := resp.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return Result{}, RetryLater(err, retryAfter(resp.Header.Get("Retry-After"), now))
	}
	return Result{}, Permanent(err)
}

// retryAfter parses a Retry-After value (seconds or an HTTP date); 0 when absent or malformed.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
