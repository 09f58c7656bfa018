package sentinelonetest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"time"
)

// This file writes the zips agents upload: traditional PKWARE encryption
// ("ZipCrypto", APPNOTE 6.1), which every client of the service decrypts
// with Python's zipfile. Entries are streamed with data descriptors, so a
// file of any size is encrypted on the fly and never held in memory.

// zipSource is one entry to write.
type zipSource struct {
	name string
	size int64
	open func() io.Reader
}

func bytesOpener(b []byte) func() io.Reader {
	return func() io.Reader { return bytes.NewReader(b) }
}

// deflateLimit is the largest entry the fake compresses; bigger ones are
// stored, which keeps large test files cheap to produce.
const deflateLimit = 8 << 20

const (
	flagEncrypted      = 0x1
	flagDataDescriptor = 0x8
	flagUTF8           = 0x800
	methodStore        = 0
	methodDeflate      = 8
	zipVersion         = 20
)

// zipCryptoKeys is the cipher state.
type zipCryptoKeys [3]uint32

func newKeys(password string) zipCryptoKeys {
	k := zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for i := 0; i < len(password); i++ {
		k.update(password[i])
	}
	return k
}

func crcUpdate(crc uint32, b byte) uint32 { return crc32.IEEETable[byte(crc)^b] ^ crc>>8 }

func (k *zipCryptoKeys) update(b byte) {
	k[0] = crcUpdate(k[0], b)
	k[1] = (k[1]+(k[0]&0xff))*134775813 + 1
	k[2] = crcUpdate(k[2], byte(k[1]>>24))
}

// encrypt encrypts p in place. The state lives in locals during the loop,
// which keeps multi-megabyte files cheap (also under the race detector).
func (k *zipCryptoKeys) encrypt(p []byte) {
	k0, k1, k2 := k[0], k[1], k[2]
	tab := crc32.IEEETable
	for i, c := range p {
		t := k2 | 2
		p[i] = c ^ byte((t*(t^1))>>8)
		k0 = tab[byte(k0)^c] ^ k0>>8
		k1 = (k1+(k0&0xff))*134775813 + 1
		k2 = tab[byte(k2)^byte(k1>>24)] ^ k2>>8
	}
	k[0], k[1], k[2] = k0, k1, k2
}

// encryptWriter encrypts everything written through it and counts bytes.
type encryptWriter struct {
	w    io.Writer
	keys zipCryptoKeys
	buf  []byte
	n    int64
}

// Write encrypts p through a scratch buffer (p itself is left alone).
func (e *encryptWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), len(e.buf))]
		c := e.buf[:len(chunk)]
		copy(c, chunk)
		e.keys.encrypt(c)
		n, err := e.w.Write(c)
		e.n += int64(n)
		written += n
		if err != nil {
			return written, err
		}
		p = p[len(chunk):]
	}
	return written, nil
}

// countWriter counts bytes written to w.
type countWriter struct {
	w io.Writer
	n int64
}

// Write passes p on and counts it.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type centralRecord struct {
	name          string
	method        uint16
	crc           uint32
	csize, usize  uint32
	offset        uint32
	dosTime, date uint16
}

func dosDateTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	tm = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	return date, tm
}

var errTooLarge = errors.New("zip entry over 4 GiB")

// writeZip streams a ZipCrypto archive of entries to w.
func writeZip(w io.Writer, password string, mod time.Time, entries []zipSource) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := &countWriter{w: bw}
	date, tm := dosDateTime(mod)
	records := make([]centralRecord, 0, len(entries))
	for _, e := range entries {
		if e.size >= 1<<32-64 || cw.n >= 1<<32-64 {
			return errTooLarge
		}
		rec := centralRecord{name: e.name, method: methodStore, offset: uint32(cw.n), dosTime: tm, date: date}
		if e.size <= deflateLimit {
			rec.method = methodDeflate
		}
		flags := uint16(flagEncrypted | flagDataDescriptor | flagUTF8)
		var local [30]byte
		le := binary.LittleEndian
		le.PutUint32(local[0:], 0x04034b50)
		le.PutUint16(local[4:], zipVersion)
		le.PutUint16(local[6:], flags)
		le.PutUint16(local[8:], rec.method)
		le.PutUint16(local[10:], tm)
		le.PutUint16(local[12:], date)
		le.PutUint16(local[26:], uint16(len(e.name)))
		if _, err := cw.Write(local[:]); err != nil {
			return err
		}
		if _, err := io.WriteString(cw, e.name); err != nil {
			return err
		}

		enc := &encryptWriter{w: cw, keys: newKeys(password), buf: make([]byte, 32<<10)}
		var header [12]byte
		if _, err := rand.Read(header[:11]); err != nil {
			return err
		}
		// With a data descriptor the check byte is the high byte of the time.
		header[11] = byte(tm >> 8)
		if _, err := enc.Write(header[:]); err != nil {
			return err
		}
		crc := crc32.NewIEEE()
		var usize int64
		var err error
		if rec.method == methodDeflate {
			fw, ferr := flate.NewWriter(enc, flate.DefaultCompression)
			if ferr != nil {
				return ferr
			}
			usize, err = io.Copy(io.MultiWriter(fw, crc), e.open())
			if err == nil {
				err = fw.Close()
			}
		} else {
			usize, err = io.Copy(io.MultiWriter(enc, crc), e.open())
		}
		if err != nil {
			return err
		}
		rec.crc, rec.csize, rec.usize = crc.Sum32(), uint32(enc.n), uint32(usize)
		var desc [16]byte
		le.PutUint32(desc[0:], 0x08074b50)
		le.PutUint32(desc[4:], rec.crc)
		le.PutUint32(desc[8:], rec.csize)
		le.PutUint32(desc[12:], rec.usize)
		if _, err := cw.Write(desc[:]); err != nil {
			return err
		}
		records = append(records, rec)
	}
	dirStart := cw.n
	for _, rec := range records {
		var c [46]byte
		le := binary.LittleEndian
		le.PutUint32(c[0:], 0x02014b50)
		le.PutUint16(c[4:], zipVersion)
		le.PutUint16(c[6:], zipVersion)
		le.PutUint16(c[8:], flagEncrypted|flagDataDescriptor|flagUTF8)
		le.PutUint16(c[10:], rec.method)
		le.PutUint16(c[12:], rec.dosTime)
		le.PutUint16(c[14:], rec.date)
		le.PutUint32(c[16:], rec.crc)
		le.PutUint32(c[20:], rec.csize)
		le.PutUint32(c[24:], rec.usize)
		le.PutUint16(c[28:], uint16(len(rec.name)))
		le.PutUint32(c[42:], rec.offset)
		if _, err := cw.Write(c[:]); err != nil {
			return err
		}
		if _, err := io.WriteString(cw, rec.name); err != nil {
			return err
		}
	}
	var end [22]byte
	le := binary.LittleEndian
	le.PutUint32(end[0:], 0x06054b50)
	le.PutUint16(end[8:], uint16(len(records)))
	le.PutUint16(end[10:], uint16(len(records)))
	le.PutUint32(end[12:], uint32(cw.n-dirStart))
	le.PutUint32(end[16:], uint32(dirStart))
	if _, err := cw.Write(end[:]); err != nil {
		return err
	}
	return bw.Flush()
}
