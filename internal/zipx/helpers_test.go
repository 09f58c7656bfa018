package zipx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seq returns what `seq 1 n` prints.
func seq(n int) []byte {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return []byte(b.String())
}

// Contents of the inputs make-testdata.sh archives.
var (
	helloTxt   = []byte("hello, zipx\n")
	numbersTxt = seq(10000)
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openTestdata(t testing.TB, name string, opts ...Option) *Reader {
	t.Helper()
	return openBytes(t, readTestdata(t, name), opts...)
}

func openBytes(t testing.TB, b []byte, opts ...Option) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), opts...)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

func lookup(t testing.TB, r *Reader, name string) *File {
	t.Helper()
	f, err := r.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readEntry opens f with password and reads it to the end.
func readEntry(f *File, password string) ([]byte, error) {
	rc, err := f.OpenWithPassword(password)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// wantErr fails unless err matches every target.
func wantErr(t testing.TB, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one matching %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("error %q does not match %q", err, target)
		}
	}
}

// wantLimit fails unless err is a LimitError for limit.
func wantLimit(t testing.TB, err error, limit Limit) {
	t.Helper()
	wantErr(t, err, ErrLimitExceeded)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("error %q is not a LimitError for %v", err, limit)
	}
}

// patch returns a copy of b with the bytes at off replaced by p.
func patch(b []byte, off int, p ...byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], p)
	return c
}

// centralOffsets returns the offsets of the central directory records in b.
func centralOffsets(b []byte) []int {
	var offs []int
	sig := []byte{'P', 'K', 1, 2}
	for i := 0; ; {
		j := bytes.Index(b[i:], sig)
		if j < 0 {
			return offs
		}
		offs = append(offs, i+j)
		i += j + 4
	}
}
