package zipx_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/soarkit/soarkit/internal/zipx"
)

// A VMRay sample download: a ZipCrypto archive with one entry, password
// "infected". The file stands in for the HTTP response body.
func ExampleSpool() {
	body, err := os.Open("testdata/vmray-sample.zip")
	if err != nil {
		log.Fatal(err)
	}
	defer body.Close()

	r, err := zipx.Spool(context.Background(), body, zipx.WithPassword("infected"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	f, err := r.SingleFile()
	if err != nil {
		log.Fatal(err)
	}
	rc, err := f.Open()
	if err != nil {
		log.Fatal(err) // errors.Is(err, zipx.ErrWrongPassword) for a wrong password
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		log.Fatal(err) // a checksum or limit error arrives here, at the end
	}
	fmt.Println(f.Name, f.Encryption, n)
	fmt.Printf("%x\n", h.Sum(nil))
	// Output:
	// sample.exe ZipCrypto 8893
	// 6251e5743b6fd6a7d606130bdf7c15077ce85ebd3a0fdee284d15a46df199e38
}

// A SentinelOne fetched file: manifest.json plus the file, whose SHA-1 the
// manifest gives.
func ExampleReader_SingleFile() {
	body := mustOpen("testdata/sentinelone-fetch.zip") // the HTTP response body
	defer body.Close()
	r, err := zipx.Spool(context.Background(), body, zipx.WithPassword("Infected!2024"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	mf, err := r.Open("manifest.json")
	if err != nil {
		log.Fatal(err)
	}
	var manifest []struct {
		Path   string `json:"path"`
		SHA1   string `json:"sha1"`
		Reason string `json:"reason"`
	}
	err = json.NewDecoder(mf).Decode(&manifest)
	mf.Close()
	if err != nil {
		log.Fatal(err)
	}

	f, err := r.SingleFile("manifest.json")
	if err != nil {
		log.Fatal(err)
	}
	local, err := f.SafePath()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(manifest[0].Path)
	fmt.Println(filepath.ToSlash(local), f.UncompressedSize, "bytes")
	// Output:
	// C:\Users\jdoe\Downloads\invoice_8821.exe
	// C/Users/jdoe/Downloads/invoice_8821.exe 13893 bytes
}

// Limits stop a zip bomb while it is read, on the bytes it actually
// produces.
func ExampleNewReader() {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("zeros.bin")
	w.Write(make([]byte, 8<<20)) // 8 MiB of zeros deflate to about 8 KiB
	zw.Close()

	r, err := zipx.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err)
	}
	rc, err := r.Open("zeros.bin")
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	var limit *zipx.LimitError
	fmt.Println(errors.Is(err, zipx.ErrLimitExceeded), errors.As(err, &limit) && limit.Limit == zipx.LimitRatio)
	fmt.Println(err)
	// Output:
	// true true
	// zipx: read "zeros.bin": limit exceeded: compression ratio over 200
}

// A client method that downloads a sample and returns only its content:
// the returned reader's Close also removes the spooled archive.
func ExampleReader_OpenOwned() {
	download := func(ctx context.Context, body io.ReadCloser, password string) (io.ReadCloser, error) {
		defer body.Close()
		r, err := zipx.Spool(ctx, body, zipx.WithPassword(password))
		if err != nil {
			return nil, err
		}
		f, err := r.SingleFile()
		if err == nil {
			var rc io.ReadCloser
			if rc, err = r.OpenOwned(f); err == nil {
				return rc, nil
			}
		}
		r.Close()
		return nil, err
	}

	sample, err := download(context.Background(), mustOpen("testdata/vmray-sample.zip"), "infected")
	if err != nil {
		log.Fatal(err)
	}
	defer sample.Close()
	head := make([]byte, 6)
	if _, err := io.ReadFull(sample, head); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", head)
	// Output:
	// "1\n2\n3\n"
}

func ExampleSafePath() {
	for _, name := range []string{"reports/summary.json", "../../etc/cron.d/x", `..\..\evil.dll`, "/etc/passwd"} {
		p, err := zipx.SafePath(name)
		fmt.Println(filepath.ToSlash(p), errors.Is(err, zipx.ErrUnsafePath))
	}
	// Output:
	// reports/summary.json false
	//  true
	//  true
	//  true
}

func mustOpen(name string) *os.File {
	f, err := os.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	return f
}

// Writer streams password-protected archives, as the fakes serve them.
func ExampleWriter() {
	var archive bytes.Buffer
	zw := zipx.NewWriter(&archive)
	w, err := zw.Create("invoice.pdf.exe", zipx.WriteOptions{
		Method: zipx.MethodDeflate, Encryption: zipx.EncryptionAES256, Password: "infected",
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.Write([]byte("MZ\x90\x00 payload")); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	r, err := zipx.NewReader(bytes.NewReader(archive.Bytes()), int64(archive.Len()))
	if err != nil {
		log.Fatal(err)
	}
	f := r.Files()[0]
	rc, err := f.OpenWithPassword("infected")
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	content, err := io.ReadAll(rc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %v %q\n", f.Name, f.Encryption, content)
	// Output: invoice.pdf.exe AES-256 "MZ\x90\x00 payload"
}
