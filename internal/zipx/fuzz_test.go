package zipx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to NewReader and reads every entry with
// the right and a wrong password. It must never panic, every failure must
// be one of the package's classified errors (the input is in memory, so
// there are no I/O errors), an entry that reads without error must produce
// exactly its claimed size, and an unencrypted entry that archive/zip also
// reads must have the same content.
//
//	go test -run '^$' -fuzz FuzzReader ./internal/zipx/
func FuzzReader(f *testing.F) {
	paths, err := filepath.Glob("testdata/*.zip")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed archives: %v", err)
	}
	for _, p := range paths {
		// Big seeds (the bomb, stored entries) make every mutation and
		// minimisation slow; the unit tests cover them.
		if b := readTestdata(f, filepath.Base(p)); len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	small := []byte("small entry, small entry, small entry")
	for _, e := range []testEntry{
		{name: "d", data: small, method: MethodDeflate},
		{name: "z", data: small, method: MethodDeflate, encryption: EncryptionZipCrypto, password: "secret"},
		{name: "a1", data: small, method: MethodDeflate, encryption: EncryptionAES128, aesVersion: 1, password: "secret"},
		{name: "a2", data: small, method: MethodStore, encryption: EncryptionAES256, aesVersion: 2, password: "secret"},
	} {
		f.Add(buildZip(f, e))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)),
			WithMaxEntries(64), WithMaxEntryBytes(1<<20), WithMaxTotalBytes(4<<20))
		if err != nil {
			checkClassified(t, err)
			return
		}
		std, stdErr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		for i, f := range r.Files() {
			if p, err := f.SafePath(); err == nil && !filepath.IsLocal(p) {
				t.Fatalf("SafePath(%q) = %q is not local", f.Name, p)
			}
			for _, pw := range []string{"secret", "wrong"} {
				got, err := readEntry(f, pw)
				if err != nil {
					checkClassified(t, err)
					continue
				}
				if uint64(len(got)) != f.UncompressedSize {
					t.Fatalf("%q: read %d bytes without error, claims %d", f.Name, len(got), f.UncompressedSize)
				}
				if f.Encrypted() || stdErr != nil || i >= len(std.File) || std.File[i].Name != f.Name {
					continue
				}
				rc, err := std.File[i].Open()
				if err != nil {
					continue
				}
				want, err := io.ReadAll(rc)
				rc.Close()
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("%q: content differs from archive/zip's", f.Name)
				}
			}
		}
	})
}

func checkClassified(t *testing.T, err error) {
	t.Helper()
	for _, target := range []error{ErrCorrupt, ErrUnsupportedMethod, ErrLimitExceeded, ErrChecksum, ErrWrongPassword} {
		if errors.Is(err, target) {
			return
		}
	}
	t.Fatalf("unclassified error: %v", err)
}
