package zipx

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"io"
)

// WinZip AES (https://www.winzip.com/en/support/aes-encryption/): the data
// is salt, a 2-byte password verification value, the AES-CTR ciphertext and
// a 10-byte authentication code (HMAC-SHA1 of the ciphertext, truncated).
const (
	aesPWVLen     = 2
	aesAuthLen    = 10
	aesIterations = 1000
	// aesKeystreamLen is how much keystream is made at a time: enough
	// blocks to amortise the per-call overhead, small enough to stay in L1.
	aesKeystreamLen = 4 << 10
)

// aesKeyLen returns the key length and salt length for a strength.
func aesKeyLen(e Encryption) (keyLen, saltLen int) {
	switch e {
	case EncryptionAES128:
		return 16, 8
	case EncryptionAES192:
		return 24, 12
	default:
		return 32, 16
	}
}

// aesOverhead is the number of bytes an AES entry's data has besides the
// ciphertext.
func aesOverhead(e Encryption) uint64 {
	_, saltLen := aesKeyLen(e)
	return uint64(saltLen + aesPWVLen + aesAuthLen)
}

// aesReader decrypts WinZip AES ciphertext read from src and feeds the
// ciphertext to the HMAC.
//
// WinZip's CTR mode differs from cipher.NewCTR: the counter block is a
// little-endian integer that starts at 1 (cipher.NewCTR increments a
// big-endian counter), so the keystream is made here, a batch of blocks at
// a time, and XORed with subtle.XORBytes.
type aesReader struct {
	src      io.Reader
	block    cipher.Block
	mac      hash.Hash
	counter  uint64
	counters []byte // counter blocks; bytes 8-15 of each stay zero
	stream   []byte // keystream for counters
	used     int    // bytes of stream already used
}

func newAESReader(src io.Reader, key, macKey []byte) (*aesReader, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 2*aesKeystreamLen)
	return &aesReader{
		src:      src,
		block:    block,
		mac:      hmac.New(sha1.New, macKey),
		counter:  1,
		counters: buf[:aesKeystreamLen],
		stream:   buf[aesKeystreamLen:],
		used:     aesKeystreamLen,
	}, nil
}

func (a *aesReader) Read(p []byte) (int, error) {
	n, err := a.src.Read(p)
	if n > 0 {
		a.mac.Write(p[:n])
		a.xorKeyStream(p[:n])
	}
	return n, err
}

func (a *aesReader) xorKeyStream(b []byte) {
	for len(b) > 0 {
		if a.used == len(a.stream) {
			a.refill()
		}
		n := subtle.XORBytes(b, b, a.stream[a.used:])
		a.used += n
		b = b[n:]
	}
}

func (a *aesReader) refill() {
	for i := 0; i < len(a.counters); i += aes.BlockSize {
		binary.LittleEndian.PutUint64(a.counters[i:], a.counter)
		a.counter++
		a.block.Encrypt(a.stream[i:i+aes.BlockSize], a.counters[i:i+aes.BlockSize])
	}
	a.used = 0
}

// authenticate compares the HMAC of everything read so far with code.
func (a *aesReader) authenticate(code []byte) bool {
	return hmac.Equal(a.mac.Sum(nil)[:aesAuthLen], code)
}

// openAES reads the salt and password verification value at the start of
// data (a reader of the entry's data without the authentication code),
// derives the keys and returns the decrypting reader.
func openAES(data io.Reader, password string, e Encryption) (*aesReader, error) {
	keyLen, saltLen := aesKeyLen(e)
	head := make([]byte, saltLen+aesPWVLen)
	if _, err := io.ReadFull(data, head); err != nil {
		return nil, readErr(err)
	}
	salt, pwv := head[:saltLen], head[saltLen:]
	derived, err := pbkdf2.Key(sha1.New, password, salt, aesIterations, 2*keyLen+aesPWVLen)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(derived[2*keyLen:], pwv) != 1 {
		return nil, ErrWrongPassword
	}
	return newAESReader(data, derived[:keyLen], derived[keyLen:2*keyLen])
}
