package carbonblack_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

func tlsConfig(t *testing.T, pem []byte) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate")
	}
	return &tls.Config{RootCAs: pool}
}
