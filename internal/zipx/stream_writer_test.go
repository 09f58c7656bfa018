package zipx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// Every method and encryption the Writer offers reads back through the
// package's reader with the right password and fails with a wrong one.
func TestWriterRoundTrip(t *testing.T) {
	content := bytes.Repeat([]byte("MZ\x90\x00 sample bytes "), 5000)
	modified := time.Date(2025, 3, 23, 12, 0, 0, 0, time.UTC)
	type entry struct {
		name string
		o    WriteOptions
	}
	var entries []entry
	for _, enc := range []Encryption{EncryptionNone, EncryptionZipCrypto, EncryptionAES128, EncryptionAES192, EncryptionAES256} {
		for _, m := range []uint16{MethodStore, MethodDeflate} {
			for _, v := range []int{1, 2} {
				if enc != EncryptionNone && enc != EncryptionZipCrypto || v == 2 {
					name := enc.String() + "-" + map[uint16]string{MethodStore: "store", MethodDeflate: "deflate"}[m] + "-v" + string(rune('0'+v))
					entries = append(entries, entry{name, WriteOptions{Method: m, Encryption: enc, Password: "infected", Modified: modified, AESVersion: v}})
				}
			}
		}
	}
	var buf bytes.Buffer
	zw := NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name, e.o)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		// Several writes, one of them larger than the scratch buffers.
		for _, part := range [][]byte{content[:10], content[10:40000], content[40000:]} {
			if _, err := w.Write(part); err != nil {
				t.Fatalf("%s: %v", e.name, err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r := openBytes(t, buf.Bytes())
	if got := len(r.Files()); got != len(entries) {
		t.Fatalf("%d entries, want %d", got, len(entries))
	}
	for _, e := range entries {
		f := lookup(t, r, e.name)
		if f.Encryption != e.o.Encryption || !f.Modified.Equal(modified) {
			t.Errorf("%s: encryption %v, modified %v", e.name, f.Encryption, f.Modified)
		}
		got, err := readEntry(f, "infected")
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: read %d bytes, %v", e.name, len(got), err)
		}
		if e.o.Encryption != EncryptionNone {
			// The check bytes catch a wrong password except by chance (1 in
			// 256 for ZipCrypto); the CRC or authentication code then does.
			if got, err := readEntry(f, "wrong"); err == nil || bytes.Equal(got, content) ||
				!errors.Is(err, ErrWrongPassword) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: wrong password gave %v", e.name, err)
			}
		}
	}
	// The standard library agrees on the layout and the plain entries.
	sr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := sr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(plain, content) || sr.File[0].Name != entries[0].name {
		t.Errorf("archive/zip read %q: %d bytes, %v", sr.File[0].Name, len(plain), err)
	}
}

func TestWriterRefusesBadInput(t *testing.T) {
	zw := NewWriter(io.Discard)
	for name, o := range map[string]WriteOptions{
		"no password": {Encryption: EncryptionZipCrypto},
		"bad method":  {Method: 12},
		"bad AES":     {Encryption: EncryptionAES256, Password: "x", AESVersion: 3},
	} {
		if _, err := zw.Create("a", o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := zw.Create("", WriteOptions{}); err == nil {
		t.Error("empty name accepted")
	}
	w, err := zw.Create("a", WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Create("b", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		t.Error("write to a finished entry accepted")
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Create("c", WriteOptions{}); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("Create after Close: %v", err)
	}
}

// A failing destination stops the archive with its error.
func TestWriterReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	zw := NewWriter(failAfter{n: 100, err: boom})
	w, err := zw.Create("big.bin", WriteOptions{Encryption: EncryptionZipCrypto, Password: "p"})
	if err == nil {
		_, err = w.Write(bytes.Repeat([]byte{1}, 1<<20))
	}
	if err == nil {
		err = zw.Close()
	}
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

type failAfter struct {
	n   int
	err error
}

func (f failAfter) Write(p []byte) (int, error) { return 0, f.err }
