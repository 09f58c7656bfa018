package sentinelone

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strings"

	"github.com/soarkit/soarkit/internal/zipx"
)

// ErrWrongPassword matches a fetched zip that the password does not open
// (always together with ErrBadArchive).
var ErrWrongPassword = zipx.ErrWrongPassword

// errNotListed marks a manifest that does not name the requested path: the
// zip belongs to another fetch.
var errNotListed = errors.New("path not in manifest")

// ManifestName is the name of the manifest inside fetched zips.
const ManifestName = "manifest.json"

// maxManifestBytes bounds manifest.json.
const maxManifestBytes = 1 << 20

// ManifestEntry describes one requested file in manifest.json.
type ManifestEntry struct {
	// Path is the original path on the endpoint.
	Path string `json:"path"`
	// SHA1 is the hash the agent computed.
	SHA1 string `json:"sha1"`
	// Reason is non-empty when the agent could not collect the file.
	Reason string `json:"reason"`
}

// ArchiveOptions select and check the file opened by OpenArchive.
type ArchiveOptions struct {
	// ExpectedSHA1 is the hash the file must have; empty falls back to the
	// manifest's hash (the content hash is still computed and available from
	// FetchedFile.ComputedSHA1).
	ExpectedSHA1 string
	// Path selects the manifest entry by original path (case-insensitive,
	// either slash); empty takes the first entry.
	Path string
	// RequireManifest fails archives without manifest.json (agent uploads
	// always have one; Binary Vault zips need not).
	RequireManifest bool
	// TempDir is where the zip is spooled (default os.TempDir()).
	TempDir string
	// MaxFileBytes caps each file in the zip, and the zip at a tenth more
	// plus 1 MiB for its headers and encryption (default 0: 2 GiB each, the
	// internal/zipx defaults). A larger one is refused with ErrBadArchive
	// wrapping the limit breach.
	MaxFileBytes int64
}

// FetchedFile is a file retrieved from an endpoint or the Binary Vault. It is
// an io.ReadCloser over the decrypted content: the SHA1 is computed while
// reading, and the Read that reaches the end returns a *HashMismatchError
// instead of io.EOF when it differs from the expected hash, so a caller that
// stores or uploads the stream must discard its result on any Read error.
// Close removes the spooled zip.
type FetchedFile struct {
	// Name is the entry name inside the zip.
	Name string
	// Path is the original path on the endpoint (from the manifest).
	Path string
	// Size is the uncompressed size.
	Size int64
	// ExpectedSHA1 is the hash being checked (lower case), empty if none
	// was known.
	ExpectedSHA1 string
	// Manifest is the whole manifest.json (nil for vault zips without one).
	Manifest []ManifestEntry
	// Activity is the upload activity (nil for vault downloads).
	Activity *Activity

	rc             io.ReadCloser
	owner          *FetchedArchive // released by Close, when set
	h, h256        hash.Hash
	computed, c256 string
	err            error
}

// Read reads decrypted content and verifies the SHA1 at the end.
func (f *FetchedFile) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.rc.Read(p)
	f.h.Write(p[:n])
	f.h256.Write(p[:n])
	switch {
	case err == io.EOF:
		f.computed = hex.EncodeToString(f.h.Sum(nil))
		f.c256 = hex.EncodeToString(f.h256.Sum(nil))
		if f.ExpectedSHA1 != "" && f.computed != f.ExpectedSHA1 {
			f.err = &HashMismatchError{Source: "content", Expected: f.ExpectedSHA1, Actual: f.computed}
		} else {
			f.err = io.EOF
		}
		return n, f.err
	case err != nil:
		f.err = fmt.Errorf("sentinelone: reading fetched file: %w", archiveErr(err))
		return n, f.err
	}
	return n, nil
}

// ComputedSHA1 returns the SHA1 of the content once it was read to the end,
// and "" before.
func (f *FetchedFile) ComputedSHA1() string { return f.computed }

// ComputedSHA256 returns the SHA-256 of the content once it was read to the
// end, and "" before (threats of older agents carry no SHA-256, and analysis
// services key samples by it).
func (f *FetchedFile) ComputedSHA256() string { return f.c256 }

// Verified reports whether the content was read to the end and matched the
// expected hash (false when no hash was known).
func (f *FetchedFile) Verified() bool {
	return f.computed != "" && f.ExpectedSHA1 != "" && f.computed == f.ExpectedSHA1
}

// Close releases the entry and, for a file opened on its own (not through a
// FetchedArchive), removes the spooled zip.
func (f *FetchedFile) Close() error {
	err := f.rc.Close()
	if f.owner != nil {
		if zerr := f.owner.Close(); err == nil {
			err = zerr
		}
	}
	return err
}

// archiveErr tags archive-format failures with ErrBadArchive and leaves
// transport and context errors as they are.
func archiveErr(err error) error {
	for _, e := range []error{zipx.ErrCorrupt, zipx.ErrChecksum, zipx.ErrWrongPassword, zipx.ErrUnsupportedMethod, zipx.ErrLimitExceeded, zipx.ErrUnsafePath, zipx.ErrAmbiguous} {
		if errors.Is(err, e) {
			return errors.Join(ErrBadArchive, err)
		}
	}
	return err
}

// OpenArchive reads a fetched zip from r (spooling it, so memory stays
// small), decrypts manifest.json and the selected file with password, checks
// the manifest (a non-empty reason is a *FetchFailedError; a manifest hash
// other than the expected one is a *HashMismatchError) and returns the file
// as a SHA1-verified stream. It does not close r. Closing the file removes
// the spooled zip. Archives over 2 GiB and entries that expand past 2 GiB
// are refused (ErrBadArchive), the internal/zipx defaults.
func OpenArchive(ctx context.Context, r io.Reader, password string, opts ArchiveOptions) (*FetchedFile, error) {
	a, err := ReadArchive(ctx, r, password, opts)
	if err != nil {
		return nil, err
	}
	f, err := a.Open(opts.Path, opts.ExpectedSHA1)
	if err != nil {
		a.Close()
		return nil, err
	}
	f.owner = a // the file's Close releases the archive
	return f, nil
}

// FetchedArchive is an opened fetched zip with several files (an agent
// fetch-files of several paths). Open each file by its requested path;
// Close removes the spooled zip, after which its files must not be read.
type FetchedArchive struct {
	// Manifest is manifest.json (nil for vault zips without one).
	Manifest []ManifestEntry
	// Activity is the upload activity, when known.
	Activity *Activity

	zr      *zipx.Reader
	maxFile int64 // ArchiveOptions.MaxFileBytes
}

// ReadArchive spools a fetched zip from r and reads its manifest (required
// when opts.RequireManifest; opts.Path and ExpectedSHA1 are not used). It
// does not close r.
func ReadArchive(ctx context.Context, r io.Reader, password string, opts ArchiveOptions) (*FetchedArchive, error) {
	zopts := []zipx.Option{zipx.WithPassword(password), zipx.WithTempDir(opts.TempDir), zipx.WithMaxRatio(zipx.Unlimited)}
	if n := opts.MaxFileBytes; n > 0 {
		// The entries' bound leaves room for manifest.json; Open holds the file itself to n.
		zopts = append(zopts, zipx.WithMaxEntryBytes(n+1<<20), zipx.WithMaxArchiveBytes(n+n/10+1<<20))
	}
	zr, err := zipx.Spool(ctx, r, zopts...)
	if err != nil {
		return nil, fmt.Errorf("sentinelone: reading fetched zip: %w", archiveErr(err))
	}
	manifest, err := readManifest(zr)
	if err == nil && manifest == nil && opts.RequireManifest {
		err = fmt.Errorf("%w: no %s in the zip", ErrBadArchive, ManifestName)
	}
	if err != nil {
		zr.Close()
		return nil, err
	}
	return &FetchedArchive{Manifest: manifest, zr: zr, maxFile: opts.MaxFileBytes}, nil
}

// Close removes the spooled zip.
func (a *FetchedArchive) Close() error { return a.zr.Close() }

// Open returns the file fetched from path (empty: the first manifest entry,
// or the only file of a zip without manifest) as a stream verified against
// expectedSHA1, or else the manifest's hash. A manifest entry with a reason
// is a *FetchFailedError; a manifest hash other than expectedSHA1 is a
// *HashMismatchError. Closing the file leaves the archive open.
func (a *FetchedArchive) Open(path, expectedSHA1 string) (*FetchedFile, error) {
	expected := strings.ToLower(strings.TrimSpace(expectedSHA1))
	entry := ManifestEntry{Path: path}
	if a.Manifest != nil {
		var err error
		entry, err = pickManifestEntry(a.Manifest, path)
		if err != nil {
			return nil, err
		}
		if entry.Reason != "" {
			return nil, &FetchFailedError{Path: entry.Path, Reason: entry.Reason}
		}
		ms := strings.ToLower(entry.SHA1)
		switch {
		case expected == "":
			expected = ms
		case ms != "" && ms != expected:
			return nil, &HashMismatchError{Source: "manifest", Expected: expected, Actual: ms}
		}
	}
	zf, err := findEntry(a.zr, entry.Path)
	if err != nil {
		return nil, err
	}
	if a.maxFile > 0 && int64(zf.UncompressedSize) > a.maxFile {
		return nil, fmt.Errorf("sentinelone: fetched file %s is %d bytes, over the %d-byte cap: %w", zf.Name,
			zf.UncompressedSize, a.maxFile, archiveErr(zipx.ErrLimitExceeded))
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("sentinelone: opening fetched file: %w", archiveErr(err))
	}
	return &FetchedFile{Name: zf.Name, Path: entry.Path, Size: int64(zf.UncompressedSize), ExpectedSHA1: expected,
		Manifest: a.Manifest, Activity: a.Activity, rc: rc, h: sha1.New(), h256: sha256.New()}, nil
}

// readManifest returns the manifest entries, or nil when the zip has none.
func readManifest(zr *zipx.Reader) ([]ManifestEntry, error) {
	rc, err := zr.Open(ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sentinelone: opening %s: %w", ManifestName, archiveErr(err))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sentinelone: reading %s: %w", ManifestName, archiveErr(err))
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("%w: %s over %d bytes", ErrBadArchive, ManifestName, maxManifestBytes)
	}
	data = bytes.TrimSpace(data)
	var entries []ManifestEntry
	if len(data) > 0 && data[0] == '{' {
		var one ManifestEntry
		err = json.Unmarshal(data, &one)
		entries = []ManifestEntry{one}
	} else {
		err = json.Unmarshal(data, &entries)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadArchive, ManifestName, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrBadArchive, ManifestName)
	}
	return entries, nil
}

// normPath folds a Windows or Unix path for comparison.
func normPath(p string) string {
	return strings.ToLower(strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/"))
}

func pickManifestEntry(manifest []ManifestEntry, path string) (ManifestEntry, error) {
	if path == "" {
		return manifest[0], nil
	}
	for _, e := range manifest {
		if normPath(e.Path) == normPath(path) {
			return e, nil
		}
	}
	return ManifestEntry{}, fmt.Errorf("%w: %s does not list %q", errors.Join(ErrBadArchive, errNotListed), ManifestName, path)
}

// entryName is where agents store a file: the original path without the
// drive colon and leading separators, with forward slashes
// (C:\Users\x.exe becomes C/Users/x.exe).
func entryName(path string) string {
	return strings.TrimLeft(strings.ReplaceAll(strings.ReplaceAll(path, ":", ""), `\`, "/"), "/")
}

// findEntry locates the file of a manifest entry: by the agents' naming
// rule, then case-insensitively, then as the zip's only file.
func findEntry(zr *zipx.Reader, path string) (*zipx.File, error) {
	if path != "" {
		want := entryName(path)
		if f, err := zr.Lookup(want); err == nil {
			return f, nil
		}
		for _, f := range zr.Files() {
			if !f.IsDir() && strings.EqualFold(f.Name, want) {
				return f, nil
			}
		}
	}
	f, err := zr.SingleFile(ManifestName)
	if err != nil {
		return nil, fmt.Errorf("sentinelone: locating the fetched file: %w", errors.Join(ErrBadArchive, err))
	}
	return f, nil
}
