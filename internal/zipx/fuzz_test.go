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
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
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

// maxSeed bounds a seed archive. The fuzzer mutates and, on new coverage,
// minimises its inputs one exec per step; a 10 KiB seed makes that take
// minutes per input (FuzzReader once ran 27 execs in 3 minutes). The big
// archives are the unit tests' business.
const maxSeed = 1 << 10

// fuzzSeeds returns small archives of every format the reader handles: the
// real tools' seed-*.zip and zip-slip.zip (Info-ZIP ZipCrypto with data
// descriptors, zip64 records, directory trees, traversal names, a truncated
// archive) and, built here, what only 7-Zip and bsdtar write (WinZip AES of
// each key size, AE-1 and AE-2, stored and deflated) and an unsupported
// method.
func fuzzSeeds(f *testing.F) [][]byte {
	paths, err := filepath.Glob("testdata/*.zip")
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, p := range paths {
		if b := readTestdata(f, filepath.Base(p)); len(b) <= maxSeed {
			seeds = append(seeds, b)
		}
	}
	if len(seeds) < 6 {
		f.Fatalf("only %d seed archives of at most %d bytes in testdata", len(seeds), maxSeed)
	}
	small := []byte("small entry, small entry, small entry")
	for _, e := range [][]testEntry{
		{{name: "d", data: small, method: MethodDeflate}},
		{{name: "z", data: small, method: MethodStore, encryption: EncryptionZipCrypto, password: "secret"}},
		{{name: "a1", data: small, method: MethodDeflate, encryption: EncryptionAES128, aesVersion: 1, password: "secret"}},
		{{name: "a2", data: small, method: MethodStore, encryption: EncryptionAES192, aesVersion: 2, password: "secret"}},
		{{name: "a3", data: small, method: MethodDeflate, encryption: EncryptionAES256, aesVersion: 2, password: "secret"},
			{name: "e", data: nil, method: MethodStore, encryption: EncryptionAES256, aesVersion: 2, password: "secret"}},
		{{name: "bz", data: small, method: 12}},
	} {
		seeds = append(seeds, buildZip(f, e...))
	}
	for _, s := range seeds {
		if len(s) > maxSeed {
			f.Fatalf("built seed of %d bytes", len(s))
		}
	}
	return seeds
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
