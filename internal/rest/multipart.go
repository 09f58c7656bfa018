package rest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"sync"
)

// Field is one plain multipart form field.
type Field struct {
	Name  string
	Value string
}

// FilePart is one file of a multipart body. Set Reader for a one-shot stream,
// or Open for a source that can be reopened (which makes the body replayable,
// so the upload can be retried).
type FilePart struct {
	// Field is the form field name, for example "sample_file".
	Field string
	// FileName is sent in the Content-Disposition header.
	FileName string
	// ContentType defaults to application/octet-stream.
	ContentType string
	// Reader is read once, while the request is sent.
	Reader io.Reader
	// Open returns a fresh reader for every attempt.
	Open func() (io.ReadCloser, error)
}

// MultipartBody streams fields and files as multipart/form-data through an
// io.Pipe: the files are copied as the transport sends, so memory use does not
// grow with the file size. Copying starts only when the transport first reads
// the body, so a connection that fails before that leaves the source untouched.
func MultipartBody(fields []Field, files ...FilePart) Body {
	var buf [16]byte
	_, _ = rand.Read(buf[:])
	return &multipartBody{boundary: hex.EncodeToString(buf[:]), fields: fields, files: files}
}

type multipartBody struct {
	boundary string
	fields   []Field
	files    []FilePart
}

func (m *multipartBody) ContentType() string {
	return "multipart/form-data; boundary=" + m.boundary
}

func (m *multipartBody) Len() int64 { return -1 }

func (m *multipartBody) Replayable() bool {
	for _, f := range m.files {
		if f.Open == nil {
			return false
		}
	}
	return true
}

func (m *multipartBody) Open() (io.ReadCloser, error) {
	for _, f := range m.files {
		if f.Open == nil && f.Reader == nil {
			return nil, fmt.Errorf("%w: file part %q has no content", ErrInvalidRequest, f.Field)
		}
	}
	pr, pw := io.Pipe()
	lr := &lazyPipeReader{pr: pr, start: make(chan struct{}), done: make(chan struct{})}
	go func() {
		select {
		case <-lr.start:
		case <-lr.done:
			pw.CloseWithError(io.ErrClosedPipe)
			return
		}
		pw.CloseWithError(m.write(pw))
	}()
	return lr, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

func (m *multipartBody) write(w io.Writer) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(m.boundary); err != nil {
		return err
	}
	for _, f := range m.fields {
		if err := mw.WriteField(f.Name, f.Value); err != nil {
			return err
		}
	}
	for _, f := range m.files {
		if err := writeFilePart(mw, f); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeFilePart(mw *multipart.Writer, f FilePart) error {
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
		quoteEscaper.Replace(f.Field), quoteEscaper.Replace(f.FileName)))
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	src := f.Reader
	if f.Open != nil {
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("opening %s: %w", f.Field, err)
		}
		defer rc.Close()
		src = rc
	}
	buf := make([]byte, 256<<10)
	_, err = io.CopyBuffer(part, onlyReader{src}, buf)
	return err
}

// onlyReader hides WriterTo/ReaderFrom so CopyBuffer uses our buffer size.
type onlyReader struct{ io.Reader }

// lazyPipeReader starts the producer on the first Read.
type lazyPipeReader struct {
	pr        *io.PipeReader
	start     chan struct{}
	done      chan struct{}
	startOnce sync.Once
	closeOnce sync.Once
}

func (l *lazyPipeReader) Read(p []byte) (int, error) {
	l.startOnce.Do(func() { close(l.start) })
	return l.pr.Read(p)
}

func (l *lazyPipeReader) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	err := l.pr.Close()
	if errors.Is(err, io.ErrClosedPipe) {
		return nil
	}
	return err
}
