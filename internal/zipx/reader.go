package zipx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
)

// Reader gives random access to the entries of an archive. Its methods and
// the Open methods of its files are safe for concurrent use; each opened
// entry reader is not.
type Reader struct {
	ra    io.ReaderAt
	size  int64
	files []*File
	opts  options
	// produced counts the uncompressed bytes read from all entries, for
	// WithMaxTotalBytes.
	produced atomic.Int64

	closer    io.Closer // the spool, for Readers made by Spool
	closeOnce sync.Once
	closeErr  error
}

// NewReader reads the central directory of the size-byte archive in r.
// It checks the directory's structure and every entry's place in the
// archive, so a Reader that is returned has no overlapping or out-of-range
// entries; entry data is checked when it is read. Errors match
// [ErrCorrupt], [ErrUnsupportedMethod] (multi-volume archives) or
// [ErrLimitExceeded] ([WithMaxEntries]), or are r's own read errors.
//
// The Reader does not own r: Close does not close it.
func NewReader(r io.ReaderAt, size int64, opts ...Option) (*Reader, error) {
	zr := &Reader{ra: r, size: size, opts: newOptions(opts)}
	if size < 0 {
		return nil, &Error{Op: "parse", Err: corruptf("negative size %d", size)}
	}
	end, err := readDirectoryEnd(r, size)
	if err != nil {
		return nil, &Error{Op: "parse", Err: err}
	}
	files, err := readDirectory(r, end, zr.opts.maxEntries, zr)
	if err != nil {
		return nil, &Error{Op: "parse", Err: err}
	}
	zr.files = files
	return zr, nil
}

// Files returns the entries in central directory order. The slice is a copy;
// the Files are shared.
func (r *Reader) Files() []*File { return slices.Clone(r.files) }

// Lookup returns the entry named name (exact, case-sensitive match). It
// fails with an error matching [fs.ErrNotExist] if there is none and
// [ErrAmbiguous] if the archive holds the name more than once, since
// readers disagree about which copy counts.
func (r *Reader) Lookup(name string) (*File, error) {
	var found *File
	for _, f := range r.files {
		if f.Name != name {
			continue
		}
		if found != nil {
			return nil, &Error{Op: "lookup", Name: name, Err: fmt.Errorf("%w: name appears more than once", ErrAmbiguous)}
		}
		found = f
	}
	if found == nil {
		return nil, &Error{Op: "lookup", Name: name, Err: fs.ErrNotExist}
	}
	return found, nil
}

// Open looks the entry up by name (see [Reader.Lookup]) and opens it with the
// password given by [WithPassword] (see [File.OpenWithPassword]).
func (r *Reader) Open(name string) (io.ReadCloser, error) {
	f, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	return f.Open()
}

// SingleFile returns the one entry that is not a directory and whose name is
// not in except. It suits archives that carry one payload, perhaps next to
// known companions: a VMRay sample download (SingleFile()) or a SentinelOne
// fetched file (SingleFile("manifest.json")). It fails with an error
// matching [fs.ErrNotExist] if there is no such entry and [ErrAmbiguous] if
// there are several.
func (r *Reader) SingleFile(except ...string) (*File, error) {
	var found *File
	for _, f := range r.files {
		if f.IsDir() || slices.Contains(except, f.Name) {
			continue
		}
		if found != nil {
			return nil, &Error{Op: "lookup", Err: fmt.Errorf("%w: more than one file (%q, %q, ...)", ErrAmbiguous, found.Name, f.Name)}
		}
		found = f
	}
	if found == nil {
		return nil, &Error{Op: "lookup", Err: fmt.Errorf("no file in archive: %w", fs.ErrNotExist)}
	}
	return found, nil
}

// OpenOwned opens f (a File of r) with the password given by [WithPassword]
// and returns a reader that owns r: its Close closes the entry and then r.
// It suits a client method that spools a download and returns only the
// entry's stream, such as a sample download. If OpenOwned fails, r stays
// open and the caller still closes it.
func (r *Reader) OpenOwned(f *File) (io.ReadCloser, error) {
	if f.r != r {
		return nil, &Error{Op: "open", Name: f.Name, Err: errors.New("file belongs to another Reader")}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return &ownedEntry{ReadCloser: rc, owner: r}, nil
}

// ownedEntry is an entry reader that closes its Reader too.
type ownedEntry struct {
	io.ReadCloser
	owner *Reader
}

func (o *ownedEntry) Close() error {
	err := o.ReadCloser.Close()
	if cerr := o.owner.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close releases what the Reader owns: for a Reader made by [Spool], the
// spooled copy (a temporary file is closed and removed). Entries must not be
// read after Close. Close is idempotent; for a Reader made by [NewReader] it
// does nothing.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		if r.closer != nil {
			r.closeErr = r.closer.Close()
		}
	})
	return r.closeErr
}
