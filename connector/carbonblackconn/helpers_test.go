package carbonblackconn_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFake(t testing.TB, opts ...carbonblacktest.Option) (*carbonblacktest.Server, *carbonblacktest.ManualClock) {
	t.Helper()
	clock := carbonblacktest.NewManualClock(t0)
	fake := carbonblacktest.NewServer(t, append([]carbonblacktest.Option{carbonblacktest.WithClock(clock)}, opts...)...)
	return fake, clock
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func md5Hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// seedBinary stores content in UBS and returns its SHA-256.
func seedBinary(t testing.TB, fake *carbonblacktest.Server, content []byte) string {
	t.Helper()
	h, err := fake.AddBinary(carbonblacktest.Binary{Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ts(t time.Time) carbonblack.Timestamp { return carbonblack.Timestamp{Time: t} }
