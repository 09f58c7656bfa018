package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ParseBool reads the ways vendors write a flag: true/false in any case,
// 1/0 (or any number, non-zero being true) and yes/no. known is false for
// null placeholders and any other text.
func ParseBool(s string) (value, known bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "true", "1", "yes":
		return true, true
	case "false", "0", "no":
		return false, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f != 0, true
	}
	return false, false
}

// ParseInt reads an integer written as a number or numeric text ("12",
// "12.0", 1.2e3). Null placeholders read as 0.
func ParseInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if IsNull(s) {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return int64(f), nil
}

// Scalar returns the text of a JSON scalar: a string is unquoted, a number
// or literal is returned as written. quoted says whether it was a string.
// JSON null gives "" and quoted false.
func Scalar(b []byte) (s string, quoted bool, err error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return "", false, nil
	}
	if b[0] != '"' {
		return string(b), false, nil
	}
	if bytes.IndexByte(b, '\\') < 0 && len(b) >= 2 && b[len(b)-1] == '"' {
		return string(b[1 : len(b)-1]), true, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", true, err
	}
	return s, true, nil
}
