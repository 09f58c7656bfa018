package vmray

import (
	"context"

	"github.com/soarkit/soarkit/internal/rest"
)

// BillingService reads the account's plan and the API key's quota.
type BillingService service

// BillingInfo is the account's plan and remaining quotas ("BillingInfo").
type BillingInfo struct {
	// BillingPeriod is always, daily, monthly, annual or never.
	BillingPeriod     string `json:"billing_period"`
	DetectorQuota     int    `json:"detector_quota"`
	DetectorRemaining int    `json:"detector_remaining"`
	// EndDate, NextPlanStartDate, TodayDate and UserExpiryDate are dates
	// as VMRay writes them (ISO 8601, "2026-12-31"), kept as text.
	EndDate             string  `json:"end_date"`
	NextPlanStartDate   *string `json:"next_plan_start_date"`
	PPUReportQuotaUsed  int     `json:"ppu_report_quota_used"`
	PPUVerdictQuotaUsed int     `json:"ppu_verdict_quota_used"`
	ProductPlanName     string  `json:"product_plan_name"`
	Quota               int     `json:"quota"`
	Remaining           int     `json:"remaining"`
	ReportQuota         int     `json:"report_quota"`
	ReportRemaining     int     `json:"report_remaining"`
	TodayDate           string  `json:"today_date"`
	UserEmail           string  `json:"user_email"`
	UserExpiryDate      *string `json:"user_expiry_date"`
	VerdictQuota        int     `json:"verdict_quota"`
	VerdictRemaining    int     `json:"verdict_remaining"`
}

// Info returns the account's billing information.
//
// API: GET /rest/billing_info
func (s *BillingService) Info(ctx context.Context) (*BillingInfo, error) {
	return getObject[BillingInfo](ctx, s.c, &rest.Request{Op: "Billing.Info", Path: "/billing_info"})
}

// APIKeyQuota is the quota of the API key in use ("APIKeyQuota").
type APIKeyQuota struct {
	QuotaLimit int `json:"quota_limit"`
	UsedQuota  int `json:"used_quota"`
}

// Remaining is the quota left, never negative.
func (q *APIKeyQuota) Remaining() int { return max(q.QuotaLimit-q.UsedQuota, 0) }

// KeyQuota returns the quota of the API key the client uses.
//
// API: GET /rest/api_key/quota
func (s *BillingService) KeyQuota(ctx context.Context) (*APIKeyQuota, error) {
	return getObject[APIKeyQuota](ctx, s.c, &rest.Request{Op: "Billing.KeyQuota", Path: "/api_key/quota"})
}
