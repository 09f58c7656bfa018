package zipx

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"
)

type wantEntry struct {
	name       string
	data       []byte
	method     uint16
	encryption Encryption
	aesVersion int
}

func TestRealToolArchives(t *testing.T) {
	aes := func(e Encryption, storedNumbers bool) []wantEntry {
		m := MethodDeflate
		if storedNumbers {
			m = MethodStore
		}
		return []wantEntry{
			{"hello.txt", helloTxt, MethodStore, e, 2},
			{"numbers.txt", numbersTxt, m, e, 2},
			{"empty.txt", nil, MethodStore, e, 2},
		}
	}
	zipCrypto := func(m uint16) []wantEntry {
		return []wantEntry{
			{"hello.txt", helloTxt, MethodStore, EncryptionZipCrypto, 0},
			{"numbers.txt", numbersTxt, m, EncryptionZipCrypto, 0},
			{"empty.txt", nil, MethodStore, EncryptionZipCrypto, 0},
		}
	}
	tests := []struct {
		archive string
		entries []wantEntry
	}{
		{"zipcrypto-stored.zip", zipCrypto(MethodStore)},
		{"zipcrypto-deflated.zip", zipCrypto(MethodDeflate)},
		{"zipcrypto-7z.zip", zipCrypto(MethodDeflate)},
		{"aes128-stored.zip", aes(EncryptionAES128, true)},
		{"aes128-deflated.zip", aes(EncryptionAES128, false)},
		{"aes192-stored.zip", aes(EncryptionAES192, true)},
		{"aes192-deflated.zip", aes(EncryptionAES192, false)},
		{"aes256-stored.zip", aes(EncryptionAES256, true)},
		{"aes256-deflated.zip", aes(EncryptionAES256, false)},
		{"aes256-ae1-deflated.zip", []wantEntry{
			{"hello.txt", helloTxt, MethodDeflate, EncryptionAES256, 2},
			{"numbers.txt", numbersTxt, MethodDeflate, EncryptionAES256, 1},
		}},
		{"aes128-ae1-stored.zip", []wantEntry{
			{"hello.txt", helloTxt, MethodStore, EncryptionAES128, 2},
			{"numbers.txt", numbersTxt, MethodStore, EncryptionAES128, 1},
		}},
		{"zip64.zip", []wantEntry{{"numbers.txt", numbersTxt, MethodDeflate, EncryptionNone, 0}}},
		{"cbc-ubs.zip", []wantEntry{{"filedata", seq(3000), MethodDeflate, EncryptionNone, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			r := openTestdata(t, tt.archive, WithPassword("secret"))
			files := r.Files()
			if len(files) != len(tt.entries) {
				t.Fatalf("%d entries, want %d", len(files), len(tt.entries))
			}
			for _, want := range tt.entries {
				f := lookup(t, r, want.name)
				if f.Method != want.method || f.Encryption != want.encryption || f.AESVersion != want.aesVersion {
					t.Errorf("%s: method %d, encryption %v, AE-%d; want %d, %v, AE-%d",
						want.name, f.Method, f.Encryption, f.AESVersion, want.method, want.encryption, want.aesVersion)
				}
				if f.Encrypted() != (want.encryption != EncryptionNone) {
					t.Errorf("%s: Encrypted() = %v", want.name, f.Encrypted())
				}
				if f.UncompressedSize != uint64(len(want.data)) {
					t.Errorf("%s: UncompressedSize %d, want %d", want.name, f.UncompressedSize, len(want.data))
				}
				if !f.Modified.Equal(testModified) {
					t.Errorf("%s: Modified %v, want %v", want.name, f.Modified, testModified)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatalf("%s: Open: %v", want.name, err)
				}
				got, err := io.ReadAll(rc)
				if err != nil {
					t.Fatalf("%s: read: %v", want.name, err)
				}
				if !bytes.Equal(got, want.data) {
					t.Errorf("%s: content differs (%d bytes, want %d)", want.name, len(got), len(want.data))
				}
				if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Errorf("%s: Read after EOF = %d, %v", want.name, n, err)
				}
				if err := rc.Close(); err != nil {
					t.Errorf("%s: Close: %v", want.name, err)
				}
			}
		})
	}
}

func TestZip64ArchiveUsesZip64Records(t *testing.T) {
	b := readTestdata(t, "zip64.zip")
	if !bytes.Contains(b, []byte{'P', 'K', 6, 6}) || !bytes.Contains(b, []byte{'P', 'K', 6, 7}) {
		t.Fatal("zip64.zip has no zip64 end records; the test would not exercise them")
	}
}

func TestWrongPasswordAES(t *testing.T) {
	for _, name := range []string{"aes128-stored.zip", "aes192-deflated.zip", "aes256-deflated.zip", "aes256-ae1-deflated.zip"} {
		r := openTestdata(t, name)
		for _, f := range r.Files() {
			_, err := f.OpenWithPassword("Secret")
			wantErr(t, err, ErrWrongPassword)
			if errors.Is(err, ErrChecksum) {
				t.Errorf("%s %s: wrong password also matches ErrChecksum: %v", name, f.Name, err)
			}
			_, err = f.Open() // no WithPassword
			wantErr(t, err, ErrWrongPassword)
			if !strings.Contains(err.Error(), "no password") {
				t.Errorf("error without a password does not say so: %v", err)
			}
		}
	}
}

// ZipCrypto's check byte lets about one wrong password in 256 through; the
// entry must then fail when read, with an error that matches both
// ErrWrongPassword and ErrChecksum, never deliver data as good.
func TestWrongPasswordZipCrypto(t *testing.T) {
	for _, name := range []string{"zipcrypto-stored.zip", "zipcrypto-deflated.zip", "zipcrypto-7z.zip"} {
		t.Run(name, func(t *testing.T) {
			f := lookup(t, openTestdata(t, name), "numbers.txt")
			falseAccepts := 0
			for i := range 3000 {
				_, err := readEntry(f, fmt.Sprintf("wrong-%d", i))
				if err == nil {
					t.Fatalf("password wrong-%d read the entry", i)
				}
				wantErr(t, err, ErrWrongPassword)
				if errors.Is(err, ErrWrongPasswordOrCorrupt) {
					falseAccepts++
					wantErr(t, err, ErrChecksum)
				}
			}
			// Expect about 3000/256 = 12; none at all would mean the
			// check byte test is wrong (or the path is not exercised).
			if falseAccepts == 0 || falseAccepts > 40 {
				t.Errorf("%d of 3000 wrong passwords passed the check byte, want about 12", falseAccepts)
			}
		})
	}
}

func TestTampered(t *testing.T) {
	tests := []struct {
		archive   string
		zipCrypto bool
	}{
		{"tampered-aes256-deflated.zip", false},
		{"tampered-aes128-stored.zip", false},
		{"tampered-aes256-ae1-deflated.zip", false},
		{"tampered-zipcrypto-stored.zip", true},
		{"tampered-zipcrypto-deflated.zip", true},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			r := openTestdata(t, tt.archive)
			got, err := readEntry(lookup(t, r, "hello.txt"), "secret")
			if err != nil || !bytes.Equal(got, helloTxt) {
				t.Fatalf("untouched entry: %q, %v", got, err)
			}
			_, err = readEntry(lookup(t, r, "numbers.txt"), "secret")
			wantErr(t, err, ErrChecksum)
			if tt.zipCrypto != errors.Is(err, ErrWrongPasswordOrCorrupt) {
				t.Errorf("ErrWrongPasswordOrCorrupt match = %v, want %v: %v", !tt.zipCrypto, tt.zipCrypto, err)
			}
			var zerr *Error
			if !errors.As(err, &zerr) || zerr.Op != "read" || zerr.Name != "numbers.txt" {
				t.Errorf("error %#v does not name the read of numbers.txt", err)
			}
		})
	}
}

// A caller streaming a tampered AE-2 entry gets the error from the last
// Read, after the data, in place of io.EOF.
func TestTamperedErrorComesAtEnd(t *testing.T) {
	f := lookup(t, openTestdata(t, "tampered-aes128-stored.zip"), "numbers.txt")
	rc, err := f.OpenWithPassword("secret")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha1.New()
	n, err := io.Copy(h, rc)
	wantErr(t, err, ErrChecksum)
	if n != int64(len(numbersTxt)) {
		t.Errorf("read %d bytes before the error, want all %d", n, len(numbersTxt))
	}
	if _, err := rc.Read(make([]byte, 10)); !errors.Is(err, ErrChecksum) {
		t.Errorf("Read after the failure = %v, want the same error", err)
	}
}

func TestTruncated(t *testing.T) {
	_, err := NewReader(bytes.NewReader(readTestdata(t, "truncated.zip")), 10477)
	wantErr(t, err, ErrCorrupt)

	b := readTestdata(t, "vmray-sample.zip")
	for n := range len(b) {
		r, err := NewReader(bytes.NewReader(b[:n]), int64(n))
		if err == nil {
			t.Fatalf("prefix of %d bytes parsed as %d entries", n, len(r.Files()))
		}
		wantErr(t, err, ErrCorrupt)
	}
}

// An archive that is cut inside an entry's data, with its directory intact,
// is caught when the entry is read.
func TestShortData(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for _, e := range []testEntry{
		{name: "stored", data: data, method: MethodStore},
		{name: "deflated", data: data, method: MethodDeflate},
		{name: "aes", data: data, method: MethodDeflate, encryption: EncryptionAES256, aesVersion: 1, password: "pw"},
		{name: "zc", data: data, method: MethodStore, encryption: EncryptionZipCrypto, password: "pw"},
	} {
		b := buildZip(t, e)
		// Claim a larger uncompressed size than the data has (central
		// directory field at record offset 24).
		cd := centralOffsets(b)[0]
		b = patch(b, cd+24, 0xff, 0xff, 0x01, 0x00)
		_, err := readEntry(lookup(t, openBytes(t, b), e.name), "pw")
		if e.method == MethodStore {
			wantErr(t, err, ErrCorrupt) // refused at Open: stored sizes must agree
			continue
		}
		wantErr(t, err, ErrCorrupt)
	}
}

// An entry whose data inflates to more than its header claims is stopped at
// the claimed size.
func TestMoreDataThanClaimed(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 100000)
	b := buildZip(t, testEntry{name: "x", data: data, method: MethodDeflate})
	cd := centralOffsets(b)[0]
	b = patch(b, cd+24, 0x10, 0x27, 0, 0) // claims 10000 bytes
	rc, err := lookup(t, openBytes(t, b), "x").Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	wantErr(t, err, ErrCorrupt)
	if len(got) > 10000 {
		t.Errorf("delivered %d bytes past the claimed 10000", len(got))
	}
}

func TestBomb(t *testing.T) {
	t.Run("ratio", func(t *testing.T) {
		f := lookup(t, openTestdata(t, "bomb.zip"), "zeros.bin")
		if f.UncompressedSize != 256<<20 {
			t.Fatalf("bomb claims %d bytes", f.UncompressedSize)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		wantLimit(t, err, LimitRatio)
		if n > 16<<20 {
			t.Errorf("produced %d bytes before stopping", n)
		}
	})
	t.Run("entry size claimed", func(t *testing.T) {
		r := openTestdata(t, "bomb.zip", WithMaxRatio(Unlimited), WithMaxEntryBytes(100<<20))
		_, err := lookup(t, r, "zeros.bin").Open()
		wantLimit(t, err, LimitEntryBytes)
	})
	t.Run("total bytes produced", func(t *testing.T) {
		r := openTestdata(t, "bomb.zip", WithMaxRatio(Unlimited), WithMaxTotalBytes(8<<20))
		rc, err := lookup(t, r, "zeros.bin").Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		wantLimit(t, err, LimitTotalBytes)
		if n > 8<<20 {
			t.Errorf("produced %d bytes, limit 8 MiB", n)
		}
	})
}

func TestRatioGrace(t *testing.T) {
	// 900 KiB of zeros compresses about 1000:1, far above the default
	// ratio, but stays under the 1 MiB grace.
	data := make([]byte, 900<<10)
	b := buildZip(t, testEntry{name: "zeros", data: data, method: MethodDeflate})
	got, err := readEntry(lookup(t, openBytes(t, b), "zeros"), "")
	if err != nil || len(got) != len(data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	// Over the grace, the same data trips the ratio, and raising the
	// limit lets it through.
	data = make([]byte, 3<<20)
	b = buildZip(t, testEntry{name: "zeros", data: data, method: MethodDeflate})
	_, err = readEntry(lookup(t, openBytes(t, b), "zeros"), "")
	wantLimit(t, err, LimitRatio)
	got, err = readEntry(lookup(t, openBytes(t, b, WithMaxRatio(2000)), "zeros"), "")
	if err != nil || len(got) != len(data) {
		t.Fatalf("with ratio 2000: read %d bytes, %v", len(got), err)
	}
}

func TestTotalBytesAcrossEntries(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 80000) // 640000 bytes each
	b := buildZip(t,
		testEntry{name: "a", data: data, method: MethodStore},
		testEntry{name: "b", data: data, method: MethodDeflate})
	r := openBytes(t, b, WithMaxTotalBytes(1000000))
	if _, err := readEntry(lookup(t, r, "a"), ""); err != nil {
		t.Fatal(err)
	}
	_, err := readEntry(lookup(t, r, "b"), "")
	wantLimit(t, err, LimitTotalBytes)
}

func TestMaxEntries(t *testing.T) {
	_, err := NewReader(bytes.NewReader(readTestdata(t, "zipcrypto-stored.zip")), 49298, WithMaxEntries(2))
	wantLimit(t, err, LimitEntries)
	if _, err := NewReader(bytes.NewReader(readTestdata(t, "zipcrypto-stored.zip")), 49298, WithMaxEntries(3)); err != nil {
		t.Fatal(err)
	}
}

// More than 65535 entries need the zip64 end records, which archive/zip
// writes; this also checks the entry limit does not cut a big directory.
func TestManyEntriesZip64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 70000-entry archive")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	const n = 70000
	for i := range n {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("e%05d", i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, i)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r := openBytes(t, buf.Bytes(), WithMaxEntries(n))
	if got := len(r.Files()); got != n {
		t.Fatalf("%d entries, want %d", got, n)
	}
	got, err := readEntry(lookup(t, r, "e69999"), "")
	if err != nil || string(got) != "69999" {
		t.Fatalf("last entry: %q, %v", got, err)
	}
	_, err = NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	wantLimit(t, err, LimitEntries)
}

func TestPrependedData(t *testing.T) {
	b := append([]byte("#!/bin/sh\nexec unzip \"$0\"\n"), readTestdata(t, "cbc-ubs.zip")...)
	got, err := readEntry(lookup(t, openBytes(t, b), "filedata"), "")
	if err != nil || !bytes.Equal(got, seq(3000)) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

func TestUnsupported(t *testing.T) {
	_, err := lookup(t, openTestdata(t, "bzip2.zip"), "numbers.txt").Open()
	wantErr(t, err, ErrUnsupportedMethod)
	if !strings.Contains(err.Error(), "method 12") {
		t.Errorf("error does not name the method: %v", err)
	}

	// PKWARE strong encryption: flags bits 0 and 6 (central record +8,
	// local header +6).
	b := buildZip(t, testEntry{name: "x", data: []byte("data"), method: MethodStore})
	cd := centralOffsets(b)[0]
	b = patch(patch(b, cd+8, 0x41, 0), 6, 0x41, 0)
	f := lookup(t, openBytes(t, b), "x")
	if f.Encryption != EncryptionUnknown {
		t.Errorf("Encryption = %v, want unknown", f.Encryption)
	}
	_, err = f.OpenWithPassword("x")
	wantErr(t, err, ErrUnsupportedMethod)
}

func TestCorruptStructures(t *testing.T) {
	base := buildZip(t,
		testEntry{name: "first", data: bytes.Repeat([]byte("1"), 300), method: MethodDeflate},
		testEntry{name: "second", data: []byte("2"), method: MethodStore})
	cds := centralOffsets(base)
	tests := []struct {
		name    string
		b       []byte
		atParse bool
	}{
		// Both directory records point at the first entry's data: the
		// overlap trick of non-recursive zip bombs.
		{"overlapping entries", patch(base, cds[1]+42, 0, 0, 0, 0), true},
		{"bad central signature", patch(base, cds[1], 'P', 'K', 9, 9), true},
		{"entry offset past directory", patch(base, cds[0]+42, 0xff, 0xff, 0, 0), true},
		{"compressed size past directory", patch(base, cds[0]+20, 0xff, 0xff, 0, 0), true},
		{"bad local signature", patch(base, 0, 'P', 'K', 9, 9), false},
		{"local name differs", patch(base, lenLocal, 'F'), false},
		{"local method differs", patch(base, 8, 0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.b), int64(len(tt.b)))
			if tt.atParse {
				wantErr(t, err, ErrCorrupt)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = readEntry(lookup(t, r, "first"), "")
			wantErr(t, err, ErrCorrupt)
		})
	}
}

func TestLookup(t *testing.T) {
	r := openTestdata(t, "cbc-ubs.zip")
	_, err := r.Lookup("missing")
	wantErr(t, err, fs.ErrNotExist)
	_, err = r.Open("missing")
	wantErr(t, err, fs.ErrNotExist)
	rc, err := r.Open("filedata")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, seq(3000)) {
		t.Fatalf("filedata: %d bytes, %v", len(got), err)
	}

	dup := buildZip(t,
		testEntry{name: "manifest.json", data: []byte("[]"), method: MethodStore},
		testEntry{name: "manifest.json", data: []byte(`[{"path":"x"}]`), method: MethodStore},
		testEntry{name: "payload", data: []byte("MZ"), method: MethodStore})
	r = openBytes(t, dup)
	_, err = r.Lookup("manifest.json")
	wantErr(t, err, ErrAmbiguous)
	_, err = r.SingleFile()
	wantErr(t, err, ErrAmbiguous)
	if f, err := r.SingleFile("manifest.json"); err != nil || f.Name != "payload" {
		t.Fatalf("SingleFile(manifest.json) = %v, %v", f, err)
	}
	_, err = r.SingleFile("manifest.json", "payload")
	wantErr(t, err, fs.ErrNotExist)
}

// The SentinelOne flow: read manifest.json, stream the one other file while
// hashing it, compare with the manifest's sha1.
func TestSentinelOneFetch(t *testing.T) {
	r := openTestdata(t, "sentinelone-fetch.zip", WithPassword("Infected!2024"))
	rc, err := r.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		Path, SHA1, Reason string
	}
	if err := json.NewDecoder(rc).Decode(&manifest); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if len(manifest) != 1 || manifest[0].Path != `C:\Users\jdoe\Downloads\invoice_8821.exe` || manifest[0].Reason != "" {
		t.Fatalf("manifest = %+v", manifest)
	}
	f, err := r.SingleFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "C/Users/jdoe/Downloads/invoice_8821.exe" || f.Encryption != EncryptionZipCrypto {
		t.Fatalf("payload %q, %v", f.Name, f.Encryption)
	}
	body, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	h := sha1.New()
	if _, err := io.Copy(h, body); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != manifest[0].SHA1 {
		t.Errorf("sha1 %s, manifest says %s", got, manifest[0].SHA1)
	}
	p, err := f.SafePath()
	if err != nil || p != "C/Users/jdoe/Downloads/invoice_8821.exe" {
		t.Errorf("SafePath = %q, %v", p, err)
	}
}

func TestZipSlipArchive(t *testing.T) {
	r := openTestdata(t, "zip-slip.zip")
	want := map[string]bool{"hello.txt": true, "../evil.txt": false, "/tmp/evil.txt": false, `..\evil.txt`: false, `C:\evil.txt`: false}
	for _, f := range r.Files() {
		safe, ok := want[f.Name]
		if !ok {
			t.Fatalf("unexpected entry %q", f.Name)
		}
		p, err := f.SafePath()
		if safe {
			if err != nil || p != f.Name {
				t.Errorf("SafePath(%q) = %q, %v", f.Name, p, err)
			}
			continue
		}
		wantErr(t, err, ErrUnsafePath)
		// Reading an unsafe name is still possible: only turning it into
		// a local path is refused.
		if _, err := readEntry(f, ""); err != nil {
			t.Errorf("%q: %v", f.Name, err)
		}
	}
}

func TestRoundTripAllModes(t *testing.T) {
	data := make([]byte, 70000) // spans many keystream batches and read calls
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	for _, enc := range []Encryption{EncryptionNone, EncryptionZipCrypto, EncryptionAES128, EncryptionAES192, EncryptionAES256} {
		for _, method := range []uint16{MethodStore, MethodDeflate} {
			for _, version := range []int{1, 2} {
				if version == 2 && enc < EncryptionAES128 {
					continue
				}
				name := fmt.Sprintf("%v-%d-AE%d", enc, method, version)
				e := testEntry{name: name, data: data, method: method, encryption: enc, aesVersion: version, password: "pässword"}
				got, err := readEntry(lookup(t, openBytes(t, buildZip(t, e)), name), "pässword")
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: %d bytes, %v", name, len(got), err)
				}
			}
		}
	}
}

// An AE-1 entry is protected by its CRC-32 as well: a bad CRC in the
// header fails the read even though the authentication code matches.
func TestAE1ChecksCRC(t *testing.T) {
	b := buildZip(t, testEntry{name: "x", data: []byte("some data"), method: MethodStore, encryption: EncryptionAES128, aesVersion: 1, password: "pw"})
	cd := centralOffsets(b)[0]
	b = patch(b, cd+16, 1, 2, 3, 4)
	_, err := readEntry(lookup(t, openBytes(t, b), "x"), "pw")
	wantErr(t, err, ErrChecksum)
	if errors.Is(err, ErrWrongPassword) {
		t.Errorf("AES CRC failure matches ErrWrongPassword: %v", err)
	}
}

func TestConcurrentReads(t *testing.T) {
	r := openTestdata(t, "aes256-deflated.zip", WithPassword("secret"))
	var wg sync.WaitGroup
	for range 4 {
		for _, name := range []string{"hello.txt", "numbers.txt"} {
			wg.Go(func() {
				rc, err := r.Open(name)
				if err != nil {
					t.Error(err)
					return
				}
				defer rc.Close()
				if _, err := io.Copy(io.Discard, rc); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}

func TestReadAfterClose(t *testing.T) {
	f := lookup(t, openTestdata(t, "aes256-deflated.zip"), "numbers.txt")
	rc, err := f.OpenWithPassword("secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = rc.Read(make([]byte, 100))
	wantErr(t, err, fs.ErrClosed)
}

func TestErrorFormat(t *testing.T) {
	_, err := lookup(t, openTestdata(t, "aes256-deflated.zip"), "numbers.txt").OpenWithPassword("hunter2-secret-password")
	if got, want := err.Error(), `zipx: open "numbers.txt": wrong password`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	le := &LimitError{Limit: LimitRatio, Max: 200}
	if got, want := le.Error(), "limit exceeded: compression ratio over 200"; got != want {
		t.Errorf("LimitError = %q, want %q", got, want)
	}
	if got := Limit(99).String(); got != "limit(99)" {
		t.Errorf("Limit(99) = %q", got)
	}
}

// Passwords must not show up in errors or when a Reader is printed.
func TestPasswordNeverShown(t *testing.T) {
	const pw = "Pa55word-Seen-Nowhere"
	var msgs []string
	collect := func(err error) {
		if err != nil {
			msgs = append(msgs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	for _, name := range []string{"aes256-deflated.zip", "zipcrypto-deflated.zip", "tampered-aes256-deflated.zip", "tampered-zipcrypto-stored.zip", "bomb.zip"} {
		r := openTestdata(t, name, WithPassword(pw))
		msgs = append(msgs, fmt.Sprintf("%v %+v %#v", r, r, r.opts))
		for _, f := range r.Files() {
			msgs = append(msgs, fmt.Sprintf("%v %+v", f, *f))
			_, err := readEntry(f, pw)
			collect(err)
			_, err = readEntry(f, "secret")
			collect(err)
			rc, err := f.Open()
			collect(err)
			if rc != nil {
				_, err = io.Copy(io.Discard, rc)
				collect(err)
			}
		}
	}
	if len(msgs) < 10 {
		t.Fatalf("collected only %d messages", len(msgs))
	}
	for _, m := range msgs {
		if strings.Contains(m, pw) {
			t.Fatalf("password appears in %q", m)
		}
	}
}

func TestDOSTimeWithoutExtraField(t *testing.T) {
	// Info-ZIP with -X writes no extended timestamp: the MS-DOS fields are
	// all there is.
	f := lookup(t, openTestdata(t, "cbc-ubs.zip"), "filedata")
	if want := time.Date(2024, 5, 2, 9, 16, 40, 0, time.UTC); !f.Modified.Equal(want) {
		t.Errorf("Modified = %v, want %v", f.Modified, want)
	}
	if f.IsDir() || f.Encrypted() || f.Method != MethodDeflate || f.CRC32 != crc32.ChecksumIEEE(seq(3000)) {
		t.Errorf("metadata %+v", f)
	}
}

func TestMalformedEncryptionHeaders(t *testing.T) {
	base := buildZip(t, testEntry{name: "x", data: []byte("payload"), method: MethodStore, encryption: EncryptionAES256, aesVersion: 2, password: "pw"})
	cd := centralOffsets(base)[0]
	aesExtra := cd + lenCentral + len("x") // the test writer puts the AES field first
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"AES version 3", patch(base, aesExtra+4, 3, 0), ErrUnsupportedMethod},
		{"AES vendor not AE", patch(base, aesExtra+6, 'X', 'X'), ErrUnsupportedMethod},
		{"AES strength 4", patch(base, aesExtra+8, 4), ErrCorrupt},
		{"AES extra field missing", patch(base, aesExtra, 0x34, 0x12), ErrCorrupt},
		{"method 99 without encryption flag", patch(patch(base, cd+8, 0, 0), 6, 0, 0), ErrCorrupt},
		{"encrypted central directory flag", patch(base, cd+9, 0x20), ErrUnsupportedMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readEntry(lookup(t, openBytes(t, tt.b), "x"), "pw")
			wantErr(t, err, tt.want)
		})
	}
	if got, err := readEntry(lookup(t, openBytes(t, base), "x"), "pw"); err != nil || string(got) != "payload" {
		t.Fatalf("unpatched archive: %q, %v", got, err)
	}
}

func TestMalformedEndRecords(t *testing.T) {
	plain := readTestdata(t, "cbc-ubs.zip")
	end := bytes.LastIndex(plain, []byte{'P', 'K', 5, 6})
	z64 := readTestdata(t, "zip64.zip")
	loc := bytes.LastIndex(z64, []byte{'P', 'K', 6, 7})
	end64 := bytes.LastIndex(z64, []byte{'P', 'K', 6, 6})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"not a zip", bytes.Repeat([]byte("not a zip "), 100), ErrCorrupt},
		{"second disk", patch(plain, end+4, 1, 0), ErrUnsupportedMethod},
		{"records on disk differ", patch(plain, end+8, 9, 0), ErrUnsupportedMethod},
		{"directory offset past end record", patch(plain, end+16, 0xfe, 0xff, 0, 0), ErrCorrupt},
		{"more records than fit", patch(patch(plain, end+8, 0, 1), end+10, 0, 1), ErrCorrupt},
		{"record count mismatch", patch(patch(plain, end+8, 0, 0), end+10, 0, 0), ErrCorrupt},
		{"zip64 locator out of range", patch(z64, loc+8, 0xff, 0xff, 0xff, 0), ErrCorrupt},
		{"zip64 end record signature", patch(z64, end64, 'P', 'K', 9, 9), ErrCorrupt},
		{"zip64 multi-disk", patch(z64, loc+16, 2), ErrUnsupportedMethod},
		{"zip64 directory size", patch(z64, end64+40, 0xff), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.b), int64(len(tt.b)))
			wantErr(t, err, tt.want)
			var zerr *Error
			if !errors.As(err, &zerr) || zerr.Op != "parse" {
				t.Errorf("error %#v is not a parse *Error", err)
			}
		})
	}
	if _, err := NewReader(bytes.NewReader(plain), -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("negative size: %v", err)
	}
}

func TestStrings(t *testing.T) {
	for e, want := range map[Encryption]string{
		EncryptionNone: "none", EncryptionZipCrypto: "ZipCrypto", EncryptionAES128: "AES-128",
		EncryptionAES192: "AES-192", EncryptionAES256: "AES-256", EncryptionUnknown: "unknown",
	} {
		if got := e.String(); got != want {
			t.Errorf("Encryption(%d) = %q, want %q", e, got, want)
		}
	}
	for l, want := range map[Limit]string{
		LimitEntries: "entry count", LimitTotalBytes: "total uncompressed bytes", LimitEntryBytes: "entry uncompressed bytes",
		LimitRatio: "compression ratio", LimitArchiveBytes: "archive bytes",
	} {
		if got := l.String(); got != want {
			t.Errorf("Limit(%d) = %q, want %q", l, got, want)
		}
	}
	if got := (&Error{Op: "read"}).Error(); got != "zipx: read: unknown error" {
		t.Errorf("Error without a cause = %q", got)
	}
}

// The NTFS extra field that 7-Zip writes carries the modification time to
// 100 ns.
func TestNTFSTime(t *testing.T) {
	f := lookup(t, openTestdata(t, "aes256-deflated.zip"), "numbers.txt")
	if !f.Modified.Equal(testModified) || f.Modified.Location() != time.UTC {
		t.Errorf("Modified = %v", f.Modified)
	}
}

// flakyReaderAt fails every read once fail is set, like a file on a disk
// that went away.
type flakyReaderAt struct {
	r    *bytes.Reader
	fail bool
}

var errDisk = errors.New("input/output error")

func (f *flakyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if f.fail {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

// I/O errors of the underlying reader pass through unchanged; they are not
// a corrupt archive.
func TestIOErrorsPassThrough(t *testing.T) {
	b := readTestdata(t, "aes256-deflated.zip")
	ra := &flakyReaderAt{r: bytes.NewReader(b)}
	r, err := NewReader(ra, int64(len(b)), WithPassword("secret"))
	if err != nil {
		t.Fatal(err)
	}
	f := lookup(t, r, "numbers.txt")
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ra.fail = true
	_, err = io.ReadAll(rc)
	wantErr(t, err, errDisk)
	_, err = f.Open()
	wantErr(t, err, errDisk)
	if errors.Is(err, ErrCorrupt) {
		t.Errorf("I/O error reported as corrupt: %v", err)
	}
	_, err = NewReader(ra, int64(len(b)))
	wantErr(t, err, errDisk)
}
