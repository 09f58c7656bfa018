package zipx

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"testing"
	"time"
)

// buildZip lays out archives with archive/zip (known sizes, no data
// descriptor) and encrypts their entries with the package's encrypters, to
// make what the real tools cannot (crafted headers, AE-1 with every key
// size, big benchmark entries). [Writer] covers streamed archives.

var testModified = time.Date(2024, 5, 2, 9, 16, 40, 0, time.UTC)

type testEntry struct {
	name       string
	data       []byte
	method     uint16
	encryption Encryption
	aesVersion int // 1 or 2 for AES entries
	password   string
}

// buildZip writes entries into an in-memory archive.
func buildZip(t testing.TB, entries ...testEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		compressed := e.data
		if e.method == MethodDeflate {
			compressed = deflateBytes(t, e.data)
		}
		err := writeEncryptedEntry(zw, e, crc32.ChecksumIEEE(e.data), uint64(len(e.data)),
			bytes.NewReader(compressed), int64(len(compressed)))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflateBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeEncryptedEntry writes one entry whose compressed form (csize bytes)
// comes from compressed, encrypting it as e says.
func writeEncryptedEntry(zw *zip.Writer, e testEntry, crc uint32, usize uint64, compressed io.Reader, csize int64) error {
	fh := &zip.FileHeader{
		Name:               e.name,
		Method:             e.method,
		Modified:           testModified,
		CRC32:              crc,
		UncompressedSize64: usize,
		CompressedSize64:   uint64(csize),
	}
	switch e.encryption {
	case EncryptionNone:
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, compressed)
		return err
	case EncryptionZipCrypto:
		fh.Flags |= flagEncrypted
		fh.CompressedSize64 += zipCryptoHeaderLen
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		zc, err := NewZipCryptoEncrypter(w, e.password, byte(crc>>24))
		if err != nil {
			return err
		}
		_, err = io.Copy(zc, compressed)
		return err
	default:
		_, saltLen := aesKeyLen(e.encryption)
		fh.Extra = aesExtra(e.encryption, e.aesVersion, e.method)
		fh.Method = methodAES
		fh.Flags |= flagEncrypted
		fh.CompressedSize64 += uint64(saltLen + aesPWVLen + aesAuthLen)
		if e.aesVersion == 2 {
			fh.CRC32 = 0
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		ae, err := NewAESEncrypter(w, e.password, e.encryption)
		if err != nil {
			return err
		}
		if _, err := io.Copy(ae, compressed); err != nil {
			return err
		}
		return ae.Close()
	}
}
