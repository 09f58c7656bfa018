package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// randomReader yields n pseudo-random bytes without allocating them.
type randomReader struct {
	left int64
	rng  *rand.ChaCha8
}

func newRandomReader(n int64) *randomReader {
	return &randomReader{left: n, rng: rand.NewChaCha8([32]byte{1})}
}

func (r *randomReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	r.rng.Read(p)
	r.left -= int64(len(p))
	return len(p), nil
}

// heapPeak samples HeapInuse until stop is called and returns the peak growth
// over the baseline taken at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
				peak.Store(m.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func discardServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "{}")
	}))
}

// BenchmarkMultipartUpload512MiB streams a 512 MiB file through the
// multipart path and reports the peak heap growth in MiB.
func BenchmarkMultipartUpload512MiB(b *testing.B) {
	const size = 512 << 20
	srv := discardServer()
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var peakMiB float64
	for b.Loop() {
		stop := heapPeak()
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/upload",
			Body: MultipartBody([]Field{{Name: "comment", Value: "bench"}}, FilePart{Field: "sample_file", FileName: "big.bin", Reader: newRandomReader(size)})}, nil)
		peak := stop()
		if err != nil {
			b.Fatal(err)
		}
		peakMiB = max(peakMiB, float64(peak)/(1<<20))
	}
	b.ReportMetric(peakMiB, "peak-heap-MiB")
}

// TestMultipartUploadHeapBounded is the fast guard for the benchmark above:
// 64 MiB must stream with well under 16 MiB of heap growth.
func TestMultipartUploadHeapBounded(t *testing.T) {
	srv := discardServer()
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	stop := heapPeak()
	_, err = c.Do(context.Background(), &Request{Method: http.MethodPost, Path: "/upload",
		Body: MultipartBody(nil, FilePart{Field: "sample_file", FileName: "big.bin", Reader: newRandomReader(64 << 20)})}, nil)
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	if peak > 16<<20 {
		t.Fatalf("heap grew by %d MiB while streaming 64 MiB", peak>>20)
	}
}

type benchItem struct {
	ID        string            `json:"id"`
	SHA256    string            `json:"sha256"`
	Name      string            `json:"file_name"`
	Score     int               `json:"score"`
	Tags      []string          `json:"tags"`
	CreatedAt time.Time         `json:"created_at"`
	Extra     map[string]string `json:"extra"`
}

// BenchmarkDecode5MiBPage measures a GET whose JSON page is about 5 MiB.
func BenchmarkDecode5MiBPage(b *testing.B) {
	var items []benchItem
	for i := 0; ; i++ {
		items = append(items, benchItem{
			ID: fmt.Sprint(i), SHA256: fmt.Sprintf("%064x", i), Name: fmt.Sprintf("file-%d.exe", i), Score: i % 100,
			Tags: []string{"a", "b"}, CreatedAt: time.Unix(int64(i), 0).UTC(), Extra: map[string]string{"k": "v"},
		})
		if i%1000 == 0 {
			if data, _ := json.Marshal(map[string]any{"data": items}); len(data) >= 5<<20 {
				break
			}
		}
	}
	page, _ := json.Marshal(map[string]any{"data": items})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) }))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var out struct {
			Data []benchItem `json:"data"`
		}
		if _, err := c.Do(context.Background(), &Request{Path: "/page"}, &out); err != nil {
			b.Fatal(err)
		}
		if len(out.Data) != len(items) {
			b.Fatal("short page")
		}
	}
}
