package proofpoint_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/soarkit/soarkit/proofpoint"
)

func TestParseInterval(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		in   string
		want proofpoint.Interval
	}{
		{"2016-05-01T12:00:00Z/2016-05-01T13:00:00Z", proofpoint.Interval{Start: utc("2016-05-01T12:00:00Z"), End: utc("2016-05-01T13:00:00Z")}},
		{"PT30M/2016-05-01T12:30:00Z", proofpoint.Interval{Start: utc("2016-05-01T12:00:00Z"), End: utc("2016-05-01T12:30:00Z")}},
		{"PT60M/2025-03-14T00:00:00Z", proofpoint.Interval{Start: utc("2025-03-13T23:00:00Z"), End: utc("2025-03-14T00:00:00Z")}},
		{"2016-05-01T05:00:00-0700/PT30M", proofpoint.Interval{Start: utc("2016-05-01T12:00:00Z"), End: utc("2016-05-01T12:30:00Z")}},
		{"2016-05-01T05:00:00.500-07:00/PT1H0M0.5S", proofpoint.Interval{Start: utc("2016-05-01T12:00:00Z").Add(500 * time.Millisecond), End: utc("2016-05-01T13:00:01Z")}},
	}
	for _, tt := range tests {
		got, err := proofpoint.ParseInterval(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !got.Start.Equal(tt.want.Start) || !got.End.Equal(tt.want.End) {
			t.Errorf("%s = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "2016-05-01T12:00:00Z", "a/b/c", "PT1H/PT2H", "PT1Y/2016-05-01T12:00:00Z", "2016-05-01T12:00:00Z/soon", "P/2016-05-01T12:00:00Z", "PT1H2/2016-05-01T12:00:00Z"} {
		if _, err := proofpoint.ParseInterval(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	iv := proofpoint.Interval{Start: time.Date(2024, 5, 14, 11, 0, 0, 0, time.FixedZone("X", 3600)), End: time.Date(2024, 5, 14, 10, 30, 0, 0, time.UTC)}
	if got := iv.String(); got != "2024-05-14T10:00:00Z/2024-05-14T10:30:00Z" {
		t.Errorf("String() = %s", got)
	}
	if d, err := proofpoint.ParseDuration("P1W2DT3H"); err != nil || d != 9*24*time.Hour+3*time.Hour {
		t.Errorf("ParseDuration = %v, %v", d, err)
	}
}

func TestTimeJSON(t *testing.T) {
	tests := map[string]time.Time{
		`"2021-04-21T17:26:30.000Z"`:      time.Date(2021, 4, 21, 17, 26, 30, 0, time.UTC),
		`"2021-04-21T13:00:00Z"`:          time.Date(2021, 4, 21, 13, 0, 0, 0, time.UTC),
		`"2021-04-21T10:00:00-0300"`:      time.Date(2021, 4, 21, 13, 0, 0, 0, time.UTC),
		`"2021-04-21 13:00:00"`:           time.Date(2021, 4, 21, 13, 0, 0, 0, time.UTC),
		`1618923600`:                      time.Date(2021, 4, 20, 13, 0, 0, 0, time.UTC),
		`null`:                            {},
		`""`:                              {},
		`"string"`:                        {},
		`"2021-04-21T17:26:30.123+02:00"`: time.Date(2021, 4, 21, 15, 26, 30, 123e6, time.UTC),
	}
	for in, want := range tests {
		var got proofpoint.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("%s = %v, want %v", in, got, want)
		}
	}
	var bad proofpoint.Time
	if err := json.Unmarshal([]byte(`{}`), &bad); err == nil {
		t.Error("an object should not decode as a time")
	}
	b, _ := json.Marshal(struct {
		A proofpoint.Time `json:"a"`
		B proofpoint.Time `json:"b"`
	}{A: proofpoint.Time{Time: time.Date(2021, 4, 21, 19, 26, 30, 0, time.FixedZone("X", 7200))}})
	if string(b) != `{"a":"2021-04-21T17:26:30.000Z","b":null}` {
		t.Errorf("marshal = %s", b)
	}
}

func TestAddressesAndRewritten(t *testing.T) {
	var m struct {
		A, B, C, D proofpoint.Addresses
		R1         proofpoint.Rewritten `json:"r1"`
		R2         proofpoint.Rewritten `json:"r2"`
		R3         proofpoint.Rewritten `json:"r3"`
		R4         proofpoint.Rewritten `json:"r4"`
	}
	in := `{"A":["x@y.zz","z@y.zz"],"B":"x@y.zz","C":null,"D":"","r1":true,"r2":"FALSE","r3":"na","r4":null}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(m.A, proofpoint.Addresses{"x@y.zz", "z@y.zz"}) || !cmp.Equal(m.B, proofpoint.Addresses{"x@y.zz"}) || m.C != nil || m.D == nil || len(m.D) != 0 {
		t.Errorf("addresses = %#v", m)
	}
	if m.R1 != proofpoint.RewrittenTrue || m.R2 != proofpoint.RewrittenFalse || m.R3 != proofpoint.RewrittenNA || m.R4 != "" {
		t.Errorf("rewritten = %q %q %q %q", m.R1, m.R2, m.R3, m.R4)
	}
	if v, ok := m.R1.Bool(); !v || !ok {
		t.Error("true.Bool()")
	}
	if v, ok := m.R2.Bool(); v || !ok {
		t.Error("false.Bool()")
	}
	for r, want := range map[proofpoint.Rewritten]string{proofpoint.RewrittenTrue: "true", proofpoint.RewrittenFalse: "false", proofpoint.RewrittenNA: `"na"`, "": "null"} {
		if b, _ := json.Marshal(r); string(b) != want {
			t.Errorf("marshal %q = %s, want %s", r, b, want)
		}
	}
	var bad struct{ A proofpoint.Addresses }
	if err := json.Unmarshal([]byte(`{"A":{"x":1}}`), &bad); err == nil {
		t.Error("an object should not decode as addresses")
	}
}
