package vmray_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
)

func TestTimeFormats(t *testing.T) {
	want := time.Date(2022, 4, 10, 19, 16, 59, 0, time.UTC)
	for _, in := range []string{`"2022-04-10T19:16:59"`, `"2022-04-10 19:16:59"`, `"2022-04-10T19:16:59Z"`,
		`"2022-04-10T21:16:59+02:00"`, `1649618219`} {
		var got vmray.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s decoded as %v", in, got)
		}
	}
	var frac vmray.Time
	if err := json.Unmarshal([]byte(`"2022-04-10T19:16:59.250"`), &frac); err != nil || frac.Nanosecond() != 250e6 {
		t.Errorf("fractional: %v %v", frac, err)
	}
	for _, in := range []string{`null`, `""`} {
		var got vmray.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.IsZero() {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	var bad vmray.Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Error("bad timestamp accepted")
	}
	out, _ := json.Marshal(struct {
		A vmray.Time `json:"a"`
		B vmray.Time `json:"b"`
	}{A: vmray.Time{Time: want.In(time.FixedZone("x", 3600))}})
	if string(out) != `{"a":"2022-04-10T19:16:59","b":null}` {
		t.Errorf("marshal = %s", out)
	}
}

func TestScoreVariants(t *testing.T) {
	for in, want := range map[string]int{`98`: 98, `97.6`: 97, `"55"`: 55, `"malicious"`: 100, `"Suspicious"`: 50, `"clean"`: 0} {
		var s vmray.Score
		if err := json.Unmarshal([]byte(in), &s); err != nil || int(s) != want {
			t.Errorf("%s: %d %v, want %d", in, s, err, want)
		}
	}
	var s *vmray.Score
	if err := json.Unmarshal([]byte(`null`), &s); err != nil || s != nil {
		t.Errorf("null: %v %v", s, err)
	}
	var bad vmray.Score
	if err := json.Unmarshal([]byte(`"high"`), &bad); err == nil {
		t.Error("word score accepted")
	}
}

func TestVerdictFallback(t *testing.T) {
	for _, tc := range []struct {
		json string
		want vmray.Verdict
	}{
		{`{"sample_verdict":"MALICIOUS"}`, vmray.VerdictMalicious},
		{`{"sample_verdict":null,"sample_severity":"not_suspicious"}`, vmray.VerdictClean},
		{`{"sample_severity":"whitelisted"}`, vmray.VerdictClean},
		{`{"sample_severity":"blacklisted"}`, vmray.VerdictMalicious},
		{`{"sample_severity":"suspicious"}`, vmray.VerdictSuspicious},
		{`{"sample_severity":"unknown","sample_score":80}`, vmray.VerdictMalicious},
		{`{"sample_vti_score":"30"}`, vmray.VerdictSuspicious},
		{`{"sample_score":10}`, vmray.VerdictClean},
		{`{}`, vmray.VerdictNotAvailable},
	} {
		s := decode[vmray.Sample](t, tc.json)
		if got := s.EffectiveVerdict(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.json, got, tc.want)
		}
	}
	sub := decode[vmray.Submission](t, `{"submission_severity":"malicious"}`)
	if sub.EffectiveVerdict() != vmray.VerdictMalicious {
		t.Errorf("submission fallback %q", sub.EffectiveVerdict())
	}
	if !vmray.VerdictSuspicious.Known() || vmray.VerdictNotAvailable.Known() {
		t.Error("Known")
	}
	out, _ := json.Marshal(struct {
		V vmray.Verdict  `json:"v"`
		S vmray.Severity `json:"s"`
	}{})
	if string(out) != `{"v":null,"s":null}` {
		t.Errorf("empty verdict marshals as %s", out)
	}
}

func TestHashKind(t *testing.T) {
	for h, want := range map[string]string{"d41d8cd98f00b204e9800998ecf8427e": "md5",
		"da39a3ee5e6b4b0d3255bfef95601890afd80709":                         "sha1",
		"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855": "sha256"} {
		if got, err := vmray.HashKind(h); err != nil || got != want {
			t.Errorf("%s: %q %v", h, got, err)
		}
	}
}

func TestUserConfigJSON(t *testing.T) {
	b, err := json.Marshal(vmray.UserConfig{Timeout: 120, Extra: map[string]any{"timeout": 5, "foo": "bar"}})
	if err != nil || string(b) != `{"foo":"bar","timeout":120}` {
		t.Errorf("%s %v", b, err)
	}
}

func TestIOCTypesComplete(t *testing.T) {
	if n := len(vmray.IOCTypes()); n != 10 {
		t.Errorf("%d IOC types", n)
	}
}
