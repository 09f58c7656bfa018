package zipx

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of extracting one 512 MiB entry, encrypted and not, compared
// with archive/zip reading the same entry unencrypted:
//
//	go test -run '^$' -bench Extract512MiB -benchtime 3x ./internal/zipx/
//
// The archives are generated once per run in a temporary directory (about
// 2 GiB of disk, 30 s or so) and removed by TestMain.

const benchSize = 512 << 20

func TestMain(m *testing.M) {
	code := m.Run()
	if bigArchives.dir != "" {
		os.RemoveAll(bigArchives.dir)
	}
	os.Exit(code)
}

var bigArchives struct {
	once sync.Once
	dir  string
	err  error
}

// benchArchive returns the path of a generated 512 MiB-entry archive:
// "plain-deflated", "plain-stored", "aes256-deflated", "aes256-stored" or
// "zipcrypto-deflated"; the entry is named "sample.bin", password "secret".
func benchArchive(b *testing.B, name string) string {
	b.Helper()
	bigArchives.once.Do(func() {
		bigArchives.dir, bigArchives.err = os.MkdirTemp("", "zipx-bench-")
		if bigArchives.err == nil {
			bigArchives.err = makeBenchArchives(bigArchives.dir)
		}
	})
	if bigArchives.err != nil {
		b.Fatal(bigArchives.err)
	}
	return filepath.Join(bigArchives.dir, name+".zip")
}

// benchContent produces n bytes of pseudo-random data of middling
// entropy: 8-byte words, three in four drawn from a vocabulary of 4096
// (deflate finds matches), one in four random. It deflates about 2:1,
// like executables.
type benchContent struct {
	rng   *rand.Rand
	vocab [4096]uint64
	left  int64
}

func newBenchContent(n int64) *benchContent {
	c := &benchContent{rng: rand.New(rand.NewPCG(1, 2)), left: n}
	for i := range c.vocab {
		c.vocab[i] = c.rng.Uint64()
	}
	return c
}

func (c *benchContent) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.left)&^7]
	for i := 0; i+8 <= len(p); i += 8 {
		r := c.rng.Uint64()
		w := c.vocab[r>>52]
		if r&3 == 0 {
			w = r * 0x9e3779b97f4a7c15
		}
		binary.LittleEndian.PutUint64(p[i:], w)
	}
	c.left -= int64(len(p))
	return len(p), nil
}

func makeBenchArchives(dir string) error {
	// Compress once; every deflated archive reuses the stream.
	deflated := filepath.Join(dir, "content.deflate")
	out, err := os.Create(deflated)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	fw, _ := flate.NewWriter(bw, flate.BestSpeed)
	crcw := crc32.NewIEEE()
	if _, err := io.Copy(io.MultiWriter(fw, crcw), newBenchContent(benchSize)); err != nil {
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	info, err := os.Stat(deflated)
	if err != nil {
		return err
	}
	crc := crcw.Sum32()

	for _, a := range []struct {
		name string
		e    testEntry
	}{
		{"plain-deflated", testEntry{method: MethodDeflate}},
		{"plain-stored", testEntry{method: MethodStore}},
		{"aes256-deflated", testEntry{method: MethodDeflate, encryption: EncryptionAES256, aesVersion: 1}},
		{"aes256-stored", testEntry{method: MethodStore, encryption: EncryptionAES256, aesVersion: 1}},
		{"zipcrypto-deflated", testEntry{method: MethodDeflate, encryption: EncryptionZipCrypto}},
	} {
		a.e.name, a.e.password = "sample.bin", "secret"
		var src io.Reader = newBenchContent(benchSize)
		csize := int64(benchSize)
		if a.e.method == MethodDeflate {
			f, err := os.Open(deflated)
			if err != nil {
				return err
			}
			defer f.Close()
			src, csize = bufio.NewReaderSize(f, 1<<20), info.Size()
		}
		if err := writeBenchArchive(filepath.Join(dir, a.name+".zip"), a.e, crc, src, csize); err != nil {
			return err
		}
	}
	return os.Remove(deflated)
}

func writeBenchArchive(path string, e testEntry, crc uint32, src io.Reader, csize int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	if err := writeEncryptedEntry(zw, e, crc, benchSize, src, csize); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// heapPeak samples the bytes of heap objects every millisecond until stop
// is called, and returns the peak growth over the level at start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		if p := peak.Load(); p > base {
			return p - base
		}
		return 0
	}
}

// benchExtract runs extract b.N times and reports throughput, allocations
// and the peak heap growth.
func benchExtract(b *testing.B, extract func() (int64, error)) {
	b.SetBytes(benchSize)
	b.ReportAllocs()
	stop := heapPeak()
	b.ResetTimer()
	for range b.N {
		n, err := extract()
		if err != nil {
			b.Fatal(err)
		}
		if n != benchSize {
			b.Fatalf("extracted %d bytes, want %d", n, benchSize)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
}

func BenchmarkExtract512MiB(b *testing.B) {
	for _, name := range []string{"plain-deflated", "plain-stored"} {
		b.Run("archive-zip/"+name, func(b *testing.B) {
			path := benchArchive(b, name)
			benchExtract(b, func() (int64, error) {
				zr, err := zip.OpenReader(path)
				if err != nil {
					return 0, err
				}
				defer zr.Close()
				rc, err := zr.File[0].Open()
				if err != nil {
					return 0, err
				}
				defer rc.Close()
				return io.Copy(io.Discard, rc)
			})
		})
	}
	for _, name := range []string{"plain-deflated", "aes256-deflated", "zipcrypto-deflated", "plain-stored", "aes256-stored"} {
		b.Run("zipx/"+name, func(b *testing.B) {
			path := benchArchive(b, name)
			benchExtract(b, func() (int64, error) {
				f, err := os.Open(path)
				if err != nil {
					return 0, err
				}
				defer f.Close()
				info, err := f.Stat()
				if err != nil {
					return 0, err
				}
				r, err := NewReader(f, info.Size(), WithPassword("secret"))
				if err != nil {
					return 0, err
				}
				return extractSingle(r)
			})
		})
	}
	// The whole path of a download: spool the body to a temporary file,
	// then extract.
	b.Run("zipx-spool/aes256-deflated", func(b *testing.B) {
		path := benchArchive(b, "aes256-deflated")
		tmp := b.TempDir()
		benchExtract(b, func() (int64, error) {
			f, err := os.Open(path)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			r, err := Spool(b.Context(), struct{ io.Reader }{f}, WithPassword("secret"), WithTempDir(tmp))
			if err != nil {
				return 0, err
			}
			defer r.Close()
			return extractSingle(r)
		})
	})
}

func extractSingle(r *Reader) (int64, error) {
	f, err := r.SingleFile()
	if err != nil {
		return 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(io.Discard, rc)
}

// BenchmarkKeystream measures the WinZip AES decryption layer alone
// (keystream, XOR and HMAC-SHA1) over 1 MiB buffers.
func BenchmarkKeystream(b *testing.B) {
	buf := make([]byte, 1<<20)
	a, err := newAESReader(zeroReader{}, make([]byte, 32), make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for range b.N {
		if _, err := io.ReadFull(a, buf); err != nil {
			b.Fatal(err)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
