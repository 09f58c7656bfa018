package zipx

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
)

// inflateBufferLen is the read-ahead between the (decrypted) compressed data
// and the inflater; large reads keep the per-call cost of decryption low.
const inflateBufferLen = 32 << 10

// openEntry checks the local header of f, sets up decryption and
// decompression and returns the verifying reader.
func openEntry(f *File, password *string) (io.ReadCloser, error) {
	h, r := &f.h, f.r
	if h.openErr != nil {
		return nil, h.openErr
	}
	if h.method != MethodStore && h.method != MethodDeflate {
		return nil, errUnsupportedf("compression method %d", h.method)
	}
	if h.usize > uint64(r.opts.maxEntryBytes) {
		return nil, &LimitError{Limit: LimitEntryBytes, Max: r.opts.maxEntryBytes}
	}
	dataStart, err := checkLocalHeader(f)
	if err != nil {
		return nil, err
	}
	if dataStart > h.dataLimit || h.csize > uint64(h.dataLimit-dataStart) {
		return nil, corruptf("data runs past the next entry or the central directory")
	}

	e := &entryReader{f: f, r: r}
	raw := io.Reader(&e.raw)
	dataLen := h.csize // bytes of compressed data once decrypted
	switch f.Encryption {
	case EncryptionNone:
		e.raw.src = io.NewSectionReader(r.ra, dataStart, int64(h.csize))
	case EncryptionZipCrypto:
		if password == nil {
			return nil, fmt.Errorf("%w: entry is encrypted and no password was given", ErrWrongPassword)
		}
		if h.csize < zipCryptoHeaderLen {
			return nil, corruptf("encrypted entry shorter than its encryption header")
		}
		e.raw.src = io.NewSectionReader(r.ra, dataStart, int64(h.csize))
		check := byte(h.crc32 >> 24)
		if h.flags&flagDataDescriptor != 0 {
			check = byte(h.dosTime >> 8)
		}
		if raw, err = openZipCrypto(raw, *password, check); err != nil {
			return nil, err
		}
		dataLen -= zipCryptoHeaderLen
		e.zipCrypto = true
	case EncryptionAES128, EncryptionAES192, EncryptionAES256:
		if password == nil {
			return nil, fmt.Errorf("%w: entry is encrypted and no password was given", ErrWrongPassword)
		}
		overhead := aesOverhead(f.Encryption)
		if h.csize < overhead {
			return nil, corruptf("encrypted entry shorter than its salt and authentication code")
		}
		// The authentication code follows the ciphertext; it is read
		// separately at the end.
		e.authAt = dataStart + int64(h.csize) - aesAuthLen
		e.raw.src = io.NewSectionReader(r.ra, dataStart, int64(h.csize)-aesAuthLen)
		if e.aes, err = openAES(raw, *password, f.Encryption); err != nil {
			return nil, err
		}
		raw = e.aes
		dataLen -= overhead
	default:
		return nil, errUnsupportedf("encryption")
	}

	if h.method == MethodStore {
		if dataLen != h.usize {
			return nil, corruptf("stored entry has %d bytes of data but claims %d", dataLen, h.usize)
		}
		e.src = raw
	} else {
		e.inflater = flate.NewReader(bufio.NewReaderSize(raw, inflateBufferLen))
		e.src = e.inflater
	}
	return e, nil
}

// checkLocalHeader reads f's local header, checks that it agrees with the
// central directory and returns the offset of the entry's data.
func checkLocalHeader(f *File) (int64, error) {
	h := &f.h
	var b [lenLocal]byte
	if _, err := f.r.ra.ReadAt(b[:], int64(h.offset)); err != nil {
		return 0, readErr(err)
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != sigLocal {
		return 0, corruptf("bad local header signature")
	}
	flags := le.Uint16(b[6:])
	method := le.Uint16(b[8:])
	nameLen := int(le.Uint16(b[26:]))
	extraLen := int(le.Uint16(b[28:]))
	if nameLen != h.nameLen {
		return 0, corruptf("local header name differs from the central directory")
	}
	name := make([]byte, nameLen)
	if _, err := f.r.ra.ReadAt(name, int64(h.offset)+lenLocal); err != nil {
		return 0, readErr(err)
	}
	if !bytes.Equal(name, []byte(f.Name)) {
		return 0, corruptf("local header name %q differs from the central directory", name)
	}
	wantMethod := h.method
	if f.Encryption >= EncryptionAES128 && f.Encryption <= EncryptionAES256 {
		wantMethod = methodAES
	}
	if method != wantMethod || flags&flagEncrypted != h.flags&flagEncrypted {
		return 0, corruptf("local header method or encryption flag differs from the central directory")
	}
	return int64(h.offset) + lenLocal + int64(nameLen) + int64(extraLen), nil
}

// countingReader counts the compressed bytes consumed, for WithMaxRatio.
type countingReader struct {
	src io.Reader
	n   uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.src.Read(p)
	c.n += uint64(n)
	return n, err
}

// entryReader produces an entry's data and verifies it: limits while
// reading, authentication code, size and CRC-32 at the end.
type entryReader struct {
	f         *File
	r         *Reader
	raw       countingReader // the entry's data as stored
	aes       *aesReader     // non-nil for WinZip AES entries
	authAt    int64          // offset of the AES authentication code
	zipCrypto bool
	inflater  io.ReadCloser // non-nil for deflated entries
	src       io.Reader     // the uncompressed data
	produced  uint64
	crc       uint32
	err       error // sticky: io.EOF after a verified end, or the failure
}

func (e *entryReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := e.src.Read(p)
	if n > 0 {
		if limitErr := e.account(p, &n); limitErr != nil {
			return n, e.fail(limitErr)
		}
	}
	switch {
	case err == io.EOF:
		if err = e.finish(); err != io.EOF {
			return n, e.fail(err)
		}
		e.err = io.EOF
		return n, io.EOF
	case err != nil:
		return n, e.fail(e.classify(err))
	}
	return n, nil
}

// account adds the n bytes just read from p to the size, CRC-32 and limits.
// It trims n when the entry produced more than it claims.
func (e *entryReader) account(p []byte, n *int) error {
	usize := e.f.h.usize
	if uint64(*n) > usize-e.produced {
		*n = int(usize - e.produced)
		e.produced = usize
		return corruptf("entry produces more than the %d bytes it claims", usize)
	}
	e.produced += uint64(*n)
	e.crc = crc32.Update(e.crc, crc32.IEEETable, p[:*n])
	if total, limit := e.r.produced.Add(int64(*n)), e.r.opts.maxTotalBytes; total > limit {
		// Deliver only what fits under the limit.
		*n = int(max(0, limit-(total-int64(*n))))
		return &LimitError{Limit: LimitTotalBytes, Max: limit}
	}
	if maxRatio := uint64(e.r.opts.maxRatio); maxRatio > 0 && e.produced > ratioGrace && e.produced/maxRatio > e.raw.n {
		return &LimitError{Limit: LimitRatio, Max: e.r.opts.maxRatio}
	}
	return nil
}

// finish verifies the entry once its data has ended; it returns io.EOF when
// everything matches.
func (e *entryReader) finish() error {
	if e.aes != nil {
		if err := e.authenticate(); err != nil {
			return err
		}
	}
	if e.produced != e.f.h.usize {
		return corruptf("entry produced %d bytes but claims %d", e.produced, e.f.h.usize)
	}
	if e.f.AESVersion != 2 && e.crc != e.f.h.crc32 {
		if e.zipCrypto {
			return fmt.Errorf("%w: CRC-32 is %08x, header says %08x", ErrWrongPasswordOrCorrupt, e.crc, e.f.h.crc32)
		}
		return fmt.Errorf("%w: CRC-32 is %08x, header says %08x", ErrChecksum, e.crc, e.f.h.crc32)
	}
	return io.EOF
}

// authenticate runs the rest of the ciphertext through the HMAC (the
// inflater may stop before the end of the data) and compares the
// authentication code.
func (e *entryReader) authenticate() error {
	if _, err := io.Copy(io.Discard, e.aes); err != nil {
		return readErr(err)
	}
	var code [aesAuthLen]byte
	if _, err := e.r.ra.ReadAt(code[:], e.authAt); err != nil {
		return readErr(err)
	}
	if !e.aes.authenticate(code[:]) {
		return fmt.Errorf("%w: WinZip AES authentication code does not match (data altered)", ErrChecksum)
	}
	return nil
}

// classify turns an error from the decompression pipeline into one of the
// package's errors. Invalid compressed data in an encrypted entry is
// usually tampering or a wrong password, so it is reported as such.
func (e *entryReader) classify(err error) error {
	var corrupt flate.CorruptInputError
	if !errors.As(err, &corrupt) && err != io.ErrUnexpectedEOF {
		return err // an I/O error of the underlying ReaderAt
	}
	switch {
	case e.aes != nil:
		if authErr := e.authenticate(); authErr != nil {
			return authErr
		}
	case e.zipCrypto:
		return fmt.Errorf("%w: invalid deflate data", ErrWrongPasswordOrCorrupt)
	}
	return corruptf("invalid deflate data: %v", err)
}

func (e *entryReader) fail(err error) error {
	e.err = &Error{Op: "read", Name: e.f.Name, Err: err}
	return e.err
}

// Close releases the entry's buffers. Reading after Close fails.
func (e *entryReader) Close() error {
	if e.inflater != nil {
		e.inflater.Close()
		e.inflater = nil
	}
	e.err = &Error{Op: "read", Name: e.f.Name, Err: fs.ErrClosed}
	e.src, e.aes = nil, nil
	return nil
}
