package vendors

import (
	"fmt"
	"os"
)

// Transport is how a client reaches its vendor: TLS verification (on unless
// turned off), extra CA certificates and an HTTP proxy.
type Transport struct {
	// SSLVerify verifies the server's certificate; false turns it off, and
	// the client then logs a warning naming the vendor when it is made (at
	// start).
	SSLVerify bool `yaml:"ssl_verify"`
	// CAFile is a PEM file of CA certificates to trust as well as the
	// system's.
	CAFile string `yaml:"ca_file"`
	// Proxy is the proxy URL; empty uses the environment's.
	Proxy string `yaml:"proxy"`
}

// TransportOptions turns t into a vendor client's options with that
// client's constructors: insecure when verification is off, caPEM with the
// CA file's content when one is set, proxy when a proxy is set (proxy may be
// nil for a client without one). section is the configuration section, used
// to name the key in errors ("vmray" gives "vmray.ca_file: ...").
func TransportOptions[O any](section string, t Transport, insecure func() O, caPEM func([]byte) O, proxy func(string) O) ([]O, error) {
	var opts []O
	if !t.SSLVerify {
		opts = append(opts, insecure())
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", section, err)
		}
		opts = append(opts, caPEM(pem))
	}
	if t.Proxy != "" && proxy != nil {
		opts = append(opts, proxy(t.Proxy))
	}
	return opts, nil
}
