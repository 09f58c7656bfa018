package vmraytest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"hash/crc32"
	"io"
	"time"
)

// zipCrypto is the traditional PKWARE stream cipher ("ZipCrypto", APPNOTE
// section 6.1): three 32-bit keys updated per plaintext byte. It is weak and
// kept only because VMRay (and every sandbox vendor) still uses it for
// sample downloads.
type zipCrypto struct {
	k0, k1, k2 uint32
}

func newZipCrypto(password []byte) *zipCrypto {
	z := &zipCrypto{k0: 0x12345678, k1: 0x23456789, k2: 0x34567890}
	for _, b := range password {
		z.update(b)
	}
	return z
}

func crc32Update(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ (crc >> 8)
}

func (z *zipCrypto) update(plain byte) {
	z.k0 = crc32Update(z.k0, plain)
	z.k1 = (z.k1+(z.k0&0xff))*134775813 + 1
	z.k2 = crc32Update(z.k2, byte(z.k1>>24))
}

func (z *zipCrypto) stream() byte {
	t := uint16(z.k2 | 2)
	return byte((uint32(t) * uint32(t^1)) >> 8)
}

// encrypt encrypts p in place.
func (z *zipCrypto) encrypt(p []byte) {
	for i, plain := range p {
		p[i] = plain ^ z.stream()
		z.update(plain)
	}
}

// writeEncryptedZip writes a ZIP archive holding one deflated entry named
// name, encrypted with ZipCrypto under password. The 12-byte encryption
// header ends with the high byte of the CRC-32 (no data descriptor), which is
// what readers check the password against.
func writeEncryptedZip(w io.Writer, name string, content []byte, password string, modified time.Time) error {
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.DefaultCompression)
	if err != nil {
		return err
	}
	if _, err := fw.Write(content); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	crc := crc32.ChecksumIEEE(content)
	header := make([]byte, 12)
	if _, err := rand.Read(header[:11]); err != nil {
		return err
	}
	header[11] = byte(crc >> 24)
	payload := append(header, deflated.Bytes()...)
	newZipCrypto([]byte(password)).encrypt(payload)

	zw := zip.NewWriter(w)
	fh := &zip.FileHeader{
		Name:               name,
		Method:             zip.Deflate,
		Flags:              0x1, // encrypted
		CRC32:              crc,
		CompressedSize64:   uint64(len(payload)),
		UncompressedSize64: uint64(len(content)),
		Modified:           modified,
	}
	ew, err := zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	if _, err := ew.Write(payload); err != nil {
		return err
	}
	return zw.Close()
}
