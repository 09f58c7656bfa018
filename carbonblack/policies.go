package carbonblack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/soarkit/soarkit/internal/rest"
)

// PoliciesService reads prevention policies through the Policy Service v1.
// (The Policy v3 API under /integrationServices/v3/policy was retired in
// 2024 and is never called.)
type PoliciesService service

// PolicySummary is one entry of the policy summary list.
type PolicySummary struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	PriorityLevel string `json:"priority_level"`
	IsSystem      bool   `json:"is_system"`
	NumDevices    int    `json:"num_devices"`
	Position      int    `json:"position"`
}

// Policy is a full prevention policy. Settings blocks whose shape varies
// with the sensor generation are kept as raw JSON.
type Policy struct {
	ID                                  int64  `json:"id"`
	Name                                string `json:"name"`
	OrgKey                              string `json:"org_key"`
	Version                             int    `json:"version"`
	PriorityLevel                       string `json:"priority_level"`
	Position                            int    `json:"position"`
	IsSystem                            bool   `json:"is_system"`
	Description                         string `json:"description"`
	AutoDeregisterInactiveVDIIntervalMS int64  `json:"auto_deregister_inactive_vdi_interval_ms"`
	// AutoDeleteKnownBadHashesDelay is in milliseconds (86400000 is a day).
	AutoDeleteKnownBadHashesDelay int64           `json:"auto_delete_known_bad_hashes_delay"`
	AVSettings                    json.RawMessage `json:"av_settings,omitempty"`
	Rules                         []PolicyRule    `json:"rules"`
	DirectoryActionRules          json.RawMessage `json:"directory_action_rules,omitempty"`
	SensorSettings                []SensorSetting `json:"sensor_settings"`
	RuleConfigs                   []RuleConfig    `json:"rule_configs"`
}

// PolicyRule is one prevention rule of a policy.
type PolicyRule struct {
	ID          int64  `json:"id"`
	Required    bool   `json:"required"`
	Action      string `json:"action"`
	Application struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"application"`
	Operation string `json:"operation"`
}

// SensorSetting is one name/value sensor setting.
type SensorSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RuleConfig is one rule configuration (core prevention, data collection,
// host-based firewall, bypass).
type RuleConfig struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	InheritedFrom string          `json:"inherited_from"`
	Category      string          `json:"category"`
	Parameters    json.RawMessage `json:"parameters,omitempty"`
	Exclusions    json.RawMessage `json:"exclusions,omitempty"`
}

// List returns the summaries of all policies.
//
// API: GET /policyservice/v1/orgs/{org_key}/policies/summary
func (s *PoliciesService) List(ctx context.Context) ([]PolicySummary, error) {
	var out struct {
		Policies []PolicySummary `json:"policies"`
	}
	_, err := s.c.do(ctx, &rest.Request{Op: "Policies.List", Path: "/policyservice/v1/orgs/{}/policies/summary", PathArgs: s.c.org()}, &out)
	if err != nil {
		return nil, err
	}
	return out.Policies, nil
}

// Get returns one full policy.
//
// API: GET /policyservice/v1/orgs/{org_key}/policies/{id}
func (s *PoliciesService) Get(ctx context.Context, id int64) (*Policy, error) {
	return call[Policy](ctx, s.c, &rest.Request{Op: "Policies.Get", Path: "/policyservice/v1/orgs/{}/policies/{}", PathArgs: s.c.org(strconv.FormatInt(id, 10))})
}

// FindByName returns the policy summary whose name equals name (compared
// case-insensitively, as the console does); the service has no name filter,
// so it lists all. An unknown name gives an error matching ErrNotFound.
//
// API: GET /policyservice/v1/orgs/{org_key}/policies/summary
func (s *PoliciesService) FindByName(ctx context.Context, name string) (*PolicySummary, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	for i := range all {
		if strings.EqualFold(all[i].Name, name) {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("carbonblack: Policies.FindByName: no policy named %q: %w", name, ErrNotFound)
}
