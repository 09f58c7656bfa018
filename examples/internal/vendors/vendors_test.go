package vendors

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/examples/internal/config"
	"github.com/soarkit/soarkit/vmray"
)

// recorded names the options TransportOptions asks for, in order.
func recorded(t *testing.T, tr Transport, withProxy bool) []string {
	t.Helper()
	proxy := func(u string) string { return "proxy " + u }
	if !withProxy {
		proxy = nil
	}
	opts, err := TransportOptions("vendor", tr, func() string { return "insecure" },
		func(pem []byte) string { return "ca " + string(pem) }, proxy)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestTransportOptions(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		tr        Transport
		withProxy bool
		want      []string
	}{
		{"verified, nothing else", Transport{SSLVerify: true}, true, nil},
		{"verification off", Transport{}, true, []string{"insecure"}},
		{"everything", Transport{CAFile: ca, Proxy: "http://proxy:3128"}, true,
			[]string{"insecure", "ca -----BEGIN CERTIFICATE-----", "proxy http://proxy:3128"}},
		{"no proxy option", Transport{SSLVerify: true, CAFile: ca, Proxy: "http://proxy:3128"}, false,
			[]string{"ca -----BEGIN CERTIFICATE-----"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, recorded(t, tc.tr, tc.withProxy)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransportOptionsMissingCAFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	_, err := TransportOptions("vmray", Transport{SSLVerify: true, CAFile: missing}, vmray.WithInsecureSkipVerify,
		vmray.WithCACertPEM, vmray.WithProxy)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "vmray.ca_file: ") {
		t.Errorf("error %v, want vmray.ca_file wrapping fs.ErrNotExist", err)
	}
	vm := VMRay{URL: "https://eu.cloud.vmray.com", APIKey: config.NewSecret("key"), Transport: Transport{CAFile: missing}}
	if _, err := vm.Client(nil); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "vmray.ca_file: ") {
		t.Errorf("VMRay.Client error %v", err)
	}
}

func problemKeys(p config.Problems) []string {
	var keys []string
	for _, q := range p {
		keys = append(keys, q.Key)
	}
	return keys
}

func TestCarbonBlackValidate(t *testing.T) {
	var p config.Problems
	(&CarbonBlack{}).Validate(&p, "CBC_VMRAY")
	if diff := cmp.Diff([]string{"carbonblack.url", "carbonblack.org_key", "carbonblack.api_id", "carbonblack.api_secret"},
		problemKeys(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if r := p[3].Reason; !strings.Contains(r, "CBC_VMRAY_CARBONBLACK_API_SECRET or CBC_VMRAY_CARBONBLACK_API_SECRET_FILE") ||
		!strings.Contains(r, "carbonblack.credentials_file") {
		t.Errorf("api_secret reason %q", r)
	}

	p = nil
	(&CarbonBlack{URL: "https://defense.conferdeploy.net", OrgKey: "ABCD1234", APIID: "ID", APISecret: config.NewSecret("s")}).
		Validate(&p, "X")
	if len(p) != 0 {
		t.Errorf("complete keys: %v", p)
	}

	p = nil
	(&CarbonBlack{CredentialsFile: filepath.Join(t.TempDir(), "credentials.cbc")}).Validate(&p, "X")
	if diff := cmp.Diff([]string{"carbonblack.credentials_file"}, problemKeys(p)); diff != "" {
		t.Errorf("missing credentials file (-want +got):\n%s", diff)
	}
}

func TestCarbonBlackCredentials(t *testing.T) {
	cb := CarbonBlack{URL: "https://defense.conferdeploy.net", OrgKey: "ABCD1234", APIID: "KEYID", APISecret: config.NewSecret("SECRET"),
		Profile: "default", Transport: Transport{CAFile: "/etc/ca.pem", Proxy: "http://proxy:3128"}, IntegrationName: "cbc-vmray"}
	got, err := cb.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	want := &carbonblack.Credentials{URL: "https://defense.conferdeploy.net", APISecret: "SECRET", APIID: "KEYID", OrgKey: "ABCD1234",
		SSLCertFile: "/etc/ca.pem", Proxy: "http://proxy:3128", Integration: "cbc-vmray"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credentials from keys (-want +got):\n%s", diff)
	}

	// A credentials file wins over the keys.
	file := filepath.Join(t.TempDir(), "credentials.cbc")
	ini := "[default]\nurl = https://other.example\ntoken = FSECRET/FID\norg_key = ORG1\n\n" +
		"[prod]\nurl = https://defense-prod05.conferdeploy.net\ntoken = PSECRET/PID\norg_key = ORG2\nssl_verify = false\nignore_system_proxy = true\n"
	if err := os.WriteFile(file, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	cb.CredentialsFile, cb.Profile = file, "prod"
	if got, err = cb.Credentials(); err != nil {
		t.Fatal(err)
	}
	want = &carbonblack.Credentials{URL: "https://defense-prod05.conferdeploy.net", APISecret: "PSECRET", APIID: "PID", OrgKey: "ORG2",
		IgnoreSystemProxy: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credentials from the file (-want +got):\n%s", diff)
	}
	if _, err := cb.Client(nil); err != nil {
		t.Errorf("client from the file: %v", err)
	}

	cb.Profile = "staging"
	if _, err := cb.Client(nil); err == nil || !strings.HasPrefix(err.Error(), "carbonblack.credentials_file: ") {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestVMRayValidate(t *testing.T) {
	var p config.Problems
	(&VMRay{SubmissionTags: []string{"ok", "two words", "", "a,b"}}).Validate(&p, "S1_VMRAY")
	want := []string{"vmray.url", "vmray.api_key", "vmray.submission_tags", "vmray.submission_tags", "vmray.submission_tags"}
	if diff := cmp.Diff(want, problemKeys(p)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if r := p[1].Reason; r != "is required (set S1_VMRAY_VMRAY_API_KEY or S1_VMRAY_VMRAY_API_KEY_FILE)" {
		t.Errorf("api_key reason %q", r)
	}
	p = nil
	(&VMRay{URL: "https://eu.cloud.vmray.com", APIKey: config.NewSecret("k"), SubmissionTags: []string{"SentinelOne"}}).Validate(&p, "X")
	if len(p) != 0 {
		t.Errorf("complete settings: %v", p)
	}
}

func TestVMRayAnalyzerOptions(t *testing.T) {
	vm := VMRay{SubmissionComment: "Sample from the connector", SubmissionTags: []string{"CarbonBlackCloud"},
		SandboxTimeout: 2 * time.Minute, UnlockReports: true}
	o := vm.AnalyzerOptions(nil, false)
	if o.Comment != vm.SubmissionComment || !slices.Equal(o.Tags, vm.SubmissionTags) || o.SandboxTimeout != 2*time.Minute ||
		!o.UnlockReports || o.AnalysisCaching != "" {
		t.Errorf("options %+v", o)
	}
	if o := vm.AnalyzerOptions(nil, true); o.AnalysisCaching != vmray.CachingDisabled {
		t.Errorf("with resubmission the cache is %q, want %q", o.AnalysisCaching, vmray.CachingDisabled)
	}
}

// section is how an example embeds the shared structs.
type section struct {
	VMRay `yaml:",inline"`
	Extra int `yaml:"extra"`
}

type exampleConfig struct {
	CarbonBlack CarbonBlack `yaml:"carbonblack"`
	VMRay       section     `yaml:"vmray"`
}

func TestInlineKeysAndEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "carbonblack:\n  url: https://defense.conferdeploy.net\n  ssl_verify: false\n  ca_file: /etc/cb.pem\n" +
		"vmray:\n  url: https://eu.cloud.vmray.com\n  proxy: http://proxy:3128\n  submission_tags: [a, b]\n  extra: 3\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EX_VMRAY_API_KEY", "key")
	t.Setenv("EX_VMRAY_SSL_VERIFY", "false")
	t.Setenv("EX_CARBONBLACK_API_SECRET", "secret")
	t.Setenv("EX_CARBONBLACK_PROXY", "http://cbproxy:8080")
	var c exampleConfig
	c.VMRay.SSLVerify = true
	if err := config.Load(path, &c, "EX"); err != nil {
		t.Fatal(err)
	}
	cb, vm := c.CarbonBlack, c.VMRay
	if cb.URL != "https://defense.conferdeploy.net" || cb.SSLVerify || cb.CAFile != "/etc/cb.pem" || cb.Proxy != "http://cbproxy:8080" ||
		cb.APISecret.Value() != "secret" {
		t.Errorf("carbonblack %+v", cb)
	}
	if vm.URL != "https://eu.cloud.vmray.com" || vm.Proxy != "http://proxy:3128" || vm.SSLVerify || vm.APIKey.Value() != "key" ||
		!slices.Equal(vm.SubmissionTags, []string{"a", "b"}) || vm.Extra != 3 {
		t.Errorf("vmray %+v", vm)
	}

	if err := os.WriteFile(path, []byte("vmray:\n  transport:\n    proxy: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := config.Load(path, &exampleConfig{}, "EX"); err == nil {
		t.Error("the inlined struct's own name was taken as a key")
	}
}
