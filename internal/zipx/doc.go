// Package zipx reads zip archives that security vendors hand out: password
// protected samples (VMRay sample downloads, SentinelOne fetched files) and
// plain downloads (Carbon Black UBS), safely and as streams. It uses the
// standard library only; archive/zip is not used because it cannot decrypt.
//
// # Reading
//
// [NewReader] reads the central directory of an archive held in an
// [io.ReaderAt] (a file, a byte slice). [Spool] takes an [io.Reader] such as
// an HTTP response body, copies it to a temporary file (small archives stay
// in memory) and returns the same [Reader]; Close removes the copy. Entries
// are found with [Reader.Files], [Reader.Lookup], [Reader.Open] or
// [Reader.SingleFile] (the one payload of a sample download, optionally
// ignoring companions such as SentinelOne's manifest.json), and read with
// [File.Open] or [File.OpenWithPassword] as streams: an entry of any size
// is read with about 100 KiB of buffers. [Reader.OpenOwned] returns an
// entry stream that also closes its Reader, for a client method that hands
// only the content of a download to its caller.
//
// Spooling was chosen over a streaming reader of local headers because the
// central directory is the authoritative description of an archive, and a
// streaming reader has to trust local headers that a crafted archive can
// contradict, cannot delimit stored entries written with data descriptors,
// and reads entries only in stored order. See [Spool].
//
// # Encryption
//
// Traditional PKWARE encryption ("ZipCrypto") and WinZip AES (AE-1 and AE-2,
// 128, 192 and 256-bit keys) are supported, over stored and deflated
// entries. The password is given with [WithPassword] or per call to
// [File.OpenWithPassword]; it never appears in an error.
//
//   - A password is checked when the entry is opened: ZipCrypto's one check
//     byte and WinZip AES's two-byte verification value reject most wrong
//     passwords with [ErrWrongPassword].
//   - The data is checked at its end, before Read returns io.EOF: the WinZip
//     AES authentication code (HMAC-SHA1 over the ciphertext), the size, and
//     the CRC-32 (except AE-2 entries, which carry none and rely on the
//     authentication code). A mismatch is returned from that last Read as an
//     error matching [ErrChecksum]. Callers that act on the data while
//     streaming (hash it, upload it) must discard the result if Read fails.
//   - ZipCrypto's check byte accepts about 1 wrong password in 256. Such an
//     entry then fails when read, with [ErrWrongPasswordOrCorrupt], which
//     matches both [ErrWrongPassword] and [ErrChecksum] because a wrong
//     password and damaged data cannot be told apart. (WinZip AES has the
//     same ambiguity with probability 1 in 65536; it is reported as
//     [ErrChecksum].)
//
// ZipCrypto is weak (its keys can be recovered from a little known
// plaintext); it protects vendor samples from accidental execution and
// from scanners, not from an attacker.
//
// # Threat model and limits
//
// Archives are treated as hostile: they may come from a compromised or
// malicious source, or be a malware sample's own container. The package
// guarantees that a hostile archive cannot make it panic, allocate memory
// in proportion to claimed sizes, read outside the archive, or produce
// unbounded output, and that every failure is one of the typed errors below.
//
//   - [WithMaxEntries] (default 10 000) bounds the central directory, checked
//     before it is read.
//   - [WithMaxEntryBytes] (2 GiB) and [WithMaxTotalBytes] (4 GiB per Reader)
//     bound the uncompressed output. They are enforced on the bytes actually
//     produced; an entry can never produce more than its header claims (that
//     is [ErrCorrupt]), and a claim over the entry limit is refused at Open.
//   - [WithMaxRatio] (200:1 once an entry has produced 1 MiB) stops
//     decompression bombs early, measured on bytes produced against
//     compressed bytes consumed.
//   - [WithMaxArchiveBytes] (2 GiB) bounds what [Spool] copies.
//   - Entries whose data would overlap another entry or the central
//     directory are refused when the archive is opened: that overlap is how
//     non-recursive zip bombs multiply their output. Local headers must agree
//     with the central directory (name, method, encryption flag).
//   - Names are returned as stored. [SafePath] (or [File.SafePath]) turns a
//     name into a relative local path or refuses it with [ErrUnsafePath]:
//     absolute paths, ".." elements, backslashes, drive letters, colons and
//     control characters (zip-slip).
//
// For every limit option, zero keeps the default and [Unlimited] removes the
// limit.
//
// Not supported (refused with [ErrUnsupportedMethod]): compression methods
// other than store and deflate (bzip2, LZMA, zstd, deflate64), PKWARE strong
// encryption, and multi-volume archives.
//
// # Errors
//
// Failures are [*Error] values (operation, entry name, cause) whose cause
// matches one of [ErrWrongPassword], [ErrUnsupportedMethod], [ErrCorrupt],
// [ErrLimitExceeded] (a [*LimitError] naming the [Limit]), [ErrChecksum],
// [ErrUnsafePath] or [ErrAmbiguous] with [errors.Is], or [fs.ErrNotExist]
// for a missing entry. Errors from the underlying reader or the source of
// [Spool] (a dropped connection) are passed through unchanged.
//
// # Writing
//
// [Writer] is the module's one writer of such archives: the fakes serve the
// password-protected zips of VMRay and SentinelOne with it, the examples
// build demo samples, and this package's tests craft archives. It streams
// every entry (stored or deflated, unencrypted, ZipCrypto or WinZip AES
// AE-1/AE-2) with a data descriptor, so no entry is held in memory, and
// writes no ZIP64 records (entries and archives stay under 4 GiB).
// [NewZipCryptoEncrypter] and [NewAESEncrypter] encrypt one entry's data for
// callers that lay out the archive with archive/zip's CreateRaw.
package zipx
