package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// -pprof serves the runtime's profiles on its own listener until stopped.
func TestServeProfiles(t *testing.T) {
	var out strings.Builder
	stop, err := serveProfiles("127.0.0.1:0", &out)
	if err != nil {
		t.Fatal(err)
	}
	base := regexp.MustCompile(`http://\S+/debug/pprof/`).FindString(out.String())
	if base == "" {
		stop()
		t.Fatalf("no profile URL printed: %q", out.String())
	}
	resp, err := http.Get(base + "heap?debug=1")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Errorf("heap profile: %d %.80q", resp.StatusCode, body)
	}
	stop()
	if resp, err := http.Get(base); err == nil {
		resp.Body.Close()
		t.Errorf("profiles still served after stop: %d", resp.StatusCode)
	}
	if _, err := serveProfiles("not an address", io.Discard); err == nil {
		t.Error("a bad -pprof address was accepted")
	}
}
