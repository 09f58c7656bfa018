package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Guard is the scope guard of the action tools, from the configuration:
// which actions may run, on which Carbon Black policies and SentinelOne
// sites and groups, and how many executed actions an hour allows. Dry runs
// pass the same checks (so the model learns what would be refused) but do
// not use the hourly budget.
type Guard struct {
	cfg Actions
	now func() time.Time

	mu   sync.Mutex
	used []time.Time // executed actions in the last hour, oldest first
}

// NewGuard returns the guard of cfg with the clock now.
func NewGuard(cfg Actions, now func() time.Time) *Guard {
	return &Guard{cfg: cfg, now: now}
}

// RefusedError is a guard's or an approver's refusal.
type RefusedError struct{ Reason string }

// Error says why the action was refused.
func (e *RefusedError) Error() string { return "refused: " + e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Allowed refuses an action the configuration does not allow.
func (g *Guard) Allowed(action string) error {
	if !slices.Contains(g.cfg.Allowed, action) {
		return refused("action %s is not among the allowed actions (actions.allowed)", action)
	}
	return nil
}

// Policy refuses a Carbon Black device outside the allowed policies.
func (g *Guard) Policy(deviceID, policyID int64, policyName string) error {
	if len(g.cfg.AllowedPolicies) == 0 {
		return nil
	}
	if matchAny(g.cfg.AllowedPolicies, strconv.FormatInt(policyID, 10), policyName) {
		return nil
	}
	return refused("device %d is in policy %q (%d), which is not among actions.allowed_policies", deviceID, policyName, policyID)
}

// Site refuses a SentinelOne object outside the allowed sites and groups.
// what names the object ("agent 123", "threat 456").
func (g *Guard) Site(what, siteID, siteName, groupID, groupName string) error {
	if len(g.cfg.AllowedSites) > 0 && !matchAny(g.cfg.AllowedSites, siteID, siteName) {
		return refused("%s is in site %q (%s), which is not among actions.allowed_sites", what, siteName, siteID)
	}
	if len(g.cfg.AllowedGroups) > 0 && !matchAny(g.cfg.AllowedGroups, groupID, groupName) {
		return refused("%s is in group %q (%s), which is not among actions.allowed_groups", what, groupName, groupID)
	}
	return nil
}

// Spend takes one executed action from the hourly budget, or refuses when
// the last hour used it up. With spend false it only checks (before asking
// an approver, so nobody approves what the budget would refuse).
func (g *Guard) Spend(spend bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	cut := 0
	for cut < len(g.used) && !g.used[cut].After(now.Add(-time.Hour)) {
		cut++
	}
	g.used = g.used[cut:]
	if len(g.used) >= g.cfg.MaxPerHour {
		return refused("the budget of %d executed actions per hour (actions.max_per_hour) is used up", g.cfg.MaxPerHour)
	}
	if spend {
		g.used = append(g.used, now)
	}
	return nil
}

// matchAny reports whether any allowed entry equals one of the values
// (names case-insensitively).
func matchAny(allowed []string, values ...string) bool {
	for _, a := range allowed {
		for _, v := range values {
			if v != "" && strings.EqualFold(strings.TrimSpace(a), v) {
				return true
			}
		}
	}
	return false
}
