package wire

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 5, 27, 7, 48, 11, 0, time.UTC)
	for _, s := range []string{
		"2024-05-27T07:48:11Z", "2024-05-27T07:48:11", "2024-05-27 07:48:11", " 2024-05-27T09:48:11+02:00 ",
		"2024-05-27T09:48:11+0200", "2024-05-27 09:48:11+02:00", "2024-05-27 09:48:11+0200", "2024-05-27T07:48:11.000Z",
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	if got, err := ParseTime("2024-05-27"); err != nil || !got.Equal(time.Date(2024, 5, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date only: %v, %v", got, err)
	}
	for _, s := range []string{"", " ", "null", "None", "N/A"} {
		if got, err := ParseTime(s); err != nil || !got.IsZero() {
			t.Errorf("ParseTime(%q) = %v, %v; want zero", s, got, err)
		}
	}
	for _, s := range []string{"yesterday", "2024-13-01", "1716796091"} {
		if _, err := ParseTime(s); !errors.Is(err, ErrNotTime) {
			t.Errorf("ParseTime(%q) err = %v", s, err)
		}
	}
}

func TestEpochs(t *testing.T) {
	if got, ok := FromSeconds(1716796091.25); !ok || !got.Equal(time.Date(2024, 5, 27, 7, 48, 11, 250e6, time.UTC)) {
		t.Errorf("FromSeconds = %v, %v", got, ok)
	}
	if got, ok := FromSeconds(0); !ok || !got.IsZero() {
		t.Errorf("FromSeconds(0) = %v, %v", got, ok)
	}
	for _, bad := range []float64{1716796091250, math.NaN(), math.Inf(1)} {
		if _, ok := FromSeconds(bad); ok {
			t.Errorf("FromSeconds(%v) accepted", bad)
		}
	}
	if got, ok := ParseEpochMillis("1716796091250"); !ok || !got.Equal(time.Date(2024, 5, 27, 7, 48, 11, 250e6, time.UTC)) {
		t.Errorf("ParseEpochMillis = %v, %v", got, ok)
	}
	if _, ok := ParseEpochMillis("2024-05-27"); ok {
		t.Error("ParseEpochMillis accepted a date")
	}
}

func TestParseBoolAndInt(t *testing.T) {
	for s, want := range map[string][2]bool{
		"true": {true, true}, "True": {true, true}, "1": {true, true}, "yes": {true, true}, "2.5": {true, true},
		"false": {false, true}, "FALSE": {false, true}, "0": {false, true}, "no": {false, true},
		"": {false, false}, "null": {false, false}, "maybe": {false, false},
	} {
		if v, k := ParseBool(s); v != want[0] || k != want[1] {
			t.Errorf("ParseBool(%q) = %v, %v", s, v, k)
		}
	}
	for s, want := range map[string]int64{"12": 12, " 12 ": 12, "12.0": 12, "1.2e3": 1200, "": 0, "null": 0, "-7": -7} {
		if v, err := ParseInt(s); err != nil || v != want {
			t.Errorf("ParseInt(%q) = %v, %v", s, v, err)
		}
	}
	if _, err := ParseInt("twelve"); err == nil {
		t.Error("ParseInt accepted text")
	}
}

func TestScalar(t *testing.T) {
	for in, want := range map[string]struct {
		s      string
		quoted bool
	}{
		`"abc"`: {"abc", true}, `"a\"b"`: {`a"b`, true}, `12`: {"12", false}, `true`: {"true", false}, `null`: {"", false}, ` "x" `: {"x", true},
	} {
		s, q, err := Scalar([]byte(in))
		if err != nil || s != want.s || q != want.quoted {
			t.Errorf("Scalar(%s) = %q, %v, %v", in, s, q, err)
		}
	}
	if _, _, err := Scalar([]byte(`"unterminated\`)); err == nil {
		t.Error("Scalar accepted broken JSON")
	}
}
