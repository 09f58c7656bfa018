package zipx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
)

// spoolChunk is the copy buffer of Spool; between chunks it checks the
// context.
const spoolChunk = 64 << 10

// Spool copies an archive from src (typically an HTTP response body) and
// returns a [Reader] over the copy, so entries can be read in any order with
// the central directory's full checking. The caller must Close the Reader;
// Spool does not close src.
//
// Archives up to [WithSpoolMemory] bytes (default 1 MiB) are kept in
// memory; larger ones go to a temporary file in [WithTempDir], so memory
// stays small whatever the size. On Unix-like systems the file is unlinked
// as soon as it is created (it disappears even if the process dies); on
// Windows it is removed by Close. Spool stops with an error matching
// [ErrLimitExceeded] once src delivers more than [WithMaxArchiveBytes]
// (default 2 GiB) and with ctx's error when ctx is done (checked between
// 64 KiB reads; a Read blocked in src is only interrupted by src itself,
// as an HTTP body is when its request's context ends). Errors from src are
// returned as they are (wrapped in an [*Error] with Op "spool"), so a
// dropped connection is not mistaken for a corrupt archive.
//
// Why spool rather than stream the local headers: the central directory at
// the end of the archive is the authoritative list of entries, sizes and
// encryption parameters; a streaming reader must trust the local headers
// instead (which a hostile or merely unusual archive can contradict),
// cannot find the end of stored entries written with data descriptors, and
// can only read entries in stored order (a SentinelOne manifest.json may
// come after the file it describes). The cost is disk space for the
// compressed archive and one extra local write and read of it.
func Spool(ctx context.Context, src io.Reader, opts ...Option) (*Reader, error) {
	o := newOptions(opts)
	r, err := spool(ctx, src, o, opts)
	if err != nil {
		var zerr *Error
		if errors.As(err, &zerr) {
			return nil, err
		}
		return nil, &Error{Op: "spool", Err: err}
	}
	return r, nil
}

func spool(ctx context.Context, src io.Reader, o options, opts []Option) (*Reader, error) {
	buf := make([]byte, spoolChunk)
	memLimit := min(o.spoolMemory, o.maxArchiveBytes, math.MaxInt64-1)
	var mem bytes.Buffer
	n, err := copyContext(ctx, &mem, src, memLimit+1, buf)
	if err != nil {
		return nil, err
	}
	if n <= memLimit {
		return NewReader(bytes.NewReader(mem.Bytes()), n, opts...)
	}
	if n > o.maxArchiveBytes {
		return nil, &LimitError{Limit: LimitArchiveBytes, Max: o.maxArchiveBytes}
	}

	file, err := newSpoolFile(o.tempDir)
	if err != nil {
		return nil, err
	}
	if _, err := file.Write(mem.Bytes()); err != nil {
		file.Close()
		return nil, err
	}
	mem = bytes.Buffer{}
	m, err := copyContext(ctx, file, src, o.maxArchiveBytes-n+1, buf)
	n += m
	if err == nil && n > o.maxArchiveBytes {
		err = &LimitError{Limit: LimitArchiveBytes, Max: o.maxArchiveBytes}
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	r, err := NewReader(file, n, opts...)
	if err != nil {
		file.Close()
		return nil, err
	}
	r.closer = file
	return r, nil
}

// copyContext copies at most limit bytes from src to dst, checking ctx
// between reads.
func copyContext(ctx context.Context, dst io.Writer, src io.Reader, limit int64, buf []byte) (int64, error) {
	var written int64
	for written < limit {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		chunk := buf[:min(int64(len(buf)), limit-written)]
		n, err := src.Read(chunk)
		if n > 0 {
			if _, werr := dst.Write(chunk[:n]); werr != nil {
				return written, werr
			}
			written += int64(n)
		}
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// spoolFile is a temporary file removed when closed (or, where the system
// allows, as soon as it is created).
type spoolFile struct {
	*os.File
	path string // empty once removed
}

func newSpoolFile(dir string) (*spoolFile, error) {
	f, err := os.CreateTemp(dir, "zipx-spool-*.zip")
	if err != nil {
		return nil, err
	}
	s := &spoolFile{File: f, path: f.Name()}
	if runtime.GOOS != "windows" && os.Remove(s.path) == nil {
		s.path = ""
	}
	return s, nil
}

// Close closes and removes the file.
func (s *spoolFile) Close() error {
	err := s.File.Close()
	if s.path != "" {
		if rerr := os.Remove(s.path); err == nil {
			err = rerr
		}
		s.path = ""
	}
	return err
}
