package zipx

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"io"
	"testing"
	"time"
)

// This file is a test-only writer of encrypted entries, used to make
// archives the real tools cannot (crafted headers, AE-1 with every key size,
// big benchmark entries). Its cipher code is written independently of the
// package's (one block at a time, byte loops) so that a mistake in the
// reader's batched keystream cannot cancel out. Its AES output was checked
// with `7z t -psecret` (7-Zip 26.02), which verifies the authentication code
// and, for AE-1, the CRC-32.

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
		return testZipCryptoEncrypt(w, compressed, e.password, byte(crc>>24))
	default:
		keyLen, saltLen := aesKeyLen(e.encryption)
		strength := map[Encryption]byte{EncryptionAES128: 1, EncryptionAES192: 2, EncryptionAES256: 3}[e.encryption]
		extra := make([]byte, 11)
		binary.LittleEndian.PutUint16(extra[0:], extraWinZipAES)
		binary.LittleEndian.PutUint16(extra[2:], 7)
		binary.LittleEndian.PutUint16(extra[4:], uint16(e.aesVersion))
		copy(extra[6:], "AE")
		extra[8] = strength
		binary.LittleEndian.PutUint16(extra[9:], e.method)
		fh.Extra = extra
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
		return testAESEncrypt(w, compressed, e.password, keyLen, saltLen)
	}
}

func testZipCryptoEncrypt(w io.Writer, src io.Reader, password string, check byte) error {
	k := [3]uint32{0x12345678, 0x23456789, 0x34567890}
	update := func(p byte) {
		k[0] = crc32.Update(^k[0], crc32.IEEETable, []byte{p}) ^ 0xffffffff
		k[1] = (k[1]+k[0]%256)*134775813 + 1
		k[2] = crc32.Update(^k[2], crc32.IEEETable, []byte{byte(k[1] >> 24)}) ^ 0xffffffff
	}
	for _, c := range []byte(password) {
		update(c)
	}
	encrypt := func(buf []byte) {
		for i, p := range buf {
			t := uint16(k[2] | 2)
			buf[i] = p ^ byte(uint32(t)*uint32(t^1)>>8)
			update(p)
		}
	}
	head := make([]byte, zipCryptoHeaderLen)
	rand.Read(head)
	head[zipCryptoHeaderLen-1] = check
	encrypt(head)
	if _, err := w.Write(head); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		encrypt(buf[:n])
		if _, werr := w.Write(buf[:n]); werr != nil {
			return werr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func testAESEncrypt(w io.Writer, src io.Reader, password string, keyLen, saltLen int) error {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	dk, err := pbkdf2.Key(sha1.New, password, salt, 1000, 2*keyLen+2)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(dk[:keyLen])
	if err != nil {
		return err
	}
	var mac hash.Hash = hmac.New(sha1.New, dk[keyLen:2*keyLen])
	if _, err := w.Write(append(salt, dk[2*keyLen:]...)); err != nil {
		return err
	}
	var counter uint64
	var ctrBlock, ks [16]byte
	pos := 16
	buf := make([]byte, 64<<10)
	for {
		n, rerr := src.Read(buf)
		for i := range buf[:n] {
			if pos == 16 {
				counter++
				binary.LittleEndian.PutUint64(ctrBlock[:], counter)
				block.Encrypt(ks[:], ctrBlock[:])
				pos = 0
			}
			buf[i] ^= ks[pos]
			pos++
		}
		mac.Write(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	_, err = w.Write(mac.Sum(nil)[:aesAuthLen])
	return err
}
