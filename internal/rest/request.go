package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-querystring/query"
)

// Request describes one API call.
type Request struct {
	// Op names the operation in errors and logs, for example "Samples.Get".
	Op string
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is appended to the client's base URL. Each "{}" in it is replaced,
	// in order, by the matching PathArgs element, escaped as one segment.
	Path string
	// PathArgs fill the "{}" placeholders. Empty arguments, "." and ".." are
	// refused, so a caller-supplied id can never walk the path.
	PathArgs []string
	// URL, when set, is an absolute URL used instead of BaseURL+Path, for
	// example a pre-signed download link. Credentials are sent only when its
	// host is the base URL's host and NoAuth is false.
	URL string
	// Query is a struct encoded with go-querystring (`url:"name,omitempty"`
	// tags) or a url.Values.
	Query any
	// Body is the request body, if any.
	Body Body
	// Header holds extra headers.
	Header http.Header
	// Idempotent marks a POST or PATCH that may be repeated safely, so it is
	// retried like a GET.
	Idempotent bool
	// NoRetry disables retries for this call.
	NoRetry bool
	// NoAuth sends the request without credentials.
	NoAuth bool
	// Route, when set, is matched against route limits instead of Path.
	Route string
	// MaxResponseBytes overrides the client's cap for this call.
	MaxResponseBytes int64
}

func (r *Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// idempotent reports whether the call may be repeated after the server might
// have acted on it.
func (r *Request) idempotent() bool {
	switch r.method() {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return r.Idempotent
}

// expandPath substitutes the escaped path arguments.
func (r *Request) expandPath() (string, error) {
	var b strings.Builder
	rest := r.Path
	args := r.PathArgs
	for {
		i := strings.Index(rest, "{}")
		if i < 0 {
			break
		}
		if len(args) == 0 {
			return "", fmt.Errorf("%w: path %q has more placeholders than arguments", ErrInvalidRequest, r.Path)
		}
		a := args[0]
		args = args[1:]
		if a == "" || a == "." || a == ".." {
			return "", fmt.Errorf("%w: path argument %q is not a valid segment", ErrInvalidRequest, a)
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(a))
		rest = rest[i+2:]
	}
	if len(args) > 0 {
		return "", fmt.Errorf("%w: path %q has fewer placeholders than arguments", ErrInvalidRequest, r.Path)
	}
	b.WriteString(rest)
	p := b.String()
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return "", fmt.Errorf("%w: path %q contains a dot segment", ErrInvalidRequest, p)
		}
	}
	return p, nil
}

// encodeQuery turns Query into a raw query string.
func (r *Request) encodeQuery() (string, error) {
	switch q := r.Query.(type) {
	case nil:
		return "", nil
	case url.Values:
		return q.Encode(), nil
	default:
		v, err := query.Values(q)
		if err != nil {
			return "", fmt.Errorf("%w: encoding query: %v", ErrInvalidRequest, err)
		}
		return v.Encode(), nil
	}
}

// Body is a request body. Open is called once per attempt; a body that is not
// Replayable is opened at most once, and a retry is allowed only if the
// transport consumed none of it.
type Body interface {
	// ContentType is the Content-Type header value.
	ContentType() string
	// Open returns a reader positioned at the start of the body.
	Open() (io.ReadCloser, error)
	// Replayable reports whether Open may be called again after the body
	// was read.
	Replayable() bool
	// Len is the body length, or -1 when unknown (sent chunked).
	Len() int64
}

type bytesBody struct {
	contentType string
	data        []byte
	err         error
}

func (b *bytesBody) ContentType() string { return b.contentType }
func (b *bytesBody) Replayable() bool    { return true }
func (b *bytesBody) Len() int64          { return int64(len(b.data)) }
func (b *bytesBody) Open() (io.ReadCloser, error) {
	if b.err != nil {
		return nil, b.err
	}
	return io.NopCloser(bytes.NewReader(b.data)), nil
}

// JSONBody encodes v as a JSON request body. An encoding error is reported
// when the request is sent.
func JSONBody(v any) Body {
	data, err := json.Marshal(v)
	if err != nil {
		err = fmt.Errorf("%w: encoding JSON body: %v", ErrInvalidRequest, err)
	}
	return &bytesBody{contentType: "application/json", data: data, err: err}
}

// FormBody encodes v as an application/x-www-form-urlencoded body.
func FormBody(v url.Values) Body {
	return &bytesBody{contentType: "application/x-www-form-urlencoded", data: []byte(v.Encode())}
}

// BytesBody sends data with the given content type.
func BytesBody(contentType string, data []byte) Body {
	return &bytesBody{contentType: contentType, data: data}
}

// ReaderBody streams r once with the given content type; size is its length
// or -1 when unknown. It is not replayable.
func ReaderBody(contentType string, r io.Reader, size int64) Body {
	return &readerBody{contentType: contentType, r: r, size: size}
}

type readerBody struct {
	contentType string
	r           io.Reader
	size        int64
}

func (b *readerBody) ContentType() string { return b.contentType }
func (b *readerBody) Replayable() bool    { return false }
func (b *readerBody) Len() int64          { return b.size }
func (b *readerBody) Open() (io.ReadCloser, error) {
	return io.NopCloser(b.r), nil
}
