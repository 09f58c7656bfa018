package zipx

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Compression methods this package reads.
const (
	MethodStore   uint16 = 0
	MethodDeflate uint16 = 8
)

// Encryption says how an entry is encrypted.
type Encryption uint8

// Encryption schemes.
const (
	EncryptionNone      Encryption = iota // not encrypted
	EncryptionZipCrypto                   // traditional PKWARE encryption
	EncryptionAES128                      // WinZip AES, 128-bit key
	EncryptionAES192                      // WinZip AES, 192-bit key
	EncryptionAES256                      // WinZip AES, 256-bit key
	EncryptionUnknown                     // a scheme this package cannot read (PKWARE strong encryption, a damaged AES header)
)

// String returns a short name such as "AES-256".
func (e Encryption) String() string {
	switch e {
	case EncryptionNone:
		return "none"
	case EncryptionZipCrypto:
		return "ZipCrypto"
	case EncryptionAES128:
		return "AES-128"
	case EncryptionAES192:
		return "AES-192"
	case EncryptionAES256:
		return "AES-256"
	default:
		return "unknown"
	}
}

// File is one entry of an archive, as its central directory record
// describes it. The exported fields are informational: changing them does
// not change how the entry is opened.
type File struct {
	// Name is the entry name exactly as stored (forward slashes by the
	// format's rules; hostile archives may hold anything). Use [SafePath]
	// before turning it into a local file name.
	Name    string
	Comment string
	// Method is the compression method of the data: [MethodStore],
	// [MethodDeflate], or another value that Open refuses. For WinZip AES
	// entries it is the method inside the encryption, not the marker 99.
	Method     uint16
	Encryption Encryption
	// AESVersion is 1 (AE-1: CRC-32 checked) or 2 (AE-2: no CRC-32; the
	// authentication code alone protects the data) for WinZip AES entries,
	// zero otherwise.
	AESVersion int
	// Flags is the general purpose bit flag.
	Flags uint16
	// Modified is the modification time: from the extended timestamp or
	// NTFS extra field when present, otherwise the MS-DOS date and time,
	// which have no zone and are reported as UTC wall-clock time.
	Modified time.Time
	// CRC32 is the CRC-32 of the uncompressed data (zero for AE-2 entries).
	CRC32 uint32
	// CompressedSize is the size of the stored data, including encryption
	// headers and trailers.
	CompressedSize uint64
	// UncompressedSize is the size the entry claims; reading produces
	// exactly this many bytes or fails.
	UncompressedSize uint64

	r *Reader
	h header
}

// header is the immutable copy of the directory record that Open relies on.
type header struct {
	flags     uint16
	method    uint16 // compression method (the AES inner method for AES entries)
	dosTime   uint16
	dosDate   uint16
	crc32     uint32
	csize     uint64
	usize     uint64
	offset    uint64 // absolute offset of the local header
	dataLimit int64  // the data must end at or before this offset
	nameLen   int
	openErr   error // why Open must fail, found while parsing
}

// IsDir reports whether the entry is a directory (its name ends in a slash).
func (f *File) IsDir() bool { return strings.HasSuffix(f.Name, "/") }

// Encrypted reports whether the entry is encrypted.
func (f *File) Encrypted() bool { return f.Encryption != EncryptionNone }

// SafePath returns the entry name as a safe relative local path, or an error
// matching [ErrUnsafePath]. See the package function [SafePath].
func (f *File) SafePath() (string, error) { return SafePath(f.Name) }

// Open opens the entry for reading, with the password given by
// [WithPassword] if it is encrypted. See [File.OpenWithPassword].
func (f *File) Open() (io.ReadCloser, error) {
	return f.open(f.r.opts.password)
}

// OpenWithPassword opens the entry for reading with password (ignored for
// entries that are not encrypted).
//
// The returned reader streams: it holds a few buffers (about 100 KiB), never
// the entry. Read returns io.EOF only after the data has been verified: the
// WinZip AES authentication code, the size and the CRC-32 (except for AE-2,
// which has none). A mismatch is returned from Read at the end in place of
// io.EOF, as an error matching [ErrChecksum] (or [ErrCorrupt] for a size
// mismatch), so a caller that hashes or uploads while reading must discard
// its result when Read fails. A wrong password is reported by Open as
// [ErrWrongPassword] when the password check value rejects it; see
// [ErrWrongPasswordOrCorrupt] for the ZipCrypto case it lets through.
//
// Limits ([WithMaxEntryBytes], [WithMaxTotalBytes], [WithMaxRatio]) are
// enforced while reading, on the bytes actually produced.
func (f *File) OpenWithPassword(password string) (io.ReadCloser, error) {
	return f.open(&password)
}

func (f *File) open(password *string) (io.ReadCloser, error) {
	rc, err := openEntry(f, password)
	if err != nil {
		return nil, &Error{Op: "open", Name: f.Name, Err: err}
	}
	return rc, nil
}

func errUnsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupportedMethod, fmt.Sprintf(format, args...))
}
