package vendors

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/soarkit/soarkit/examples/internal/config"
)

// ssl_verify: false is said at start, once per client, with the vendor named;
// a verified connection says nothing.
func TestTurningVerificationOffWarnsAtStart(t *testing.T) {
	for _, verify := range []bool{false, true} {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		vm := VMRay{URL: "https://vmray.example", APIKey: config.NewSecret("k"), Transport: Transport{SSLVerify: verify}}
		if _, err := vm.Client(logger); err != nil {
			t.Fatal(err)
		}
		cb := CarbonBlack{URL: "https://cbc.example", OrgKey: "ORG", APIID: "ID", APISecret: config.NewSecret("s"),
			Transport: Transport{SSLVerify: verify}}
		if _, err := cb.Client(logger); err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		for _, vendor := range []string{"vendor=vmray", "vendor=carbonblack"} {
			warned := strings.Contains(out, "level=WARN") && strings.Contains(out, vendor) &&
				strings.Contains(out, "TLS certificate verification is off")
			if warned == verify {
				t.Errorf("ssl_verify=%v: warned about %s = %v; logs:\n%s", verify, vendor, warned, out)
			}
		}
		if n := strings.Count(out, "level=WARN"); !verify && n != 2 {
			t.Errorf("%d warnings for two clients, want 2:\n%s", n, out)
		}
	}
}
