package vmray_test

import (
	"encoding/json"
	"testing"

	"github.com/soarkit/soarkit/vmray"
)

// Nullable fields read through their getters: set, null, absent, nil struct.
func TestGettersOfNullableFields(t *testing.T) {
	var s vmray.Sample
	if err := json.Unmarshal([]byte(`{"sample_id":1,"sample_vti_score":87,"sample_ssdeephash":null}`), &s); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.GetVTIScore(); !ok || v != 87 {
		t.Errorf("GetVTIScore = %v, %v", v, ok)
	}
	if v, ok := s.GetSSDeep(); ok || v != "" {
		t.Errorf("GetSSDeep of null = %q, %v", v, ok)
	}
	if v, ok := s.GetHighestVTIScore(); ok || v != 0 {
		t.Errorf("GetHighestVTIScore of an absent field = %v, %v", v, ok)
	}
	var none *vmray.Sample
	if _, ok := none.GetVTIScore(); ok {
		t.Error("nil Sample reported a score")
	}
}
