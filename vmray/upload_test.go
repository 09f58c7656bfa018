package vmray_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soarkit/soarkit/vmray"
	"github.com/soarkit/soarkit/vmray/vmraytest"
)

// patternReader produces n pseudo-random bytes by cycling a 64 KiB block, so
// a huge upload never exists in memory.
type patternReader struct {
	block []byte
	left  int64
	off   int
}

func newPatternReader(n int64) *patternReader {
	block := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	return &patternReader{block: block, left: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(int64(len(b)), p.left)], p.block[p.off:])
	p.off = (p.off + n) % len(p.block)
	p.left -= int64(n)
	return n, nil
}

// heapPeak samples the heap until stop is closed and returns the growth over
// the starting point.
func heapPeak(stop <-chan struct{}) func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { <-done; return peak.Load() }
}

// uploadStreamed submits size bytes through the fake (which hashes and drops
// them) and returns the heap growth seen meanwhile, in bytes.
func uploadStreamed(tb testing.TB, size int64) uint64 {
	srv := vmraytest.NewServer(tb, vmraytest.WithSampleStoreLimit(1<<20))
	c := srv.Client()
	h := sha256.New()
	src := io.TeeReader(newPatternReader(size), h)
	stop := make(chan struct{})
	peak := heapPeak(stop)
	res, err := c.Submissions.SubmitFile(context.Background(), "big.iso", src, nil)
	close(stop)
	growth := peak()
	if err != nil {
		tb.Fatal(err)
	}
	if got, want := res.Sample().SHA256, hex.EncodeToString(h.Sum(nil)); got != want || res.Sample().Filesize != size {
		tb.Fatalf("server saw %s (%d bytes), want %s (%d)", got, res.Sample().Filesize, want, size)
	}
	return growth
}

// TestSubmitStreamsWithBoundedHeap uploads 96 MiB (the benchmark does 300
// MiB) and checks that neither the client nor the fake buffers it.
func TestSubmitStreamsWithBoundedHeap(t *testing.T) {
	const size = 96 << 20
	if growth := uploadStreamed(t, size); growth > 32<<20 {
		t.Fatalf("heap grew %d MiB while streaming %d MiB", growth>>20, size>>20)
	}
}

// BenchmarkSubmitFile300MiB streams a 300 MiB submission into the fake and
// reports throughput and the peak heap growth.
func BenchmarkSubmitFile300MiB(b *testing.B) {
	const size = 300 << 20
	b.SetBytes(size)
	var worst uint64
	for b.Loop() {
		worst = max(worst, uploadStreamed(b, size))
	}
	b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
	if worst > 32<<20 {
		b.Fatalf("heap grew %d MiB", worst>>20)
	}
}

// BenchmarkLookup measures one hash lookup against the fake.
func BenchmarkLookup(b *testing.B) {
	srv := vmraytest.NewServer(b)
	smp, err := srv.AddSample(vmraytest.Sample{Content: []byte("bench")})
	if err != nil {
		b.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Samples.Lookup(ctx, smp.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeIOCs measures decoding the typed IOC answer.
func BenchmarkDecodeIOCs(b *testing.B) {
	body := []byte(iocJSON)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var r vmray.IOCResult
		if err := jsonUnmarshal(bytes.NewReader(body), &r); err != nil {
			b.Fatal(err)
		}
	}
}
