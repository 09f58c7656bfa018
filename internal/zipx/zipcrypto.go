package zipx

import (
	"hash/crc32"
	"io"
)

// zipCryptoHeaderLen is the length of the encryption header that precedes
// ZipCrypto data.
const zipCryptoHeaderLen = 12

// zipCryptoKeys is the state of the traditional PKWARE stream cipher
// (APPNOTE 6.1). It is weak (known-plaintext attacks recover the keys);
// this package reads it because vendors still hand it out.
type zipCryptoKeys [3]uint32

func newZipCryptoKeys(password string) zipCryptoKeys {
	k := zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		k.update(password[i])
	}
	return k
}

// crcByte advances a raw CRC-32 (no pre- or post-inversion) by one byte.
func crcByte(crc uint32, b byte) uint32 {
	return crc32.IEEETable[byte(crc)^b] ^ crc>>8
}

func (k *zipCryptoKeys) update(plain byte) {
	k[0] = crcByte(k[0], plain)
	k[1] = (k[1]+(k[0]&0xff))*134775813 + 1
	k[2] = crcByte(k[2], byte(k[1]>>24))
}

// decrypt decrypts buf in place.
func (k *zipCryptoKeys) decrypt(buf []byte) {
	k0, k1, k2 := k[0], k[1], k[2]
	tab := crc32.IEEETable
	for i, c := range buf {
		// Only the low 16 bits of k2|2 matter for the keystream byte.
		t := k2 | 2
		p := c ^ byte((t*(t^1))>>8)
		buf[i] = p
		k0 = tab[byte(k0)^p] ^ k0>>8
		k1 = (k1+(k0&0xff))*134775813 + 1
		k2 = tab[byte(k2)^byte(k1>>24)] ^ k2>>8
	}
	k[0], k[1], k[2] = k0, k1, k2
}

// zipCryptoReader decrypts ZipCrypto data read from src.
type zipCryptoReader struct {
	src  io.Reader
	keys zipCryptoKeys
}

func (z *zipCryptoReader) Read(p []byte) (int, error) {
	n, err := z.src.Read(p)
	z.keys.decrypt(p[:n])
	return n, err
}

// openZipCrypto reads and checks the 12-byte encryption header at the start
// of data and returns a reader of the decrypted rest. check is the byte the
// header's last byte must decrypt to: the high byte of the CRC-32, or of the
// MS-DOS time when the entry has a data descriptor (the writer did not know
// the CRC yet).
func openZipCrypto(data io.Reader, password string, check byte) (io.Reader, error) {
	var hdr [zipCryptoHeaderLen]byte
	if _, err := io.ReadFull(data, hdr[:]); err != nil {
		return nil, readErr(err)
	}
	keys := newZipCryptoKeys(password)
	keys.decrypt(hdr[:])
	if hdr[zipCryptoHeaderLen-1] != check {
		return nil, ErrWrongPassword
	}
	return &zipCryptoReader{src: data, keys: keys}, nil
}
