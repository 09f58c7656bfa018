package main

import (
	"bytes"
	"time"

	"github.com/soarkit/soarkit/internal/zipx"
)

// encryptedZip returns a zip archive holding one stored file protected with
// the legacy ZipCrypto scheme and password: the kind of password-protected
// archive ("infected") malware is often delivered in. The demo's VMRay
// submission carries the password (vmray.archive_password) so the sandbox
// can open it.
func encryptedZip(name string, content []byte, password string) ([]byte, error) {
	var b bytes.Buffer
	zw := zipx.NewWriter(&b)
	fw, err := zw.Create(name, zipx.WriteOptions{
		Method: zipx.MethodStore, Encryption: zipx.EncryptionZipCrypto, Password: password,
		Modified: time.Date(2025, 3, 23, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
