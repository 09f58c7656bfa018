package zipx

import (
	"bufio"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"
)

// This file is the module's one writer of encrypted archives: the fakes use
// it to serve the password-protected zips VMRay and SentinelOne hand out, the
// examples to build demo samples, and this package's tests to craft
// archives. Its ciphers are written independently of the reader's batched
// keystreams (byte loops, one block at a time) so that a mistake in one
// cannot cancel out in a round trip; the archives in testdata, made by real
// tools, pin both to the formats. Its AES output was checked with
// `7z t -psecret` (7-Zip 26.02), which verifies the authentication code and,
// for AE-1, the CRC-32.

// WriteOptions describe one entry of a [Writer].
type WriteOptions struct {
	// Method is [MethodStore] or [MethodDeflate].
	Method uint16
	// Encryption is [EncryptionNone], [EncryptionZipCrypto] or one of the
	// WinZip AES strengths.
	Encryption Encryption
	// Password encrypts the entry; it must not be empty when Encryption is
	// set.
	Password string
	// Modified is the entry's modification time; the zero time is written
	// as 1980-01-01, the earliest time ZIP can hold.
	Modified time.Time
	// AESVersion is 1 (AE-1, the CRC-32 is stored) or 2 (AE-2, the CRC-32 is
	// zero and only the authentication code protects the data); 0 means 2,
	// what WinZip and 7-Zip write.
	AESVersion int
}

// ErrWriterTooLarge is returned when an entry or the archive would need
// ZIP64, which the writer does not produce.
var ErrWriterTooLarge = errors.New("zipx: entry or archive over 4 GiB")

// zip64Margin keeps 32-bit fields below their ZIP64 markers.
const zip64Margin = 1 << 16

// Writer streams a ZIP archive to an io.Writer. Every entry is written with
// a data descriptor, so an entry of any size is compressed and encrypted on
// the fly and never held in memory. It writes no ZIP64 records: entries and
// the archive stay under 4 GiB. A Writer is not safe for concurrent use.
type Writer struct {
	out     *bufio.Writer
	n       int64 // bytes written to out
	records []writeRecord
	cur     *entryWriter
	err     error
	closed  bool
}

// writeRecord is what the central directory needs of one entry.
type writeRecord struct {
	name          string
	flags, method uint16
	version       uint16
	dosTime, date uint16
	crc           uint32
	csize, usize  uint32
	offset        uint32
	extra         []byte
}

// NewWriter returns a Writer writing to w. Close it to write the central
// directory.
func NewWriter(w io.Writer) *Writer {
	return &Writer{out: bufio.NewWriterSize(w, 64<<10)}
}

// Write counts what goes to the underlying writer.
func (w *Writer) write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	w.n += int64(n)
	return n, err
}

// Create adds an entry and returns the writer of its content, valid until
// the next Create or Close.
func (w *Writer) Create(name string, o WriteOptions) (io.Writer, error) {
	if err := w.finishEntry(); err != nil {
		return nil, err
	}
	if w.closed {
		return nil, errors.New("zipx: Create after Close")
	}
	if name == "" || len(name) > 0xffff {
		return nil, fmt.Errorf("zipx: invalid entry name %q", name)
	}
	if o.Method != MethodStore && o.Method != MethodDeflate {
		return nil, fmt.Errorf("zipx: unsupported method %d", o.Method)
	}
	if o.Encryption != EncryptionNone && o.Password == "" {
		return nil, errors.New("zipx: an encrypted entry needs a password")
	}
	if w.n >= 1<<32-zip64Margin {
		return nil, ErrWriterTooLarge
	}
	date, tm := toDOSTime(o.Modified)
	rec := writeRecord{name: name, flags: flagDataDescriptor | flagUTF8, method: o.Method, version: 20,
		dosTime: tm, date: date, offset: uint32(w.n)}
	aesVersion := 0
	switch o.Encryption {
	case EncryptionNone:
	case EncryptionZipCrypto:
		rec.flags |= flagEncrypted
	case EncryptionAES128, EncryptionAES192, EncryptionAES256:
		aesVersion = o.AESVersion
		if aesVersion == 0 {
			aesVersion = 2
		}
		if aesVersion != 1 && aesVersion != 2 {
			return nil, fmt.Errorf("zipx: AES version %d is neither 1 nor 2", aesVersion)
		}
		rec.flags |= flagEncrypted
		rec.method, rec.version = methodAES, 51
		rec.extra = aesExtra(o.Encryption, aesVersion, o.Method)
	default:
		return nil, fmt.Errorf("zipx: unsupported encryption %v", o.Encryption)
	}
	if err := w.localHeader(&rec); err != nil {
		return nil, w.fail(err)
	}
	e := &entryWriter{w: w, rec: rec, crc: crc32.NewIEEE(), aes2: aesVersion == 2}
	e.data = &countingWriter{w: writerFunc(w.write)}
	var sink io.Writer = e.data
	switch o.Encryption {
	case EncryptionNone:
	case EncryptionZipCrypto:
		// With a data descriptor the check byte is the high byte of the
		// DOS time, since the CRC is not known yet.
		zc, err := NewZipCryptoEncrypter(sink, o.Password, byte(tm>>8))
		if err != nil {
			return nil, w.fail(err)
		}
		sink = zc
	default:
		ae, err := NewAESEncrypter(sink, o.Password, o.Encryption)
		if err != nil {
			return nil, w.fail(err)
		}
		e.auth = ae
		sink = ae
	}
	e.sink = sink
	if o.Method == MethodDeflate {
		fw, err := flate.NewWriter(sink, flate.DefaultCompression)
		if err != nil {
			return nil, w.fail(err)
		}
		e.flate = fw
		e.sink = fw
	}
	w.cur = e
	return e, nil
}

// Close finishes the last entry and writes the central directory. It does
// not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if err := w.finishEntry(); err != nil {
		return err
	}
	w.closed = true
	dirStart := w.n
	for _, r := range w.records {
		var c [46]byte
		le := binary.LittleEndian
		le.PutUint32(c[0:], 0x02014b50)
		le.PutUint16(c[4:], r.version)
		le.PutUint16(c[6:], r.version)
		le.PutUint16(c[8:], r.flags)
		le.PutUint16(c[10:], r.method)
		le.PutUint16(c[12:], r.dosTime)
		le.PutUint16(c[14:], r.date)
		le.PutUint32(c[16:], r.crc)
		le.PutUint32(c[20:], r.csize)
		le.PutUint32(c[24:], r.usize)
		le.PutUint16(c[28:], uint16(len(r.name)))
		le.PutUint16(c[30:], uint16(len(r.extra)))
		le.PutUint32(c[42:], r.offset)
		if err := w.writeAll(c[:], []byte(r.name), r.extra); err != nil {
			return err
		}
	}
	if len(w.records) > 0xffff || w.n >= 1<<32-zip64Margin {
		return w.fail(ErrWriterTooLarge)
	}
	var end [22]byte
	le := binary.LittleEndian
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], uint16(len(w.records)))
	le.PutUint16(end[10:], uint16(len(w.records)))
	le.PutUint32(end[12:], uint32(w.n-dirStart))
	le.PutUint32(end[16:], uint32(dirStart))
	if err := w.writeAll(end[:]); err != nil {
		return err
	}
	return w.fail(w.out.Flush())
}

func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) writeAll(parts ...[]byte) error {
	if w.err != nil {
		return w.err
	}
	for _, p := range parts {
		if _, err := w.write(p); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

func (w *Writer) localHeader(r *writeRecord) error {
	var local [30]byte
	le := binary.LittleEndian
	le.PutUint32(local[0:], 0x04034b50)
	le.PutUint16(local[4:], r.version)
	le.PutUint16(local[6:], r.flags)
	le.PutUint16(local[8:], r.method)
	le.PutUint16(local[10:], r.dosTime)
	le.PutUint16(local[12:], r.date)
	le.PutUint16(local[26:], uint16(len(r.name)))
	le.PutUint16(local[28:], uint16(len(r.extra)))
	return w.writeAll(local[:], []byte(r.name), r.extra)
}

// finishEntry flushes the current entry and writes its data descriptor.
func (w *Writer) finishEntry() error {
	if w.err != nil {
		return w.err
	}
	e := w.cur
	if e == nil {
		return nil
	}
	w.cur = nil
	if e.flate != nil {
		if err := e.flate.Close(); err != nil {
			return w.fail(err)
		}
	}
	if e.auth != nil {
		if err := e.auth.Close(); err != nil {
			return w.fail(err)
		}
	}
	if e.usize >= 1<<32-zip64Margin || e.data.n >= 1<<32-zip64Margin {
		return w.fail(ErrWriterTooLarge)
	}
	e.rec.crc, e.rec.csize, e.rec.usize = e.crc.Sum32(), uint32(e.data.n), uint32(e.usize)
	if e.aes2 {
		e.rec.crc = 0
	}
	var desc [16]byte
	le := binary.LittleEndian
	le.PutUint32(desc[0:], 0x08074b50)
	le.PutUint32(desc[4:], e.rec.crc)
	le.PutUint32(desc[8:], e.rec.csize)
	le.PutUint32(desc[12:], e.rec.usize)
	if err := w.writeAll(desc[:]); err != nil {
		return err
	}
	w.records = append(w.records, e.rec)
	return nil
}

// entryWriter takes the plaintext of one entry.
type entryWriter struct {
	w     *Writer
	rec   writeRecord
	crc   hash.Hash32
	usize int64
	flate *flate.Writer
	auth  io.Closer
	aes2  bool
	sink  io.Writer
	data  *countingWriter
}

func (e *entryWriter) Write(p []byte) (int, error) {
	if e.w.cur != e {
		return 0, errors.New("zipx: write to a finished entry")
	}
	if e.w.err != nil {
		return 0, e.w.err
	}
	n, err := e.sink.Write(p)
	e.crc.Write(p[:n])
	e.usize += int64(n)
	return n, e.w.fail(err)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// toDOSTime converts t (in UTC) to MS-DOS date and time fields.
func toDOSTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	tm = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	return date, tm
}

// flagUTF8 marks a UTF-8 entry name.
const flagUTF8 = 1 << 11

// aesExtra is the 0x9901 extra field of a WinZip AES entry.
func aesExtra(e Encryption, version int, method uint16) []byte {
	strength := map[Encryption]byte{EncryptionAES128: 1, EncryptionAES192: 2, EncryptionAES256: 3}[e]
	extra := make([]byte, 11)
	binary.LittleEndian.PutUint16(extra[0:], extraWinZipAES)
	binary.LittleEndian.PutUint16(extra[2:], 7)
	binary.LittleEndian.PutUint16(extra[4:], uint16(version))
	copy(extra[6:], "AE")
	extra[8] = strength
	binary.LittleEndian.PutUint16(extra[9:], method)
	return extra
}

// zipCryptoEncrypter encrypts with the traditional PKWARE cipher.
type zipCryptoEncrypter struct {
	w   io.Writer
	k   [3]uint32
	buf []byte
}

// NewZipCryptoEncrypter writes the 12-byte ZipCrypto encryption header to w
// (random, ending in check: the high byte of the entry's CRC-32, or of its
// DOS time when the entry has a data descriptor) and returns a writer that
// encrypts everything written to it onto w. It is for callers that lay out
// the archive themselves (archive/zip's CreateRaw); [Writer] uses it.
func NewZipCryptoEncrypter(w io.Writer, password string, check byte) (io.Writer, error) {
	z := &zipCryptoEncrypter{w: w, k: [3]uint32{0x12345678, 0x23456789, 0x34567890}, buf: make([]byte, 32<<10)}
	for i := 0; i < len(password); i++ {
		z.update(password[i])
	}
	head := make([]byte, zipCryptoHeaderLen)
	if _, err := rand.Read(head[:zipCryptoHeaderLen-1]); err != nil {
		return nil, err
	}
	head[zipCryptoHeaderLen-1] = check
	if _, err := z.Write(head); err != nil {
		return nil, err
	}
	return z, nil
}

func (z *zipCryptoEncrypter) update(p byte) {
	z.k[0] = crc32.IEEETable[byte(z.k[0])^p] ^ z.k[0]>>8
	z.k[1] = (z.k[1]+z.k[0]&0xff)*134775813 + 1
	z.k[2] = crc32.IEEETable[byte(z.k[2])^byte(z.k[1]>>24)] ^ z.k[2]>>8
}

// Write encrypts p through a scratch buffer, leaving p alone.
func (z *zipCryptoEncrypter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		c := z.buf[:min(len(p), len(z.buf))]
		for i, plain := range p[:len(c)] {
			t := uint16(z.k[2] | 2)
			c[i] = plain ^ byte(uint32(t)*uint32(t^1)>>8)
			z.update(plain)
		}
		n, err := z.w.Write(c)
		written += n
		if err != nil {
			return written, err
		}
		p = p[len(c):]
	}
	return written, nil
}

// aesEncrypter encrypts with WinZip AES: CTR with a little-endian counter
// starting at 1, HMAC-SHA1 over the ciphertext.
type aesEncrypter struct {
	w       io.Writer
	block   cipher.Block
	mac     hash.Hash
	counter uint64
	ctr, ks [16]byte
	pos     int
	buf     []byte
	closed  bool
}

// NewAESEncrypter writes the salt and password verification value of a
// WinZip AES entry to w and returns a writer that encrypts onto w; Close
// writes the 10-byte authentication code (and does not close w). It is for
// callers that lay out the archive themselves; [Writer] uses it.
func NewAESEncrypter(w io.Writer, password string, e Encryption) (io.WriteCloser, error) {
	if e != EncryptionAES128 && e != EncryptionAES192 && e != EncryptionAES256 {
		return nil, fmt.Errorf("zipx: %v is not a WinZip AES strength", e)
	}
	keyLen, saltLen := aesKeyLen(e)
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	dk, err := pbkdf2.Key(sha1.New, password, salt, aesIterations, 2*keyLen+aesPWVLen)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(dk[:keyLen])
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append(salt, dk[2*keyLen:]...)); err != nil {
		return nil, err
	}
	return &aesEncrypter{w: w, block: block, mac: hmac.New(sha1.New, dk[keyLen:2*keyLen]), pos: 16, buf: make([]byte, 32<<10)}, nil
}

func (a *aesEncrypter) Write(p []byte) (int, error) {
	if a.closed {
		return 0, errors.New("zipx: write after Close")
	}
	written := 0
	for len(p) > 0 {
		c := a.buf[:min(len(p), len(a.buf))]
		for i, plain := range p[:len(c)] {
			if a.pos == 16 {
				a.counter++
				binary.LittleEndian.PutUint64(a.ctr[:], a.counter)
				a.block.Encrypt(a.ks[:], a.ctr[:])
				a.pos = 0
			}
			c[i] = plain ^ a.ks[a.pos]
			a.pos++
		}
		a.mac.Write(c)
		n, err := a.w.Write(c)
		written += n
		if err != nil {
			return written, err
		}
		p = p[len(c):]
	}
	return written, nil
}

// Close writes the authentication code.
func (a *aesEncrypter) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	_, err := a.w.Write(a.mac.Sum(nil)[:aesAuthLen])
	return err
}
