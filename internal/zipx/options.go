package zipx

import "math"

// Default limits. They suit the vendor archives this package was written for
// (one sample or a handful of files); raise them for bigger archives.
const (
	DefaultMaxEntries      = 10_000
	DefaultMaxTotalBytes   = 4 << 30 // 4 GiB produced by all entries of one Reader
	DefaultMaxEntryBytes   = 2 << 30 // 2 GiB produced by one entry
	DefaultMaxRatio        = 200     // uncompressed:compressed, see WithMaxRatio
	DefaultMaxArchiveBytes = 2 << 30 // 2 GiB spooled by Spool
	DefaultSpoolMemory     = 1 << 20 // archives up to 1 MiB are spooled in memory
)

// Unlimited, passed to a limit option, removes that limit.
const Unlimited = -1

// ratioGrace is the output an entry may produce before the compression ratio
// is enforced: short, highly compressible entries (a small file of zeros, a
// JSON manifest) have high ratios without being bombs.
const ratioGrace = 1 << 20

// Option configures a [Reader] (for [NewReader] and [Spool]).
//
// For every limit option, zero keeps the default and a negative value (use
// [Unlimited]) removes the limit, so a zero-valued configuration never turns
// the protection off by accident.
type Option func(*options)

type options struct {
	maxEntries      int64
	maxTotalBytes   int64
	maxEntryBytes   int64
	maxRatio        int64
	maxArchiveBytes int64
	spoolMemory     int64
	tempDir         string
	// password is a pointer so that printing a Reader with %v shows an
	// address, never the password.
	password *string
}

func newOptions(opts []Option) options {
	o := options{
		maxEntries:      DefaultMaxEntries,
		maxTotalBytes:   DefaultMaxTotalBytes,
		maxEntryBytes:   DefaultMaxEntryBytes,
		maxRatio:        DefaultMaxRatio,
		maxArchiveBytes: DefaultMaxArchiveBytes,
		spoolMemory:     DefaultSpoolMemory,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// setLimit applies the zero-keeps-default, negative-removes rule.
func setLimit(dst *int64, n int64) {
	switch {
	case n < 0:
		*dst = math.MaxInt64
	case n > 0:
		*dst = n
	}
}

// WithMaxEntries limits the number of entries in the central directory.
// The count is checked before the directory is read, so a hostile archive
// cannot make the Reader allocate for millions of entries. Default
// [DefaultMaxEntries].
func WithMaxEntries(n int) Option {
	return func(o *options) { setLimit(&o.maxEntries, int64(n)) }
}

// WithMaxTotalBytes limits the uncompressed bytes produced by all entries
// opened from one Reader together (reading an entry twice counts twice).
// Default [DefaultMaxTotalBytes].
func WithMaxTotalBytes(n int64) Option {
	return func(o *options) { setLimit(&o.maxTotalBytes, n) }
}

// WithMaxEntryBytes limits the uncompressed bytes produced by one entry.
// It is enforced on the bytes actually produced, whatever the header claims;
// an entry whose header already claims more is refused when opened. Default
// [DefaultMaxEntryBytes].
func WithMaxEntryBytes(n int64) Option {
	return func(o *options) { setLimit(&o.maxEntryBytes, n) }
}

// WithMaxRatio limits the ratio of uncompressed bytes produced to
// compressed bytes consumed while an entry is read. The ratio is enforced
// once an entry has produced 1 MiB, so small, highly compressible entries
// pass. Deflate cannot exceed about 1032:1; ordinary text and executables
// stay under 20:1, but files padded with zeros (a known malware trick to
// dodge scanners' size limits) can come close to the maximum, so callers
// that must accept those should raise or remove the limit and rely on
// [WithMaxEntryBytes]. Default [DefaultMaxRatio].
func WithMaxRatio(n int) Option {
	return func(o *options) {
		switch {
		case n < 0:
			o.maxRatio = 0
		case n > 0:
			o.maxRatio = int64(n)
		}
	}
}

// WithMaxArchiveBytes limits the bytes [Spool] copies from its source.
// Default [DefaultMaxArchiveBytes]. It has no effect on [NewReader].
func WithMaxArchiveBytes(n int64) Option {
	return func(o *options) { setLimit(&o.maxArchiveBytes, n) }
}

// WithSpoolMemory sets the largest archive [Spool] keeps in memory instead
// of a temporary file; a negative value always uses a file. Default
// [DefaultSpoolMemory].
func WithSpoolMemory(n int64) Option {
	return func(o *options) {
		switch {
		case n < 0:
			o.spoolMemory = 0
		case n > 0:
			o.spoolMemory = n
		}
	}
}

// WithTempDir sets the directory for [Spool]'s temporary file (default
// [os.TempDir]).
func WithTempDir(dir string) Option {
	return func(o *options) { o.tempDir = dir }
}

// WithPassword sets the password [File.Open] uses for encrypted entries.
// [File.OpenWithPassword] overrides it for one call. The password is never
// logged nor put in an error.
func WithPassword(password string) Option {
	return func(o *options) { o.password = &password }
}
