package vendors

import (
	"time"

	"fmt"
	"log/slog"
	"os"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/examples/internal/config"
)

// CarbonBlackSection is the configuration section CarbonBlack is read from.
const CarbonBlackSection = "carbonblack"

// CarbonBlack is the Carbon Black Cloud connection: the API key's parts, or
// a cbc-sdk credentials file and profile that hold them.
type CarbonBlack struct {
	URL       string        `yaml:"url"`
	OrgKey    string        `yaml:"org_key"`
	APIID     string        `yaml:"api_id"`
	APISecret config.Secret `yaml:"api_secret"`
	// CredentialsFile and Profile read url, token, org_key and the transport
	// settings from a cbc-sdk credentials file instead (the originals'
	// CONFIG_FILE_PATH and PROFILE).
	CredentialsFile string `yaml:"credentials_file"`
	Profile         string `yaml:"profile"`
	Transport       `yaml:",inline"`
	// IntegrationName is sent in the User-Agent.
	IntegrationName string `yaml:"integration_name"`
	// SettleDelay is how long a device action that may have been sent
	// (quarantine, policy move), also before a restart, is waited for before
	// it is requested again (0: ten minutes), and how long after its write a
	// feed report must still be in the feed to count as added (0: read back
	// at once).
	SettleDelay time.Duration `yaml:"settle_delay"`
}

// Validate adds a problem for every missing connection key (the key's parts
// are required unless a credentials file is named, which must exist).
// envPrefix names the secret's environment variable in the message.
func (cb *CarbonBlack) Validate(p *config.Problems, envPrefix string) {
	if cb.CredentialsFile != "" {
		if _, err := os.Stat(cb.CredentialsFile); err != nil {
			p.Add(CarbonBlackSection+".credentials_file", "%v", err)
		}
		return
	}
	p.Require(CarbonBlackSection+".url", cb.URL)
	p.Require(CarbonBlackSection+".org_key", cb.OrgKey)
	p.Require(CarbonBlackSection+".api_id", cb.APIID)
	if cb.APISecret.IsZero() {
		env := config.EnvName(envPrefix, CarbonBlackSection+".api_secret")
		p.Add(CarbonBlackSection+".api_secret", "is required (set %s or %s_FILE, or use %s.credentials_file)", env, env,
			CarbonBlackSection)
	}
}

// Credentials returns the connection's credentials: read from the
// credentials file when one is named, else made of the keys.
func (cb *CarbonBlack) Credentials() (*carbonblack.Credentials, error) {
	if cb.CredentialsFile != "" {
		creds, err := carbonblack.LoadCredentials(cb.CredentialsFile, cb.Profile)
		if err != nil {
			return nil, fmt.Errorf("%s.credentials_file: %w", CarbonBlackSection, err)
		}
		return creds, nil
	}
	return &carbonblack.Credentials{URL: cb.URL, APIID: cb.APIID, APISecret: cb.APISecret.Value(), OrgKey: cb.OrgKey,
		SSLVerify: cb.SSLVerify, SSLCertFile: cb.CAFile, Proxy: cb.Proxy, Integration: cb.IntegrationName}, nil
}

// Client returns a Carbon Black Cloud client for the connection that logs
// to logger, with opts after it.
func (cb *CarbonBlack) Client(logger *slog.Logger, opts ...carbonblack.Option) (*carbonblack.Client, error) {
	creds, err := cb.Credentials()
	if err != nil {
		return nil, err
	}
	return carbonblack.NewFromCredentials(creds, append([]carbonblack.Option{carbonblack.WithLogger(logger)}, opts...)...)
}
