package carbonblacktest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
)

// Binary is a file seeded into the fake Unified Binary Store.
type Binary struct {
	// Content is the whole file, for small files.
	Content []byte
	// Size and Open describe a large file without holding it: Open returns
	// a fresh reader over the Size bytes each time it is called.
	Size int64
	Open func() io.Reader
	// SHA256 of the whole file; computed (reading it once) when empty.
	SHA256 string
	// Metadata supplies the descriptive fields (file names, versions);
	// sizes, hashes and availability are filled in by the fake.
	Metadata carbonblack.BinaryMetadata
	// TransientErrors is how many download requests list the hash under
	// "error" (not ready, retry later) before it is served.
	TransientErrors int
}

// binary is a stored file: its bytes (content, or open for a large file)
// and its metadata, kept whole only when it says more than the sizes,
// hashes and defaults the fake fills in (plainMetadata), which a world of
// many small files would otherwise hold once per file. Its hashes are kept
// as bytes (a SHA-256 that is not 64 hex characters is in its metadata) and
// its available size is derived from the truncation threshold, and its
// MD5, unless given, from its SHA-256 (derivedMD5). What a small file
// seeded with its content alone does not have is in extra.
type binary struct {
	sha     hashVal
	size    int64
	content []byte
	extra   *binaryExtra
	// linked is set once a download link was minted: the object store
	// then serves <sha256>.zip from the binary itself, with no link record.
	linked bool
}

type binaryExtra struct {
	open       func() io.Reader            // a large file's reader
	meta       *carbonblack.BinaryMetadata // nil: plainMetadata
	errorsLeft int                         // download requests to answer "error" first
}

// x returns the binary's extra fields, made when first needed.
func (b *binary) x() *binaryExtra {
	if b.extra == nil {
		b.extra = &binaryExtra{}
	}
	return b.extra
}

// meta is the binary's own metadata, nil when it is plainMetadata.
func (b *binary) meta() *carbonblack.BinaryMetadata {
	if b.extra == nil {
		return nil
	}
	return b.extra.meta
}

// reader returns a fresh reader over the whole file.
func (b *binary) reader() io.Reader {
	if b.extra != nil && b.extra.open != nil {
		return b.extra.open()
	}
	return bytes.NewReader(b.content)
}

// sha256 is the binary's SHA-256 as stored (lower case).
func (b *binary) sha256() string {
	if m := b.meta(); m != nil {
		return m.SHA256
	}
	return b.sha.String()
}

// available is how many of the binary's bytes UBS holds.
func (s *Server) available(b *binary) int64 {
	if s.opts.truncateAt > 0 && b.size > s.opts.truncateAt {
		return s.opts.truncateAt
	}
	return b.size
}

// metadata is what UBS answers for the binary.
func (s *Server) metadata(b *binary) carbonblack.BinaryMetadata {
	if m := b.meta(); m != nil {
		return *m
	}
	return plainMetadata(b.sha.String(), s.derivedMD5(b.sha), b.size, s.available(b))
}

// derivedMD5 is the MD5 the fake gives a binary seeded without one: 16
// bytes that look random, derived from its SHA-256 with the fake's key so
// that it need not be stored.
func (s *Server) derivedMD5(sha hashVal) string {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte("md5\x00"))
	m.Write(sha[:])
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// binaryLocked returns the binary of a SHA-256 (either case).
func (st *state) binaryLocked(sha string) (*binary, bool) {
	sha = strings.ToLower(sha)
	if h, ok := parseHash(sha); ok {
		b, ok := st.binaries[h]
		return b, ok
	}
	b, ok := st.oddBinaries[sha]
	return b, ok
}

// plainMetadata is the metadata of a binary seeded without descriptive
// fields: its hashes and sizes, a Windows amd64 file.
func plainMetadata(sha, md5 string, size, available int64) carbonblack.BinaryMetadata {
	return carbonblack.BinaryMetadata{SHA256: sha, MD5: md5, FileSize: size, AvailableFileSize: available, FileAvailable: true,
		OSType: "WINDOWS", Architecture: []string{"amd64"}}
}

// link is a minted pre-signed URL target.
type link struct {
	open func() io.Reader
	size int64
	zip  bool
}

// AddBinary stores a binary and returns its SHA-256. Files larger than the
// truncation threshold ([WithTruncation]) are kept only in part, like UBS:
// their archive holds the first bytes, whose hash differs.
func (s *Server) AddBinary(b Binary) (string, error) {
	stored := &binary{size: b.Size}
	if b.Open != nil {
		stored.x().open = b.Open
	}
	if b.TransientErrors > 0 {
		stored.x().errorsLeft = b.TransientErrors
	}
	if b.Open == nil {
		stored.content = append([]byte(nil), b.Content...)
		stored.size = int64(len(stored.content))
	}
	size := stored.size
	sum := strings.ToLower(b.SHA256)
	if sum == "" {
		h := sha256.New()
		n, err := io.Copy(h, stored.reader())
		if err != nil {
			return "", fmt.Errorf("carbonblacktest: reading binary: %w", err)
		}
		if n != size {
			return "", fmt.Errorf("carbonblacktest: binary reader gave %d bytes, Size says %d", n, size)
		}
		sum = hex.EncodeToString(h.Sum(nil))
	}
	available := s.available(stored)
	m := b.Metadata
	m.SHA256, m.FileSize, m.AvailableFileSize, m.FileAvailable = sum, size, available, true
	if m.OSType == "" {
		m.OSType = "WINDOWS"
	}
	if m.Architecture == nil {
		m.Architecture = []string{"amd64"}
	}
	h, hexSum := parseHash(sum)
	switch {
	case m.MD5 != "":
	case hexSum:
		m.MD5 = s.derivedMD5(h)
	default:
		m.MD5 = randomHex(16) // kept in the metadata, which a SHA-256 that is not hex needs
	}
	if !hexSum || m.MD5 != s.derivedMD5(h) || !reflect.DeepEqual(m, plainMetadata(sum, m.MD5, size, available)) {
		stored.x().meta = &m
	}
	stored.sha = h
	s.mu.Lock()
	if hexSum {
		s.st.binaries[h] = stored
	} else {
		s.st.oddBinaries[sum] = stored
	}
	s.mu.Unlock()
	return sum, nil
}

func (s *Server) binaryMetadata(w http.ResponseWriter, r *http.Request) {
	sha := strings.ToLower(r.PathValue("sha"))
	s.mu.Lock()
	b, ok := s.st.binaryLocked(sha)
	s.mu.Unlock()
	if !ok {
		notFound(w, "Binary with sha256 %s not found", sha)
		return
	}
	writeJSON(w, http.StatusOK, s.metadata(b))
}

func (s *Server) binaryDevices(w http.ResponseWriter, r *http.Request) {
	sha := strings.ToLower(r.PathValue("sha"))
	s.mu.Lock()
	_, ok := s.st.binaryLocked(sha)
	var procs []*crec
	if h, ok := parseHash(sha); ok {
		procs = lookupLocked(&s.st, s.st.processes, s.st.ix.processBySHA, h)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, "Binary with sha256 %s not found", sha)
		return
	}
	sum := carbonblack.DeviceSummary{SHA256: sha}
	seen := map[string]bool{}
	var first, last time.Time
	for _, p := range procs {
		if processSHA(p) != sha {
			continue
		}
		dev := joined(p, "device_id")
		if !seen[dev] {
			seen[dev] = true
			sum.NumDevices++
		}
		t, _ := timeOf(get(p, "device_timestamp"))
		id, _ := strconv.ParseInt(dev, 10, 64)
		name := joined(p, "device_name")
		if first.IsZero() || t.Before(first) {
			first, sum.FirstSeenDeviceID, sum.FirstSeenDeviceName = t, id, name
			sum.FirstSeenDeviceTimestamp.Time = t
		}
		if t.After(last) {
			last, sum.LastSeenDeviceID, sum.LastSeenDeviceName = t, id, name
			sum.LastSeenDeviceTimestamp.Time = t
		}
	}
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) downloadLinks(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SHA256            []string     `json:"sha256"`
		ExpirationSeconds *json.Number `json:"expiration_seconds"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if len(body.SHA256) == 0 || len(body.SHA256) > carbonblack.MaxDownloadHashes {
		badRequest(w, "sha256 must list 1 to %d hashes", carbonblack.MaxDownloadHashes)
		return
	}
	expires, err := numberOr(body.ExpirationSeconds, 3600)
	if err != nil || expires <= 0 || expires > 7*24*3600 {
		badRequest(w, "expiration_seconds must be between 1 and 604800")
		return
	}
	out := map[string]any{"found": []carbonblack.DownloadLink{}, "not_found": []string{}, "error": []string{}}
	var found []carbonblack.DownloadLink
	var missing, failed []string
	s.mu.Lock()
	for _, h := range body.SHA256 {
		b, ok := s.st.binaryLocked(h)
		switch {
		case !ok:
			missing = append(missing, h)
		case b.extra != nil && b.extra.errorsLeft > 0:
			b.extra.errorsLeft--
			failed = append(failed, h)
		default:
			b.linked = true
			sha := b.sha256()
			found = append(found, carbonblack.DownloadLink{SHA256: sha, URL: s.presign(r, "cdc-file-storage", sha+".zip", expires)})
		}
	}
	s.mu.Unlock()
	if found != nil {
		out["found"] = found
	}
	if missing != nil {
		out["not_found"] = missing
	}
	if failed != nil {
		out["error"] = failed
	}
	writeJSON(w, http.StatusOK, out)
}

// storageBase is the object-store listener's URL, or the request's host
// when the handler is mounted elsewhere.
func (s *Server) storageBase(r *http.Request) string {
	if s.storage != nil {
		return s.storage.URL()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

const amzDate = "20060102T150405Z"

// presign mints an S3-style pre-signed URL valid for expires seconds.
func (s *Server) presign(r *http.Request, bucket, name string, expires int) string {
	date := s.now().Format(amzDate)
	exp := strconv.Itoa(expires)
	return s.storageBase(r) + "/" + bucket + "/" + name + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=FAKEKEY%2F" + date[:8] +
		"%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=" + date + "&X-Amz-Expires=" + exp + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + s.sign(bucket, name, date, exp)
}

func (s *Server) sign(parts ...string) string {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(m.Sum(nil))
}

func s3Error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>", code, msg, strings.ToUpper(randomHex(8)))
}

// serveStorage answers pre-signed links like S3: any credential header, a
// bad signature or an expired link gives 403 with an XML error.
func (s *Server) serveStorage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Auth-Token") != "" || r.Header.Get("Authorization") != "" {
		s3Error(w, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	q := r.URL.Query()
	bucket := strings.Trim(strings.TrimSuffix(r.URL.Path, r.PathValue("name")), "/")
	name, date, exp := r.PathValue("name"), q.Get("X-Amz-Date"), q.Get("X-Amz-Expires")
	if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.sign(bucket, name, date, exp))) {
		s3Error(w, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	signed, err1 := time.Parse(amzDate, date)
	secs, err2 := strconv.Atoi(exp)
	if err1 != nil || err2 != nil || s.now().After(signed.Add(time.Duration(secs)*time.Second)) {
		s3Error(w, "AccessDenied", "Request has expired")
		return
	}
	s.mu.Lock()
	l, ok := s.st.links[name]
	if !ok {
		if b, _ := s.st.binaryLocked(strings.TrimSuffix(name, ".zip")); b != nil && b.linked && strings.HasSuffix(name, ".zip") &&
			b.sha256() == strings.TrimSuffix(name, ".zip") {
			l, ok = &link{open: b.reader, size: s.available(b), zip: true}, true
		}
	}
	s.mu.Unlock()
	if !ok {
		s3Error(w, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if !l.zip {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(l.size, 10))
		_, _ = io.Copy(w, io.LimitReader(l.open(), l.size))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, s.deflater)
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "filedata", Method: zip.Deflate, Modified: s.now()})
	if err != nil {
		return
	}
	if _, err := io.Copy(fw, io.LimitReader(l.open(), l.size)); err != nil {
		return
	}
	_ = zw.Close()
}

// deflater returns a BestSpeed compressor writing to out, reused from an
// earlier download when one is free; closing it gives it back.
func (s *Server) deflater(out io.Writer) (io.WriteCloser, error) {
	if fw, ok := s.deflaters.Get().(*flate.Writer); ok {
		fw.Reset(out)
		return &pooledDeflater{Writer: fw, s: s}, nil
	}
	fw, err := flate.NewWriter(out, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &pooledDeflater{Writer: fw, s: s}, nil
}

type pooledDeflater struct {
	*flate.Writer
	s *Server
}

func (p *pooledDeflater) Close() error {
	err := p.Writer.Close()
	p.s.deflaters.Put(p.Writer)
	return err
}
