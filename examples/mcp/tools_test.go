package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
)

func TestToolListingAndSchemas(t *testing.T) {
	env := newEnv(t, nil, nil)
	res, err := env.client.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	for _, tool := range res.Tools {
		b, _ := json.Marshal(tool)
		var m map[string]any
		json.Unmarshal(b, &m)
		got[tool.Name] = m
	}
	want := append([]string{"vmray_hash_verdict", "vmray_submit_sample", "cbc_alerts", "cbc_process_search", "cbc_device",
		"s1_threats", "s1_agents", "proofpoint_events"}, actionNames()...)
	for _, n := range want {
		if got[n] == nil {
			t.Errorf("tool %s is not listed", n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("listed %d tools, want %d", len(got), len(want))
	}
	required := func(tool string) []string {
		var out []string
		for _, r := range got[tool]["inputSchema"].(map[string]any)["required"].([]any) {
			out = append(out, r.(string))
		}
		return out
	}
	for _, n := range actionNames() {
		m := got[n]
		if m["outputSchema"] == nil {
			t.Errorf("%s has no output schema", n)
		}
		if !slices.Contains(required(n), "reason") || slices.Contains(required(n), "execute") {
			t.Errorf("%s: required %v, want reason and not execute", n, required(n))
		}
		ann, _ := m["annotations"].(map[string]any)
		if ann["destructiveHint"] != true || ann["readOnlyHint"] == true {
			t.Errorf("%s: annotations %v", n, ann)
		}
	}
	if r := required("vmray_hash_verdict"); !slices.Equal(r, []string{"hash"}) {
		t.Errorf("vmray_hash_verdict requires %v", r)
	}
	props := got["cbc_alerts"]["inputSchema"].(map[string]any)["properties"].(map[string]any)
	for _, p := range []string{"query", "sha256", "device_id", "page_size", "cursor"} {
		if props[p] == nil {
			t.Errorf("cbc_alerts input lacks %s: %v", p, props)
		}
	}
	out := got["cbc_alerts"]["outputSchema"].(map[string]any)["properties"].(map[string]any)
	if out["items"] == nil || out["next_cursor"] == nil {
		t.Errorf("cbc_alerts output schema lacks items or next_cursor: %v", out)
	}
	if ann := got["cbc_alerts"]["annotations"].(map[string]any); ann["readOnlyHint"] != true {
		t.Errorf("cbc_alerts annotations %v", ann)
	}
}
