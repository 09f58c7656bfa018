package carbonblackconn

import (
	"bytes"
	"context"
	"io"
	"os"
)

// spool keeps a sample between hashing and upload: in memory up to limit
// bytes, in a temporary file beyond. Close removes the file.
type spool struct {
	dir   string
	limit int64
	buf   bytes.Buffer
	file  *os.File
}

func newSpool(dir string, limit int64) *spool { return &spool{dir: dir, limit: limit} }

// fill copies r into the spool, honouring ctx between chunks.
func (s *spool) fill(ctx context.Context, r io.Reader) error {
	chunk := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(chunk)
		if n > 0 {
			if werr := s.write(chunk[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *spool) write(p []byte) error {
	if s.file == nil && int64(s.buf.Len()+len(p)) <= s.limit {
		s.buf.Write(p)
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "cbc-sample-*")
		if err != nil {
			return err
		}
		s.file = f
		if _, err := f.Write(s.buf.Bytes()); err != nil {
			return err
		}
		s.buf = bytes.Buffer{}
	}
	_, err := s.file.Write(p)
	return err
}

// reader returns the spooled bytes from the start; closing it removes the
// spool.
func (s *spool) reader() (io.ReadCloser, error) {
	if s.file == nil {
		return &memSample{Reader: bytes.NewReader(s.buf.Bytes())}, nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *spool) Read(p []byte) (int, error) {
	if s.file == nil {
		return 0, os.ErrClosed
	}
	return s.file.Read(p)
}

// Close removes the temporary file, if any.
func (s *spool) Close() error {
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	if rerr := os.Remove(name); err == nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	s.file = nil
	return err
}

type memSample struct{ *bytes.Reader }

func (memSample) Close() error { return nil }
