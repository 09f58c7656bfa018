package vmray

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/soarkit/soarkit/internal/zipx"
)

// DefaultDownloadPassword is the password VMRay uses for sample archives
// unless the system setting says otherwise.
const DefaultDownloadPassword = "infected"

// DownloadZip streams the sample as VMRay serves it: a ZIP archive with one
// encrypted entry. A non-empty password asks VMRay to encrypt with it
// ("encryption_password"); otherwise the system's download password applies
// (see [SystemService.DownloadPassword]). The caller closes the reader. Use
// [SamplesService.Download] to get the file itself.
//
// API: GET /rest/sample/{sample_id}/file
func (s *SamplesService) DownloadZip(ctx context.Context, id int64, password string) (io.ReadCloser, error) {
	var q url.Values
	if password != "" {
		q = url.Values{"encryption_password": {password}}
	}
	return s.c.download(ctx, "Samples.DownloadZip", "/sample/{}/file", id, q, "application/zip")
}

// DownloadOptions configure [SamplesService.Download].
type DownloadOptions struct {
	// Password is the archive password to request. Empty asks VMRay for
	// its download password, falling back to "infected" when the key may not
	// read that setting.
	Password string
	// MaxBytes caps the size of the sample (default 2 GiB, zipx's entry
	// limit).
	MaxBytes int64
	// TempDir is where archives over 1 MiB are spooled (default os.TempDir).
	TempDir string
}

// SampleFile is a downloaded sample being read. Reading it decrypts and
// inflates the archive entry; at the end its CRC-32 is checked (a mismatch
// is an error, never a silent io.EOF). Close releases the spooled archive.
type SampleFile struct {
	// Name is the entry name inside VMRay's archive.
	Name string
	// Size is the uncompressed size the archive declares.
	Size int64

	rc  io.ReadCloser
	zip *zipx.Reader
}

// Read reads the sample's bytes.
func (f *SampleFile) Read(p []byte) (int, error) { return f.rc.Read(p) }

// Close releases the entry and the spooled archive.
func (f *SampleFile) Close() error {
	return errors.Join(f.rc.Close(), f.zip.Close())
}

// Download fetches the sample file, spools the encrypted archive (to a
// temporary file above 1 MiB, so memory stays bounded) and returns a reader
// of the one file inside, decrypted with the download password.
//
// API: GET /rest/download_password (unless a password is given), GET /rest/sample/{sample_id}/file
func (s *SamplesService) Download(ctx context.Context, id int64, opts *DownloadOptions) (*SampleFile, error) {
	const op = "Samples.Download"
	var o DownloadOptions
	if opts != nil {
		o = *opts
	}
	requested := o.Password
	password := requested
	if password == "" {
		pw, err := s.c.System.DownloadPassword(ctx)
		switch {
		case err == nil && pw != "":
			password = pw
		case err == nil, errors.Is(err, ErrForbidden), errors.Is(err, ErrNotFound):
			password = DefaultDownloadPassword
		default:
			return nil, err
		}
	}
	body, err := s.DownloadZip(ctx, id, requested)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	zopts := []zipx.Option{zipx.WithPassword(password), zipx.WithMaxEntries(16)}
	if o.MaxBytes > 0 {
		zopts = append(zopts, zipx.WithMaxEntryBytes(o.MaxBytes), zipx.WithMaxArchiveBytes(o.MaxBytes+o.MaxBytes/10+1<<20))
	}
	if o.TempDir != "" {
		zopts = append(zopts, zipx.WithTempDir(o.TempDir))
	}
	zr, err := zipx.Spool(ctx, body, zopts...)
	if err != nil {
		return nil, s.fileError(op, id, err)
	}
	entry, err := zr.SingleFile()
	if err != nil {
		zr.Close()
		return nil, s.fileError(op, id, err)
	}
	rc, err := entry.OpenWithPassword(password)
	if err != nil {
		zr.Close()
		return nil, s.fileError(op, id, err)
	}
	return &SampleFile{Name: entry.Name, Size: int64(entry.UncompressedSize), rc: rc, zip: zr}, nil
}

// fileError wraps an archive failure; zipx errors never carry the password.
func (s *SamplesService) fileError(op string, id int64, err error) error {
	return &Error{Vendor: vendor, Op: op, Path: fmt.Sprintf("%s/sample/%d/file", s.c.pathPrefix(), id), Message: "reading sample archive", Err: err}
}
