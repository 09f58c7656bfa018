package zipx

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error returned by this package that has one of these
// causes matches it with [errors.Is]; most are wrapped in an [*Error] that names
// the operation and the entry.
var (
	// ErrWrongPassword reports that the password does not open an encrypted
	// entry, or that an encrypted entry was opened without a password.
	ErrWrongPassword = errors.New("wrong password")

	// ErrUnsupportedMethod reports a compression method other than store (0)
	// and deflate (8), an encryption scheme other than ZipCrypto and WinZip
	// AES (for example PKWARE strong encryption), or a multi-volume archive.
	ErrUnsupportedMethod = errors.New("unsupported compression or encryption method")

	// ErrCorrupt reports a malformed archive: a truncated file, a bad
	// signature, inconsistent headers, overlapping entries, sizes that do not
	// match the data, or an invalid deflate stream.
	ErrCorrupt = errors.New("corrupt archive")

	// ErrLimitExceeded reports that an archive or entry went over one of the
	// configured limits. The error is a [*LimitError] (usually inside an
	// [*Error]) that says which limit.
	ErrLimitExceeded = errors.New("limit exceeded")

	// ErrChecksum reports data that does not match its CRC-32 or WinZip AES
	// authentication code. It is returned by Read at the end of an entry, in
	// place of io.EOF, so a caller that reads to the end cannot miss it.
	ErrChecksum = errors.New("checksum mismatch")

	// ErrUnsafePath reports an entry name that is not a safe relative local
	// path (see [SafePath]).
	ErrUnsafePath = errors.New("unsafe entry name")

	// ErrAmbiguous reports that a lookup matched more than one entry: the
	// archive holds a name twice, or [Reader.SingleFile] found several files.
	ErrAmbiguous = errors.New("ambiguous entry")

	// ErrWrongPasswordOrCorrupt reports a ZipCrypto entry whose password check
	// byte matched but whose data then failed (CRC-32 mismatch or an invalid
	// deflate stream). ZipCrypto's check byte accepts about one wrong password
	// in 256, so this is either a wrong password or damaged data and cannot be
	// told apart. It matches both [ErrWrongPassword] and [ErrChecksum].
	ErrWrongPasswordOrCorrupt error = wrongPasswordOrCorrupt{}
)

type wrongPasswordOrCorrupt struct{}

func (wrongPasswordOrCorrupt) Error() string { return "wrong password or corrupt data" }

func (wrongPasswordOrCorrupt) Is(target error) bool {
	return target == ErrWrongPassword || target == ErrChecksum
}

// Error describes a failed operation on an archive or one of its entries.
// It never contains a password.
type Error struct {
	// Op is the operation: "parse", "spool", "lookup", "open" or "read".
	Op string
	// Name is the entry name, empty for errors about the whole archive.
	Name string
	// Err is the cause; it matches one of the sentinel errors when the
	// failure is one this package classifies, or is the underlying I/O error.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	cause := "unknown error"
	if e.Err != nil {
		cause = e.Err.Error()
	}
	if e.Name == "" {
		return "zipx: " + e.Op + ": " + cause
	}
	return "zipx: " + e.Op + " " + strconv.Quote(e.Name) + ": " + cause
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Limit names one of the limits a [Reader] enforces.
type Limit int

// The limits, set with the matching options.
const (
	LimitEntries      Limit = iota + 1 // WithMaxEntries
	LimitTotalBytes                    // WithMaxTotalBytes
	LimitEntryBytes                    // WithMaxEntryBytes
	LimitRatio                         // WithMaxRatio
	LimitArchiveBytes                  // WithMaxArchiveBytes
)

// String returns the limit's name.
func (l Limit) String() string {
	switch l {
	case LimitEntries:
		return "entry count"
	case LimitTotalBytes:
		return "total uncompressed bytes"
	case LimitEntryBytes:
		return "entry uncompressed bytes"
	case LimitRatio:
		return "compression ratio"
	case LimitArchiveBytes:
		return "archive bytes"
	default:
		return "limit(" + strconv.Itoa(int(l)) + ")"
	}
}

// LimitError reports which limit was exceeded. It matches [ErrLimitExceeded].
type LimitError struct {
	Limit Limit // which limit
	Max   int64 // the configured maximum
}

// Error implements the error interface.
func (e *LimitError) Error() string {
	return fmt.Sprintf("limit exceeded: %s over %d", e.Limit, e.Max)
}

// Is reports whether target is [ErrLimitExceeded].
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// corruptf returns an error matching ErrCorrupt with a detail message.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
