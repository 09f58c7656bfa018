package connector

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// ErrSampleMismatch is returned (as a Permanent error, by the sample reader at end of file and by the engine) when the
// bytes a source delivered do not hash to what the evidence or the sample claims.
var ErrSampleMismatch = fmt.Errorf("delivered sample does not match its hash: %w", ErrPermanent)

// verifyingReader hashes what is read through it and, at end of file, compares the digests with the expected
// hashes: on a mismatch it returns ErrSampleMismatch instead of io.EOF, so a streaming upload of a wrong file fails
// instead of completing.
type verifyingReader struct {
	r        io.ReadCloser
	want     Hashes
	wantSize int64
	sha256   hash.Hash
	sha1     hash.Hash
	md5      hash.Hash

	mu       sync.Mutex
	n        int64
	eof      bool
	got      Hashes
	mismatch error
}

// newVerifyingReader wraps body. want holds the hashes to verify (empty ones are not checked; SHA256 is always
// computed); wantSize, when positive, the number of bytes expected.
func newVerifyingReader(body io.ReadCloser, want Hashes, wantSize int64) *verifyingReader {
	v := &verifyingReader{r: body, want: want, wantSize: wantSize, sha256: sha256.New()}
	if want.SHA1 != "" {
		v.sha1 = sha1.New()
	}
	if want.MD5 != "" {
		v.md5 = md5.New()
	}
	return v
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if n > 0 {
		v.mu.Lock()
		v.n += int64(n)
		v.sha256.Write(p[:n])
		if v.sha1 != nil {
			v.sha1.Write(p[:n])
		}
		if v.md5 != nil {
			v.md5.Write(p[:n])
		}
		v.mu.Unlock()
	}
	if err == io.EOF {
		if merr := v.finish(); merr != nil {
			return n, merr
		}
	}
	return n, err
}

func (v *verifyingReader) finish() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.eof {
		v.eof = true
		v.got.SHA256 = hex.EncodeToString(v.sha256.Sum(nil))
		if v.sha1 != nil {
			v.got.SHA1 = hex.EncodeToString(v.sha1.Sum(nil))
		}
		if v.md5 != nil {
			v.got.MD5 = hex.EncodeToString(v.md5.Sum(nil))
		}
		if v.wantSize > 0 && v.n != v.wantSize {
			v.mismatch = fmt.Errorf("%w: %d bytes, expected %d", ErrSampleMismatch, v.n, v.wantSize)
			return v.mismatch
		}
		for _, kind := range []HashKind{SHA256, SHA1, MD5} {
			if want := v.want.Get(kind); want != "" && want != v.got.Get(kind) {
				v.mismatch = fmt.Errorf("%w: %s %s, expected %s", ErrSampleMismatch, kind, v.got.Get(kind), want)
				break
			}
		}
	}
	return v.mismatch
}

func (v *verifyingReader) Close() error { return v.r.Close() }

// result returns the bytes read, the computed hashes (only when the whole body was read) and the mismatch, if any.
func (v *verifyingReader) result() (n int64, got Hashes, complete bool, mismatch error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.n, v.got, v.eof, v.mismatch
}
